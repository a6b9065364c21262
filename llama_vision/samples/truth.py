"""Expected compliance for generated documents, from what was printed.

The expected compliance is computed here from what was *printed*, by code independent of
`llama_vision.compliance` (on purpose: the evaluation must be able to catch that module being
wrong). It follows ARCHITECTURE.md §5:

- abn_valid: null when no ABN is printed, else the ATO checksum (weights 10,1,3,...,19, mod 89).
- gst_consistent: null without a GST amount; with subtotal (ex GST), GST and total: subtotal +
  GST = total and GST = 10% of subtotal, each within 2 cents; with GST and total only: GST <=
  total/11 + 2 cents. (Subtotals ex GST are printed only when every item is taxable.)
- totals_consistent: null without items; line amounts sum to the subtotal or to the total.
- date_valid: null without a date, else true (printed dates are always real dates).
- tax_invoice_required: total > $82.50.
- missing_elements (ATO order): tax_invoice_label, supplier_identity, supplier_abn (absent;
  an invalid ABN is not "missing", it makes abn_valid false), issue_date, item_description,
  gst_amount (neither an amount nor a "total includes GST" statement; the statement alone is
  printed only when GST is exactly 1/11 of the total), buyer_identity (total >= $1,000 and
  neither buyer name nor buyer ABN).
- verdict: `not_required` when total <= $82.50; else `non_compliant` when an element is missing
  or the ABN fails its checksum; else `review` when the GST arithmetic is inconsistent; else
  `compliant`. Bank statements are not tax invoices: `not_required`, nothing missing.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

__all__ = [
    "ALL_FIELDS", "BUYER_THRESHOLD", "MISSING_ORDER", "TAX_INVOICE_THRESHOLD",
    "abn_checksum_ok", "expected_compliance", "invalid_abn", "valid_abn",
]

ALL_FIELDS: tuple[str, ...] = (  # fields.ALL_FIELDS, repeated so the truth does not depend on it
    "supplier_name", "supplier_abn", "supplier_address", "date", "invoice_number",
    "buyer_name", "buyer_abn", "subtotal", "gst", "total", "payment_method",
    "tax_invoice_label", "gst_included_statement", "items",
    "fuel_type", "litres", "price_per_litre",
    "bsb", "account_number", "account_holder", "statement_period", "opening_balance", "closing_balance",
)
MISSING_ORDER = (
    "tax_invoice_label", "supplier_identity", "supplier_abn", "issue_date", "item_description",
    "gst_amount", "buyer_identity",
)
TAX_INVOICE_THRESHOLD = Decimal("82.50")
BUYER_THRESHOLD = Decimal("1000.00")
TOLERANCE = Decimal("0.02")
ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def abn_checksum_ok(abn: str) -> bool:
    """The ATO rule, written out (independent of python-stdnum and fields.py).

    When the weighted sum of the last nine digits is a multiple of 89, both check digits "10"
    and "99" satisfy the mod-89 rule; ABNs (and python-stdnum) use "99", so "10..." is refused.
    """
    if len(abn) != 11 or not abn.isdigit() or abn[0] == "0" or abn.startswith("10"):
        return False
    digits = [int(c) for c in abn]
    digits[0] -= 1
    return sum(w * d for w, d in zip(ABN_WEIGHTS, digits)) % 89 == 0


def valid_abn(rng: random.Random) -> str:
    while True:
        candidate = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        if abn_checksum_ok(candidate):
            return candidate


def invalid_abn(rng: random.Random) -> str:
    """A valid ABN with one digit changed: weights x deltas never reach 89, so it always fails."""
    abn = list(valid_abn(rng))
    position = rng.randint(1, 10)
    abn[position] = str((int(abn[position]) + rng.randint(1, 9)) % 10)
    result = "".join(abn)
    assert not abn_checksum_ok(result)
    return result


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def expected_compliance(fields: dict[str, Any], document_type: str) -> dict[str, Any]:
    """The compliance object §5 implies for these printed fields (see the module docstring)."""
    total, gst, subtotal = _d(fields.get("total")), _d(fields.get("gst")), _d(fields.get("subtotal"))
    abn = fields.get("supplier_abn")
    abn_valid = None if abn is None else abn_checksum_ok(abn)

    if gst is None or total is None:
        gst_consistent = None
    elif subtotal is not None:
        gst_consistent = (abs(subtotal + gst - total) <= TOLERANCE
                          and abs(gst - subtotal * Decimal("0.1")) <= TOLERANCE)
    else:
        gst_consistent = gst <= total / 11 + TOLERANCE

    items = fields.get("items") or []
    if not items:
        totals_consistent = None
    else:
        line_sum = sum((Decimal(item["amount"]) for item in items), Decimal(0))
        targets = [t for t in (subtotal, total) if t is not None]
        totals_consistent = any(abs(line_sum - t) <= TOLERANCE for t in targets) if targets else None

    date_valid = None if fields.get("date") is None else True
    if document_type == "bank_statement":
        return {"abn_valid": abn_valid, "gst_consistent": gst_consistent, "totals_consistent": totals_consistent,
                "date_valid": date_valid, "tax_invoice_required": False, "missing_elements": [],
                "verdict": "not_required"}

    required = total is not None and total > TAX_INVOICE_THRESHOLD
    missing = []
    if not fields.get("tax_invoice_label"):
        missing.append("tax_invoice_label")
    if not fields.get("supplier_name"):
        missing.append("supplier_identity")
    if abn is None:
        missing.append("supplier_abn")
    if fields.get("date") is None:
        missing.append("issue_date")
    if not items:
        missing.append("item_description")
    if gst is None and not fields.get("gst_included_statement"):
        missing.append("gst_amount")
    if total is not None and total >= BUYER_THRESHOLD and not (fields.get("buyer_name") or fields.get("buyer_abn")):
        missing.append("buyer_identity")

    if not required:
        verdict = "not_required"
    elif missing or abn_valid is False:
        verdict = "non_compliant"
    elif gst_consistent is False:
        verdict = "review"
    else:
        verdict = "compliant"
    return {"abn_valid": abn_valid, "gst_consistent": gst_consistent, "totals_consistent": totals_consistent,
            "date_valid": date_valid, "tax_invoice_required": required, "missing_elements": missing,
            "verdict": verdict}

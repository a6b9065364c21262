"""The ATO's tax-invoice rules (ARCHITECTURE.md §5) applied to normalised fields.

`check_compliance(fields, document_type)` returns the `compliance` object of the Result:

- abn_valid: None without a supplier ABN, else the ATO checksum (python-stdnum).
- gst_consistent: None without both a GST amount and a total. With subtotal (ex GST), GST and
  total: subtotal + GST = total and GST = 10% of the subtotal, each within 2 cents. With only a
  GST-inclusive total: GST <= total/11 + 2 cents; less than total/11 suggests GST-free items and
  is a note, not a failure.
- totals_consistent: None without line amounts (or without a subtotal and a total); else the
  line amounts (quantity x unit price where the amount is missing) sum to the subtotal or the
  total within 2 cents.
- date_valid: None without a date, else whether it is a real date.
- tax_invoice_required: the total is over $82.50 (GST inclusive); False when unreadable.
- missing_elements, in the ATO's order, from this vocabulary only: tax_invoice_label (the
  document does not say "tax invoice"), supplier_identity (no seller name), supplier_abn (no ABN
  printed; an ABN that fails the checksum is not "missing", it makes abn_valid False),
  issue_date, item_description (no item with a description), gst_amount (neither a GST amount
  nor a "total includes GST" statement; the statement counts only when GST is exactly 1/11 of the
  total, so it does not count when a subtotal and total show otherwise), buyer_identity (total of
  $1,000 or more and neither buyer name nor buyer ABN). They are listed for every document that is
  not a bank statement, also under $82.50, so the checks "still run and show".

Verdict, first rule that applies:

1. bank_statement -> `not_required` (tax-invoice rules do not apply; nothing is missing).
2. no readable total -> `review` (we cannot tell whether a tax invoice is needed).
3. total <= $82.50 -> `not_required` (the checks still run and show).
4. an element is missing, or the ABN fails its checksum -> `non_compliant`.
5. GST arithmetic inconsistent -> `review` (a misprint or a misread: a person should look).
6. otherwise -> `compliant`.

Line items that do not add up (totals_consistent False) fail their check and get a
recommendation but do not change the verdict: the ATO rules do not require it, and a missed line
in the reading is a more likely cause than a bad invoice.

Score: the share of applicable checks that pass (0-100); a bank statement scores 100.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.au import abn as _stdnum_abn

from llama_vision.fields import (
    abn_is_valid,
    normalise_abn,
    normalise_bool,
    normalise_date,
    normalise_items,
    normalise_money,
    normalise_text,
)

__all__ = [
    "BUYER_IDENTITY_THRESHOLD",
    "ELEMENTS",
    "TAX_INVOICE_THRESHOLD",
    "TOLERANCE",
    "VERDICTS",
    "check_compliance",
]

TAX_INVOICE_THRESHOLD = Decimal("82.50")
BUYER_IDENTITY_THRESHOLD = Decimal("1000.00")
TOLERANCE = Decimal("0.02")
GST_RATE = Decimal("0.10")
ELEMENTS: tuple[str, ...] = (
    "tax_invoice_label", "supplier_identity", "supplier_abn", "issue_date", "item_description",
    "gst_amount", "buyer_identity",
)
VERDICTS: tuple[str, ...] = ("compliant", "non_compliant", "not_required", "review")

_ELEMENT_LABELS = {
    "tax_invoice_label": "Says it is a tax invoice",
    "supplier_identity": "Seller's identity",
    "supplier_abn": "Seller's ABN",
    "issue_date": "Date of issue",
    "item_description": "Items described with quantity and price",
    "gst_amount": "GST amount (or 'total includes GST')",
    "buyer_identity": "Buyer's identity or ABN ($1,000 or more)",
}


def _money(value: Any) -> Decimal | None:
    text = normalise_money(value)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _dollars(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _check(name: str, status: str, reason: str) -> dict[str, str]:
    return {"name": name, "status": status, "reason": reason}


def _line_sum(items: list[dict[str, Any]]) -> Decimal | None:
    """Sum of line amounts; None when there are no lines or one has no readable amount."""
    if not items:
        return None
    total = Decimal(0)
    for item in items:
        amount = _money(item.get("amount"))
        if amount is None:
            unit, quantity = _money(item.get("unit_price")), item.get("quantity")
            try:
                amount = unit * Decimal(str(quantity)) if unit is not None and quantity is not None else None
            except InvalidOperation:
                amount = None
        if amount is None:
            return None
        total += amount
    return total


def _gst(subtotal: Decimal | None, gst: Decimal | None, total: Decimal | None) -> tuple[bool | None, str, list[str]]:
    """(gst_consistent, reason, notes) following §5."""
    if gst is None or total is None:
        missing = "GST amount" if gst is None else "total"
        return None, f"No {missing} to check the GST arithmetic against.", []
    if subtotal is not None:
        sums = abs(subtotal + gst - total) <= TOLERANCE
        ten_percent = abs(gst - subtotal * GST_RATE) <= TOLERANCE
        if sums and ten_percent:
            return True, f"Subtotal {_dollars(subtotal)} + GST {_dollars(gst)} = total {_dollars(total)}; GST is 10%.", []
        problems = []
        if not sums:
            problems.append(f"subtotal {_dollars(subtotal)} + GST {_dollars(gst)} = {_dollars(subtotal + gst)}, "
                            f"but the total is {_dollars(total)}")
        if not ten_percent:
            problems.append(f"GST {_dollars(gst)} is not 10% of the subtotal {_dollars(subtotal)} "
                            f"({_dollars((subtotal * GST_RATE).quantize(Decimal('0.01')))})")
        return False, "; ".join(problems).capitalize() + ".", []
    ceiling = total / 11
    shown = _dollars(ceiling.quantize(Decimal("0.01")))
    if gst > ceiling + TOLERANCE:
        return False, f"GST {_dollars(gst)} is more than 1/11 of the total {_dollars(total)} ({shown}).", []
    notes = []
    if gst < ceiling - TOLERANCE:
        notes.append(f"GST {_dollars(gst)} is less than 1/11 of the total ({shown}): some items are "
                     "probably GST-free. That is allowed; check the GST-free items are marked.")
    return True, f"GST {_dollars(gst)} is within 1/11 of the GST-inclusive total {_dollars(total)} ({shown}).", notes


def check_compliance(fields: dict[str, Any] | None, document_type: str | None) -> dict[str, Any]:
    """The compliance object for normalised fields (see the module docstring for the rules).

    Keys: abn_valid, gst_consistent, totals_consistent, date_valid, tax_invoice_required,
    missing_elements, score, verdict, recommendations, plus `checks` (name, status
    pass|fail|not_applicable, reason) for the UI, `notes` and a one-line `summary`.
    Never raises: odd values are read as absent.
    """
    fields = fields if isinstance(fields, dict) else {}
    document_type = document_type or "other"
    total = _money(fields.get("total"))
    subtotal = _money(fields.get("subtotal"))
    gst = _money(fields.get("gst"))
    supplier = normalise_text(fields.get("supplier_name"))
    abn = normalise_abn(fields.get("supplier_abn"))
    date_present = fields.get("date") not in (None, "")
    date = normalise_date(fields.get("date")) if date_present else None
    items, _ = normalise_items(fields.get("items"))
    label = normalise_bool(fields.get("tax_invoice_label")) is True
    statement = normalise_bool(fields.get("gst_included_statement")) is True
    buyer = normalise_text(fields.get("buyer_name")) or normalise_abn(fields.get("buyer_abn"))

    checks: list[dict[str, str]] = []
    notes: list[str] = []
    recommendations: list[str] = []
    who = supplier or "the supplier"

    # -- the arithmetic and format checks ------------------------------------------------------
    abn_valid = None if abn is None else abn_is_valid(abn)
    gst_consistent, gst_reason, gst_notes = _gst(subtotal, gst, total)
    notes.extend(gst_notes)
    line_sum = _line_sum(items)
    targets = [t for t in (subtotal, total) if t is not None]
    if line_sum is None or not targets:
        totals_consistent = None
        totals_reason = ("No line amounts to add up." if line_sum is None else "No subtotal or total to compare the lines with.")
    else:
        totals_consistent = any(abs(line_sum - t) <= TOLERANCE for t in targets)
        against = " or ".join(f"{name} {_dollars(t)}" for name, t in (("subtotal", subtotal), ("total", total))
                              if t is not None)
        totals_reason = (f"Line amounts add up to {_dollars(line_sum)}, "
                         f"{'matching' if totals_consistent else 'which does not match'} the {against}.")
    date_valid = None if not date_present else date is not None
    required = total is not None and total > TAX_INVOICE_THRESHOLD
    is_bank = document_type == "bank_statement"

    # -- elements --------------------------------------------------------------------------------
    missing: list[str] = []
    element_reasons: dict[str, tuple[bool | None, str]] = {}
    if not is_bank:
        element_reasons["tax_invoice_label"] = (label, "The words 'tax invoice' appear." if label
                                                else "The document does not say it is a tax invoice.")
        element_reasons["supplier_identity"] = (bool(supplier), f"Seller: {supplier}." if supplier
                                                else "No seller name was found.")
        element_reasons["supplier_abn"] = (abn is not None, f"ABN {_stdnum_abn.format(abn)} is printed." if abn
                                           else "No ABN was found.")
        element_reasons["issue_date"] = (date is not None, f"Issued {date}." if date else "No date of issue was found.")
        described = [i for i in items if i.get("description")]
        element_reasons["item_description"] = (bool(described), f"{len(described)} item(s) described." if described
                                                else "No item descriptions were found.")
        implied_gst_ok = True
        if subtotal is not None and total is not None:
            implied_gst_ok = abs((total - subtotal) - total / 11) <= TOLERANCE
        if gst is not None:
            element_reasons["gst_amount"] = (True, f"GST {_dollars(gst)} is shown.")
        elif statement and implied_gst_ok:
            element_reasons["gst_amount"] = (True, "A 'total includes GST' statement is shown.")
        elif statement:
            element_reasons["gst_amount"] = (False, "Only a 'total includes GST' statement is shown, but GST is not "
                                                    "1/11 of the total, so the GST amount must be shown separately.")
        else:
            element_reasons["gst_amount"] = (False, "Neither a GST amount nor a 'total includes GST' statement was found.")
        if total is not None and total >= BUYER_IDENTITY_THRESHOLD:
            element_reasons["buyer_identity"] = (bool(buyer), f"Buyer: {buyer}." if buyer
                                                 else "No buyer name or ABN was found.")
        missing = [name for name in ELEMENTS if name in element_reasons and not element_reasons[name][0]]

    # -- checks for the UI -------------------------------------------------------------------------
    if is_bank:
        checks.append(_check("total", "not_applicable", "A bank statement has no purchase total."))
    elif total is None:
        checks.append(_check("total", "fail", "The total could not be read."))
    else:
        checks.append(_check("total", "pass", f"Total {_dollars(total)}."))
    if is_bank:
        checks.append(_check("tax_invoice_rules", "not_applicable", "A bank statement is not a tax invoice."))
    for name in ELEMENTS:
        if name in element_reasons:
            ok, reason = element_reasons[name]
            checks.append(_check(name, "pass" if ok else "fail", reason))
        elif name == "buyer_identity" and not is_bank:
            checks.append(_check(name, "not_applicable", "Only needed when the total is $1,000 or more."))
    checks.append(_check("abn_valid", "not_applicable" if abn_valid is None else "pass" if abn_valid else "fail",
                         "No ABN to check." if abn is None else
                         f"ABN {_stdnum_abn.format(abn)} {'passes' if abn_valid else 'fails'} the ATO checksum."))
    checks.append(_check("gst_consistent", "not_applicable" if gst_consistent is None else
                         "pass" if gst_consistent else "fail", gst_reason))
    checks.append(_check("totals_consistent", "not_applicable" if totals_consistent is None else
                         "pass" if totals_consistent else "fail", totals_reason))
    checks.append(_check("date_valid", "not_applicable" if date_valid is None else "pass" if date_valid else "fail",
                         "No date to check." if date_valid is None else
                         f"{date} is a real date." if date_valid else "The date is not a real calendar date."))

    # -- verdict ----------------------------------------------------------------------------------
    if is_bank:
        verdict = "not_required"
        summary = "Bank statement: the tax-invoice rules do not apply."
    elif total is None:
        verdict = "review"
        summary = "The total could not be read, so it is unclear whether a tax invoice is needed."
    elif not required:
        verdict = "not_required"
        summary = f"Total {_dollars(total)} is $82.50 or less: no tax invoice is needed to claim the GST credit."
    elif missing or abn_valid is False:
        verdict = "non_compliant"
        problems = [_ELEMENT_LABELS[m].lower() for m in missing] + (["a valid ABN"] if abn_valid is False else [])
        summary = f"Total {_dollars(total)} needs a tax invoice, but this one lacks: {', '.join(problems)}."
    elif gst_consistent is False:
        verdict = "review"
        summary = f"All tax-invoice elements are present, but the GST arithmetic does not add up: {gst_reason}"
    else:
        verdict = "compliant"
        summary = f"Total {_dollars(total)}: a valid tax invoice with every element the ATO requires."

    # -- recommendations ----------------------------------------------------------------------------
    if is_bank:
        recommendations.append("Bank statements are not tax invoices; to claim GST credits, keep the supplier's "
                               "tax invoices for the purchases on the statement.")
    else:
        if total is None:
            recommendations.append("The total could not be read: check the document by hand or upload a clearer "
                                   "scan.")
        elif not required:
            recommendations.append(f"No tax invoice is needed for a purchase of {_dollars(total)} ($82.50 or less, "
                                   "GST inclusive); keep this receipt as the record of the purchase.")
        if abn is None:
            recommendations.append(
                f"No ABN is quoted: ask {who} for their ABN. If a supplier does not quote an ABN you may have to "
                "withhold 49% of the payment (PAYG 'no ABN' withholding) and you cannot claim the GST credit.")
        elif abn_valid is False:
            recommendations.append(
                f"ABN {_stdnum_abn.format(abn)} fails the ATO checksum: check it on ABN Lookup (abr.business.gov.au) "
                f"and ask {who} for an invoice with the correct ABN; without a valid ABN you may have to withhold "
                "49% of the payment (PAYG withholding).")
        if required or total is None:
            asks = {
                "tax_invoice_label": f"The document does not say it is a tax invoice: ask {who} for a tax invoice "
                                     "(a document titled 'Tax invoice') before claiming the GST credit.",
                "supplier_identity": "The seller's name is missing: ask for a tax invoice that shows the supplier's "
                                     "business or trading name.",
                "issue_date": f"No date of issue: ask {who} for a tax invoice that shows the date it was issued.",
                "item_description": f"The items are not described: ask {who} for an itemised tax invoice with a "
                                    "description, quantity and price for each item.",
                "gst_amount": f"The GST is not shown: ask {who} for a tax invoice that shows the GST amount (or states "
                              "that the total price includes GST when GST is exactly 1/11 of it).",
                "buyer_identity": f"For purchases of $1,000 or more the tax invoice must show the buyer: ask {who} "
                                  "to add your business name or ABN.",
            }
            recommendations.extend(asks[m] for m in missing if m in asks)
        if gst_consistent is False:
            recommendations.append(f"{gst_reason} Ask {who} to confirm the amounts or issue a corrected tax invoice.")
        if totals_consistent is False:
            recommendations.append(f"{totals_reason} Check for missing lines, discounts or surcharges before relying "
                                   "on the line items.")
        if date_valid is False:
            recommendations.append("The date printed is not a real calendar date: ask for a corrected invoice.")
        if verdict == "compliant":
            recommendations.append("Nothing to ask for: keep this tax invoice (for 5 years) to support the GST "
                                   "credit claim.")

    scored = [c for c in checks if c["status"] != "not_applicable"]
    score = 100 if is_bank or not scored else round(100 * sum(c["status"] == "pass" for c in scored) / len(scored))
    return {
        "abn_valid": abn_valid,
        "gst_consistent": gst_consistent,
        "totals_consistent": totals_consistent,
        "date_valid": date_valid,
        "tax_invoice_required": bool(required and not is_bank),
        "missing_elements": missing,
        "score": int(score),
        "verdict": verdict,
        "recommendations": recommendations,
        "checks": checks,
        "notes": notes,
        "summary": summary,
    }

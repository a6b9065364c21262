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
- tax_invoice_required: the total is over $82.50 (GST inclusive); None (unknown) when the total
  cannot be read, never False; False for a bank statement.
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

With ABN Lookup on (an ABR record passed in): an ABN not in force or a supplier not registered for
GST on the invoice date is `non_compliant` at rule 4; a supplier name the ABN does not carry is
`review` instead of `compliant`. Amounts printed in another currency make any document but a bank
statement `non_compliant` (no Australian GST credit), whatever the rules above said.

Line items that do not add up (totals_consistent False) fail their check and get a
recommendation but do not change the verdict: the ATO rules do not require it, and a missed line
in the reading is a more likely cause than a bad invoice.

Score: the share of applicable checks that pass (0-100); a bank statement scores 100.

No ABN (or one that fails the checksum): the payer generally has to withhold the top rate of tax,
NO_ABN_WITHHOLDING_RATE (47% since 1 July 2017), unless the payment is $75 or less excluding GST
(then no withholding is recommended), the supplier gives a "Statement by a supplier", the supply
is wholly input taxed, or the supplier is not carrying on an enterprise (named in the advice).

Each rule is one small function over the document's `Facts`; `check_compliance` only runs them
in order and assembles the object.
"""

from __future__ import annotations

from typing import Any

from llama_vision.abn_lookup import AbnRecord
from llama_vision.compliance.abr import ABR_CHECKS, abr_advice, abr_rules
from llama_vision.compliance.advice import recommendations_rule
from llama_vision.compliance.facts import (
    BUYER_IDENTITY_THRESHOLD,
    Facts,
    NO_ABN_WITHHOLDING_RATE,
    TAX_INVOICE_THRESHOLD,
    TOLERANCE,
    VERDICTS,
    WITHHOLDING_EXEMPT_UP_TO,
    read_facts,
)
from llama_vision.compliance.rules import (
    abn_rule,
    checks_rule,
    date_rule,
    elements_rule,
    gst_rule,
    score_rule,
    totals_rule,
    verdict_rule,
)
from llama_vision.schema import ELEMENTS

__all__ = [
    "BUYER_IDENTITY_THRESHOLD",
    "ELEMENTS",
    "NO_ABN_WITHHOLDING_RATE",
    "TAX_INVOICE_THRESHOLD",
    "TOLERANCE",
    "VERDICTS",
    "WITHHOLDING_EXEMPT_UP_TO",
    "check_compliance",
]


def _required(facts: Facts) -> bool | None:
    """Whether a tax invoice is needed; None (unknown, never "no") when the total is unreadable."""
    if facts.is_bank:
        return False
    return None if facts.total is None else facts.required


def _foreign(facts: Facts, currency: str, checks: list[dict[str, str]], advice: list[str]) -> tuple[str, str]:
    """Amounts in another currency: a purchase abroad carries no Australian GST to claim."""
    reason = f"The amounts are in {currency}, not Australian dollars."
    checks.append({"name": "currency", "status": "fail", "reason": reason})
    advice.insert(0, f"{reason} No Australian GST credit can be claimed on it (no Australian GST was charged); "
                     "record it as an overseas expense, converted to AUD.")
    return "non_compliant", f"{reason} No Australian GST credit applies."


def check_compliance(fields: dict[str, Any] | None, document_type: str | None, *,
                     abn_record: AbnRecord | None = None, currency: str | None = None) -> dict[str, Any]:
    """The compliance object for normalised fields (see the module docstring for the rules).

    Keys: abn_valid, gst_consistent, totals_consistent, date_valid, tax_invoice_required,
    missing_elements, score, verdict, recommendations, plus `checks` (name, status
    pass|fail|not_applicable, reason) for the UI, `notes` and a one-line `summary`.
    `abn_record`: the ABR's record of the supplier's ABN (`abn_lookup`, only when ABN Lookup is on)
    adds abn_active, gst_registered_on_date and supplier_name_matches_abn. `currency`: a currency
    other than the Australian dollar the amounts are printed in (`plausibility.foreign_currency`)
    fails the `currency` check and makes the verdict non_compliant (no Australian GST credit).
    Never raises: odd values are read as absent.
    """
    facts = read_facts(fields, document_type)
    findings = {"abn_valid": abn_rule(facts), "gst_consistent": gst_rule(facts),
                "totals_consistent": totals_rule(facts), "date_valid": date_rule(facts)}
    abr = abr_rules(facts, abn_record if facts.abn and findings["abn_valid"].ok else None)
    elements = elements_rule(facts)
    missing = [name for name in ELEMENTS if name in elements and not elements[name].ok]
    checks = checks_rule(facts, elements, {**findings, **abr})
    verdict, summary = verdict_rule(facts, missing, findings["abn_valid"], findings["gst_consistent"], abr)
    advice = recommendations_rule(facts, missing, findings, verdict)
    advice.extend(abr_advice(facts, abr))  # empty when compliant: a failed ABR check never is
    if currency and not facts.is_bank:
        verdict, summary = _foreign(facts, currency, checks, advice)
    return {
        **{name: outcome.ok for name, outcome in findings.items()},
        **{name: abr[name].ok for name in ABR_CHECKS if name in abr},
        "tax_invoice_required": _required(facts),
        "missing_elements": missing,
        "score": score_rule(facts, checks),
        "verdict": verdict,
        "recommendations": advice,
        "checks": checks,
        "notes": list(findings["gst_consistent"].notes),
        "summary": summary,
    }

"""The compliance rules (ARCHITECTURE.md §5), one small function each, over a document's Facts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.au import abn as _stdnum_abn

from llama_vision.compliance.facts import (
    BUYER_IDENTITY_THRESHOLD,
    GST_RATE,
    TOLERANCE,
    Facts,
    Outcome,
    dollars,
    money,
)
from llama_vision.fields import abn_is_valid
from llama_vision.schema import ELEMENT_MISSING, ELEMENTS


def abn_rule(facts: Facts) -> Outcome:
    """abn_valid: the ATO checksum of the supplier's ABN (None without one)."""
    if facts.abn is None:
        return Outcome(None, "No ABN to check.")
    valid = abn_is_valid(facts.abn)
    return Outcome(valid, f"ABN {_stdnum_abn.format(facts.abn)} {'passes' if valid else 'fails'} the ATO checksum.")


def gst_rule(facts: Facts) -> Outcome:
    """gst_consistent: subtotal + GST = total and GST = 10%, or GST <= total/11 (§5)."""
    subtotal, gst, total = facts.subtotal, facts.gst, facts.total
    if gst is None or total is None:
        return Outcome(None, f"No {'GST amount' if gst is None else 'total'} to check the GST arithmetic against.")
    if subtotal is not None:
        sums = abs(subtotal + gst - total) <= TOLERANCE
        ten_percent = abs(gst - subtotal * GST_RATE) <= TOLERANCE
        if sums and ten_percent:
            return Outcome(True, f"Subtotal {dollars(subtotal)} + GST {dollars(gst)} = total {dollars(total)}; GST is 10%.")
        problems = []
        if not sums:
            problems.append(f"subtotal {dollars(subtotal)} + GST {dollars(gst)} = {dollars(subtotal + gst)}, "
                            f"but the total is {dollars(total)}")
        if not ten_percent:
            problems.append(f"GST {dollars(gst)} is not 10% of the subtotal {dollars(subtotal)} "
                            f"({dollars((subtotal * GST_RATE).quantize(Decimal('0.01')))})")
        return Outcome(False, "; ".join(problems).capitalize() + ".")
    taxable = _taxable_lines(facts.items)
    if taxable is not None:
        share = taxable / 11
        ok = abs(gst - share) <= TOLERANCE
        return Outcome(ok, f"GST {dollars(gst)} {'is' if ok else 'is not'} 1/11 of the taxable lines "
                           f"{dollars(taxable)} ({dollars(share.quantize(Decimal('0.01')))}); the GST-free lines "
                           "carry no GST.")
    ceiling = total / 11
    shown = dollars(ceiling.quantize(Decimal("0.01")))
    if gst > ceiling + TOLERANCE:
        return Outcome(False, f"GST {dollars(gst)} is more than 1/11 of the total {dollars(total)} ({shown}).")
    notes = ()
    if gst < ceiling - TOLERANCE:
        note = (f"GST {dollars(gst)} is less than 1/11 of the total ({shown}): some items are "
                "probably GST-free. That is allowed; check the GST-free items are marked.")
        if facts.items and not any("gst_status" in i for i in facts.items):
            note += (" No line is marked: a tax invoice must show the extent to which each sale is taxable "
                     "(ask for one that marks the GST-free items).")
        notes = (note,)
    return Outcome(True, f"GST {dollars(gst)} is within 1/11 of the GST-inclusive total {dollars(total)} ({shown}).",
                   notes)


def _taxable_lines(items: list[dict[str, Any]]) -> Decimal | None:
    """The taxable lines' total of a receipt whose every line has a known GST status and some are
    GST-free (a mixed supply); None otherwise, so GST is checked against the whole total."""
    statuses = [i.get("gst_status") for i in items]
    if not items or "gst_free" not in statuses or any(s not in ("taxable", "gst_free") for s in statuses):
        return None
    amounts = [money(i.get("amount")) for i in items if i.get("gst_status") == "taxable"]
    return None if any(a is None for a in amounts) else sum(amounts, Decimal(0))


def _line_sum(items: list[dict[str, Any]]) -> Decimal | None:
    """Sum of line amounts; None when there are no lines or one has no readable amount."""
    if not items:
        return None
    total = Decimal(0)
    for item in items:
        amount = money(item.get("amount"))
        if amount is None:
            unit, quantity = money(item.get("unit_price")), item.get("quantity")
            try:
                amount = unit * Decimal(str(quantity)) if unit is not None and quantity is not None else None
            except InvalidOperation:
                amount = None
        if amount is None:
            return None
        total += amount
    return total


def totals_rule(facts: Facts) -> Outcome:
    """totals_consistent: the line amounts add up to the subtotal or the total, within 2 cents."""
    line_sum = _line_sum(facts.items)
    targets = [t for t in (facts.subtotal, facts.total) if t is not None]
    if line_sum is None:
        return Outcome(None, "No line amounts to add up.")
    if not targets:
        return Outcome(None, "No subtotal or total to compare the lines with.")
    ok = any(abs(line_sum - t) <= TOLERANCE for t in targets)
    against = " or ".join(f"{name} {dollars(t)}" for name, t in (("subtotal", facts.subtotal), ("total", facts.total))
                          if t is not None)
    return Outcome(ok, f"Line amounts add up to {dollars(line_sum)}, "
                       f"{'matching' if ok else 'which does not match'} the {against}.")


def date_rule(facts: Facts) -> Outcome:
    """date_valid: a printed date is a real calendar date (None without a date)."""
    if not facts.date_present:
        return Outcome(None, "No date to check.")
    if facts.date is None:
        return Outcome(False, "The date is not a real calendar date.")
    return Outcome(True, f"{facts.date} is a real date.")


def _gst_element(facts: Facts) -> Outcome:
    """The GST amount, or a 'total includes GST' statement when GST is exactly 1/11 of the total."""
    if facts.gst is not None:
        return Outcome(True, f"GST {dollars(facts.gst)} is shown.")
    implied_gst_ok = True
    if facts.subtotal is not None and facts.total is not None:
        implied_gst_ok = abs((facts.total - facts.subtotal) - facts.total / 11) <= TOLERANCE
    if facts.statement and implied_gst_ok:
        return Outcome(True, "A 'total includes GST' statement is shown.")
    if facts.statement:
        return Outcome(False, "Only a 'total includes GST' statement is shown, but GST is not "
                              "1/11 of the total, so the GST amount must be shown separately.")
    return Outcome(False, "Neither a GST amount nor a 'total includes GST' statement was found.")


def elements_rule(facts: Facts) -> dict[str, Outcome]:
    """Each element a tax invoice must show (§5), present or not; none for a bank statement."""
    if facts.is_bank:
        return {}
    described = [i for i in facts.items if i.get("description")]
    elements = {
        "tax_invoice_label": Outcome(facts.label, "The words 'tax invoice' appear." if facts.label
                                     else "The document does not say it is a tax invoice."),
        "supplier_identity": Outcome(bool(facts.supplier), f"Seller: {facts.supplier}." if facts.supplier
                                     else "No seller name was found."),
        "supplier_abn": Outcome(facts.abn is not None, f"ABN {_stdnum_abn.format(facts.abn)} is printed." if facts.abn
                                else "No ABN was found."),
        "issue_date": Outcome(facts.date is not None, f"Issued {facts.date}." if facts.date
                              else "No date of issue was found."),
        "item_description": Outcome(bool(described), f"{len(described)} item(s) described." if described
                                    else "No item descriptions were found."),
        "gst_amount": _gst_element(facts),
    }
    if facts.total is not None and facts.total >= BUYER_IDENTITY_THRESHOLD:
        elements["buyer_identity"] = Outcome(bool(facts.buyer), f"Buyer: {facts.buyer}." if facts.buyer
                                             else "No buyer name or ABN was found.")
    return elements


def _check(name: str, status: str, reason: str) -> dict[str, str]:
    return {"name": name, "status": status, "reason": reason}


def checks_rule(facts: Facts, elements: dict[str, Outcome], findings: dict[str, Outcome]) -> list[dict[str, str]]:
    """The checks the UI lists: the total, each element, then the arithmetic and format checks."""
    if facts.is_bank:
        checks = [_check("total", "not_applicable", "A bank statement has no purchase total."),
                  _check("tax_invoice_rules", "not_applicable", "A bank statement is not a tax invoice.")]
    elif facts.total is None:
        checks = [_check("total", "fail", "The total could not be read.")]
    else:
        checks = [_check("total", "pass", f"Total {dollars(facts.total)}.")]
    for name in ELEMENTS:
        if name in elements:
            checks.append(_check(name, elements[name].status, elements[name].reason))
        elif name == "buyer_identity" and not facts.is_bank:
            checks.append(_check(name, "not_applicable", "Only needed when the total is $1,000 or more."))
    checks.extend(_check(name, outcome.status, outcome.reason) for name, outcome in findings.items())
    return checks


def verdict_rule(facts: Facts, missing: list[str], abn: Outcome, gst: Outcome,
                 abr: dict[str, Outcome] | None = None) -> tuple[str, str]:
    """(verdict, one-line summary): the first of the module docstring's six rules that applies.
    ABN Lookup (`abr`): an ABN not in force or a supplier not registered for GST on the invoice
    date is non_compliant (no GST credit); a supplier name the ABN does not carry is review."""
    abr = abr or {}
    failed_abr = [o.reason for key, o in abr.items() if o.ok is False and key != "supplier_name_matches_abn"]
    if facts.is_bank:
        return "not_required", "Bank statement: the tax-invoice rules do not apply."
    if facts.total is None:
        return "review", "The total could not be read, so it is unclear whether a tax invoice is needed."
    total = dollars(facts.total)
    if not facts.required:
        return "not_required", f"Total {total} is $82.50 or less: no tax invoice is needed to claim the GST credit."
    if missing or abn.ok is False:
        problems = [ELEMENT_MISSING[m] for m in missing] + (["a valid ABN"] if abn.ok is False else [])
        return "non_compliant", f"Total {total} needs a tax invoice, but this one lacks: {', '.join(problems)}."
    if failed_abr:
        return "non_compliant", f"Total {total}: no GST credit can be claimed. {' '.join(failed_abr)}"
    if gst.ok is False:
        return "review", f"All tax-invoice elements are present, but the GST arithmetic does not add up: {gst.reason}"
    name = abr.get("supplier_name_matches_abn")
    if name is not None and name.ok is False:
        return "review", f"Total {total}: every element is present, but {name.reason[len('ABN Lookup: '):]}"
    return "compliant", f"Total {total}: a valid tax invoice with every element the ATO requires."


def score_rule(facts: Facts, checks: list[dict[str, str]]) -> int:
    """The share of applicable checks that pass (0-100); a bank statement scores 100."""
    scored = [c for c in checks if c["status"] != "not_applicable"]
    if facts.is_bank or not scored:
        return 100
    return round(100 * sum(c["status"] == "pass" for c in scored) / len(scored))

"""Recommendations: what is missing or wrong, and what to ask the supplier for."""

from __future__ import annotations

from decimal import Decimal

from stdnum.au import abn as _stdnum_abn

from llama_vision.compliance.facts import NO_ABN_WITHHOLDING_RATE, WITHHOLDING_EXEMPT_UP_TO, Facts, Outcome, dollars


def _payment_ex_gst(facts: Facts) -> Decimal | None:
    """The payment excluding GST, or the most it can be: the subtotal, the total less the GST shown,
    else the total itself (its GST content is unknown, so the exception must not be assumed)."""
    if facts.subtotal is not None:
        return facts.subtotal
    if facts.total is not None and facts.gst is not None:
        return facts.total - facts.gst
    return facts.total


_WITHHOLDING_EXCEPTIONS = (
    f"the payment is {dollars(WITHHOLDING_EXEMPT_UP_TO)} or less excluding GST, the supplier gives you a "
    "'Statement by a supplier' (the reason they need not quote an ABN), the supply is wholly input taxed, "
    "or the supplier is not carrying on an enterprise (a hobby or a private sale)"
)


def withholding_rule(facts: Facts, abn: Outcome) -> list[str]:
    """No ABN quoted (or one that fails the checksum): PAYG 'no ABN' withholding at the top rate,
    NO_ABN_WITHHOLDING_RATE, unless an exception applies. At or under $75 excluding GST the
    exception is certain, so no withholding is recommended."""
    if facts.abn is not None and abn.ok is not False:
        return []
    payment = _payment_ex_gst(facts)
    small = payment is not None and payment <= WITHHOLDING_EXEMPT_UP_TO
    rate = f"{NO_ABN_WITHHOLDING_RATE * 100:.0f}%"
    if facts.abn is None and small:
        advice = ("No ABN is quoted, but no 'no ABN' withholding applies: the payment is "
                  f"{dollars(WITHHOLDING_EXEMPT_UP_TO)} or less excluding GST.")
    elif facts.abn is None:
        advice = (f"No ABN is quoted: ask {facts.who} for their ABN. Without one you may have to withhold {rate} "
                  "of the payment (PAYG 'no ABN' withholding, the top rate of tax) and you cannot claim the GST "
                  f"credit, unless an exception applies: {_WITHHOLDING_EXCEPTIONS}.")
    else:
        advice = (f"ABN {_stdnum_abn.format(facts.abn)} fails the ATO checksum: check it on ABN Lookup "
                  f"(abr.business.gov.au) and ask {facts.who} for an invoice with the correct ABN")
        advice += "." if small else (f"; without a valid ABN you may have to withhold {rate} of the payment "
                                     f"(PAYG withholding) unless an exception applies: {_WITHHOLDING_EXCEPTIONS}.")
    return [advice]


def _element_asks(facts: Facts, missing: list[str]) -> list[str]:
    """What to ask the supplier for, one line per missing element (the ABN is asked for above)."""
    who = facts.who
    asks = {
        "tax_invoice_label": (f"The document does not say it is a tax invoice: ask {who} for a tax invoice "
                              "(a document titled 'Tax invoice') before claiming the GST credit."),
        "supplier_identity": ("The seller's name is missing: ask for a tax invoice that shows the supplier's "
                              "business or trading name."),
        "issue_date": f"No date of issue: ask {who} for a tax invoice that shows the date it was issued.",
        "item_description": (f"The items are not described: ask {who} for an itemised tax invoice with a "
                             "description, quantity and price for each item."),
        "gst_amount": (f"The GST is not shown: ask {who} for a tax invoice that shows the GST amount (or states "
                       "that the total price includes GST when GST is exactly 1/11 of it)."),
        "buyer_identity": (f"For purchases of $1,000 or more the tax invoice must show the buyer: ask {who} "
                           "to add your business name or ABN."),
    }
    return [asks[m] for m in missing if m in asks]


def recommendations_rule(facts: Facts, missing: list[str], findings: dict[str, Outcome], verdict: str) -> list[str]:
    """Specific advice: what is missing or wrong, and what to ask the supplier for."""
    if facts.is_bank:
        bank = ("Bank statements are not tax invoices; to claim GST credits, keep the supplier's "
                "tax invoices for the purchases on the statement.")
        return [bank]
    advice: list[str] = []
    if facts.total is None:
        advice.append("The total could not be read: check the document by hand or upload a clearer scan.")
    elif not facts.required:
        advice.append(f"No tax invoice is needed for a purchase of {dollars(facts.total)} ($82.50 or less, "
                      "GST inclusive); keep this receipt as the record of the purchase.")
    advice.extend(withholding_rule(facts, findings["abn_valid"]))
    if facts.required or facts.total is None:
        advice.extend(_element_asks(facts, missing))
    if findings["gst_consistent"].ok is False:
        advice.append(f"{findings['gst_consistent'].reason} Ask {facts.who} to confirm the amounts or issue a "
                      "corrected tax invoice.")
    if findings["totals_consistent"].ok is False:
        advice.append(f"{findings['totals_consistent'].reason} Check for missing lines, discounts or surcharges "
                      "before relying on the line items.")
    if findings["date_valid"].ok is False:
        advice.append("The date printed is not a real calendar date: ask for a corrected invoice.")
    if verdict == "compliant":
        advice.append("Nothing to ask for: keep this tax invoice (for 5 years) to support the GST credit claim.")
    return advice

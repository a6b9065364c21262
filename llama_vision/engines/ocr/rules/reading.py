"""Rules that turn OCR lines into the canonical fields (pure functions, no OCR runtime).

The OCR engine reads a page into text lines (see `layout`); these rules fill the same
fields a vision model would (names as in `fields.ALL_FIELDS`) and classify the document.
They are general, label-driven rules tuned on real scanned receipts (SROIE) and on the
project's Australian synthetic documents. A field the rules cannot find is None, never a
guess. Values come out normalised where that is cheap (dates DD/MM/YYYY, money "12.30",
ABN 11 digits); the pipeline normalises again, idempotently.

Entry points: `extract_fields(lines)` (lines as `Line`s or plain strings) and
`read_boxes(boxes)` (OCR boxes -> lines -> fields). The rules for each part of the page live
beside this module: `parties` (supplier, ABNs), `buyer` (the buyer's block and name), `amounts`
(date, invoice number, totals, GST), `payment` (the tender), `holder` (a statement's account holder),
`items` (line items, fuel, bank fields), `labels` (the
value a label owns: beside it, to its right or under it in its column); dates, money and ABNs are read by
`llama_vision.fields` (`find_dates`, `find_amounts`, `find_abns`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_vision.engines.ocr.layout import Line, TextBox, group_lines, lines_from_strings, norm_space
from llama_vision.engines.ocr.rules.amounts import (
    amount_lines, document_date, fix_ocr_words, gst_amount, invoice_number, subtotal_amount, total_amount,
)
from llama_vision.engines.ocr.rules.buyer import buyer_block, buyer_name
from llama_vision.engines.ocr.rules.evidence import Trace, build_evidence
from llama_vision.engines.ocr.rules.holder import account_holder, holder_rows, labelled_holder
from llama_vision.engines.ocr.rules.items import bank_fields, fuel, line_items
from llama_vision.engines.ocr.rules.parties import (
    abns, buyer_column_row, header_texts, supplier_address, supplier_name,
)
from llama_vision.engines.ocr.rules.payment import payment_method
from llama_vision.engines.ocr.vocabulary import GST_INCLUDED_RE, PAYMENT_NOT_MADE_RE, TAX_INVOICE_RE
from llama_vision.fields import empty_fields
from llama_vision.result import FieldEvidence

# --------------------------------------------------------------------------------------------
# the reading
# --------------------------------------------------------------------------------------------


@dataclass
class Reading:
    text: str
    fields: dict[str, Any]
    document_type: str
    warnings: list[str] = field(default_factory=list)
    # per field: the rows it was read from (page box, recognised text) and a raw confidence;
    # page 0 and boxes in the coordinates of the boxes given: the engine rescales and renumbers
    evidence: dict[str, FieldEvidence] = field(default_factory=dict)


def _as_lines(lines: Iterable[Line | str]) -> list[Line]:
    items = list(lines)
    if items and all(isinstance(x, Line) for x in items):
        return items  # type: ignore[return-value]
    return lines_from_strings(str(x) for x in items)


def read_boxes(boxes: Sequence[TextBox]) -> Reading:
    """OCR boxes -> rows -> fields."""
    return extract_fields(group_lines(boxes))


def extract_fields(lines: Iterable[Line | str]) -> Reading:
    """Fill the canonical fields from reading-order lines (strings or `Line`s)."""
    rows = _as_lines(lines)
    texts = [norm_space(str(r)) for r in rows]
    ups = [fix_ocr_words(t.upper()) for t in texts]
    fields = empty_fields()
    warnings: list[str] = []
    if not texts:
        return Reading("", fields, "other", ["OCR found no text on the page."])

    trace: Trace = {}
    party = buyer_block(rows)
    heads = header_texts(rows)
    bank = bank_fields(texts, ups)
    holder_label = labelled_holder(rows)
    skip = holder_rows(rows, holder_label, statement=statement_signs(ups, bank))
    name_idx, fields["supplier_name"] = supplier_name(heads, [r.y1 - r.y0 for r in rows], trace,
                                                      stop=buyer_column_row(rows), skip=skip)
    fields["supplier_address"] = supplier_address(heads, name_idx, trace)
    fields["supplier_abn"], fields["buyer_abn"] = abns(ups, party.start, trace, party.pieces)
    fields["buyer_name"] = buyer_name(party, trace)
    fields["date"] = document_date(ups, trace=trace)
    fields["invoice_number"] = invoice_number(ups, trace, rows)
    amounts = amount_lines(rows, ups)
    fields["total"] = total_amount(ups, amounts, trace)
    fields["subtotal"] = subtotal_amount(ups, amounts, trace)
    fields["gst"] = gst_amount(ups, amounts, fields["total"], trace)
    fields["total"] = dollar_read_as_five(fields["total"], fields["gst"], fields["subtotal"])
    fields["payment_method"] = payment_method(ups, texts, trace)
    _trace_statements(ups, trace)
    full = "\n".join(ups)
    fields["tax_invoice_label"] = bool(TAX_INVOICE_RE.search(full))
    fields["gst_included_statement"] = bool(GST_INCLUDED_RE.search(full))
    fields["items"] = line_items(texts, ups)
    fields["fuel_type"], fields["litres"], fields["price_per_litre"] = fuel(ups)
    fields.update(bank)
    doc_type = classify(ups, fields)
    holder, at, kind = account_holder(rows, holder_label, statement=doc_type == "bank_statement",
                                      exclude=trace.get("supplier_name", ((), ""))[0])
    fields["account_holder"] = holder
    if holder is not None:
        trace["account_holder"] = (at, kind)
    if doc_type != "fuel_receipt":
        fields["fuel_type"] = fields["litres"] = fields["price_per_litre"] = None
    if doc_type == "bank_statement":
        # transaction lines ("EFTPOS Purchase 45.00") are not a purchase: no tender, items or totals
        for name in ("payment_method", "total", "subtotal", "gst", "invoice_number", "buyer_name", "buyer_abn"):
            fields[name] = None
        fields["items"] = []
        fields["date"] = document_date(ups, labelled_only=True, trace=trace)
    if fields["total"] is None and doc_type != "bank_statement":
        warnings.append("OCR rules found no total; check the scan or try a model engine.")
    if fields["date"] is None:
        warnings.append("OCR rules found no date.")
    return Reading("\n".join(texts), fields, doc_type, warnings, build_evidence(rows, fields, trace))


def _trace_statements(ups: list[str], trace: Trace) -> None:
    """The rows that print "TAX INVOICE" and "GST included": the evidence of the two flags."""
    for name, pattern in (("tax_invoice_label", TAX_INVOICE_RE), ("gst_included_statement", GST_INCLUDED_RE)):
        at = next((i for i, up in enumerate(ups) if pattern.search(up)), None)
        if at is not None:
            trace[name] = ((at,), "printed_label")


INVOICE_SIGNS_RE = re.compile(
    r"BILL(ED)?\s*TO|INVOICE\s*TO|PAYMENT\s*(DUE|TERMS)|DUE\s*DATE|\bTERMS\b|PLEASE\s*PAY|REMIT|"
    r"\bBSB\b.*\bACC|UNIT\s*PRICE|\bINVOICE\s*(NO|NUMBER|#|DATE)\b.*INV|^\W*INVOICE\W*$|"
    r"WITHIN\s*\d+\s*DAYS|ON\s*REQUEST")  # payment terms: "Payment by bank transfer within 7 days"
RECEIPT_SIGNS_RE = re.compile(
    r"PAID\s*BY|\bTENDER|\bCHANGE\b|\bRECEIPT\b|\bCASHIER\b|\bSALE\b|^\W*PAYMENT\b(?!\s*(DUE|TERMS))|"
    r"\bEFTPOS\b|THANK(S)?\s*(YOU)?\s*FOR\s*SHOPPING|\bCASH\b|"
    r"\bPAID\s*[:\-]?\s*(VISA|MASTER|AMEX|AMERICAN|DINERS|CARD|DEBIT|CREDIT|APPLE|GOOGLE)")  # "Paid MASTERCARD"


def dollar_read_as_five(total: str | None, gst: str | None, subtotal: str | None) -> str | None:
    """The total without a leading 5 that is the "$" misread (small print: "$931.38" -> "5931.38"),
    when only the shorter amount agrees to the cent with the GST printed (1/11 of a GST-inclusive
    total) or with subtotal + GST; otherwise the total as read. Two digits at least must remain:
    a one-digit total agrees with a misread GST by chance too often."""
    if not total or not gst or not total.startswith("5") or total.find(".") < 3:
        return total
    from decimal import ROUND_HALF_UP, Decimal

    def agrees(value: Decimal) -> bool:
        tax = (value / 11).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return tax == Decimal(gst) or (subtotal is not None and Decimal(subtotal) + Decimal(gst) == value)

    rest = total[1:]
    return rest if agrees(Decimal(rest)) and not agrees(Decimal(total)) else total


def statement_signs(ups: list[str], fields: dict[str, Any]) -> bool:
    """Whether the page prints a bank statement's fields (`items.bank_fields`): two of BSB, balances
    and period, or one under a "Bank statement" / "Statement of account" title."""
    bank_hits = sum(bool(fields.get(k)) for k in ("bsb", "opening_balance", "closing_balance", "statement_period"))
    return bank_hits >= 2 or bool(bank_hits and re.search(r"BANK\s*STATEMENT|STATEMENT\s*OF\s*ACCOUNT", "\n".join(ups)))


def classify(ups: list[str], fields: dict[str, Any]) -> str:
    """receipt, tax_invoice, fuel_receipt, bank_statement or other, from what is printed.

    A shop receipt titled "TAX INVOICE" is still a receipt: an invoice is told apart by a
    buyer block, payment terms or an invoice number in INV- form, a receipt by its tender lines.
    """
    full = "\n".join(ups)
    if statement_signs(ups, fields):
        return "bank_statement"
    if fields.get("fuel_type") and (fields.get("litres") or fields.get("price_per_litre") or re.search(r"\bPUMP\b|\bFUEL\b", full)):
        return "fuel_receipt"
    invoice = sum(bool(INVOICE_SIGNS_RE.search(up)) for up in ups) + bool(fields.get("buyer_name") or fields.get("buyer_abn"))
    # a payment instruction ("Payment by bank transfer within 7 days") is an invoice's, not a tender
    receipt = sum(bool(RECEIPT_SIGNS_RE.search(up)) and not PAYMENT_NOT_MADE_RE.search(up) for up in ups)
    if invoice and invoice >= receipt:
        return "tax_invoice"
    if receipt and fields.get("total"):
        return "receipt"
    if fields.get("tax_invoice_label"):
        return "tax_invoice"
    if fields.get("total") or receipt:
        return "receipt"
    return "other"

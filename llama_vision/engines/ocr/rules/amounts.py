"""The dates and amounts of a purchase: issue date, invoice number, total, subtotal, GST, tender.

Dates and amounts are found with `fields.find_dates` / `fields.find_amounts`; these rules only
decide which of them a label owns (pure functions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from llama_vision.engines.ocr.layout import Line, norm_space
from llama_vision.engines.ocr.rules.evidence import Trace, total_kind
from llama_vision.engines.ocr.vocabulary import (
    GST_AMOUNT_RE, GST_NOT_AMOUNT_RE, INVOICE_NO_LOOSE_RE, INVOICE_NO_RE, MONEY_LABEL_RE, NOT_TOTAL_RE,
    PAYMENT_CONTEXT_RE, PAYMENT_WORDS, SUBTOTAL_RE, SUMMARY_RE, TOTAL_LABELS,
)
from llama_vision.fields import PRINTED_AMOUNT_RE, find_amounts, find_dates, normalise_money

DATE_LABEL_RE = re.compile(r"\b(DATE|DATED|TARIKH|ISSUED|INVOICE\s*DATE|DATE\s*OF\s*ISSUE)\b")
DATE_AVOID_RE = re.compile(r"EXP(IRY|IRES|\.)?\b|VALID|\bDUE\b|\bBEST\b|\bUSE\s*BY|\bFROM\b|\bTO\b|PERIOD|BIRTH|\bDOB\b")


def document_date(ups: list[str], *, labelled_only: bool = False, trace: Trace | None = None) -> str | None:
    """The issue date: a labelled date first, else the first date not marked expiry/due.

    `labelled_only`: only a date next to a date label (a statement's period is not its date).
    `trace` gets the rows the date was read from and how it matched (`rules.evidence`).
    """
    # (value, rows, match kind) per group
    labelled: list[tuple[str, tuple[int, ...], str]] = []
    plain: list[tuple[str, tuple[int, ...], str]] = []
    avoided: list[tuple[str, tuple[int, ...], str]] = []
    for i, up in enumerate(ups):
        for _pos, value in find_dates(up):
            if DATE_LABEL_RE.search(up) and not re.search(r"DUE\s*DATE|DATE\s*DUE|EXPIRY", up):
                labelled.append((value, (i,), "labelled_date"))
            elif DATE_AVOID_RE.search(up):
                avoided.append((value, (i,), "avoided_date"))
            else:
                plain.append((value, (i,), "first_plain_date"))
        if DATE_LABEL_RE.search(up) and not find_dates(up) and i + 1 < len(ups) and not DATE_AVOID_RE.search(up):
            labelled.extend((v, (i, i + 1), "labelled_date_next_line") for _p, v in find_dates(ups[i + 1]))
    for group in (labelled,) if labelled_only else (labelled, plain, avoided):
        if group:
            value, rows, kind = group[0]
            if trace is not None:
                trace["date"] = (rows, kind)
            return value
    return None


def invoice_number(ups: list[str], trace: Trace | None = None) -> str | None:
    for pattern, kind in ((INVOICE_NO_RE, "labelled_invoice_number"), (INVOICE_NO_LOOSE_RE, "loose_invoice_number")):
        for i, up in enumerate(ups):
            m = pattern.search(up)
            if m and re.search(r"\d", m.group("num")):
                if trace is not None:
                    trace["invoice_number"] = ((i,), kind)
                return m.group("num").strip("-/")
    return None


@dataclass
class AmountLine:
    index: int
    label: str  # the words that own the amount (the row without its amounts, or the piece to its left)
    value: Decimal | None  # the rightmost amount on the row, or on the next row when the label stands alone
    after_summary: bool = False  # inside a "GST summary" table at the foot of the receipt
    next_row: bool = False  # the value is printed on the row below the label

    @property
    def rows(self) -> tuple[int, ...]:
        return (self.index, self.index + 1) if self.next_row else (self.index,)

    def kind(self, kind: str) -> str:
        return kind + "+next_row" if self.next_row else kind


_OCR_WORD_FIXES = ((re.compile(r"\b[L1I7]OTAL\b"), "TOTAL"), (re.compile(r"\bT0TAL\b"), "TOTAL"))


def fix_ocr_words(up: str) -> str:
    for pattern, word in _OCR_WORD_FIXES:
        up = pattern.sub(word, up)
    return up


def _row_label(row: Line, up: str) -> str:
    """The label of the row's rightmost amount.

    With OCR pieces, two columns can share a row ("TOTAL SAVING: 0.00   TOTAL 6.85"): the label
    is the text between the previous amount piece and the amount itself.
    """
    segments = row.segments
    if len(segments) > 1:
        money_at = [i for i, seg in enumerate(segments) if find_amounts(seg.text)]
        if money_at:
            last = money_at[-1]
            prev = max((i for i in money_at if i < last), default=-1)
            piece = " ".join(seg.text for seg in segments[prev + 1:last]).upper()
            own = PRINTED_AMOUNT_RE.sub(" ", segments[last].text.upper())
            label = fix_ocr_words((piece + " " + own).strip())
            if re.search(r"[A-Z]{2}", label):
                return label
    return PRINTED_AMOUNT_RE.sub(" ", up)


def amount_lines(rows: list[Line], ups: list[str]) -> list[AmountLine]:
    out = []
    in_summary = False
    for i, up in enumerate(ups):
        in_summary = in_summary or bool(SUMMARY_RE.search(up))
        values = find_amounts(up)
        label = _row_label(rows[i], up) if values else up
        value = values[-1] if values else None
        next_row = False
        if value is None and i + 1 < len(ups) and re.search(r"[A-Z]{2}", up):
            nxt = ups[i + 1]
            nxt_vals = find_amounts(nxt)
            # "TOTAL" with its amount printed on the next row, alone or beside an unrelated label
            if nxt_vals and not MONEY_LABEL_RE.search(PRINTED_AMOUNT_RE.sub(" ", nxt)):
                value, next_row = nxt_vals[-1], True
        out.append(AmountLine(i, label, value, in_summary, next_row))
    return out


def total_amount(ups: list[str], amounts: list[AmountLine], trace: Trace | None = None) -> str | None:
    """The amount payable: the strongest total label wins; the last such line breaks ties."""
    trace = {} if trace is None else trace
    best: tuple[int, int, Decimal] | None = None
    for a in amounts:
        if a.value is None or a.value <= 0:
            continue
        if a.after_summary:
            break
        if NOT_TOTAL_RE.search(a.label) and not re.search(r"ROUND(ED)?\s*TOTAL|TOTAL\s*\(?ROUNDED|GRAND\s*TOTAL|AFTER\s*(ADJ|ROUND)", a.label):
            continue
        rank = next((r for pattern, r in TOTAL_LABELS if pattern.search(a.label)), 0)
        # a stronger label wins; among equals the later line (the total after rounding)
        if rank and (best is None or rank >= best[0]):
            best = (rank, a.index, a.value)
    if best is not None:
        won = amounts[best[1]]
        trace["total"] = (won.rows, won.kind(total_kind(best[0])))
        return normalise_money(best[2])
    # no label: cash tendered minus change, else nothing (never the largest number on the page)
    cash = next((a for a in amounts if a.value and re.search(r"\bCASH\b|TENDER", a.label)), None)
    change = next((a for a in amounts if a.value is not None and re.search(r"\bCHANGE\b", a.label)), None)
    if cash is not None and change is not None and cash.value - abs(change.value) > 0:
        trace["total"] = (cash.rows + change.rows, "cash_minus_change")
        return normalise_money(cash.value - abs(change.value))
    return None


def subtotal_amount(ups: list[str], amounts: list[AmountLine], trace: Trace | None = None) -> str | None:
    for a in amounts:
        if a.value is not None and a.value > 0 and SUBTOTAL_RE.search(a.label):
            if trace is not None:
                trace["subtotal"] = (a.rows, a.kind("subtotal_label"))
            return normalise_money(a.value)
    return None


def gst_amount(ups: list[str], amounts: list[AmountLine], total: str | None, trace: Trace | None = None) -> str | None:
    """The GST (or SST) amount: "GST 10%: 3.50", "GST included 3.50", "Total includes GST of $3.50"."""
    total_value = Decimal(total) if total else None
    for a in amounts:
        if a.value is None or a.value < 0:
            continue
        if total_value is not None and a.value >= total_value and total_value > 0:
            continue  # "Total incl GST 49.40" is the total, not the tax
        label = a.label
        m = re.search(r"(INCLUDES?|INCLUDING|INCL\.?|INC\.?)\s*(GST|TAX)\s*(OF)?\s*$", label.strip(" :$"))
        if m or re.search(r"(GST|TAX)\s*(INCLUDED|AMOUNT|PAYABLE|TOTAL)|TOTAL\s*(GST|TAX)\b", label):
            if trace is not None:
                trace["gst"] = (a.rows, a.kind("gst_included_label"))
            return normalise_money(a.value)
        if GST_AMOUNT_RE.search(label) and not GST_NOT_AMOUNT_RE.search(label):
            if trace is not None:
                trace["gst"] = (a.rows, a.kind("gst_label"))
            return normalise_money(a.value)
    return None


def payment_method(ups: list[str], texts: list[str] | None = None, trace: Trace | None = None) -> str | None:
    """The tender as printed (EFTPOS, VISA CREDIT, Mastercard, Amex, Cash...), preferring payment lines."""
    scored: list[tuple[int, int, str, int]] = []
    for i, up in enumerate(ups):
        if re.search(r"ACCEPT|WE\s*TAKE|AVAILABLE|SURCHARGE", up):
            continue  # "We accept Visa, Mastercard" is an advert, not this payment
        for rank, (pattern, _kind) in enumerate(PAYMENT_WORDS):
            m = re.search(pattern, up)
            if m:
                context = 0 if PAYMENT_CONTEXT_RE.search(up) or find_amounts(up) else 1
                original = texts[i] if texts is not None and len(texts[i]) == len(up) else up
                scored.append((context, rank, norm_space(original[m.start(): m.end()]), i))
                break
    if not scored:
        return None
    scored.sort()
    context, _rank, word, row = scored[0]
    if trace is not None:
        trace["payment_method"] = ((row,), "payment_line" if context == 0 else "payment_word")
    return word

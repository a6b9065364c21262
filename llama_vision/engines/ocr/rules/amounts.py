"""The dates and amounts of a purchase: issue date, invoice number, total, subtotal, GST.

Dates and amounts are found with `fields.find_dates` / `fields.find_amounts`; these rules only
decide which of them a label owns (pure functions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from llama_vision.engines.ocr.layout import Line
from llama_vision.engines.ocr.rules.evidence import Trace, total_kind
from llama_vision.engines.ocr.rules.labels import find_labels, value_of
from llama_vision.engines.ocr.vocabulary import (
    GST_AMOUNT_RE, GST_NOT_AMOUNT_RE, INVOICE_NO_LABEL_RE, INVOICE_NO_LOOSE_RE, INVOICE_NO_RE, INVOICE_NO_VALUE,
    ITEM_HEADER_RE, MONEY_LABEL_RE, NOT_TOTAL_RE, SUBTOTAL_RE, SUMMARY_RE, TOTAL_LABELS,
)
from llama_vision.fields import PRINTED_AMOUNT_RE, WHOLE_AMOUNT_RE, find_amounts, find_dates, find_money, normalise_money

DATE_LABEL_RE = re.compile(r"\b(DATE|DATED|TARIKH|ISSUED|INVOICE\s*DATE|DATE\s*OF\s*ISSUE)\b")
DATE_AVOID_RE = re.compile(r"EXP(IRY|IRES|\.)?\b|VALID|\bDUE\b|\bBEST\b|\bUSE\s*BY|\bFROM\b|\bTO\b|PERIOD|BIRTH|\bDOB\b")


# a month name with a zero for its O ("0CT 3, 2016", "N0V"): the recogniser's usual slip
_MONTH_ZERO_RE = re.compile(r"(?<![A-Z0-9])0(?=CT\b|CTOBER\b)|(?<=\bN)0(?=V\b|VEMBER\b)")


# "27:03/2018": the day's slash read as a colon (never a time: a time has no year after it)
_DATE_COLON_RE = re.compile(r"(?<![\d:])(\d{1,2})[:;](\d{1,2})/(\d{4}|\d{2}(?![\d:]))")


def document_date(ups: list[str], *, labelled_only: bool = False, trace: Trace | None = None) -> str | None:
    """The issue date: a labelled date first, else the first date not marked expiry/due.

    `labelled_only`: only a date next to a date label (a statement's period is not its date).
    `trace` gets the rows the date was read from and how it matched (`rules.evidence`).
    """
    # (value, rows, match kind) per group
    labelled: list[tuple[str, tuple[int, ...], str]] = []
    plain: list[tuple[str, tuple[int, ...], str]] = []
    avoided: list[tuple[str, tuple[int, ...], str]] = []
    ups = [_DATE_COLON_RE.sub(r"\1/\2/\3", _MONTH_ZERO_RE.sub("O", up)) for up in ups]
    for i, up in enumerate(ups):
        for pos, value in find_dates(up):
            if pos > 0 and up[pos - 1].isalpha():
                continue  # "HD03-04-06": an item or batch code, not a date
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


def invoice_number(ups: list[str], trace: Trace | None = None, rows: list[Line] | None = None) -> str | None:
    """The document's number: beside its label ("Invoice No: INV-2041"), else, with `rows`, under a
    label standing alone in its column (a table heading "Invoice No | Date" over its cells)."""
    labels = find_labels(rows, INVOICE_NO_LABEL_RE) if rows is not None and len(rows) == len(ups) else []
    for i, up in enumerate(ups):
        beside = _number_beside(up, INVOICE_NO_RE)
        if beside is not None:
            return _traced(trace, beside, (i,), "labelled_invoice_number")
        for label in (x for x in labels if x.row == i):
            paired = value_of(rows or [], label, _number_text)
            if paired is not None and paired.below:
                return _traced(trace, paired.text, paired.rows, "labelled_invoice_number+next_row")
    for i, up in enumerate(ups):
        loose = _number_beside(up, INVOICE_NO_LOOSE_RE)
        if loose is not None:
            return _traced(trace, loose, (i,), "loose_invoice_number")
    return None


def _number_beside(up: str, pattern: re.Pattern[str]) -> str | None:
    """The number `pattern` reads after its label on the row, when it has a digit."""
    m = pattern.search(up)
    return m.group("num").strip("-/") if m and re.search(r"\d", m.group("num")) else None


def _traced(trace: Trace | None, value: str, rows: tuple[int, ...], kind: str) -> str:
    if trace is not None:
        trace["invoice_number"] = (rows, kind)
    return value


_NUMBER_VALUE_RE = re.compile(INVOICE_NO_VALUE + r"(?=\s|$)")  # a whole word: not "12" of "12.50" or "14:03"


def _number_text(text: str) -> str | None:
    """The piece's first word as an invoice number: letters and digits with a digit, not a date,
    an amount or a time."""
    m = _NUMBER_VALUE_RE.match(text.strip().upper())
    if not m or not re.search(r"\d", m.group("num")) or find_dates(m.group("num")):
        return None
    return m.group("num").strip("-/")


@dataclass
class AmountLine:
    index: int
    label: str  # the words that own the amount (the row without its amounts, or the piece to its left)
    value: Decimal | None  # the rightmost amount on the row, or on the next row when the label stands alone
    after_summary: bool = False  # inside a "GST summary" table at the foot of the receipt
    next_row: bool = False  # the value is printed on the row below the label
    completed_from: int | None = None  # the row whose amount completed a truncated one

    @property
    def rows(self) -> tuple[int, ...]:
        rows = (self.index, self.index + 1) if self.next_row else (self.index,)
        return rows + (self.completed_from,) if self.completed_from is not None else rows

    def kind(self, kind: str) -> str:
        kind = kind + "+next_row" if self.next_row else kind
        return kind + "+completed" if self.completed_from is not None else kind


_OCR_WORD_FIXES = ((re.compile(r"\b[L1I7]OTAL\b"), "TOTAL"), (re.compile(r"\bT0TAL\b"), "TOTAL"),
                   # a thin font read T as I and O as U throughout: "IUIAL", "SUBIUIAL"
                   (re.compile(r"\b(SUB)?[TI1][OU0][TI1]AL\b"), r"\1TOTAL"),
                   (re.compile(r"^(\W*)TOT\b(?=\W*(?:AMT|AMOUNT|RM|\$|:|,|$))"), r"\1TOTAL"))  # "TOT, : RM 73.00"
_WORD_RE = re.compile(r"(?<![A-Z0-9])[A-Z0-9/]{4,5}(?![A-Z0-9])")


def _near_total(word: str) -> bool:
    """One letter away from TOTAL ("TOTL", "TOLAL", "IOTAL", "TOTA/"): the recogniser's usual slips."""
    word = word.rstrip("/")
    if word == "TOTAL" or not 4 <= len(word) <= 5 or not re.search(r"[A-Z]", word):
        return False
    if len(word) == 5:
        return sum(a != b for a, b in zip(word, "TOTAL", strict=True)) == 1
    return any("TOTAL"[:i] + "TOTAL"[i + 1:] == word for i in range(5))


def fix_ocr_words(up: str) -> str:
    for pattern, word in _OCR_WORD_FIXES:
        up = pattern.sub(word, up)
    return _WORD_RE.sub(lambda m: "TOTAL " if _near_total(m.group(0)) else m.group(0), up)


def _thousands_points(m: re.Match[str]) -> str:
    head, _, cents = m.group(0).rpartition(".")
    return head.replace(".", ",") + "." + cents


_MONEY_FIXES = (
    # "$1.387.08": a thousands comma read as a point (two points and cents: never a decimal comma)
    (re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+\.\d{2}(?![\d.,])"), _thousands_points),
    (re.compile(r"(?<![A-Z])[PR]M\s?[DOQ]\.(?=\d{2}\b)"), "RM0."),  # "RMD.94", "RMO.06": a zero read as a letter
    (re.compile(r"(?<![A-Z])PM(?=\s?\d+\.\d{2}\b)"), "RM"),  # "PM1.00"
    (re.compile(r"(?<![A-Z0-9])S(?=\d{1,3}(?:,\d{3})*\.\d{2}\b)"), "$"),  # "S161.40": the dollar sign read as S
    (re.compile(r"^ S(?=\d{1,3}(?:,\d{3})*\s*$)"), " $"),  # a piece that is only "S748": whole dollars
    (re.compile(r"(?<=\s)(\d{1,4})-(\d{2})\s*$"), r"\1.\2"),  # "TOTAL : 19-80": the point read as a dash
)


def fix_money(text: str) -> str:
    """An amount piece with the recogniser's slips undone (only at a row's money positions)."""
    text = " " + text
    for pattern, repl in _MONEY_FIXES:
        text = pattern.sub(repl, text)
    return text[1:]


def _row_label(segments: list[str], up: str) -> str:
    """The label of the row's rightmost amount.

    With OCR pieces, two columns can share a row ("TOTAL SAVING: 0.00   TOTAL 6.85"): the label
    is the text between the previous amount piece and the amount itself.
    """
    if len(segments) > 1:
        money_at = [i for i, seg in enumerate(segments) if find_money(seg)]
        if money_at:
            last = money_at[-1]
            prev = max((i for i in money_at if i < last), default=-1)
            piece = " ".join(segments[prev + 1:last])
            own = _strip_money(segments[last])
            label = fix_ocr_words((piece + " " + own).strip())
            if re.search(r"[A-Z]{2}", label):
                return label
    return _strip_money(up)


def _strip_money(text: str) -> str:
    return PRINTED_AMOUNT_RE.sub(" ", text) if find_amounts(text) else WHOLE_AMOUNT_RE.sub(
        lambda m: " " if m.group("cur") or m.group("sep") else m.group(0), text)


def _value_below(label_row: Line, below: Line, below_up: str) -> tuple[str | None, Decimal | None]:
    """The amount printed under a label standing alone: the piece under the label, else the row's last.

    A summary's header ("Amount (RM)   Tax (RM)") owns the column under each word, not the row.
    """
    if MONEY_LABEL_RE.search(_strip_money(below_up)):
        return None, None  # the next row has its own label
    pieces = [(seg, find_money(fix_money(seg.text.upper()))) for seg in below.segments]
    pieces = [(seg, vals) for seg, vals in pieces if vals]
    if not pieces:
        return None, None
    for label in reversed(label_row.segments):  # the rightmost column: "Subtotal  GST  Total"
        if not re.search(r"[A-Za-z]{2}", label.text) or len(label_row.segments) == 1:
            continue
        under = [vals[-1] for seg, vals in pieces if seg.x0 < label.x1 and label.x0 < seg.x1]
        if under:  # the label's own column: "Subtotal   Total due" over "90.00   99.00"
            return fix_ocr_words(label.text.upper()), under[-1]
    return None, pieces[-1][1][-1]


def _near_summary(up: str) -> bool:
    """A 7-letter word S?????Y... within two letters of SUMMARY ("SUHHARY", "SUSAARY"): its usual misreads."""
    return any(sum(a != b for a, b in zip(word, "SUMMARY", strict=True)) <= 2
               for word in re.findall(r"(?<![A-Z])S[A-Z]{4}RY(?![A-Z])", up))


def _summary_start(up: str) -> bool:
    """A tax summary table ("GST Summary  Amount (RM)  Tax (RM)"), also with its first letter lost
    or two letters misread ("GST SUHHARY")."""
    if SUMMARY_RE.search(up) or (re.search(r"UMMARY|ANALYSIS", up) and re.search(r"TAX|AMOUNT|AMT|%", up)):
        return True
    return _near_summary(up) and bool(re.search(r"GST|SST|TAX|[05]ST\b", up))


# an amount whose last digits the box edge cut off: "NET TOTAL 25.", "TOTAL 201.6"
_TRUNCATED_RE = re.compile(r"(?<![\d.,])(?P<int>\d{1,3}(?:,\d{3})*|\d+)\.(?P<dec>\d?)\s*$")


def _completed(text: str, page: list[tuple[int, Decimal]], index: int) -> tuple[Decimal, int] | None:
    """A truncated amount at the row's end completed from the one amount elsewhere on the page
    that it is the start of (the subtotal or the cash line prints it whole); else None."""
    m = _TRUNCATED_RE.search(text)
    if m is None:
        return None
    whole, dec = m.group("int").replace(",", ""), m.group("dec")
    found = {value: row for row, value in page if row != index and value > 0
             and f"{value:.2f}".startswith(f"{whole}.{dec}")}
    if len(found) != 1:
        return None  # none, or two that fit: unknown, not a guess
    value, row = next(iter(found.items()))
    return value, row


def amount_lines(rows: list[Line], ups: list[str]) -> list[AmountLine]:
    out = []
    in_summary = False
    page = [(i, value) for i, up in enumerate(ups) for value in find_amounts(fix_money(up))]
    for i, up in enumerate(ups):
        in_summary = in_summary or _summary_start(up)
        segments = [fix_money(fix_ocr_words(seg.text.upper())) for seg in rows[i].segments] or [up]
        money_up = fix_money(up) if len(segments) <= 1 else " ".join(segments)
        values = find_money(money_up)
        label = _row_label(segments, money_up) if values else up
        value = values[-1] if values else None
        completed = _completed(money_up, page, i) if value is None and MONEY_LABEL_RE.search(up) else None
        if completed is not None:
            (value, source), label = completed, _TRUNCATED_RE.sub(" ", money_up)
            out.append(AmountLine(i, label, value, in_summary, completed_from=source))
            continue
        next_row = False
        # an item table's heading ("Description  GST  Amount") owns item rows, not a summary value
        if (value is None and i + 1 < len(ups) and re.search(r"[A-Z]{2}", up) and not _summary_start(up)
                and not ITEM_HEADER_RE.search(up)
                and not _TRUNCATED_RE.search(money_up)):  # its own amount, cut short: not the row below
            # "TOTAL" with its amount printed on the next row, alone or beside an unrelated label
            own_label, value = _value_below(rows[i], rows[i + 1], fix_money(ups[i + 1]))
            label = own_label or label
            next_row = value is not None
        out.append(AmountLine(i, label, value, in_summary, next_row))
    return out


# a total whose label also names the tax or its rate: "TOTAL INCL. GST 6.00%", "Total Sales (Incl. GST @6%)"
TOTAL_DESPITE_RE = re.compile(
    r"ROUND(ED)?\s*TOTAL|TOTAL\s*\(?ROUNDED|GRAND\s*TOTAL|AFTER\s*(ADJ|ROUND)|"
    r"^\W*(NET\s*)?TOTAL\s*(SALES?\s*)?\(?\s*(INCL?\b|INCLUSIVE|INCLUDING|INC\b)")


def total_amount(ups: list[str], amounts: list[AmountLine], trace: Trace | None = None) -> str | None:
    """The amount payable: the strongest total label wins; the last such line breaks ties."""
    trace = {} if trace is None else trace
    best: tuple[int, int, Decimal] | None = None
    for a in amounts:
        if a.value is None or a.value <= 0:
            continue
        if a.after_summary:
            break
        if NOT_TOTAL_RE.search(a.label) and not TOTAL_DESPITE_RE.search(a.label):
            continue
        rank = next((r for pattern, r in TOTAL_LABELS if pattern.search(a.label)), 0)
        # a stronger label wins; among equals the later line (the total after rounding)
        if rank and (best is None or rank >= best[0]):
            best = (rank, a.index, a.value)
    if best is not None:
        won = amounts[best[1]]
        rounded = _rounded_after(amounts, won)
        if rounded is not None:
            trace["total"] = (won.rows + rounded.rows, "rounded_total_label")
            return normalise_money(rounded.value)
        trace["total"] = (won.rows, won.kind(total_kind(best[0])))
        return normalise_money(best[2])
    # no label: cash tendered minus change, else nothing (never the largest number on the page)
    cash = next((a for a in amounts if a.value and re.search(r"\bCASH\b|TENDER", a.label)), None)
    change = next((a for a in amounts if a.value is not None and re.search(r"\bCHANGE\b", a.label)), None)
    if cash is not None and change is not None and cash.value - abs(change.value) > 0:
        trace["total"] = (cash.rows + change.rows, "cash_minus_change")
        return normalise_money(cash.value - abs(change.value))
    return None


_ROUNDING_RE = re.compile(r"ROUND(ING)?\b|ROUNDING|\bADJ(USTMENT)?\b")


def _cents_only(text: str) -> Decimal | None:
    m = re.search(r"(?<![\d.])(-?)\s*\.(\d{2})\s*$", text)
    return Decimal(f"{m.group(1)}0.{m.group(2)}") if m else None


def _rounded_after(amounts: list[AmountLine], won: AmountLine) -> AmountLine | None:
    """The rounded total printed under a rounding line with a rounding label ("Rounded total",
    or misread "Rounding RM 52.10"): a row within three below the rounding line whose amount is
    the total plus or minus the adjustment. "Total paid" there is the payment, not the total."""
    total = won.value
    if total is None:
        return None
    rounding, step = None, Decimal(0)
    for a in amounts[won.index + 1: won.index + 4]:
        value = a.value if a.value is not None else _cents_only(a.label)  # "RM .02": the zero unprinted
        if _ROUNDING_RE.search(a.label) and value is not None and 0 < abs(value) <= Decimal("0.05"):
            rounding, step = a, abs(value)
            break
    if rounding is None:
        return None
    # only a row that still reads as rounding: "Total paid", "Cash" are the payment, not the total
    return next((a for a in amounts if rounding.index < a.index <= rounding.index + 3 and _ROUNDING_RE.search(a.label)
                 and a.value in (total + step, total - step)), None)


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
        if ITEM_HEADER_RE.search(label):
            continue  # "Description  GST  Amount": a column header, and the amount under it an item's
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

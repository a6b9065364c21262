"""Where on the page a value is printed: a field value -> the characters of the OCR rows that print it.

Used by the OCR engine's evidence (the value inside the rows a rule read it from) and by
`llama_vision.grounding` (a model's answer anywhere on the page). Pure functions over the rows (`engines.ocr.layout.Line`, whose pieces keep their
page boxes). Each field kind is compared in the form `llama_vision.fields` normalises it to, so
"12.50" finds "$12.50", "51824753556" finds "ABN 51 824 753 556" and "15/03/2024" finds
"15 Mar 24". Names and addresses are compared as letters and digits only, over up to
`MAX_ROWS` consecutive rows (an address printed on two lines), and fuzzily, so one misread
character does not lose the box. A value printed nowhere gets no match: a box is found, never
made up.

The box is the part of each row the match covers: a row's piece ("TOTAL AUD $31.41" read as
one box) is cut at the matched characters in proportion to their position in the piece, so the
box holds the value, not its label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Any

from llama_vision.engines.ocr.layout import Line
from llama_vision.engines.ocr.vocabulary import GST_INCLUDED_RE, TAX_INVOICE_RE
from llama_vision.fields import find_date_spans, normalise_value
from llama_vision.schema import kind_of

# Fuzzy text matches below this share of agreeing characters are not the value (measured on
# generated documents' training seeds: misread names score 0.85-0.95, other rows below 0.6).
TEXT_THRESHOLD = 0.8
FUZZY_MIN = 8  # shorter values (invoice numbers, "VISA") must be printed exactly: too many near misses
MAX_ROWS = 4
# The detector pads each piece's box around its glyphs by about this share of the box's height on
# every side (DBNet's "unclip"); the box is taken in by it so it holds the printed value (fitted
# on training seeds of the generated documents, whose renderer records the drawn boxes).
PIECE_INSET = 0.2  # 0.15-0.25 scored alike on seed 100 (97-98% at IoU >= 0.5); 0 scored 60%  # an address or a long name printed over at most this many rows
# words on a money field's row (or the row above) that say the amount is that field's
_LABELS: dict[str, re.Pattern[str]] = {
    "total": re.compile(r"TOTAL|DUE|AMOUNT|BALANCE|PAID", re.I),
    "subtotal": re.compile(r"SUB\s*-?\s*TOTAL|EX\.?\s*GST|NET", re.I),
    "gst": re.compile(r"GST|TAX", re.I),
    "opening_balance": re.compile(r"OPENING", re.I),
    "closing_balance": re.compile(r"CLOSING", re.I),
    "litres": re.compile(r"LITRE|LTR|\bL\b", re.I),
    "price_per_litre": re.compile(r"/\s*L|PER|PRICE", re.I),
}
_NOT_TOTAL = re.compile(r"SUB\s*-?\s*TOTAL|TENDER|CHANGE|CASH\s+OUT|ROUNDING", re.I)
_NUMBER = re.compile(r"(?:A\$|AUD\s?|\$)?-?\d[\d,]*(?:\.\d+)?")
_DIGITS_KINDS = {"abn", "bsb"}
_FLAG_PATTERNS = {"tax_invoice_label": TAX_INVOICE_RE, "gst_included_statement": GST_INCLUDED_RE}


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of row `row`'s text (`Line.text`)."""

    row: int
    start: int
    end: int


@dataclass(frozen=True)
class Match:
    """Where a value is printed: one span per row it covers, and how well it agreed (0-1)."""

    spans: tuple[Span, ...]
    score: float

    @property
    def rows(self) -> list[int]:
        return sorted({s.row for s in self.spans})


def locate(rows: Sequence[Line], name: str, value: Any) -> Match | None:
    """The best place field `name`'s `value` is printed on these rows, or None."""
    if value is None or value == "" or value == [] or value is False:
        return None
    if name in _FLAG_PATTERNS:
        return _first_pattern(rows, _FLAG_PATTERNS[name]) if value is True else None
    kind = kind_of(name) or "text"
    if kind in ("items", "bool"):
        return None  # items are not boxed (yet); other flags have no printed form to look for
    target = normalise_value(name, value)
    if target in (None, ""):
        return None
    if kind in ("money", "number", "litre_price"):
        return _best_amount(rows, name, target)
    if kind == "date":
        return _first_date(rows, target)
    return _best_text(rows, str(target), digits_only=kind in _DIGITS_KINDS)


def box_of(rows: Sequence[Line], match: Match) -> list[float] | None:
    """The union of the matched characters' boxes (in the rows' coordinates)."""
    boxes = [b for span in match.spans if (b := _span_box(rows[span.row], span.start, span.end))]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _span_box(row: Line, start: int, end: int) -> tuple[float, float, float, float] | None:
    """The box of characters [start, end) of the row's text: each piece they touch, cut in
    proportion (the recogniser gives one box per piece, not per character)."""
    boxes, offset = [], 0
    for piece in row.segments:
        length = len(piece.text)
        a, b = max(start, offset), min(end, offset + length)
        if a < b and piece.box is not None and length:
            x0, y0, x1, y1 = _inset(piece.box)
            width = x1 - x0
            boxes.append((x0 + width * (a - offset) / length, y0, x0 + width * (b - offset) / length, y1))
        offset += length + 1  # Line.text joins the pieces with one space
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _inset(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    pad = PIECE_INSET * (y1 - y0)
    if x1 - x0 <= 2 * pad or y1 - y0 <= 2 * pad:
        return box
    return (x0 + pad, y0 + pad, x1 - pad, y1 - pad)


# -- amounts, dates, printed statements ----------------------------------------------------------


def _decimal(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def _best_amount(rows: Sequence[Line], name: str, target: Any) -> Match | None:
    """Every printed number equal to the value; the one on a row labelled for the field wins,
    then the first from the top (a subtotal that equals an item's amount is found by its label)."""
    wanted = _decimal(target)
    if wanted is None:
        return None
    best: tuple[int, int, Match] | None = None
    for i, row in enumerate(rows):
        text = row.text
        for found in _NUMBER.finditer(text):
            if _decimal(normalise_value(name, found.group(0))) != wanted:
                continue
            rank = _label_rank(rows, i, name)
            if best is None or rank > best[0]:
                best = (rank, -i, Match((Span(i, found.start(), found.end()),), 1.0))
    return best[2] if best else None


def _label_rank(rows: Sequence[Line], i: int, name: str) -> int:
    label = _LABELS.get(name)
    if label is None:
        return 0
    here, above = rows[i].text, rows[i - 1].text if i else ""
    if name == "total" and _NOT_TOTAL.search(here):
        return -1
    return 2 if label.search(here) else 1 if label.search(above) else 0


def _first_date(rows: Sequence[Line], target: str) -> Match | None:
    for i, row in enumerate(rows):
        for start, end, value in find_date_spans(row.text):
            if value == target:
                return Match((Span(i, start, end),), 1.0)
    return None


def _first_pattern(rows: Sequence[Line], pattern: re.Pattern[str]) -> Match | None:
    for i, row in enumerate(rows):
        found = pattern.search(row.text.upper())
        if found:
            return Match((Span(i, found.start(), found.end()),), 1.0)
    return None


# -- names, addresses, identifiers ---------------------------------------------------------------


def _compact(rows: Sequence[Line], first: int, count: int, digits_only: bool) -> tuple[str, list[tuple[int, int]]]:
    """The rows' letters and digits (upper case) run together, and each one's (row, position)."""
    chars, where = [], []
    keep = str.isdigit if digits_only else str.isalnum
    for i in range(first, min(first + count, len(rows))):
        for j, c in enumerate(rows[i].text):
            if keep(c):
                for upper in c.upper():  # "ß" -> "SS", "ﬁ" -> "FI": one position per character kept
                    chars.append(upper)
                    where.append((i, j))
    return "".join(chars), where


def _spans(where: list[tuple[int, int]], blocks: list[tuple[int, int]]) -> tuple[Span, ...]:
    """The compact positions of the agreeing blocks back to one span per row."""
    per_row: dict[int, list[int]] = {}
    for start, end in blocks:
        for row, position in where[start:end]:
            per_row.setdefault(row, []).append(position)
    return tuple(Span(row, min(p), max(p) + 1) for row, p in sorted(per_row.items()))


def _coverage(rows: Sequence[Line], spans: Sequence[Span]) -> float:
    """How much of the pieces it touches a match fills: "CASH" alone beats "Cash rounding"."""
    used = total = 0
    for span in spans:
        offset = 0
        for piece in rows[span.row].segments:
            a, b = max(span.start, offset), min(span.end, offset + len(piece.text))
            if a < b:
                used, total = used + b - a, total + len(piece.text)
            offset += len(piece.text) + 1
    return used / total if total else 0.0


def _best_text(rows: Sequence[Line], target: str, *, digits_only: bool) -> Match | None:
    """The value's letters and digits within 1..MAX_ROWS consecutive rows: exactly, or else the
    closest region agreeing on at least TEXT_THRESHOLD of its characters. Fewer rows win ties,
    then the match that fills its pieces best, then the first from the top."""
    needle = "".join(c.upper() for c in target if (c.isdigit() if digits_only else c.isalnum()))
    if len(needle) < 2:
        return None
    best: tuple[float, float, Match] | None = None
    for count in range(1, MAX_ROWS + 1):
        for first in range(len(rows) - count + 1):
            hay, where = _compact(rows, first, count, digits_only)
            if len(hay) < len(needle) * TEXT_THRESHOLD or (count > 1 and len(hay) > 3 * len(needle) + 20):
                continue  # too short to hold the value, or rows holding far more: joining them adds noise
            found = _region(needle, hay, exact_only=digits_only)
            if found is None:
                continue
            blocks, score = found
            if {where[i][0] for a, b in blocks for i in range(a, b)} != set(range(first, first + count)):
                continue  # the match does not use every row of this window: a smaller one has it
            spans = _spans(where, blocks)
            key = (round(score, 6), _coverage(rows, spans))
            if best is None or key > best[:2]:
                best = (*key, Match(spans, score))
        if best is not None and best[0] >= 1.0:
            break
    return best[2] if best else None


def _region(needle: str, hay: str, *, exact_only: bool) -> tuple[list[tuple[int, int]], float] | None:
    """(the agreeing blocks of `hay` as [start, end) pairs, score) of where `needle` lies in it;
    identifiers and short values must agree exactly."""
    at = hay.find(needle)
    if at >= 0:
        return [(at, at + len(needle))], 1.0
    if exact_only or len(needle) < FUZZY_MIN:
        return None
    blocks = [b for b in SequenceMatcher(None, needle, hay, autojunk=False).get_matching_blocks() if b.size >= 2]
    if not blocks:
        return None
    start, end = blocks[0].b, blocks[-1].b + blocks[-1].size
    agreed = sum(b.size for b in blocks)
    score = 2 * agreed / (len(needle) + (end - start))
    return ([(b.b, b.b + b.size) for b in blocks], score) if score >= TEXT_THRESHOLD else None

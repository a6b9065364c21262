"""Label-value pairing by geometry: the value a printed label owns (pure functions).

A label's value is printed in one of three places, and real invoices use all three:

- after it in its own piece: "Bill To: Acme Pty Ltd";
- in the next piece to its right on the row, when that piece is not a label itself
  ("Customer:      Acme Pty Ltd");
- under it, in its column: a table heading over its cell ("Invoice No | Date" over
  "36828 | 22/03/2025"), or a "Customer:" label over the customer's block while other columns
  share those rows.

Rows are `layout.Line`s whose pieces keep their x-range. Lines made from plain strings are one
piece spanning the line, so "under it, in its column" is simply the next line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from llama_vision.engines.ocr.layout import Line, Segment, norm_space
from llama_vision.engines.ocr.vocabulary import (
    ABN_LABEL_RE, INVOICE_NO_LABEL_RE, ITEM_HEADER_RE, LABEL_PIECE_RE, PARTY_LABEL_RE,
)

# a row further below its label than this many label heights is past a blank line: not the label's
BLANK_GAP = 2.5
# how far a label's block (the rows under it in its column) may run
MAX_BLOCK_ROWS = 6


@dataclass(frozen=True)
class Label:
    """A label printed at the start of piece `seg` of row `row` (or inside it, for a number label);
    `rest` is what follows the label in that piece, `group` which kind of label it is."""

    row: int
    seg: int
    rest: str
    group: str = ""


@dataclass(frozen=True)
class Value:
    """The text a label owns, the rows it was read from (the label's row first) and the x-range
    of the pieces that print it."""

    text: str
    rows: tuple[int, ...]
    x0: float
    x1: float

    @property
    def below(self) -> bool:
        return len(self.rows) > 1


def find_labels(rows: list[Line], pattern: re.Pattern[str]) -> list[Label]:
    """Every piece in which `pattern` finds a label, top to bottom, left to right. A pattern with
    named groups reports the one that matched (`Label.group`)."""
    out = []
    for i, row in enumerate(rows):
        for j, seg in enumerate(row.segments):
            m = pattern.search(seg.text)
            if m:
                group = next((name for name, text in m.groupdict().items() if text), "")
                out.append(Label(i, j, seg.text[m.end():], group))
    return out


def is_label(text: str) -> bool:
    """A piece that names a value rather than being one: "Ship To:", "Date", "Terms: 14 days",
    "Invoice No", "ABN" without its digits."""
    text = text.strip()
    if PARTY_LABEL_RE.match(text) or LABEL_PIECE_RE.match(text):
        return True
    m = INVOICE_NO_LABEL_RE.match(text.upper()) or ABN_LABEL_RE.match(text.upper())
    return bool(m) and not re.search(r"\d", text[m.end():])


def _segment(rows: list[Line], label: Label) -> Segment:
    return rows[label.row].segments[label.seg]


def in_column(row: Line, x0: float, x1: float) -> list[Segment]:
    """The row's pieces that overlap [x0, x1]: the ones printed in that column."""
    return [s for s in row.segments if s.x0 < x1 and x0 < s.x1]


def _gap(rows: list[Line], above: int, below: int, height: float) -> bool:
    """A blank line between the two rows (lines from strings are never apart)."""
    return rows[below].y0 - rows[above].y1 > BLANK_GAP * max(height, 1.0)


def value_of(rows: list[Line], label: Label, accept: Callable[[str], str | None]) -> Value | None:
    """The value `label` owns: the rest of its piece, else the next piece to its right when that is
    not a label, else the pieces under it in its column on the next row (not past a blank line or
    another label). `accept` turns a candidate's text into the value, or None when it is not one
    (a name rule rejects an ABN line). Once a place holds something, later places are not asked,
    except that a label's rest which is itself a label ("Invoice No Date", a heading read as one
    piece) or a piece to the right that is not a value sends the search on."""
    seg = _segment(rows, label)
    rest = norm_space(label.rest).strip(":-# ")
    if rest and not is_label(rest):
        value = accept(rest)
        return Value(value, (label.row,), seg.x0, seg.x1) if value else None
    row = rows[label.row]
    if label.seg + 1 < len(row.segments):
        right = row.segments[label.seg + 1]
        value = None if is_label(right.text) else accept(right.text)
        if value:
            return Value(value, (label.row,), right.x0, right.x1)
    below = label.row + 1
    if below >= len(rows) or _gap(rows, label.row, below, row.y1 - row.y0):
        return None
    under = in_column(rows[below], seg.x0, seg.x1)
    if not under or any(is_label(s.text) for s in under):
        return None
    value = accept(norm_space(" ".join(s.text for s in under)))
    if not value:
        return None
    return Value(value, (label.row, below), min(s.x0 for s in under), max(s.x1 for s in under))


def block_rows(rows: list[Line], label: Label, value: Value | None,
               stop: Callable[[str], bool]) -> dict[int, list[Segment]]:
    """The label's block: per row, the pieces in its column (the label's and its value's x-range),
    from the label's row down to a blank line, a row with nothing in the column, an item table's
    heading or a piece for which `stop` says another block starts."""
    seg = _segment(rows, label)
    x0, x1 = (min(seg.x0, value.x0), max(seg.x1, value.x1)) if value is not None else (seg.x0, seg.x1)
    first = [seg]
    if value is not None and not value.below and label.seg + 1 < len(rows[label.row].segments):
        right = rows[label.row].segments[label.seg + 1]
        first += [right] if right.x0 == value.x0 else []  # its value beside it
    out = {label.row: first}
    height = rows[label.row].y1 - rows[label.row].y0
    for i in range(label.row + 1, min(len(rows), label.row + MAX_BLOCK_ROWS)):
        pieces = in_column(rows[i], x0, x1)
        if (not pieces or _gap(rows, i - 1, i, height) or ITEM_HEADER_RE.search(rows[i].text.upper())
                or any(stop(s.text) for s in pieces)):
            break
        out[i] = pieces
    return out

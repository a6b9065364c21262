"""Who the invoice is to: the buyer's block, read from its label wherever the page prints it.

The block starts at a party label ("Bill To:", "Customer:", "To:", "Ship To:", "Attn:") at the
start of any piece of a row, not only at the row's start: a bordered invoice prints "Invoice No |
Date | Customer:" as one row, a two-column header "Bill To: | Ship To:". The name is the value
`labels.value_of` pairs with a recipient label; the block is the rows under each party label in
its column, whose ABN is the buyer's (`parties.abns`), not the supplier's.

"Ship To:" / "Deliver To:" name where goods go, not who is invoiced (the ATO's recipient), so
they never give the buyer's name, nor does an "Attn:" line inside their block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llama_vision.engines.ocr.layout import Line, Segment, norm_space
from llama_vision.engines.ocr.rules.evidence import Trace
from llama_vision.engines.ocr.rules.labels import Value, block_rows, find_labels, value_of
from llama_vision.engines.ocr.rules.parties import is_noise
from llama_vision.engines.ocr.vocabulary import (
    ABN_LABEL_RE, DELIVERY_LABEL, INVOICE_NO_LABEL_RE, ITEM_HEADER_RE, PARTY_LABEL_RE,
)
from llama_vision.fields import find_amounts, find_dates

# another party's label run into the name's piece ("Acme Pty Ltd Ship To: Depot")
_NEXT_PARTY_RE = re.compile(rf"\s(?:{DELIVERY_LABEL})\s*[:\-]?.*$", re.I)


@dataclass(frozen=True)
class BuyerBlock:
    """The party blocks of a page: the first row that starts with a party label (len(rows) when
    none does: a label in a column of its own leaves the rows above and beside it to the
    supplier), the buyer's name as paired with its label, and per row of a block the text inside
    the block's column and the rest of the row (upper case), for `parties.abns`."""

    start: int
    name: Value | None = None
    pieces: dict[int, tuple[str, str]] = field(default_factory=dict)


def _starts_block(text: str) -> bool:
    """A recipient or delivery label: where the block above ends ("Attn:" belongs to its block)."""
    m = PARTY_LABEL_RE.match(text)
    return bool(m) and not m.group("attention")


def buyer_name_text(text: str) -> str | None:
    """The text as the buyer's name, or None when it is not one: an ABN, an item table's heading,
    an amount, a date (another column's "Invoice Date 12/03/2024" beside the label), an invoice
    number, a long number (a phone or customer number) or noise."""
    text = _NEXT_PARTY_RE.sub("", norm_space(text)).strip(":- ")
    up = text.upper()
    if (not text or ABN_LABEL_RE.search(up) or ITEM_HEADER_RE.search(up) or is_noise(up) or find_amounts(up)
            or find_dates(up) or INVOICE_NO_LABEL_RE.match(up) or re.search(r"\d{5,}", re.sub(r"\s", "", up))):
        return None
    return text


def buyer_block(rows: list[Line]) -> BuyerBlock:
    """The page's party blocks and the buyer's name (from the first recipient label, else from an
    "Attn:" label outside a delivery block)."""
    labels = find_labels(rows, PARTY_LABEL_RE)
    if not labels:
        return BuyerBlock(len(rows))
    inside: dict[int, list[Segment]] = {}
    delivery: set[int] = set()
    values: list[Value | None] = []
    for label in labels:
        values.append(value_of(rows, label, buyer_name_text))
        block = block_rows(rows, label, values[-1], _starts_block)
        if label.group == "delivery":
            delivery.update(block)
        for i, segments in block.items():
            inside.setdefault(i, []).extend(s for s in segments if s not in inside.get(i, []))
    named = next((k for k, label in enumerate(labels) if label.group == "recipient"), None)
    if named is None:
        named = next((k for k, label in enumerate(labels) if label.group == "attention" and label.row not in delivery),
                     None)
    pieces = {i: (_upper(segments), _upper([s for s in rows[i].segments if s not in segments]))
              for i, segments in inside.items()}
    start = next((label.row for label in labels if label.seg == 0), len(rows))
    return BuyerBlock(start, values[named] if named is not None else None, pieces)


def _upper(segments: list[Segment]) -> str:
    return norm_space(" ".join(s.text for s in segments)).upper()


def buyer_name(block: BuyerBlock, trace: Trace | None = None) -> str | None:
    """The buyer's name from its block, with the rows it was read from in `trace`."""
    if block.name is None:
        return None
    if trace is not None:
        kind = "buyer_label_next_line" if block.name.below else "buyer_label_same_line"
        trace["buyer_name"] = (block.name.rows, kind)
    return block.name.text

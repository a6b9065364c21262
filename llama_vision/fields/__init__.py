"""Normalisation of raw values for the fields of `schema` (ARCHITECTURE.md §2).

Normalised forms: dates DD/MM/YYYY (day first), money "12.30" (Decimal, 2 places), ABN 11 digits
without spaces, BSB NNN-NNN, booleans for the two statement flags. A value that cannot be
normalised is None: never a guess.

One module per kind of value: `text` (null markers, free text, the statement flags), `dates`,
`money`, `identifiers` (ABN, BSB) and `records` (a whole set of fields and line items). Each
also holds the finder that locates its values in a line of printed text (the OCR rules read a
page line by line), so a value reads the same whichever engine saw it.
"""

from __future__ import annotations

from llama_vision.fields.dates import (
    find_date_spans,
    find_dates,
    normalise_date,
)
from llama_vision.fields.identifiers import (
    abn_is_valid,
    find_abns,
    format_abn,
    normalise_abn,
    normalise_bsb,
)
from llama_vision.fields.money import (
    PRINTED_AMOUNT_RE,
    WHOLE_AMOUNT_RE,
    find_amounts,
    find_money,
    normalise_money,
    normalise_number,
    normalise_price_per_litre,
    normalise_quantity,
)
from llama_vision.fields.records import (
    empty_fields,
    normalise_fields,
    normalise_item,
    normalise_items,
    normalise_value,
)
from llama_vision.fields.text import (
    NULL_TOKENS,
    is_null,
    normalise_bool,
    normalise_text,
)
from llama_vision.schema import (
    ABN_FIELDS,
    ALL_FIELDS,
    ITEM_ALIASES,
    ITEM_KEYS,
    MONEY_FIELDS,
    kind_of,
)

__all__ = [
    "ABN_FIELDS",
    "ALL_FIELDS",
    "ITEM_ALIASES",
    "ITEM_KEYS",
    "MONEY_FIELDS",
    "NULL_TOKENS",
    "PRINTED_AMOUNT_RE",
    "WHOLE_AMOUNT_RE",
    "abn_is_valid",
    "empty_fields",
    "find_abns",
    "find_amounts",
    "find_money",
    "find_date_spans",
    "find_dates",
    "format_abn",
    "is_null",
    "kind_of",
    "normalise_abn",
    "normalise_bool",
    "normalise_bsb",
    "normalise_date",
    "normalise_fields",
    "normalise_item",
    "normalise_items",
    "normalise_money",
    "normalise_number",
    "normalise_price_per_litre",
    "normalise_quantity",
    "normalise_text",
    "normalise_value",
]

"""A whole set of raw fields -> normalised fields (by each field's kind in `schema`) and line items."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from llama_vision.fields.dates import normalise_date
from llama_vision.fields.identifiers import abn_is_valid, normalise_abn, normalise_bsb
from llama_vision.fields.money import normalise_money, normalise_number, normalise_price_per_litre, normalise_quantity
from llama_vision.fields.text import is_null, normalise_bool, normalise_text
from llama_vision.gst_status import GST_STATUSES
from llama_vision.schema import ABN_FIELDS, ALL_FIELDS, ITEM_ALIASES, ITEM_KEYS, MONEY_FIELDS, kind_of


def empty_fields() -> dict[str, Any]:
    """Every field present and null (items: empty list, flags: False until seen)."""
    fields: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    fields["items"] = []
    return fields


# ------------------------------------------------------------------------------------- fields

# Columns of a "|"-separated item by how many parts it has: "Coffee | 4.50" is a description and
# the line amount; "Coffee | 2 | 9.00" adds the quantity; four parts are in ITEM_KEYS order.
_ITEM_COLUMNS: dict[int, tuple[str, ...]] = {
    1: ("description",),
    2: ("description", "amount"),
    3: ("description", "quantity", "amount"),
}


def _split_item_string(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\s*\|\s*", text.strip().strip("|"))]


def normalise_item(raw: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """One line item -> {description, quantity, unit_price, amount} (None when it is empty).

    Accepts a dict (with common synonyms for the keys), a list/tuple or a "|"-separated string:
    four parts are description | quantity | unit price | amount, three are description |
    quantity | amount, two are description | amount.
    """
    warnings: list[str] = []
    if isinstance(raw, str):
        parts = _split_item_string(raw)
        raw = parts if len(parts) > 1 else {"description": raw}
    if isinstance(raw, (list, tuple)):
        raw = dict(zip(_ITEM_COLUMNS.get(len(raw), ITEM_KEYS), raw))
    if not isinstance(raw, dict):
        return None, [f"item {raw!r} is not a line item; ignored"]
    item: dict[str, Any] = dict.fromkeys(ITEM_KEYS)
    for key, value in raw.items():
        canonical = ITEM_ALIASES.get(str(key).strip().lower().replace(" ", "_"))
        if canonical is None or item[canonical] is not None:
            continue
        if canonical == "description":
            item[canonical] = normalise_text(value)
        elif canonical == "quantity":
            item[canonical] = normalise_quantity(value)
        else:
            item[canonical] = normalise_money(value, max_places=4 if canonical == "unit_price" else 2)
        if item[canonical] is None and not is_null(value):
            warnings.append(f"item {canonical} {str(value)[:40]!r} could not be read; left empty")
    if item["description"] is None and item["amount"] is None and item["unit_price"] is None:
        return None, warnings
    if raw.get("gst_status") in GST_STATUSES:  # set by gst_status.mark_items; kept when normalised again
        item["gst_status"] = raw["gst_status"]
    return item, warnings


def normalise_items(raw: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """A list of line items (or a ';'/newline separated string of them) -> normalised items."""
    if is_null(raw) or isinstance(raw, bool):
        return [], []
    if isinstance(raw, str):
        raw = [line for line in re.split(r"\s*[;\n]\s*", raw) if line.strip()]
    elif isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        return [], [f"items {str(raw)[:40]!r} are not a list; ignored"]
    items: list[dict[str, Any]] = []
    warnings: list[str] = []
    for entry in raw:
        item, item_warnings = normalise_item(entry)
        warnings.extend(item_warnings)
        if item is not None:
            items.append(item)
    return items, warnings


# One normaliser per schema kind, so a new field of a known kind needs nothing here.
_BY_KIND: dict[str, Callable[[Any], Any]] = {
    "text": normalise_text, "money": normalise_money, "litre_price": normalise_price_per_litre,
    "number": normalise_number, "date": normalise_date, "abn": normalise_abn, "bsb": normalise_bsb,
    "bool": normalise_bool, "items": lambda value: normalise_items(value)[0],
}


def normalise_value(field: str, value: Any) -> Any:
    """The normalised value of one field by its schema kind (None when absent or unreadable).

    A name that is not a field is read as text.
    """
    return _BY_KIND[kind_of(field) or "text"](value)


def normalise_fields(raw: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Raw extracted values -> (every ALL_FIELDS key, normalised or None; warnings).

    Idempotent: normalising an already-normalised dict gives it back unchanged. A value that is
    present but cannot be normalised becomes None and a warning names the field and the value.
    """
    fields = empty_fields()
    warnings: list[str] = []
    if not isinstance(raw, dict):
        return fields, ([] if raw is None else [f"fields {str(raw)[:40]!r} are not a mapping; ignored"])
    for key, value in raw.items():
        field = str(key)
        if field not in fields:
            warnings.append(f"unknown field {field!r} ignored")
            continue
        if field == "items":
            fields["items"], item_warnings = normalise_items(value)
            warnings.extend(item_warnings)
            continue
        normalised = normalise_value(field, value)
        fields[field] = normalised
        if normalised is None and not is_null(value):
            what = "date" if field == "date" else "amount" if field in MONEY_FIELDS else "value"
            warnings.append(f"{field}: could not read {what} {str(value)[:60]!r}; left empty")
        elif field in ABN_FIELDS and normalised and not abn_is_valid(normalised):
            warnings.append(f"{field}: {normalised} fails the ABN checksum")
    return fields, warnings

"""Line items in an answer: "|" rows and markdown tables (headers read by the schema's item
aliases), "Coffee x2 $9.00" prose, and parallel DESCRIPTIONS / QUANTITIES / PRICES lists."""

from __future__ import annotations

import re
from typing import Any

from llama_vision.parsing.keys import key_token
from llama_vision.schema import ITEM_ALIASES


def _split_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_header(cells: list[str]) -> list[str] | None:
    columns = [ITEM_ALIASES.get(key_token(cell)) for cell in cells]
    if cells and all(columns) and "description" in columns:
        return columns  # type: ignore[return-value]
    return None


def _item_from_cells(cells: list[str], header: list[str] | None) -> Any:
    if header and len(header) == len(cells):
        return dict(zip(header, cells))
    return cells


_SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# "2 x Coffee @ 4.50 = 9.00", "Coffee x2 $9.00", "Coffee $4.50"
_ITEM_PROSE = re.compile(
    r"^(?:(?P<q1>\d+(?:\.\d+)?)\s*[x×]\s+)?(?P<d>[^|]*?[A-Za-z][^|]*?)(?:\s*[x×]\s*(?P<q2>\d+(?:\.\d+)?))?"
    r"(?:\s*@\s*\$?(?P<u>\d+(?:\.\d+)?))?\s*(?:=|:|-)?\s*\$?(?P<a>-?\d[\d,]*\.\d{2})\s*$"
)


def items_from_lines(lines: list[str]) -> list[Any]:
    """Item lines under an ITEMS: key: '|' rows (markdown tables too) or 'Coffee x2 $9.00'."""
    items: list[Any] = []
    header: list[str] | None = None
    for raw in lines:
        line = raw.strip()
        if not line or _SEPARATOR_ROW.match(line):
            continue
        if "|" in line:
            cells = _split_cells(line)
            found = _table_header(cells)
            if found:
                header = found
                continue
            if header is None and len(cells) > 1 and not any(re.search(r"\d", c) for c in cells):
                items.extend(cell for cell in cells if cell)  # "Coffee | Muffin | Tea": names only
            elif any(cells):
                items.append(_item_from_cells(cells, header))
            continue
        match = _ITEM_PROSE.match(line) if len(line) <= 200 else None
        if match:
            items.append({
                "description": match.group("d").strip(" -:"),
                "quantity": match.group("q1") or match.group("q2"),
                "unit_price": match.group("u"),
                "amount": match.group("a"),
            })
    return items


def split_list(value: str) -> list[str]:
    if "|" in value:
        parts = value.strip().strip("|").split("|")
    elif ";" in value:
        parts = value.split(";")
    else:
        parts = re.split(r",\s*(?=[^,]*$)|,\s+", value) if re.fullmatch(r"[\d$.,\s-]+", value) else [value]
    return [p.strip() for p in parts]


def items_from_parallel(lists: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Zip DESCRIPTIONS / QUANTITIES / PRICES / AMOUNTS lists into items.

    PRICES alone is read as the line amount (the right-hand column of a receipt); next to an
    AMOUNTS list it is the unit price.
    """
    columns = dict(lists)
    if "price" in columns:
        target = "unit_price" if "amount" in columns else "amount"
        columns.setdefault(target, columns.pop("price"))
        columns.pop("price", None)
    descriptions = columns.get("description") or []
    items = []
    for index, description in enumerate(descriptions):
        item = {"description": description}
        for key in ("quantity", "unit_price", "amount"):
            values = columns.get(key) or []
            item[key] = values[index] if index < len(values) else None
        items.append(item)
    return items

"""Per-item GST status from the markers and legend printed on a receipt (issue I item 3).

Australian receipts mark the lines of a mixed supply: `#`, `*` or `^` beside an item with a
legend such as "# GST-free item" or "* denotes GST-free", the words "GST FREE" on the line, or a
GST column ("Y" taxable, "N" GST-free).
Some mark the taxable lines instead ("# indicates taxable item"), so the legend decides what a
marker means. `mark_items` sets each item's `gst_status` (`taxable`, `gst_free`, `unknown`: a
marker the legend does not explain) and takes the marker out of the description ("# Milk 2L" ->
"Milk 2L"). Items of a receipt with no marker at all are left as they are (no `gst_status`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["GST_STATUSES", "mark_items", "read_legend"]

GST_STATUSES: tuple[str, ...] = ("taxable", "gst_free", "unknown")
_MARKS = "#*^"
_FREE = re.compile(r"gst[\s-]*free|no\s+gst|gst\s+exempt|free\s+of\s+gst", re.I)
_TAXABLE = re.compile(r"taxable|incl(udes|uding)?\.?\s+gst|gst\s+(applies|applicable|included)|plus\s+gst", re.I)
_LEGEND = re.compile(rf"^\W*?(?P<mark>[{re.escape(_MARKS)}])\s*(?P<rest>.*)$")
_EDGE_MARK = re.compile(rf"^\s*(?P<lead>[{re.escape(_MARKS)}])\s*|\s*(?P<trail>[{re.escape(_MARKS)}])\s*$")
_FREE_WORDS = re.compile(r"\(?\bgst[\s-]*free\b\)?", re.I)


def read_legend(text: str) -> dict[str, str]:
    """{marker: "gst_free" | "taxable"} from legend lines ("# GST-free item", "* denotes taxable")."""
    legend: dict[str, str] = {}
    for line in text.splitlines():
        if re.search(r"\d+\.\d{2}", line):  # an item line with a price, not a legend
            continue
        match = _LEGEND.match(line.strip())
        marks = {ch for ch in line if ch in _MARKS}
        if not match and len(marks) != 1:  # "Items marked # are GST free": one marker mid-line
            continue
        mark, rest = (match["mark"], match["rest"]) if match else (marks.pop(), line)
        meaning = "gst_free" if _FREE.search(rest) else "taxable" if _TAXABLE.search(rest) else None
        if meaning:
            legend.setdefault(mark, meaning)
    return legend


def _marker(*texts: Any) -> str | None:
    for text in texts:
        match = _EDGE_MARK.search(str(text or ""))
        if match:
            return match["lead"] or match["trail"]
    return None


_COLUMN = {"y": "taxable", "yes": "taxable", "gst": "taxable", "t": "taxable",
           "n": "gst_free", "no": "gst_free", "free": "gst_free", "gst free": "gst_free", "gst-free": "gst_free"}
_COLUMN_IN_AMOUNT = re.compile(r"^\s*([YN])\s+\$?\d|\d\s+([YN])\s*$")


def _column(original: dict[str, Any]) -> str | None:
    """A GST column's answer for the line ("Y" taxable, "N" GST-free), read as its own key or
    printed beside the amount ("12.50 N")."""
    for key in ("gst", "gst_status", "tax", "gst_flag"):
        value = str(original.get(key) or "").strip().lower()
        if value in _COLUMN:
            return _COLUMN[value]
        if value in GST_STATUSES:
            return value
    match = _COLUMN_IN_AMOUNT.search(str(original.get("amount") or ""))
    return _COLUMN[(match[1] or match[2]).lower()] if match else None


_TRAILING_FLAG = re.compile(r"\s([YN])$")


def _column_in_descriptions(items: list[dict[str, Any]]) -> list[str | None]:
    """A GST column read into the descriptions ("Laundry Powder 2kg Y"): only when most lines end
    in a lone Y or N, so a product called "Vitamin N" alone is not taken for one."""
    flags = [_TRAILING_FLAG.search(str(i.get("description") or "")) for i in items]
    if not items or sum(f is not None for f in flags) < max(2, 0.6 * len(items)):
        return [None] * len(items)
    return [_COLUMN[f[1].lower()] if f else None for f in flags]


def mark_items(items: list[dict[str, Any]], page_text: str,
               raw_items: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Items with `gst_status` and clean descriptions, when the receipt marks any line.

    `raw_items`: the items as the engine read them, before normalisation (a marker printed after
    the amount, "6.80 *", survives only there); used when they line up one to one with `items`.
    """
    lined_up = isinstance(raw_items, (list, tuple)) and len(raw_items) == len(items)
    raw = list(raw_items) if lined_up else [None] * len(items)
    legend = read_legend(page_text)
    found: list[tuple[str | None, bool]] = []
    columns: list[str | None] = []
    for item, original in zip(items, raw, strict=True):
        original = original if isinstance(original, dict) else {}
        mark = _marker(original.get("marker"), item.get("description"), original.get("description"),
                       original.get("amount"), original.get("price"), original.get("total"))
        found.append((mark, bool(_FREE_WORDS.search(str(item.get("description") or "")))))
        columns.append(_column(original))
    if not any(columns):
        columns = _column_in_descriptions(items)
    if not any(mark or free for mark, free in found) and not any(columns):
        return items
    meanings = set(legend.values())
    unmarked = ("taxable" if meanings == {"gst_free"} else "gst_free" if meanings == {"taxable"} else "unknown")
    marked: list[dict[str, Any]] = []
    for item, (mark, free), column in zip(items, found, columns, strict=True):
        description = str(item.get("description") or "")
        description = _EDGE_MARK.sub("", _FREE_WORDS.sub("", description)).strip()
        description = (_TRAILING_FLAG.sub("", description) if column else description) or None
        status = column or ("gst_free" if free else legend.get(mark, "unknown") if mark else unmarked)
        marked.append({**item, "description": description, "gst_status": status})
    return marked

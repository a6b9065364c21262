"""Key names and answer clean-up shared by the parsers: which field a printed key means
(through the schema's synonyms), fences, bullets and null markers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from llama_vision.fields import is_null
from llama_vision.schema import FIELD_SYNONYMS, ITEM_LIST_KEYS


@dataclass
class ParseOutcome:
    """What a parser made of one answer. `ok` is False when no field could be read at all."""

    fields: dict[str, Any] = field(default_factory=dict)
    ok: bool = False
    problem: str | None = None


# Keys whose value decides the field: "GST_INCLUDED: yes" is the statement flag, while
# "GST INCLUDED: $1.12" is the GST amount (printed as part of a "total includes GST" line).
GST_INCLUDED_KEYS = frozenset({"gst_included", "gst_incl", "incl_gst", "inc_gst", "including_gst"})

# Parallel item lists (DESCRIPTIONS: a | b, QUANTITIES: 1 | 2, PRICES: ...): the schema's list keys,
# plus PRICES, which is the unit price next to an AMOUNTS list and the line amount without one.
LIST_KEYS: dict[str, str] = {**ITEM_LIST_KEYS, "prices": "price", "item_prices": "price", "price": "price",
                             "line_item_prices": "price"}
# Keys a model adds that are not fields; recognised so they count as "the format was followed".
IGNORED_KEYS = frozenset({"document_type", "type", "time", "currency", "notes", "note", "comments", "confidence"})


def key_token(key: str) -> str:
    key = key.lower().replace("&", " and ").replace("#", " number ").replace("%", " ")
    key = re.sub(r"\bno\.?(?=\s|$)", "no", key)
    key = re.sub(r"[^a-z0-9]+", "_", key).strip("_")
    return key


def canonical_field(key: Any) -> str | None:
    """The ALL_FIELDS name a printed key means (TOTAL (INC GST) -> total), or None."""
    try:
        token = key_token(str(key))
    except Exception:  # noqa: BLE001 - never raise on odd keys
        return None
    if not token:
        return None
    if token in FIELD_SYNONYMS:
        return FIELD_SYNONYMS[token]
    # "TOTAL (INC GST)", "GST (10%)", "SUBTOTAL (EX GST)": the words in brackets only qualify.
    without_brackets = key_token(re.sub(r"\(.*?\)|\[.*?\]", " ", str(key)))
    if without_brackets in FIELD_SYNONYMS:
        return FIELD_SYNONYMS[without_brackets]
    for prefix in ("the_", "document_", "receipt_", "invoice_"):
        if token.startswith(prefix) and token[len(prefix):] in FIELD_SYNONYMS:
            return FIELD_SYNONYMS[token[len(prefix):]]
    for suffix in ("_aud", "_amount", "_value", "_text", "_shown", "_field"):
        if token.endswith(suffix) and token[: -len(suffix)] in FIELD_SYNONYMS:
            return FIELD_SYNONYMS[token[: -len(suffix)]]
    return None


# ------------------------------------------------------------------------------ text clean-up

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


def strip_fences(text: str) -> str:
    """Keep what is inside ``` fences (and the prose around them) without the fence markers."""
    return FENCE.sub(lambda m: "\n" + m.group(2) + "\n", text)


def clean_value(value: str) -> str | None:
    value = value.strip()
    value = re.sub(r"^(?:\*\*|__|`)+|(?:\*\*|__|`)+$", "", value).strip()
    value = value.strip("*").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    value = value.rstrip(",;").strip()
    if is_null(value):
        return None
    # "NOT_FOUND (not printed on the receipt)"
    if re.match(r"(?i)^(?:not[_ ]found|n/a|none|null)\b", value):
        return None
    return value


BULLET = re.compile(r"^\s*(?:[-*•+▪●◦>]+|\d{1,2}[.)])\s+")
KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _/&().%#'-]{0,60}?)\s*[:=]\s*(.*)$")


def plain_line(line: str) -> str:
    line = line.replace("**", "").replace("__", "").replace("`", "")
    line = re.sub(r"^\s*#{1,6}\s*", "", line)
    line = BULLET.sub("", line)
    return line.strip()

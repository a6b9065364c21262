"""Whole answers: KEY-VALUE lines, JSON (repaired when broken), the dispatcher that tries the
other style when the expected one finds nothing, and refusal detection."""

from __future__ import annotations

import json
import re
from typing import Any

from llama_vision.fields import is_null, normalise_bool
from llama_vision.parsing.joined import split_joined_keys
from llama_vision.parsing.items import items_from_lines, items_from_parallel, split_list
from llama_vision.parsing.keys import (
    FENCE,
    GST_INCLUDED_KEYS,
    IGNORED_KEYS,
    KEY_LINE,
    LIST_KEYS,
    ParseOutcome,
    canonical_field,
    clean_value,
    key_token,
    plain_line,
    strip_fences,
)

_FLAG_WORDS = {
    "tax_invoice_label": re.compile(r"(?i)\btax\s*invoice\b"),
    "gst_included_statement": re.compile(r"(?i)\b(?:incl(?:udes?|uding|\.)?|inc\.?)\s*(?:of\s+)?gst\b|\bgst\s+incl"),
}


def _assign(fields: dict[str, Any], name: str, value: Any) -> None:
    """First non-empty value wins (a model sometimes repeats a key with NOT_FOUND later)."""
    if name in _FLAG_WORDS and isinstance(value, str) and normalise_bool(value) is None:
        # "TAX_INVOICE: TAX INVOICE" or "GST_STATEMENT: Total includes GST" quote the words.
        if _FLAG_WORDS[name].search(value):
            value = True
    if fields.get(name) in (None, "", []):
        fields[name] = value


def parse_key_value(text: str) -> ParseOutcome:
    """KEY: value lines -> raw fields keyed by ALL_FIELDS names."""
    try:
        return _parse_key_value(text)
    except Exception as error:  # noqa: BLE001 - parsing must never take the pipeline down
        return ParseOutcome({}, False, f"could not parse the KEY: value answer ({type(error).__name__})")


def _parse_key_value(text: str) -> ParseOutcome:
    if not isinstance(text, str) or not text.strip():
        return ParseOutcome({}, False, "the answer is empty")
    fields: dict[str, Any] = {}
    recognised = 0
    lists: dict[str, list[str]] = {}
    current: str | None = None  # the key whose continuation lines we are collecting
    item_lines: list[str] = []
    for raw_line in split_joined_keys(strip_fences(text)).splitlines():
        line = plain_line(raw_line)
        if not line:
            continue
        match = KEY_LINE.match(line)
        key = match.group(1) if match else None
        name = canonical_field(key) if key else None
        token = key_token(key) if key else ""
        if match and (name or token in LIST_KEYS or token in GST_INCLUDED_KEYS or token in IGNORED_KEYS):
            recognised += 1
            current = None
            value = match.group(2)
            if token in LIST_KEYS and name is None or token in ("descriptions", "quantities", "prices", "amounts"):
                cleaned = clean_value(value)
                if cleaned:
                    lists[LIST_KEYS[token]] = split_list(cleaned)
                continue
            if token in GST_INCLUDED_KEYS:
                cleaned = clean_value(value)
                flag = normalise_bool(cleaned)
                if flag is not None:
                    _assign(fields, "gst_included_statement", flag)
                elif cleaned:
                    _assign(fields, "gst", cleaned)
                    _assign(fields, "gst_included_statement", True)
                continue
            if name is None:  # recognised but ignored (DOCUMENT_TYPE:, NOTES:)
                continue
            if name == "items":
                current = "items"
                cleaned = clean_value(value)
                if cleaned:
                    # "ITEMS: Coffee | 1 | 4.50 | 4.50; Muffin | 2 | 3.90 | 7.80"
                    item_lines.extend(part for part in re.split(r"\s*;\s*", cleaned) if part)
                continue
            cleaned = clean_value(value)
            if name in ("supplier_address",) and cleaned is not None:
                current = name
            _assign(fields, name, cleaned)
            continue
        # A line that is not a known key: an item row, or the rest of a multi-line address.
        if current == "items":
            item_lines.append(line)
        elif current == "supplier_address" and fields.get(current) and not match and len(line) < 80:
            fields[current] = f"{fields[current]}, {line}"
        elif "|" in line and line.count("|") >= 2 and not fields.get("items"):
            item_lines.append(line)  # a markdown item table without an ITEMS: key
    items = items_from_lines(item_lines)
    if not items and lists.get("description"):
        items = items_from_parallel(lists)
    if items:
        fields["items"] = items
    if recognised == 0 and not items:
        return ParseOutcome({}, False, "no KEY: value lines were found (the answer looks like prose)")
    return ParseOutcome(fields, True, None)


# ------------------------------------------------------------------------------------ JSON


def _json_candidate(text: str) -> str | None:
    """The JSON part of an answer: a fenced block, else from the first { (or [) to the last."""
    for match in FENCE.finditer(text):
        body = match.group(2).strip()
        if body.startswith(("{", "[")):
            return body
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start: end + 1] if end > start else text[start:]


_MAX_JSON = 200_000  # a model answer is a few KB; bound the repair work on hostile input


def _load_json(candidate: str) -> Any:
    candidate = candidate[:_MAX_JSON]
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        pass
    try:
        from json_repair import repair_json

        return repair_json(candidate, return_objects=True)
    except Exception:  # noqa: BLE001 - json-repair may fail in its own ways on hostile input
        return None


# Nested objects whose children must not be read on their own ({"buyer": {"abn": ...}} is not
# the supplier's ABN).
_ENTITY_PREFIXES = frozenset({"buyer", "customer", "payer", "recipient", "client", "purchaser", "bill", "sold", "billed"})


def _flatten(data: dict[str, Any], fields: dict[str, Any], lists: dict[str, list[Any]], prefix: str = "", depth: int = 0) -> int:
    """Walk nested JSON ({"supplier": {"name": ..., "abn": ...}}) into canonical fields."""
    recognised = 0
    if depth > 4:
        return 0
    for raw_key, value in data.items():
        key = str(raw_key)
        token = key_token(key)
        joined = f"{prefix}_{token}" if prefix else token
        name = canonical_field(joined)
        if name is None and prefix.split("_")[0] not in _ENTITY_PREFIXES:
            name = canonical_field(token)
        if isinstance(value, dict) and name != "items":
            # {"supplier": {"name": ..., "abn": ...}} -> supplier_name, supplier_abn
            recognised += _flatten(value, fields, lists, token if name else joined, depth + 1)
            continue
        if token in GST_INCLUDED_KEYS and not prefix:
            recognised += 1
            flag = normalise_bool(value)
            if flag is not None:
                _assign(fields, "gst_included_statement", flag)
            elif not is_null(value):
                _assign(fields, "gst", value)
                _assign(fields, "gst_included_statement", True)
            continue
        if token in LIST_KEYS and isinstance(value, list) and (name is None or token in ("descriptions", "quantities", "prices", "amounts")):
            recognised += 1
            lists[LIST_KEYS[token]] = ["" if v is None else str(v) for v in value]
            continue
        if name is None:
            if token in IGNORED_KEYS:
                recognised += 1
            continue
        recognised += 1
        if name == "items":
            if isinstance(value, (list, dict, str)) and not is_null(value):
                _assign(fields, "items", value if isinstance(value, list) else [value])
            continue
        if isinstance(value, str):
            value = clean_value(value)
        elif isinstance(value, (list, dict)):
            value = None if is_null(value) else ", ".join(str(v) for v in value) if isinstance(value, list) else None
        _assign(fields, name, value)
    return recognised


def parse_json(text: str) -> ParseOutcome:
    """A JSON answer (fenced, inside prose, with trailing commas, single quotes or cut off)."""
    try:
        return _parse_json(text)
    except Exception as error:  # noqa: BLE001
        return ParseOutcome({}, False, f"could not parse the JSON answer ({type(error).__name__})")


def _parse_json(text: str) -> ParseOutcome:
    if not isinstance(text, str) or not text.strip():
        return ParseOutcome({}, False, "the answer is empty")
    candidate = _json_candidate(text)
    if candidate is None:
        return ParseOutcome({}, False, "no JSON object was found in the answer")
    data = _load_json(candidate)
    if isinstance(data, list):
        dicts = [d for d in data if isinstance(d, dict)]
        data = dicts[0] if len(dicts) == 1 else ({"items": data} if dicts else None)
    if not isinstance(data, dict) or not data:
        return ParseOutcome({}, False, "the JSON in the answer could not be read as an object")
    fields: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    recognised = _flatten(data, fields, lists)
    if not fields.get("items") and lists.get("description"):
        fields["items"] = items_from_parallel(lists)
    if recognised == 0:
        return ParseOutcome({}, False, "the JSON has none of the expected keys")
    return ParseOutcome(fields, True, None)


# ------------------------------------------------------------------------------- dispatcher


def parse_output(text: str, style: str = "key_value") -> ParseOutcome:
    """Parse a whole answer in the prompt's output style ("key_value" or "json").

    A model asked for one style sometimes answers in the other; when the expected parser finds
    nothing, the other one is tried, so the answer is not thrown away.
    """
    try:
        if not isinstance(text, str) or not text.strip():
            return ParseOutcome({}, False, "the answer is empty")
        if is_refusal(text):
            return ParseOutcome({}, False, "the model refused to answer")
        primary, secondary = (parse_json, parse_key_value) if style == "json" else (parse_key_value, parse_json)
        outcome = primary(text)
        if outcome.ok:
            return outcome
        other = secondary(text)
        if other.ok:
            return other
        return outcome
    except Exception as error:  # noqa: BLE001
        return ParseOutcome({}, False, f"could not parse the answer ({type(error).__name__})")


# ---------------------------------------------------------------------------------- refusals

_REFUSAL = re.compile(
    r"(?ix)\b(?:"
    r"i\s*(?:'m|am)\s+(?:not\s+able|unable)\s+to"
    r"|i\s+(?:cannot|can\s*not|can't|can’t|won't|will\s+not|am\s+not\s+going\s+to)\s+"
    r"(?:help|assist|provide|share|identify|extract|fulfil|fulfill|comply|process|do\s+that|give|answer|support)"
    r"|i\s+(?:must|have\s+to)\s+(?:decline|refuse)"
    r"|i\s*(?:'m|am)\s+sorry,?\s+(?:but\s+)?i\s+(?:can|cannot|can't|am|'m|won't)"
    r"|i\s+apologi[sz]e,?\s+(?:but\s+)?i"
    r"|as\s+an\s+ai\b[^.]{0,60}\b(?:cannot|can't|not\s+able)"
    r"|not\s+able\s+to\s+provide\s+(?:information|personal|details)"
    r"|(?:unable|not\s+able)\s+to\s+(?:assist|help)\s+with"
    r")"
)


def is_refusal(text: str) -> bool:
    """True when the answer is a refusal ("I'm not able to provide...", "I can't assist").

    Only the opening of the answer counts, and an answer that also carries two or more field
    lines is not a refusal: "I cannot read the ABN" inside a KEY: value answer is not one.
    """
    try:
        if not isinstance(text, str) or not text.strip():
            return False
        opening = strip_fences(text).strip()[:300].replace("’", "'")
        if not _REFUSAL.search(opening):
            return False
        # A refusal of one part followed by an answer anyway is an answer.
        found = max(len(_parse_key_value(text).fields), len(_parse_json(text).fields))
        return found < 2
    except Exception:  # noqa: BLE001
        return False

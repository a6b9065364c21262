"""Model text -> fields. Pure functions that never raise, whatever string they are given.

Three answer shapes come back from a vision model:

- KEY-VALUE lines (`TOTAL: $12.30`), often dressed in markdown (`**TOTAL:** $12.30`, bullets,
  code fences), with `NOT_FOUND`/`N/A` for absent fields and line items either as
  `ITEMS: Coffee | 1 | 4.50 | 4.50; ...`, as one `|` line per item, as a markdown table, or as
  parallel `DESCRIPTIONS:` / `QUANTITIES:` / `PRICES:` lists;
- JSON, possibly inside a code fence or prose, with trailing commas, single quotes or cut off by
  the token cap (json-repair mends it);
- one-field answers in field-specific mode ("The ABN is 51 824 753 556.").

Keys are matched whole after normalisation (never by substring), so TOTAL never grabs SUBTOTAL
and ABN never grabs BUYER_ABN; the synonyms of `schema.FIELDS` map to the canonical names.
`parse_output` returns raw (cleaned) values; `fields.normalise_fields` normalises them and warns
about the ones it cannot read. `parse_field_answer` returns normalised values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from llama_vision.fields import is_null, normalise_bool, normalise_items, normalise_value
from llama_vision.schema import ALL_FIELDS, DOCUMENT_TYPES, FIELD_SYNONYMS, ITEM_ALIASES, ITEM_LIST_KEYS, kind_of

__all__ = [
    "FIELD_SYNONYMS",
    "ParseOutcome",
    "canonical_field",
    "is_refusal",
    "parse_document_type",
    "parse_field_answer",
    "parse_json",
    "parse_key_value",
    "parse_output",
]


@dataclass
class ParseOutcome:
    """What a parser made of one answer. `ok` is False when no field could be read at all."""

    fields: dict[str, Any] = field(default_factory=dict)
    ok: bool = False
    problem: str | None = None


# --------------------------------------------------------------------------------- key names

# Keys whose value decides the field: "GST_INCLUDED: yes" is the statement flag, while
# "GST INCLUDED: $1.12" is the GST amount (printed as part of a "total includes GST" line).
_GST_INCLUDED_KEYS = frozenset({"gst_included", "gst_incl", "incl_gst", "inc_gst", "including_gst"})

# Parallel item lists (DESCRIPTIONS: a | b, QUANTITIES: 1 | 2, PRICES: ...): the schema's list keys,
# plus PRICES, which is the unit price next to an AMOUNTS list and the line amount without one.
_LIST_KEYS: dict[str, str] = {**ITEM_LIST_KEYS, "prices": "price", "item_prices": "price", "price": "price",
                              "line_item_prices": "price"}
# Keys a model adds that are not fields; recognised so they count as "the format was followed".
_IGNORED_KEYS = frozenset({"document_type", "type", "time", "currency", "notes", "note", "comments", "confidence"})


def _key_token(key: str) -> str:
    key = key.lower().replace("&", " and ").replace("#", " number ").replace("%", " ")
    key = re.sub(r"\bno\.?(?=\s|$)", "no", key)
    key = re.sub(r"[^a-z0-9]+", "_", key).strip("_")
    return key


def canonical_field(key: Any) -> str | None:
    """The ALL_FIELDS name a printed key means (TOTAL (INC GST) -> total), or None."""
    try:
        token = _key_token(str(key))
    except Exception:  # noqa: BLE001 - never raise on odd keys
        return None
    if not token:
        return None
    if token in FIELD_SYNONYMS:
        return FIELD_SYNONYMS[token]
    # "TOTAL (INC GST)", "GST (10%)", "SUBTOTAL (EX GST)": the words in brackets only qualify.
    without_brackets = _key_token(re.sub(r"\(.*?\)|\[.*?\]", " ", str(key)))
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

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


def _strip_fences(text: str) -> str:
    """Keep what is inside ``` fences (and the prose around them) without the fence markers."""
    return _FENCE.sub(lambda m: "\n" + m.group(2) + "\n", text)


def _clean_value(value: str) -> str | None:
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


_BULLET = re.compile(r"^\s*(?:[-*•+▪●◦>]+|\d{1,2}[.)])\s+")
_KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _/&().%#'-]{0,60}?)\s*[:=]\s*(.*)$")


def _plain_line(line: str) -> str:
    line = line.replace("**", "").replace("__", "").replace("`", "")
    line = re.sub(r"^\s*#{1,6}\s*", "", line)
    line = _BULLET.sub("", line)
    return line.strip()


# ---------------------------------------------------------------------------------- items


def _split_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_header(cells: list[str]) -> list[str] | None:
    columns = [ITEM_ALIASES.get(_key_token(cell)) for cell in cells]
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


def _items_from_lines(lines: list[str]) -> list[Any]:
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


def _split_list(value: str) -> list[str]:
    if "|" in value:
        parts = value.strip().strip("|").split("|")
    elif ";" in value:
        parts = value.split(";")
    else:
        parts = re.split(r",\s*(?=[^,]*$)|,\s+", value) if re.fullmatch(r"[\d$.,\s-]+", value) else [value]
    return [p.strip() for p in parts]


def _items_from_parallel(lists: dict[str, list[str]]) -> list[dict[str, Any]]:
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


# ---------------------------------------------------------------------------- KEY-VALUE


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
    for raw_line in _strip_fences(text).splitlines():
        line = _plain_line(raw_line)
        if not line:
            continue
        match = _KEY_LINE.match(line)
        key = match.group(1) if match else None
        name = canonical_field(key) if key else None
        token = _key_token(key) if key else ""
        if match and (name or token in _LIST_KEYS or token in _GST_INCLUDED_KEYS or token in _IGNORED_KEYS):
            recognised += 1
            current = None
            value = match.group(2)
            if token in _LIST_KEYS and name is None or token in ("descriptions", "quantities", "prices", "amounts"):
                cleaned = _clean_value(value)
                if cleaned:
                    lists[_LIST_KEYS[token]] = _split_list(cleaned)
                continue
            if token in _GST_INCLUDED_KEYS:
                cleaned = _clean_value(value)
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
                cleaned = _clean_value(value)
                if cleaned:
                    # "ITEMS: Coffee | 1 | 4.50 | 4.50; Muffin | 2 | 3.90 | 7.80"
                    item_lines.extend(part for part in re.split(r"\s*;\s*", cleaned) if part)
                continue
            cleaned = _clean_value(value)
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
    items = _items_from_lines(item_lines)
    if not items and lists.get("description"):
        items = _items_from_parallel(lists)
    if items:
        fields["items"] = items
    if recognised == 0 and not items:
        return ParseOutcome({}, False, "no KEY: value lines were found (the answer looks like prose)")
    return ParseOutcome(fields, True, None)


# ------------------------------------------------------------------------------------ JSON


def _json_candidate(text: str) -> str | None:
    """The JSON part of an answer: a fenced block, else from the first { (or [) to the last."""
    for match in _FENCE.finditer(text):
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
        token = _key_token(key)
        joined = f"{prefix}_{token}" if prefix else token
        name = canonical_field(joined)
        if name is None and prefix.split("_")[0] not in _ENTITY_PREFIXES:
            name = canonical_field(token)
        if isinstance(value, dict) and name != "items":
            # {"supplier": {"name": ..., "abn": ...}} -> supplier_name, supplier_abn
            recognised += _flatten(value, fields, lists, token if name else joined, depth + 1)
            continue
        if token in _GST_INCLUDED_KEYS and not prefix:
            recognised += 1
            flag = normalise_bool(value)
            if flag is not None:
                _assign(fields, "gst_included_statement", flag)
            elif not is_null(value):
                _assign(fields, "gst", value)
                _assign(fields, "gst_included_statement", True)
            continue
        if token in _LIST_KEYS and isinstance(value, list) and (name is None or token in ("descriptions", "quantities", "prices", "amounts")):
            recognised += 1
            lists[_LIST_KEYS[token]] = ["" if v is None else str(v) for v in value]
            continue
        if name is None:
            if token in _IGNORED_KEYS:
                recognised += 1
            continue
        recognised += 1
        if name == "items":
            if isinstance(value, (list, dict, str)) and not is_null(value):
                _assign(fields, "items", value if isinstance(value, list) else [value])
            continue
        if isinstance(value, str):
            value = _clean_value(value)
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
        fields["items"] = _items_from_parallel(lists)
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
        opening = _strip_fences(text).strip()[:300].replace("’", "'")
        if not _REFUSAL.search(opening):
            return False
        # A refusal of one part followed by an answer anyway is an answer.
        found = max(len(_parse_key_value(text).fields), len(_parse_json(text).fields))
        return found < 2
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------------------- field answers

_NULL_ANSWER = re.compile(
    r"(?ix)^(?:the\s+)?(?:"
    r"n/?a\b|not[_\s]found\b|none\b|null\b|unknown\b|nil\b|no\s+(?:value|data|information)\b"
    r"|not\s+(?:visible|found|shown|present|available|provided|stated|legible|readable|listed|included|printed"
    r"|mentioned|specified|applicable|given|clear|displayed)\b"
    r"|(?:it\s+|this\s+)?(?:is\s+)?(?:illegible|unclear|unreadable)\b"
    r"|there\s+(?:is|are)\s+no\b|no\s+[\w\s']{0,40}?\s+(?:is|are|was|were)\s+(?:visible|shown|present|listed|printed|provided|given|found|stated)\b"
    r"|(?:the\s+)?(?:document|receipt|invoice|image|statement)\s+(?:does\s+not|doesn't|do\s+not)\b"
    r"|i\s+(?:cannot|can't|can\s+not|could\s+not|couldn't|am\s+unable\s+to|'m\s+unable\s+to|do\s+not|don't)\s+"
    r"(?:see|find|determine|read|locate|identify|make\s+out)\b"
    r"|unable\s+to\s+(?:see|find|determine|read|locate)\b"
    r"|(?:it\s+is\s+)?not\s+possible\s+to\b"
    r")"
)
_NEGATIVE = re.compile(
    r"(?i)\b(?:no|not|does\s+not|doesn't|do\s+not|don't|absent|without|neither|nor|none)\b"
)
_POSITIVE = re.compile(r"(?i)\b(?:yes|present|appears|shown|states|says|includes|contains|is\s+labelled|labeled)\b")
# "The ABN is 51 824 753 556.", "Total amount: $12.30", "The supplier's name is Cafe Roma."
_ANSWER_PREFIX = re.compile(
    r"(?is)^(?:the\s+)?((?:[\w'’()/-]+\s+){0,6}?)(?:is|are|was|reads|reads\s+as|appears\s+to\s+be|shows|shown\s+as)\s*:?\s+(.+)$"
)
# A lead-in only counts when it talks about a field ("The ABN is", "It is"), so a business name
# with "is" in it ("This Is It Cafe") is left alone.
_LEAD_IN_WORDS = re.compile(
    r"(?i)\b(?:name|abn|number|no|total|amount|date|address|supplier|business|store|merchant|seller|vendor|gst"
    r"|tax|subtotal|method|payment|type|price|balance|bsb|account|holder|period|fuel|litres|liters|buyer"
    r"|customer|invoice|receipt|value|it|answer|company|paid|due|grade|quantity|volume|opening|closing)\b"
)


def _answer_text(field_name: str, text: str) -> str:
    text = _strip_fences(text).strip().replace("**", "").replace("__", "").replace("`", "")
    lines = [_BULLET.sub("", ln).strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    if field_name in ("supplier_address", "items"):
        return "\n".join(lines)
    return lines[0]


def _strip_echo(field_name: str, text: str) -> str:
    """Remove an echoed key ("ABN: ...") or a "The ABN is ..." lead-in."""
    match = _KEY_LINE.match(text)
    if match and (canonical_field(match.group(1)) or len(match.group(1).split()) <= 4):
        text = match.group(2).strip()
    match = _ANSWER_PREFIX.match(text)
    if match and len(text.split()) > 2 and _LEAD_IN_WORDS.search(match.group(1) or "it"):
        text = match.group(2).strip()
    text = text.strip().strip("\"'“”").strip()
    if text.endswith(".") and not re.search(r"\d\.$|\b[A-Z]\.$|\b(?:pty|ltd|inc|co|st|rd|ave)\.$", text, re.IGNORECASE):
        text = text[:-1].rstrip()
    return text.strip().strip("\"'“”").strip()


def parse_field_answer(field_name: str, text: str) -> Any:
    """A one-field answer -> the field's normalised value, or None when the document lacks it.

    "The ABN is 51 824 753 556." -> "51824753556"; "Not visible" -> None; "Yes" -> True for a
    flag. A typed field (date, money, ABN...) whose answer cannot be read is returned as the short
    answer text, so that `normalise_fields` nulls it and says why in the warnings.
    """
    try:
        return _parse_field_answer(str(field_name), text)
    except Exception:  # noqa: BLE001
        return None


def _parse_field_answer(field_name: str, text: str) -> Any:
    if not isinstance(text, str) or not text.strip() or is_refusal(text):
        return [] if field_name == "items" else None
    answer = _answer_text(field_name, text)
    if field_name == "items":
        outcome = parse_key_value(answer if re.match(r"(?i)^\W*items?\s*:", answer) else "ITEMS:\n" + answer)
        items, _ = normalise_items(outcome.fields.get("items") or [])
        return items
    if kind_of(field_name) == "bool":
        flag = normalise_bool(answer)
        if flag is None:
            flag = normalise_bool(_strip_echo(field_name, answer))
        if flag is None:
            if _NEGATIVE.search(answer):
                flag = False
            elif _POSITIVE.search(answer):
                flag = True
        return flag
    if is_null(answer) or _NULL_ANSWER.match(answer):
        return None
    value = _strip_echo(field_name, answer)
    if is_null(value) or _NULL_ANSWER.match(value):
        return None
    if kind_of(field_name) not in (None, "text"):  # a typed field: take the first readable value
        for candidate in (value, answer):
            normalised = normalise_value(field_name, candidate)
            if normalised is not None:
                return normalised
        return value[:80] if value else None
    if field_name not in ALL_FIELDS:
        return value or None
    return normalise_value(field_name, value)


# -------------------------------------------------------------------------- document type

_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fuel_receipt", re.compile(r"(?i)\bfuel[_\s-]*(?:receipt|docket)\b|\b(?:fuel|petrol|diesel|unleaded)\b")),
    ("bank_statement", re.compile(
        r"(?i)\bbank[_\s-]*statement\b|\baccount\s+statement\b|\bstatement\s+of\s+account\b|\btransaction\s+history\b"
        r"|^\W*statement\W*$")),
    ("tax_invoice", re.compile(r"(?i)\btax[_\s-]*invoice\b|\binvoice\b")),
    ("receipt", re.compile(r"(?i)\breceipt\b|\bdocket\b|\bsales?\s+slip\b")),
    ("other", re.compile(r"(?i)\bother\b|\bunknown\b")),
)


def parse_document_type(text: str) -> str:
    """The document type a classification answer names (one of result.DOCUMENT_TYPES).

    An exact label on the first line wins; otherwise the most specific type mentioned
    (fuel receipt, then bank statement, tax invoice, receipt); "other" when nothing matches.
    """
    try:
        if not isinstance(text, str) or not text.strip():
            return "other"
        cleaned = _strip_fences(text).replace("**", "").replace("`", "").strip()
        first = next((ln for ln in cleaned.splitlines() if ln.strip()), "")
        first_token = _key_token(first.split(":")[-1] if ":" in first else first)
        if first_token in DOCUMENT_TYPES:
            return first_token
        head = cleaned[:300]
        for name, pattern in _TYPE_PATTERNS:
            if pattern.search(head):
                return name
        return "other"
    except Exception:  # noqa: BLE001
        return "other"

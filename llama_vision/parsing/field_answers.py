"""One-field answers in field-specific mode ("The ABN is 51 824 753 556.") and the document type
named by a classification answer."""

from __future__ import annotations

import re
from typing import Any

from llama_vision.fields import is_null, normalise_bool, normalise_items, normalise_value
from llama_vision.parsing.answers import is_refusal, parse_key_value
from llama_vision.parsing.keys import BULLET, KEY_LINE, canonical_field, key_token, strip_fences
from llama_vision.schema import ALL_FIELDS, DOCUMENT_TYPES, kind_of

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
    text = strip_fences(text).strip().replace("**", "").replace("__", "").replace("`", "")
    lines = [BULLET.sub("", ln).strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    if field_name in ("supplier_address", "items"):
        return "\n".join(lines)
    return lines[0]


def _strip_echo(field_name: str, text: str) -> str:
    """Remove an echoed key ("ABN: ...") or a "The ABN is ..." lead-in."""
    match = KEY_LINE.match(text)
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
        return _parse_field_answer(str(field_name), text)[0]
    except Exception:  # noqa: BLE001
        return None


def field_answer_text(field_name: str, text: str) -> str | None:
    """The words of a one-field answer its value was read from ("51 824 753 556" of "The ABN is
    51 824 753 556."), so the value's confidence comes from those tokens; None without a value."""
    try:
        value, source = _parse_field_answer(str(field_name), text)
    except Exception:  # noqa: BLE001
        return None
    return source if value not in (None, "", []) else None


def _parse_field_answer(field_name: str, text: str) -> tuple[Any, str | None]:
    """(value, the answer text it was read from)."""
    if not isinstance(text, str) or not text.strip() or is_refusal(text):
        return ([] if field_name == "items" else None), None
    answer = _answer_text(field_name, text)
    if field_name == "items":
        outcome = parse_key_value(answer if re.match(r"(?i)^\W*items?\s*:", answer) else "ITEMS:\n" + answer)
        items, _ = normalise_items(outcome.fields.get("items") or [])
        return items, answer
    if kind_of(field_name) == "bool":
        flag = normalise_bool(answer)
        if flag is None:
            flag = normalise_bool(_strip_echo(field_name, answer))
        if flag is None:
            if _NEGATIVE.search(answer):
                flag = False
            elif _POSITIVE.search(answer):
                flag = True
        return flag, answer
    if is_null(answer) or _NULL_ANSWER.match(answer):
        return None, None
    value = _strip_echo(field_name, answer)
    if is_null(value) or _NULL_ANSWER.match(value):
        return None, None
    if kind_of(field_name) not in (None, "text"):  # a typed field: take the first readable value
        for candidate in (value, answer):
            normalised = normalise_value(field_name, candidate)
            if normalised is not None:
                return normalised, candidate
        return (value[:80] if value else None), value
    if field_name not in ALL_FIELDS:
        return value or None, value
    return normalise_value(field_name, value), value


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
        cleaned = strip_fences(text).replace("**", "").replace("`", "").strip()
        first = next((ln for ln in cleaned.splitlines() if ln.strip()), "")
        first_token = key_token(first.split(":")[-1] if ":" in first else first)
        if first_token in DOCUMENT_TYPES:
            return first_token
        head = cleaned[:300]
        for name, pattern in _TYPE_PATTERNS:
            if pattern.search(head):
                return name
        return "other"
    except Exception:  # noqa: BLE001
        return "other"

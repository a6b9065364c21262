"""How sure a model was of each field: the probabilities of the tokens that spell its value.

An engine that measures token probabilities hands over `token_logprobs`: each generated token's
text piece and log-probability, the pieces joining to the answer text. For every field the parser
read, this module finds where the answer spells the value the parser saw (the *raw* value, so a
date normalised to ISO or "12.50" read from "$12.50" gets the confidence of the printed text it
came from), takes the tokens that overlap those characters and turns their probabilities into
one number in [0, 1].

That number is the *lowest* probability among the value's tokens, not their product or geometric
mean: a field is wrong when any one of its tokens is (one unsure digit of a total or an ABN), the
product would punish long values (a 15-token address) for their length alone, and the geometric
mean would let ten sure tokens hide the one unsure digit. The raw number is what `evaluate`
measures for calibration; it is not a constant and is None whenever nothing was measured.

Where the value sits: after a key that names the field ("TOTAL: $44.00", `"total": 44.0`, a
"GST INCLUDED" line for the GST), else its first free-standing occurrence; a value reflowed by the
parser (a multi-line address joined with ", ") is matched word by word.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llama_vision.parsing.field_answers import field_answer_text
from llama_vision.parsing.keys import GST_INCLUDED_KEYS, canonical_field, key_token

TokenLogprobs = Sequence[tuple[str, float]]
Span = tuple[int, int]

_COLON = re.compile(r"[:=](?!//)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]+")
_KEY_EDGES = "\"'*_`#>-[]{}, \t"
_VALUE_EDGES = "\"'*_` \t,;}]"


@dataclass(frozen=True)
class Spelled:
    """Where an answer spells a field's value and how sure the model was of those tokens."""

    text: str
    confidence: float | None


def span_confidence(tokens: TokenLogprobs, start: int, end: int) -> float | None:
    """The lowest probability among the tokens overlapping characters [start, end) (see the
    module docstring for why the minimum); None when no token covers them."""
    lowest: float | None = None
    position = 0
    for piece, logprob in tokens:
        after = position + len(piece)
        # a token that holds half a character ("") belongs to the character at its position
        inside = (position < end and after > start) if piece else start <= position < end
        if inside and logprob is not None and not math.isnan(logprob):
            lowest = logprob if lowest is None else min(lowest, logprob)
        position = after
    if lowest is None:
        return None
    return max(0.0, min(1.0, math.exp(lowest)))


def aligned(text: str, tokens: TokenLogprobs | None) -> bool:
    """True when the token pieces spell exactly `text` (else no span can be trusted)."""
    return tokens is not None and len(tokens) > 0 and "".join(piece for piece, _lp in tokens) == text


def _names_field(key: str, field: str) -> bool:
    if canonical_field(key) == field:
        return True
    return field in ("gst", "gst_included_statement") and key_token(key) in GST_INCLUDED_KEYS


def _keyed_values(text: str, field: str) -> list[Span]:
    """Spans of the values that follow a key naming `field` (to the end of that line)."""
    spans: list[Span] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        boundary = 0
        for colon in _COLON.finditer(line):
            words = line[boundary: colon.start()].strip(_KEY_EDGES).split()[-5:]
            boundary = colon.end()
            if any(_names_field(" ".join(words[i:]).strip(_KEY_EDGES), field) for i in range(len(words))):
                start, end = colon.end(), len(line.rstrip("\r\n"))
                while start < end and line[start] in _VALUE_EDGES:
                    start += 1
                while end > start and line[end - 1] in _VALUE_EDGES:
                    end -= 1
                if end > start:
                    spans.append((offset + start, offset + end))
        offset += len(line)
    return spans


def _free(text: str, start: int, end: int) -> bool:
    """The match is not part of a longer word or number ("4.00" inside "14.00", "00" inside "4.00")."""
    before, after = text[start - 1: start], text[end: end + 1]
    if (before.isalnum() and text[start].isalnum()) or (after.isalnum() and text[end - 1].isalnum()):
        return False
    if text[start].isdigit() and before in (".", ",") and text[start - 2: start - 1].isdigit():
        return False
    return not (text[end - 1].isdigit() and after in (".", ",") and text[end + 1: end + 2].isdigit())


def _find(text: str, value: Any, start: int, end: int) -> Span | None:
    """The first free-standing occurrence of `value` in text[start:end]."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        for match in _NUMBER.finditer(text, start, end):
            try:
                if float(match.group(0).replace(",", "")) == float(value):
                    return match.span()
            except ValueError:
                continue
        return None
    needle = str(value).strip()
    if not needle:
        return None
    at = text.find(needle, start, end)
    while at >= 0:
        if _free(text, at, at + len(needle)):
            return at, at + len(needle)
        at = text.find(needle, at + 1, end)
    words = _WORD.findall(needle)
    if not words:
        return None
    # the parser joined lines or dropped markdown: the same words with any separators between
    pattern = re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])", re.IGNORECASE)
    match = pattern.search(text, start, end)
    return match.span() if match else None


def locate(text: str, field: str, value: Any) -> Span | None:
    """Where `text` spells the raw `value` of `field`: after a key naming the field, or anywhere when
    no key names it (nested JSON). A flag (True/False) has no spelling of its own: it is the keyed
    value's text."""
    keyed = _keyed_values(text, field)
    for start, end in keyed:
        found = _find(text, value, start, len(text))  # may run on: the parser joins continuation lines
        if found and found[0] < end:
            return found
    if isinstance(value, bool):
        return _first_value(text, keyed[0]) if keyed else None
    if keyed:
        return None  # the field's own lines do not spell it: another field's text would be a wrong guess
    return _find(text, value, 0, len(text))


def _first_value(text: str, span: Span) -> Span:
    """A keyed span cut where a JSON value or a joined line's value ends (`true, "next": ...`)."""
    start, end = span
    cut = re.compile(r"[\",;}\]]").search(text, start, end)
    end = cut.start() if cut and cut.start() > start else end
    return start, len(text[:end].rstrip())


def _scalar(value: Any) -> bool:
    return value not in (None, "", False) and not isinstance(value, (list, dict, tuple))


def answer_confidence(text: str, tokens: TokenLogprobs | None, raw_fields: Mapping[str, Any]) -> dict[str, Spelled]:
    """Each scalar field of a whole answer (KEY-VALUE or JSON) -> its spelling and confidence.
    Empty when the engine measured no token probabilities; a value not found has confidence None."""
    if not aligned(text, tokens):
        return {}
    assert tokens is not None
    out: dict[str, Spelled] = {}
    for field, value in raw_fields.items():
        if not _scalar(value):
            continue
        span = locate(text, field, value)
        out[field] = (Spelled(text[span[0]: span[1]], span_confidence(tokens, *span)) if span
                      else Spelled(str(value), None))
    return out


def field_answer_confidence(field: str, text: str, tokens: TokenLogprobs | None) -> Spelled | None:
    """A one-field answer (field-specific mode) -> the spelling of its value and its confidence;
    None when the answer gives no value or the engine measured nothing."""
    if not aligned(text, tokens):
        return None
    assert tokens is not None
    source = field_answer_text(field, text)
    if not source:
        return None
    span = _find(text, source, 0, len(text))
    if span is None:
        return Spelled(source, None)
    start, end = span
    while end > start + 1 and text[end - 1] in ".,;:" and text[end - 2].isdigit():
        end -= 1  # "51 824 753 556." ends a sentence: the full stop is not the ABN's
    return Spelled(text[start:end], span_confidence(tokens, start, end))

"""Answers whose newlines were lost: "DOCUMENT_TYPE: RECEIPT SUPPLIER: ALDI ABN: 74 878 226 893 ...".

Real Llama 3.2 Vision answers (and some servers' streaming) sometimes arrive on one line. The
KEY-VALUE parser reads one key per line, so such an answer would yield nothing. Here a line that
holds two or more *known* keys (field synonyms from the schema, item-list keys, the keys the
parser deliberately ignores) is split before each of them. A key is recognised by the longest run
of up to five words before a colon that names a key, so a value in capitals ("ALDI STORES
ABN: ...") stays with its field. Lines with a single known key are left exactly as they were.
"""

from __future__ import annotations

import re

from llama_vision.parsing.keys import GST_INCLUDED_KEYS, IGNORED_KEYS, LIST_KEYS, canonical_field, key_token

_MAX_KEY_WORDS = 5
# A word that can be part of a printed key: letters/digits with _ / & ( ) % # . - inside.
_KEY_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_/&().%#'-]*$")
_COLON = re.compile(r"\s*[:=](?!//)")  # ":" or "=", but not the "://" of a URL


def _is_known_key(words: list[str]) -> bool:
    key = " ".join(words)
    if not words[0][:1].isupper():  # printed keys are capitalised; "note: ..." inside a value is not one
        return False
    token = key_token(key)
    return bool(token) and (
        canonical_field(key) is not None or token in LIST_KEYS or token in GST_INCLUDED_KEYS or token in IGNORED_KEYS
    )


def _key_start(line: str, colon: int, value_start: int) -> int | None:
    """Where the longest known key ending at `colon` starts, or None if no key ends there.

    The key must leave the previous key at least one word of value (`value_start` is where that
    value begins): in "DOCUMENT_TYPE: RECEIPT SUPPLIER: ALDI" the key is SUPPLIER, not
    "RECEIPT SUPPLIER" (which would also name the supplier after its prefix is dropped)."""
    words = list(re.finditer(r"\S+", line[:colon]))[-_MAX_KEY_WORDS:]
    best: int | None = None
    for first in range(len(words) - 1, -1, -1):
        if words[first].start() <= value_start:
            break
        candidate = [w.group(0) for w in words[first:]]
        if _KEY_WORD.match(candidate[0]) and _is_known_key(candidate):
            best = words[first].start()
    return best


def _split_line(line: str) -> list[str]:
    starts: list[int] = []
    value_start = -1  # where the value of the last key found begins
    for match in _COLON.finditer(line):
        start = _key_start(line, match.start(), value_start)
        if start is not None:
            starts.append(start)
            value_start = match.end() + len(line[match.end():]) - len(line[match.end():].lstrip())
    if len(starts) < 2:
        return [line]
    if starts[0] > 0 and line[: starts[0]].strip():
        starts.insert(0, 0)  # text before the first key stays on its own line
    bounds = [*starts, len(line)]
    return [line[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False) if line[a:b].strip()]


def split_joined_keys(text: str) -> str:
    """The answer with a line break before every known key that shares a line with another."""
    if ":" not in text and "=" not in text:
        return text
    return "\n".join(part for line in text.splitlines() for part in _split_line(line))

"""Null markers, free text and the two statement flags: what every other normaliser builds on."""

from __future__ import annotations

import re
from typing import Any


# --------------------------------------------------------------------------------------------
# Normalisation. Every function accepts anything (str, number, None...) and never raises on a
# bad value: it returns None so that the caller can report "not read" instead of a guess.
# --------------------------------------------------------------------------------------------

# Answers that mean "not on the document". Compared after lower-casing and trimming punctuation.
NULL_TOKENS: frozenset[str] = frozenset({
    "", "-", "--", "---", "—", "–", "n/a", "na", "n.a", "n.a.", "not_found", "not found", "notfound",
    "none", "null", "nil", "nan", "unknown", "not visible", "not available", "not shown",
    "not provided", "not applicable", "not present", "not stated", "not specified", "missing",
    "not_visible", "not_available", "not_applicable", "no data", "empty", "?", "...", "…",
})


def _clean_text(value: Any) -> str:
    """Trim whitespace, markdown emphasis and wrapping quotes a model likes to add."""
    text = str(value).strip()
    for _ in range(3):
        stripped = text.strip().strip("*_`").strip()
        if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
            stripped = stripped[1:-1].strip()
        if stripped == text:
            break
        text = stripped
    return text


def is_null(value: Any) -> bool:
    """True for None and for every way of saying "absent" (N/A, NOT_FOUND, none, null, -, '')."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, float) and value != value:  # NaN
        return True
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    text = _clean_text(value).lower().rstrip(".").strip()
    return text in NULL_TOKENS or _clean_text(value).lower() in NULL_TOKENS


def normalise_text(value: Any) -> str | None:
    """A trimmed one-line string with single spaces, or None when it says "absent"."""
    if is_null(value) or isinstance(value, (list, dict)):
        return None
    text = re.sub(r"\s+", " ", _clean_text(value)).strip()
    return text or None


# -------------------------------------------------------------------------------------- flags

_TRUE = frozenset({"yes", "y", "true", "t", "1", "present", "shown", "visible", "included", "stated", "found"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "absent", "not shown", "not present", "not visible", "not stated"})


def normalise_bool(value: Any) -> bool | None:
    """yes/no/true/false/present/absent (and 1/0) -> bool; anything else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if value is None or isinstance(value, (list, dict, float)):
        return None
    text = _clean_text(value).lower().rstrip(".!").strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = re.split(r"[\s,;:.(-]+", text, maxsplit=1)[0] if text else ""
    if first in {"yes", "true", "present"}:
        return True
    if first in {"no", "false", "absent"}:
        return False
    return None

"""How the purchase was paid: the tender printed on a receipt (pure functions).

Only a record of the payment counts, never an advert or an invoice's payment instructions.
"""

from __future__ import annotations

import re

from llama_vision.engines.ocr.layout import norm_space
from llama_vision.engines.ocr.rules.evidence import Trace
from llama_vision.engines.ocr.vocabulary import (
    PAYMENT_CONTEXT_RE, PAYMENT_NOT_MADE_RE, PAYMENT_WORDS, TRANSFER_KINDS, TRANSFER_PAID_RE,
)
from llama_vision.fields import find_amounts


def _tender_word(up: str) -> tuple[int, int, int] | None:
    """(rank, start, end) of the line's tender word, the earliest kind winning; a generic "Card"
    printed as the row's label ("Card   CASH") gives way to the tender in its value."""
    found = [(rank, m.start(), m.end(), kind) for rank, (pattern, kind) in enumerate(PAYMENT_WORDS)
             if (m := re.search(pattern, up))]
    if len(found) > 1:
        first = min(found, key=lambda f: f[1])
        if first[3] == "Card" and not up[: first[1]].strip(" :*-"):
            found.remove(first)
    if not found:
        return None
    rank, start, end, kind = min(found)
    if kind in TRANSFER_KINDS and not TRANSFER_PAID_RE.search(up):
        return None  # "Direct deposit: BSB 062-000 ...": how to pay, not how it was paid
    return rank, start, end


def payment_method(ups: list[str], texts: list[str] | None = None, trace: Trace | None = None) -> str | None:
    """The tender as printed (EFTPOS, VISA CREDIT, Mastercard, Amex, Cash...), preferring payment lines.

    Only a record of the payment counts: an advert ("We accept Visa") or an invoice's payment
    instructions ("Payment by bank transfer within 7 days", "Direct deposit details on request") do not.
    """
    scored: list[tuple[int, int, str, int]] = []
    for i, up in enumerate(ups):
        if PAYMENT_NOT_MADE_RE.search(up):
            continue
        word = _tender_word(up)
        if word is not None:
            rank, start, end = word
            context = 0 if PAYMENT_CONTEXT_RE.search(up) or find_amounts(up) else 1
            original = texts[i] if texts is not None and len(texts[i]) == len(up) else up
            scored.append((context, rank, norm_space(original[start:end]), i))
    if not scored:
        return None
    scored.sort()
    context, _rank, word, row = scored[0]
    if trace is not None:
        trace["payment_method"] = ((row,), "payment_line" if context == 0 else "payment_word")
    return word

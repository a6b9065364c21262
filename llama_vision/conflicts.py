"""Conflicting evidence on a page: values printed twice with different contents, and text that reads
like an instruction (issue L item 5).

A hostile or damaged document can print a second ABN, total or date ("TOTAL: 0.00 and ABN 51 824
753 556") hoping the reader takes the "nicer" value. The readers keep the value from the supplier's
header block or the labelled line; this module looks at the whole page text and names every
conflict, so the pipeline can send the document to review instead of letting either value win.

It reads printed page text (the OCR engine's reading, or an OCR pass beside a model), never a
model's answer: what matters is what the page says.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from llama_vision.fields import abn_is_valid, find_abns, find_amounts, find_dates, format_abn

_ABN_LABEL = re.compile(r"(?i)\bA\.?\s?B\.?\s?N\.?\b")
_BUYER = re.compile(r"(?i)\b(?:customer|client|buyer|recipient|purchaser|bill(?:ed)?\s+to|sold\s+to|ship\s+to)\b")
# A grand total printed alone on its line: "TOTAL", "TOTAL DUE", "Total (inc GST)", "Total Rounded",
# "Amount payable", and one amount. Anything else on the line (a percentage, a second amount, "excl",
# "supplies") makes it a GST summary or a subtotal, which legitimately differs from the total.
_TOTAL = re.compile(
    r"(?i)^\s*(?:grand\s+)?(?:total|amount|amt)(?:\s+(?:due|payable|amount|amnt|amt|aud|rounded|"
    r"after\s+adj\w*|\(?(?:inc|incl|including)\.?\s*gst\)?|\(?inclusive\s+of\s+gst\)?|to\s+pay))*\s*[:;=]?\s*"
    r"(?:aud|a\$|rm|\$)?\s*-?\d[\d,]*[.,]\d{2}\s*$"
)
_ISSUE_DATE = re.compile(r"(?i)^\s*(?:(?:tax\s+)?invoice\s+|issue\s+|receipt\s+)?date\b(?!\s*(?:due|of\s+supply))")
_OTHER_DATE = re.compile(r"(?i)\b(?:due|expir|valid|period|from|to|until|delivery|supply|printed)\b")
#: Words a document has no business saying to its reader. Kept narrow: they must read as orders.
_INSTRUCTION = re.compile(
    r"(?i)\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|other)\b|"
    r"\b(?:system|assistant)\s*(?:prompt|message|:)|"
    r"\byou\s+(?:must|should|will)\s+(?:now\s+)?(?:set|report|return|output|answer|mark|treat|use)\b|"
    r"\b(?:set|mark|report)\s+(?:the\s+)?(?:verdict|compliance|status)\b|"
    r"\bverdict\s*[:=]|\bcompliant\s*[:=]|"
    r"\b(?:instead|actually)\s*,?\s*(?:use|report|return)\s+(?:the\s+)?(?:abn|total|gst|date)\b"
)
_FIELD_WORDS = re.compile(r"(?i)\b(?:total|abn|gst|date)\b")
ROUNDING_TOLERANCE = Decimal("0.10")  # cash rounding moves a total by at most 5 cents


def find_conflicts(page_text: str, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for every conflict on the page; an empty list when the page agrees with itself."""
    lines = [line.strip() for line in (page_text or "").splitlines() if line.strip()]
    found = _abn_conflicts(lines, fields) + _total_conflicts(lines) + _date_conflicts(lines)
    found += _instruction_lines(lines)
    return found


def _abn_conflicts(lines: list[str], fields: dict[str, Any]) -> list[tuple[str, str]]:
    buyer = fields.get("buyer_abn")
    seen: list[str] = []
    for i, line in enumerate(lines):
        label = _ABN_LABEL.search(line)
        if not label or _BUYER.search(line) or (i and _BUYER.search(lines[i - 1])):
            continue
        candidates = find_abns(line[label.end():]) or (find_abns(lines[i + 1]) if i + 1 < len(lines) else [])
        # one printed ABN can give several windows ("51824753556 12"); take the line's best reading
        best = next((c for c in candidates if abn_is_valid(c)), candidates[0] if candidates else None)
        if best and best != buyer and best not in seen:
            seen.append(best)
    if len(seen) < 2:
        return []
    shown = " and ".join(format_abn(a) or a for a in seen[:3])
    return [("supplier_abn", f"Two different supplier ABNs are printed ({shown}); the header's is kept. "
                             "Check which one is the supplier's before claiming GST.")]


def _total_conflicts(lines: list[str]) -> list[tuple[str, str]]:
    totals: list[Decimal] = []
    for line in lines:
        if _TOTAL.match(line):
            amounts = find_amounts(line)
            if len(amounts) == 1 and amounts[0] > 0:
                totals.append(amounts[0])
    distinct = sorted(set(totals))
    if len(distinct) < 2 or distinct[-1] - distinct[0] <= ROUNDING_TOLERANCE:
        return []
    shown = ", ".join(f"{t:.2f}" for t in distinct[:4])
    return [("total", f"Different totals are printed ({shown}); check which one was charged.")]


def _date_conflicts(lines: list[str]) -> list[tuple[str, str]]:
    dates: list[str] = []
    for line in lines:
        if _ISSUE_DATE.search(line) and not _OTHER_DATE.search(line):
            dates.extend(date for _, date in find_dates(line)[:1])
    distinct = list(dict.fromkeys(dates))
    if len(distinct) < 2:
        return []
    return [("date", f"Different issue dates are printed ({', '.join(distinct[:3])}); check the date of issue.")]


def _instruction_lines(lines: list[str]) -> list[tuple[str, str]]:
    reasons = []
    for line in lines:
        packed = len(_FIELD_WORDS.findall(line)) >= 2 and " and " in line.lower() and find_abns(line)
        if _INSTRUCTION.search(line) or packed:
            quoted = line if len(line) <= 80 else line[:77] + "..."
            reasons.append(("document", f"A line reads like an instruction to the reader, not part of a receipt: "
                                        f"{quoted!r}. Its values were not used; check the document by eye."))
    return reasons[:3]

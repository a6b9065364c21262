"""Small text readers for OCR lines: amounts, dates and ABNs as printed (pure functions).

Shared by the OCR rules (`ocr_rules`) and their scoring (`ocr_eval`). Tolerant of what OCR and
shop printers do: currency glued to amounts ("RM49.40"), comma decimals, a time glued to the
year ("05/01/201813:30"), spaced ABNs ("51 824 753 556").
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

# --------------------------------------------------------------------------------------------
# small text helpers
# --------------------------------------------------------------------------------------------

MONEY_RE = re.compile(
    r"(?<![\w.,/])(?P<neg>-{1,2})?\s?(?:RM|AUD|A\$|\$)?\s?(?P<neg2>-)?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.\s?|,)(?P<dec>\d{2})(?![\d%]|[.,/]\d)"
)
_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
_YEAR = r"(?P<y>(?:19|20)\d{2}(?!\d)|(?:19|20)\d{2}(?=\d{1,2}:\d{2})|\d{2}(?!\d)|\d{2}(?=\d{1,2}:\d{2}))"
DATE_PATTERNS = (
    # 2024-03-15, 2024/03/15
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?[/\-.]\s?(?P<m>\d{1,2})\s?[/\-.]\s?(?P<d>\d{1,2})"
               r"(?:(?!\d)|(?=\d{1,2}:\d{2}))"),
    # 15/03/2024, 15-03-24, 15.03.2024
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\s?(?P<sep>[/\-.])\s?(?P<m>\d{1,2})\s?(?P=sep)\s?" + _YEAR),
    # 15 Mar 2024, 15-MAR-24, 15 March, 2024
    re.compile(r"(?<!\d)(?P<d>\d{1,2})(?:ST|ND|RD|TH)?[\s\-/.]*" + _MON + r"[\s\-/.,]*" + _YEAR),
    # March 15, 2024
    re.compile(_MON + r"\s*(?P<d>\d{1,2})(?:ST|ND|RD|TH)?,?\s*(?P<y>(?:19|20)\d{2})(?!\d)"),
)


def norm_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()



def money_values(text: str) -> list[Decimal]:
    """Every amount with two decimals in `text`, left to right ("RM49.40", "$1,234.50", "-1.20")."""
    out = []
    for m in MONEY_RE.finditer(text):
        try:
            value = Decimal(m.group("int").replace(",", "") + "." + m.group("dec"))
        except InvalidOperation:
            continue
        out.append(-value if (m.group("neg") == "-" or m.group("neg2")) else value)
    return out


def fmt_money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(Decimal('0.01'))}"


def _valid_date(d: int, m: int, y: int) -> date | None:
    if y < 100:
        y += 2000
    if not 1990 <= y <= 2099:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, date]]:
    """(position, date) for every possible date in `text`, day first; impossible dates dropped."""
    up = text.upper()
    found: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(up):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            parts = m.groupdict()
            month = _MONTHS[parts["mon"][:3]] if parts.get("mon") else int(parts["m"])
            value = _valid_date(int(parts["d"]), month, int(parts["y"]))
            if value is None and not parts.get("mon") and parts.get("sep"):
                # a month-first print (03/15/2024) only when day-first is impossible
                value = _valid_date(month, int(parts["d"]), int(parts["y"]))
            if value is not None:
                found.append((m.start(), value))
                taken.append((m.start(), m.end()))
    found.sort(key=lambda item: item[0])
    return found


def fmt_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def abn_checksum_ok(digits: str) -> bool:
    """The ATO checksum, as the rest of the app applies it (`fields.abn_is_valid`)."""
    from llama_vision.fields import abn_is_valid

    return len(digits) == 11 and digits.isdigit() and abn_is_valid(digits)


ABN_RE = re.compile(r"(?<!\d)(\d[\d ]{9,16}\d)(?!\d)")
# "ABN", "A.B.N.", and the glued forms OCR makes of them ("CustomerA.B.N.2058...", "ABN37329")
ABN_LABEL = r"(?:A\.\s?B\.\s?N\.?|(?<![A-Z])ABN(?![A-Z]))"
ABN_LABEL_RE = re.compile(ABN_LABEL)


def find_abns(text: str) -> list[str]:
    """11-digit sequences in `text` (spaces allowed), checksum-valid ones first."""
    cands = []
    for m in ABN_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) == 11:
            cands.append(digits)
        elif len(digits) > 11:
            # a run such as "ABN 51824753556 12" : try each 11-digit window
            cands.extend(digits[i:i + 11] for i in range(len(digits) - 10))
    valid = [c for c in cands if abn_checksum_ok(c)]
    return valid + [c for c in cands if c not in valid]

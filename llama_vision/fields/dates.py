"""Dates, normalised to DD/MM/YYYY day first; impossible dates are None, never a guess.

`find_dates` locates every printed date in a line of OCR text and reads each with the same rules."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from dateutil import parser as _date_parser

from llama_vision.fields.text import _clean_text, is_null


# ---------------------------------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_NAMES = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_SEP = r"[/.\-]"
# 2024-03-15, 2024/03/15, 2024.03.15 (year first is unambiguous when the year has four digits)
_YMD = re.compile(rf"(?<!\d)(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?!\d)")
# 15/03/2024, 15-03-24, 15.03.2024 (day first, always: this is an Australian app)
_DMY = re.compile(rf"(?<![\d/.\-])(\d{{1,2}})\s?{_SEP}\s?(\d{{1,2}})\s?{_SEP}\s?(\d{{4}}|\d{{2}})(?![\d])")
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?(?!\d)"
_MON = rf"({_MONTH_NAMES})\.?"
_YEAR = r"(\d{4}|\d{2})"
_DSEP = r"[\s,/.\-]*(?:(?:of|the)\s+)?"
# 15 Mar 2024, 25 DEC 2018, 15-Mar-24, 15th March, 2024
_D_MON_Y = re.compile(rf"(?<![\d]){_DAY}{_DSEP}{_MON}{_DSEP}{_YEAR}(?!\d)", re.IGNORECASE)
# MAR 15, 2024, March 15th 2024
_MON_D_Y = re.compile(rf"(?<![a-z]){_MON}{_DSEP}{_DAY}{_DSEP}{_YEAR}(?!\d)", re.IGNORECASE)
# 2024-Mar-15, 2024 March 15
_Y_MON_D = re.compile(rf"(?<!\d)(\d{{4}}){_DSEP}{_MON}{_DSEP}{_DAY}(?!\d)", re.IGNORECASE)

_MIN_YEAR, _MAX_YEAR = 1900, 2099


def _full_year(year: str) -> int:
    value = int(year)
    if len(year) == 2:  # 24 -> 2024, 98 -> 1998 (receipts are recent; the pivot keeps old ones sane)
        value += 2000 if value < 70 else 1900
    return value


def _make_date(day: int, month: int, year: int) -> str | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        return _dt.date(year, month, day).strftime("%d/%m/%Y")
    except ValueError:  # 31/02, 00/03, month 13: impossible dates are rejected, never "fixed"
        return None


def _month_number(name: str) -> int | None:
    name = name.lower().rstrip(".")
    return _MONTHS.get(name[:4] if name.startswith("sept") else name[:3])


_WEEKDAYS = re.compile(r"(?i)\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\b\.?,?")


def _date_with_dateutil(text: str) -> str | None:
    """Last resort for forms the patterns miss ("the 15th day of March, 2024").

    dateutil fills in missing parts and splits "2024" into day 20 and year 24 when it must, so
    its answer only counts when its day and year are numbers printed on their own in the text.
    """
    text = _WEEKDAYS.sub(" ", text)  # a weekday would move the date to the next such day
    if not re.search(_MONTH_NAMES, text, re.IGNORECASE):
        return None
    numbers = re.findall(r"\d+", text)
    try:
        parsed = _date_parser.parse(text, dayfirst=True, fuzzy=True, default=_dt.datetime(2001, 1, 1))
    except Exception:  # noqa: BLE001 - dateutil raises several types (ParserError, OverflowError...)
        return None
    if str(parsed.year) not in numbers or not any(n.lstrip("0") == str(parsed.day) for n in numbers if len(n) <= 2):
        return None
    return _make_date(parsed.day, parsed.month, parsed.year)


def normalise_date(value: Any) -> str | None:
    """A printed date as DD/MM/YYYY, reading numeric forms day first; None when impossible.

    15/03/2024, 15-03-24, 15.03.2024, 15 Mar 2024, MAR 15, 2024, 2024-03-15, 25 DEC 2018 and
    the same with a time after them all give a date. 31/02/2024 and 03/15/2024 (month 15) give
    None: a US-style date is not silently swapped.
    """
    if isinstance(value, _dt.datetime):
        return _make_date(value.day, value.month, value.year)
    if isinstance(value, _dt.date):
        return _make_date(value.day, value.month, value.year)
    if is_null(value) or isinstance(value, (bool, list, dict)):
        return None
    text = _clean_text(value)
    if len(text) > 200:
        text = text[:200]
    # Take the earliest date-looking span, so "15/03/2024 14:32" and "Date: 2 Jan 24" both work.
    candidates: list[tuple[int, str | None]] = []
    match = _YMD.search(text)
    if match:
        y, m, d = match.groups()
        candidates.append((match.start(), _make_date(int(d), int(m), int(y))))
    match = _DMY.search(text)
    if match and not (candidates and candidates[0][0] <= match.start() < candidates[0][0] + 10):
        d, m, y = match.groups()
        candidates.append((match.start(), _make_date(int(d), int(m), _full_year(y))))
    for pattern, order in ((_D_MON_Y, "dmy"), (_MON_D_Y, "mdy"), (_Y_MON_D, "ymd")):
        match = pattern.search(text)
        if not match:
            continue
        groups = dict(zip(order, match.groups()))
        month = _month_number(groups["m"])
        if month is None:
            continue
        year = int(groups["y"]) if order == "ymd" else _full_year(groups["y"])
        candidates.append((match.start(), _make_date(int(groups["d"]), month, year)))
    if candidates:
        # The first date in the text decides; an impossible first date is None, not the next one.
        return min(candidates, key=lambda c: c[0])[1]
    return _date_with_dateutil(text)


_PRINTED_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
# a year ends at a non-digit, or runs into a time glued to it ("201813:30")
_PRINTED_YEAR = r"(?:(?:19|20)\d{2}|\d{2})(?:(?!\d)|(?=\d{1,2}:\d{2}))"
_PRINTED_DATES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (  # most specific first
    r"(?<!\d)(?:19|20)\d{2}\s?[/\-.]\s?\d{1,2}\s?[/\-.]\s?\d{1,2}(?:(?!\d)|(?=\d{1,2}:\d{2}))",
    r"(?<![\d.])\d{1,2}\s?(?P<sep>[/\-.])\s?\d{1,2}\s?(?P=sep)\s?" + _PRINTED_YEAR,
    r"(?<!\d)\d{1,2}(?:ST|ND|RD|TH)?[\s\-/.]*" + _PRINTED_MONTH + r"[\s\-/.,]*" + _PRINTED_YEAR,
    _PRINTED_MONTH + r"\s*\d{1,2}(?:ST|ND|RD|TH)?,?\s*(?:19|20)\d{2}(?:(?!\d)|(?=\d{1,2}:\d{2}))",
))


def find_dates(text: str) -> list[tuple[int, str]]:
    """(position, DD/MM/YYYY) for every date printed in `text`, left to right.

    Each span is read by `normalise_date`, so the rules are the same: day first, never swapped
    to month first, impossible dates (31/02/2024) left out.
    """
    return [(start, value) for start, _end, value in find_date_spans(text)]


def find_date_spans(text: str) -> list[tuple[int, int, str]]:
    """`find_dates` with where each date ends: (start, end, DD/MM/YYYY), left to right (the
    grounding step boxes the printed date, not the whole line)."""
    found: list[tuple[int, int, str]] = []
    for pattern in _PRINTED_DATES:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end, _v in found):
                continue
            value = normalise_date(re.sub(r"\s*([/\-.])\s*", r"\1", match.group(0)))
            if value is not None:
                found.append((match.start(), match.end(), value))
    found.sort(key=lambda item: item[0])
    return found

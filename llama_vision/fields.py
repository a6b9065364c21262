"""Normalisation of raw values for the fields of `schema` (ARCHITECTURE.md §2).

Normalised forms: dates DD/MM/YYYY (day first), money "12.30" (Decimal, 2 places), ABN 11 digits
without spaces, BSB NNN-NNN, booleans for the two statement flags. A value that cannot be
normalised is None: never a guess.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dateutil import parser as _date_parser
from stdnum.au import abn as _stdnum_abn

from llama_vision.schema import ABN_FIELDS, ALL_FIELDS, ITEM_ALIASES, ITEM_KEYS, MONEY_FIELDS, kind_of


def empty_fields() -> dict[str, Any]:
    """Every field present and null (items: empty list, flags: False until seen)."""
    fields: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    fields["items"] = []
    return fields


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


# ---------------------------------------------------------------------------------------- money

# Currency words and symbols, also glued to the number ("RM12.30", "12.30AUD", "A$5").
_CURRENCY = re.compile(
    r"(?i)(?<![a-z])(?:aud|au\$|a\$|usd|us\$|nzd|myr|rm|sgd|eur|gbp)(?![a-z])"
    r"|\b(?:dollars?|incl\.?\s*gst|inc\.?\s*gst|ex\.?\s*gst)\b|[$€£¥]"
)
# One number as printed: 1,234.50  1234.5  .50  12,30 (the last is ambiguous and refused later)
_NUMBER = re.compile(r"(?<![\w.])(?<!\d,)(\(?)([-+−]?)\s*(\d[\d,]*(?:\.\d+)?|\.\d+)(\)?)(-?)(?!\d|[.,]\d|[eE][-+]?\d)")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def _parse_decimal(text: str) -> tuple[Decimal | None, str | None]:
    """(value, problem) for a string with exactly one amount; percentages are ignored."""
    text = _CURRENCY.sub(" ", text)
    # "1 234.50" (space as thousands separator) -> "1234.50"
    text = re.sub(r"(?<=\d) (?=\d{3}(?:\D|$))", "", text)
    found = []
    for match in _NUMBER.finditer(text):
        after = text[match.end():match.end() + 2].lstrip()
        if after.startswith("%"):
            continue
        found.append(match)
    if not found:
        return None, "no number"
    if len(found) > 1:
        # "$12.30 (including GST of $1.12)": the bracket only qualifies the amount before it.
        unbracketed = re.sub(r"\([^()]*\)", " ", text)
        if unbracketed != text and re.search(r"\d", unbracketed):
            return _parse_decimal(unbracketed)
        return None, "more than one number"
    match = found[0]
    open_paren, sign, digits, close_paren, trailing_minus = match.groups()
    if "," in digits:
        if not _THOUSANDS.match(digits):
            # "12,30" may be a decimal comma, "1,23" is nothing Australian: refuse to guess.
            return None, "ambiguous comma"
        digits = digits.replace(",", "")
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return None, "not a number"
    if not amount.is_finite():
        return None, "not a number"
    negative = sign in ("-", "−") or (open_paren and close_paren) or trailing_minus == "-"
    tail = text[match.end():].strip().lower()
    if re.match(r"^dr\b", tail):  # bank statements: 120.00 DR is an overdrawn balance
        negative = True
    return (-amount if negative else amount), None


def _format_decimal(amount: Decimal, min_places: int, max_places: int) -> str:
    exponent = -amount.as_tuple().exponent if isinstance(amount.as_tuple().exponent, int) else 0
    places = min(max(exponent, min_places), max_places)
    quantized = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if quantized == 0:
        quantized = abs(quantized)
    return f"{quantized:f}"


def _amount_of(value: Any, *, cleanup: Any = None) -> Decimal | None:
    """The one finite amount in a value (a number, or printed text with at most one amount), or
    None. `cleanup` edits the text first (units for plain numbers)."""
    if isinstance(value, bool) or is_null(value) or isinstance(value, (list, dict)):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
    else:
        text = _clean_text(value)
        if len(text) > 200:
            return None
        amount, _problem = _parse_decimal(cleanup(text) if cleanup else text)
        if amount is None:
            return None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        return None
    return amount


def _strip_units(text: str) -> str:
    text = re.sub(r"(?i)\b(?:litres?|liters?|ltrs?|l|kg|g|ea|each|units?|pcs?|x)\b|(?<=\d)(?:l|x|kg)\b", " ", text)
    return re.sub(r"(?i)^\s*x\s*|\s*x\s*$", " ", text)


def normalise_money(value: Any, *, max_places: int = 2) -> str | None:
    """An amount as a plain decimal string with two places: "$1,234.50" -> "1234.50".

    Australian formatting: '.' is the decimal point and ',' separates thousands ("1,234" is
    1234). "12,30" is refused (None): it could be a decimal comma. Negative amounts come from a
    minus sign, brackets "(4.50)", a trailing minus "4.50-" or "DR". `max_places` lets unit
    prices keep more precision (1.899 a litre); extra places are rounded half up.
    """
    amount = _amount_of(value)
    if amount is None:
        return None
    return _format_decimal(amount, 2, max(2, max_places))


def normalise_price_per_litre(value: Any) -> str | None:
    """Fuel price in dollars a litre, keeping three places: "189.9 c/L" -> "1.899"."""
    if isinstance(value, str) and re.search(r"(?i)\d\s*(?:c|cents?|¢)\s*(?:/\s*l|per\s+lit|pl\b)|\d\s*cpl\b", value):
        cents = normalise_number(re.sub(r"(?i)(cents?|cpl|c/l|¢/l|¢|c\b|/l|per\s+litre)", " ", value))
        if cents is None:
            return None
        return _format_decimal(Decimal(cents) / 100, 2, 3)
    return normalise_money(value, max_places=3)


def normalise_number(value: Any) -> str | None:
    """A plain number as printed, without units or thousands separators: "45.20 L" -> "45.20"."""
    amount = _amount_of(value, cleanup=_strip_units)
    if amount is None:
        return None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:  # a float's noise, not a printed number
        amount = amount.quantize(Decimal("1e-6"), rounding=ROUND_HALF_UP).normalize()
    if amount == 0:  # "-0.0" would normalise to "0.0" the second time: not idempotent
        amount = abs(amount)
    return f"{amount:f}"


def normalise_quantity(value: Any) -> str | None:
    """An item quantity as a string number without trailing zeros: "2 x" -> "2", "1.50" -> "1.5"."""
    number = normalise_number(value)
    if number is None:
        return None
    amount = Decimal(number)
    if amount == amount.to_integral_value():
        return str(int(amount))
    return f"{amount.normalize():f}"


# ----------------------------------------------------------------------------------- ABN, BSB

_ABN_SPACED = re.compile(r"(?<!\d)(\d{2}[ \-]?\d{3}[ \-]?\d{3}[ \-]?\d{3})(?![\d])")


def normalise_abn(value: Any) -> str | None:
    """The 11 digits of an ABN without spaces ("51 824 753 556" -> "51824753556").

    The checksum is not required here (see `abn_is_valid`): the field records what is printed,
    compliance judges it. Anything that is not 11 digits is None.
    """
    if isinstance(value, bool) or is_null(value) or isinstance(value, (list, dict, float)):
        return None
    text = _clean_text(value)
    if len(text) > 200:
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11:
        return digits
    matches = {re.sub(r"\D", "", m) for m in _ABN_SPACED.findall(text)}
    if len(matches) == 1:
        return matches.pop()
    return None


_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def _ato_checksum(abn: str) -> bool:
    digits = [int(c) for c in abn]
    digits[0] -= 1
    return digits[0] >= 0 and sum(w * d for w, d in zip(_ABN_WEIGHTS, digits)) % 89 == 0


def abn_is_valid(value: Any) -> bool:
    """True when the value is an 11-digit ABN that passes the ATO checksum.

    python-stdnum does the work; it computes the two check digits and so rejects the one corner
    the ATO's published rule accepts (check digits "10" where stdnum expects "99": both give a
    weighted sum divisible by 89). ARCHITECTURE.md §5 states the ATO rule, so that corner is
    accepted here too, and the synthetic ground truth agrees.
    """
    abn = normalise_abn(value)
    if not abn or abn[0] == "0":
        return False
    return bool(_stdnum_abn.is_valid(abn)) or _ato_checksum(abn)


def format_abn(value: Any) -> str | None:
    """The ABN grouped as printed by the ATO: "51 824 753 556"; None when not 11 digits."""
    abn = normalise_abn(value)
    return _stdnum_abn.format(abn) if abn else None


_BSB = re.compile(r"(?<!\d)(\d{3})\s*[\- ]?\s*(\d{3})(?!\d)")


def normalise_bsb(value: Any) -> str | None:
    """A bank-state-branch number as NNN-NNN ("062 000", "062000" -> "062-000")."""
    if isinstance(value, (bool, float)) or is_null(value) or isinstance(value, (list, dict)):
        return None
    text = _clean_text(value)
    if len(text) > 200:
        return None
    if isinstance(value, int):
        text = f"{value:06d}"
    matches = {f"{a}-{b}" for a, b in _BSB.findall(text)}
    if len(matches) == 1 and len(re.sub(r"\D", "", text)) == 6:
        return matches.pop()
    return None


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


# ------------------------------------------------------------------------------------- fields

# Columns of a "|"-separated item by how many parts it has: "Coffee | 4.50" is a description and
# the line amount; "Coffee | 2 | 9.00" adds the quantity; four parts are in ITEM_KEYS order.
_ITEM_COLUMNS: dict[int, tuple[str, ...]] = {
    1: ("description",),
    2: ("description", "amount"),
    3: ("description", "quantity", "amount"),
}


def _split_item_string(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\s*\|\s*", text.strip().strip("|"))]


def normalise_item(raw: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """One line item -> {description, quantity, unit_price, amount} (None when it is empty).

    Accepts a dict (with common synonyms for the keys), a list/tuple or a "|"-separated string:
    four parts are description | quantity | unit price | amount, three are description |
    quantity | amount, two are description | amount.
    """
    warnings: list[str] = []
    if isinstance(raw, str):
        parts = _split_item_string(raw)
        raw = parts if len(parts) > 1 else {"description": raw}
    if isinstance(raw, (list, tuple)):
        raw = dict(zip(_ITEM_COLUMNS.get(len(raw), ITEM_KEYS), raw))
    if not isinstance(raw, dict):
        return None, [f"item {raw!r} is not a line item; ignored"]
    item: dict[str, Any] = dict.fromkeys(ITEM_KEYS)
    for key, value in raw.items():
        canonical = ITEM_ALIASES.get(str(key).strip().lower().replace(" ", "_"))
        if canonical is None or item[canonical] is not None:
            continue
        if canonical == "description":
            item[canonical] = normalise_text(value)
        elif canonical == "quantity":
            item[canonical] = normalise_quantity(value)
        else:
            item[canonical] = normalise_money(value, max_places=4 if canonical == "unit_price" else 2)
        if item[canonical] is None and not is_null(value):
            warnings.append(f"item {canonical} {str(value)[:40]!r} could not be read; left empty")
    if item["description"] is None and item["amount"] is None and item["unit_price"] is None:
        return None, warnings
    return item, warnings


def normalise_items(raw: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """A list of line items (or a ';'/newline separated string of them) -> normalised items."""
    if is_null(raw) or isinstance(raw, bool):
        return [], []
    if isinstance(raw, str):
        raw = [line for line in re.split(r"\s*[;\n]\s*", raw) if line.strip()]
    elif isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        return [], [f"items {str(raw)[:40]!r} are not a list; ignored"]
    items: list[dict[str, Any]] = []
    warnings: list[str] = []
    for entry in raw:
        item, item_warnings = normalise_item(entry)
        warnings.extend(item_warnings)
        if item is not None:
            items.append(item)
    return items, warnings


# One normaliser per schema kind, so a new field of a known kind needs nothing here.
_BY_KIND: dict[str, Callable[[Any], Any]] = {
    "text": normalise_text, "money": normalise_money, "litre_price": normalise_price_per_litre,
    "number": normalise_number, "date": normalise_date, "abn": normalise_abn, "bsb": normalise_bsb,
    "bool": normalise_bool, "items": lambda value: normalise_items(value)[0],
}


def normalise_value(field: str, value: Any) -> Any:
    """The normalised value of one field by its schema kind (None when absent or unreadable).

    A name that is not a field is read as text.
    """
    return _BY_KIND[kind_of(field) or "text"](value)


def normalise_fields(raw: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Raw extracted values -> (every ALL_FIELDS key, normalised or None; warnings).

    Idempotent: normalising an already-normalised dict gives it back unchanged. A value that is
    present but cannot be normalised becomes None and a warning names the field and the value.
    """
    fields = empty_fields()
    warnings: list[str] = []
    if not isinstance(raw, dict):
        return fields, ([] if raw is None else [f"fields {str(raw)[:40]!r} are not a mapping; ignored"])
    for key, value in raw.items():
        field = str(key)
        if field not in fields:
            warnings.append(f"unknown field {field!r} ignored")
            continue
        if field == "items":
            fields["items"], item_warnings = normalise_items(value)
            warnings.extend(item_warnings)
            continue
        normalised = normalise_value(field, value)
        fields[field] = normalised
        if normalised is None and not is_null(value):
            what = "date" if field == "date" else "amount" if field in MONEY_FIELDS else "value"
            warnings.append(f"{field}: could not read {what} {str(value)[:60]!r}; left empty")
        elif field in ABN_FIELDS and normalised and not abn_is_valid(normalised):
            warnings.append(f"{field}: {normalised} fails the ABN checksum")
    return fields, warnings


# =============================================================================================
# Finding values in a line of printed text (the OCR rules read a page line by line).
#
# The normalisers above read one value; these finders locate every date, amount and ABN in a
# line, left to right, and hand each span to those normalisers, so a value reads the same
# whichever engine saw it. They are tolerant of what tills and OCR print: currency glued to an
# amount ("RM49.40"), a time glued to the year ("05/01/201813:30"), spaces around a date's
# separators ("15 / 03 / 2024"), spaced ABNs ("51 824 753 556").
# =============================================================================================

#: An amount as printed on a line: two decimals, optional currency and minus ("RM49.40",
#: "$1,234.50", "-1.20", "12,30"). Not a percentage, a date (15.03.24) or a longer number.
PRINTED_AMOUNT_RE = re.compile(
    r"(?<![\w.,/])(?P<neg>-{1,2})?\s?(?:RM|AUD|A\$|\$)?\s?(?P<neg2>-)?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.\s?|,)(?P<dec>\d{2})(?![\d%]|[.,]\d)"
)


def find_amounts(text: str) -> list[Decimal]:
    """Every amount printed with two decimals in `text`, left to right.

    The two decimals make a comma unambiguous on a line: "12,30" is 12.30 (a till's decimal
    comma, or OCR reading the point as a comma), which `normalise_money` alone must refuse.
    """
    amounts = []
    for match in PRINTED_AMOUNT_RE.finditer(text):
        amount = _amount_of(f"{match.group('int').replace(',', '')}.{match.group('dec')}")
        if amount is None:
            continue
        negative = match.group("neg") == "-" or bool(match.group("neg2"))  # "--" is a rule, not a sign
        amounts.append(-amount if negative else amount)
    return amounts


_PRINTED_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
# a year ends at a non-digit, or runs into a time glued to it ("201813:30")
_PRINTED_YEAR = r"(?:(?:19|20)\d{2}|\d{2})(?:(?!\d)|(?=\d{1,2}:\d{2}))"
_PRINTED_DATES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (  # most specific first
    r"(?<!\d)(?:19|20)\d{2}\s?[/\-.]\s?\d{1,2}\s?[/\-.]\s?\d{1,2}(?:(?!\d)|(?=\d{1,2}:\d{2}))",
    r"(?<![\d.])\d{1,2}\s?(?P<sep>[/\-.])\s?\d{1,2}\s?(?P=sep)\s?" + _PRINTED_YEAR,
    r"(?<!\d)\d{1,2}(?:ST|ND|RD|TH)?[\s\-/.]*" + _PRINTED_MONTH + r"[\s\-/.,]*" + _PRINTED_YEAR,
    _PRINTED_MONTH + r"\s*\d{1,2}(?:ST|ND|RD|TH)?,?\s*(?:19|20)\d{2}(?!\d)",
))


def find_dates(text: str) -> list[tuple[int, str]]:
    """(position, DD/MM/YYYY) for every date printed in `text`, left to right.

    Each span is read by `normalise_date`, so the rules are the same: day first, never swapped
    to month first, impossible dates (31/02/2024) left out.
    """
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PRINTED_DATES:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            value = normalise_date(re.sub(r"\s*([/\-.])\s*", r"\1", match.group(0)))
            if value is not None:
                found.append((match.start(), value))
                taken.append(match.span())
    found.sort(key=lambda item: item[0])
    return found


_ABN_RUN = re.compile(r"(?<!\d)(\d[\d ]{9,16}\d)(?!\d)")


def find_abns(text: str) -> list[str]:
    """11-digit numbers in `text` (spaces allowed), checksum-valid ones first (`abn_is_valid`).

    A longer run of digits ("51824753556 12": an ABN and a branch number run together) gives each
    of its 11-digit windows.
    """
    candidates: list[str] = []
    for match in _ABN_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        if len(digits) == 11:
            candidates.append(digits)
        elif len(digits) > 11:
            candidates.extend(digits[i:i + 11] for i in range(len(digits) - 10))
    valid = [c for c in candidates if abn_is_valid(c)]
    return valid + [c for c in candidates if c not in valid]

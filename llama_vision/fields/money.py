"""Money as decimal strings ("12.30"), litre prices, plain numbers and quantities.

`find_amounts` locates every amount printed with cents in a line of OCR text."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from llama_vision.fields.text import _clean_text, is_null


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


#: A whole amount as printed with a currency or thousands separators: "$1,200", "GST $120",
#: "Rp 91,000", "RM 12", "24,000", "$24.000" (a dot between groups of three is a separator here).
WHOLE_AMOUNT_RE = re.compile(
    r"(?i)(?<![\w.,/])(?P<neg>-)?\s?(?:(?P<cur>RM|AUD|A\$|\$|RP\.?|IDR)\s?)?(?P<neg2>-)?"
    r"(?P<int>\d{1,3}(?:(?P<sep>[,.])\d{3})(?:(?P=sep)\d{3})*|\d+)(?![\d%]|[.,]\d|[/:-]\d)"
)


def find_money(text: str) -> list[Decimal]:
    """`find_amounts`, or else the whole amounts on the line: "Total $1,320" -> [1320].

    A bare number is an amount only with its thousands separators ("24,000"); without them
    ("Table 12", "Qty 3") it needs a currency mark. Only for a line that has no amount in cents,
    so a receipt's quantities and codes beside priced lines are never read as money.
    """
    cents = find_amounts(text)
    if cents:
        return cents
    out = []
    for match in WHOLE_AMOUNT_RE.finditer(text):
        if not (match.group("cur") or match.group("sep")):
            continue
        if match.group("sep") == "." and not match.group("cur"):
            continue  # "24.000" alone may be litres or a date piece; "$24.000" is money
        amount = Decimal(re.sub(r"[,.]", "", match.group("int")))
        out.append(-amount if match.group("neg") or match.group("neg2") else amount)
    return out

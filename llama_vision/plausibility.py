"""Does a value look like what its field holds? (issue I items 4 and 7)

- `name_problem(text)`: why a supplier or buyer name is not a plausible name (too long, too few
  letters, a web or e-mail address, a phone number, a street address, a line of item text), or
  None. The pipeline turns an implausible name into null with a warning, and compliance never
  counts one as "Seller named", so a 1,000-character string of words does not pass.
- `foreign_currency(texts)`: the currency a document's amounts are printed in when it is not the
  Australian dollar (USD, NZD, RM, "Rp", €, ...), or None. An Australian GST credit needs a supply
  on which Australian GST was charged, so such a receipt is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_NAME_LENGTH", "NAME_FIELDS", "check_names", "foreign_currency", "name_problem"]

NAME_FIELDS: tuple[str, ...] = ("supplier_name", "buyer_name")
#: The ABR allows 200 characters, but a printed business name this long is a misread block of text.
MAX_NAME_LENGTH = 100
_MAX_WORDS = 12
_URL = re.compile(r"^\s*(https?://|www\.)|://", re.I)
_EMAIL = re.compile(r"\S+@\S+\.\w{2,}")
_STREET = (r"St|Street|Rd|Road|Ave|Av|Avenue|Hwy|Highway|Pde|Parade|Dr|Drive|Lane|Ln|Cres|Crescent|Pl|Place|Blvd|"
           r"Boulevard|Tce|Terrace|Way|Ct|Court|Cct|Circuit|Cl|Close|Esp|Esplanade")
_ADDRESS = re.compile(rf"^(shop|unit|level|suite|lot)?\s*[\d/-]+[A-Z]?\s+([A-Z][\w'-]*\s+){{1,4}}({_STREET})\b\.?"
                      r"|\b(NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}\s*$", re.I)
_PHONE = re.compile(r"^\s*(ph|phone|tel|mob|fax)?[:.\s]*\(?\+?\d[\d\s()./-]{7,}\d\s*$", re.I)
_ITEM = re.compile(r"^\s*\d+(\.\d+)?\s*(x|@)\s|\s@\s*\$?\d|\$?\d+\.\d{2}\s*[*#^]?\s*$", re.I)


def name_problem(value: Any) -> str | None:
    """Why `value` does not look like a business or person's name; None when it does."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    letters = sum(ch.isalpha() for ch in text)
    checks = (
        (len(text) > MAX_NAME_LENGTH, f"it is {len(text)} characters long"),
        (len(text.split()) > _MAX_WORDS, f"it is {len(text.split())} words, a line of text rather than a name"),
        (bool(_URL.search(text)), "it is a web address"),
        (bool(_EMAIL.search(text)), "it is an e-mail address"),
        (bool(_PHONE.match(text)), "it is a phone number"),
        (bool(_ADDRESS.search(text)), "it is a street address"),
        (bool(_ITEM.search(text)), "it is a line item (a quantity or a price)"),
        (letters < 2 or letters < 0.4 * len(text.replace(" ", "")), "it has too few letters"),
    )
    return next((why for failed, why in checks if failed), None)


def check_names(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields with implausible supplier and buyer names made null, and a warning for each."""
    fields, warnings = dict(fields), []
    for name in NAME_FIELDS:
        problem = name_problem(fields.get(name))
        if problem:
            shown = " ".join(str(fields[name]).split())
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            warnings.append(f"{name} '{shown}' was dropped: {problem}, not a name. Check the document by hand.")
            fields[name] = None
    return fields, warnings


_CODES = r"USD|NZD|SGD|HKD|EUR|GBP|MYR|IDR|JPY|CNY|RMB|THB|PHP|INR|VND|CAD|FJD"
_FOREIGN = re.compile(
    rf"(?<![A-Za-z])({_CODES}|RM|Rp|US\$|NZ\$|S\$|HK\$|C\$|€|£|¥)\.?\s?\$?\s?\d"
    rf"|\d\s?({_CODES})(?![A-Za-z])"
)
_NAMES = {"RM": "MYR (RM)", "Rp": "IDR (Rp)", "US$": "USD", "NZ$": "NZD", "S$": "SGD", "HK$": "HKD", "C$": "CAD",
          "€": "EUR", "£": "GBP", "¥": "JPY/CNY", "RMB": "CNY"}


def foreign_currency(texts: Iterable[Any]) -> str | None:
    """The first non-Australian currency printed next to an amount in `texts`, or None."""
    for text in texts:
        match = _FOREIGN.search(str(text or ""))
        if match:
            code = match.group(1) or match.group(2)
            return _NAMES.get(code, code)
    return None

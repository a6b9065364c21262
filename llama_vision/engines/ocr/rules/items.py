"""Line items, fuel and bank-statement fields from OCR lines (pure functions)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from llama_vision.engines.ocr.layout import norm_space
from llama_vision.engines.ocr.vocabulary import (
    ACCOUNT_RE, BSB_RE, CLOSING_RE, FUEL_TYPES, ITEM_HEADER_RE, ITEM_SKIP_RE, LITRES_LABEL_RE, LITRES_RE,
    OPENING_RE, PERIOD_RE, PPL_LABEL_RE, PPL_RE,
)
from llama_vision.fields import find_amounts, find_dates, normalise_money

_PRICE = r"(?:RM|\$)?\s?(?P<price>\d{1,3}(?:,\d{3})+\.\d{2,3}|\d+[.,]\d{2,3})"
_AMOUNT = r"(?:RM|\$)?\s?(?P<amount>\d{1,3}(?:,\d{3})*[.,]\d{2})"
_MARK = r"\s*(?P<mark>[A-Z]{1,3}|[*#^])?\s*$"  # a tax code ("SR", "T") or a GST marker after the amount
ITEM_FULL_RE = re.compile(  # "Hammer 2 12.50 25.00", "Nails 500g 1 x 4.95 4.95"
    r"^(?P<desc>.*?[A-Z].*?)\s+(?P<qty>\d{1,4}(?:\.\d{1,3})?)\s*(?:X|@|PCS?|EA|UNITS?)?\s*(?:X|@)?\s*"
    + _PRICE + r"\s+" + _AMOUNT + _MARK
)
ITEM_QTY_FIRST_RE = re.compile(  # "2 x Bacon & Egg Roll @ 12.00   24.00"
    r"^(?P<qty>\d{1,4}(?:\.\d{1,3})?)\s*(?:X|@)?\s*(?P<desc>[A-Z].*?)(?:\s*@\s*|\s+)" + _PRICE + r"\s+" + _AMOUNT + _MARK
)
ITEM_SIMPLE_RE = re.compile(r"^(?P<desc>.*?[A-Z][A-Z0-9].*?)\s+" + _AMOUNT + _MARK)  # "E10  145.12"
# "Bathroom floor tiling $2,360": a tradie's whole-dollar line; the "$" is required, since a bare
# whole number beside words is as often a code, a quantity or a phone number as a price
ITEM_DOLLARS_RE = re.compile(r"^(?P<desc>.*?[A-Z][A-Z0-9].*?)\s+\$\s?(?P<amount>\d{1,3}(?:,\d{3})+|\d{1,6})" + _MARK)
ITEM_QTY_LINE_RE = re.compile(  # "1 x $5.00", "2pc @ 9.89  19.78", "0.75 kg @ $4.99/kg"
    r"^(?P<qty>\d{1,4}(?:\.\d{1,3})?)\s*(?:KG|G|L|PCS?|EA|UNITS?)?\s*(?:X|@)\s*" + _PRICE
    + r"\s*(?:/\s*(?:KG|L|EA))?(?:\s+" + _AMOUNT + r")?" + _MARK
)
ITEMS_BEFORE_RE = re.compile(  # the top block that items follow
    r"\bDATE\b|\bABN\b|A\.B\.N|TAX\s*INVOICE|RECEIPT|\bINVOICE\b|\bCASHIER\b|\bTABLE\b|\bPUMP\b|^\W*SALE\W*$")
ITEMS_AFTER_RE = re.compile(r"SUB\s*-?\s*TOTAL|\bTOTAL\b|^\W*(GST|TAX)\b(?!\s*INVOICE)|ROUNDING")
FUEL_QTY_RE = re.compile(  # "36.40 L @ 198.0 c/L" under the fuel line: litres and cents per litre
    r"^(?P<qty>\d{1,3}[.,]\d{1,3})\s*(?:L|LT|LTR|LITRES?)\s*@\s*\$?(?P<price>\d{1,3}[.,]\d{1,4})\s*(?P<unit>C|\$)?\s*/\s*L")


def _dec(s: str | None) -> str | None:
    return None if s is None else s.replace(",", ".") if s.count(",") == 1 and len(s.split(",")[1]) == 2 else s.replace(",", "")


def _item(text: str, m: re.Match[str], qty: str | None = None) -> dict[str, Any]:
    raw_desc = norm_space(text[m.start("desc"): m.end("desc")])
    desc = raw_desc.strip(" @x*-")
    groups = m.groupdict()
    item = {"description": desc, "quantity": qty if qty is not None else groups.get("qty"),
            "unit_price": _dec(groups.get("price")), "amount": _dec(groups.get("amount"))}
    # A GST marker (#, *, ^) beside the line: kept for gst_status.mark_items, which reads the legend.
    mark = groups.get("mark") if groups.get("mark") in ("*", "#", "^") else raw_desc.strip()[:1]
    if mark in ("*", "#", "^"):
        item["marker"] = mark
    return item


def line_items(texts: list[str], ups: list[str]) -> list[dict[str, Any]]:
    """Rows between the column header (or the top block) and the first subtotal / GST / total line."""
    header = next((i for i, up in enumerate(ups) if ITEM_HEADER_RE.search(up)), None)
    first_total = next((i for i, up in enumerate(ups) if ITEMS_AFTER_RE.search(up)), len(ups))
    if header is not None and header < first_total:
        start = header + 1
    else:
        tops = [i for i, up in enumerate(ups[:first_total]) if ITEMS_BEFORE_RE.search(up)]
        if not tops:
            return []  # no landmark: prices and totals are too easy to confuse
        start = tops[-1] + 1
    end = next((i for i in range(start, len(ups)) if ITEMS_AFTER_RE.search(ups[i])), len(ups))
    items: list[dict[str, Any]] = []
    pending: str | None = None
    for i in range(start, end):
        up, text = ups[i], texts[i]
        if ITEM_SKIP_RE.search(up) or re.fullmatch(r"[\W_]*", up):
            pending = None
            continue
        f = FUEL_QTY_RE.match(up)
        if f and items and items[-1]["quantity"] is None:
            price = Decimal(f.group("price").replace(",", "."))
            if f.group("unit") == "C" or price > 20:
                price = price / 100
            items[-1].update(quantity=f.group("qty").replace(",", "."), unit_price=f"{price.quantize(Decimal('0.001'))}")
            continue
        m = ITEM_QTY_LINE_RE.match(up)
        if m and (pending or items):
            # "1 x $5.00" under its description
            if pending:
                items.append({"description": pending, "quantity": m.group("qty"), "unit_price": _dec(m.group("price")),
                              "amount": _dec(m.group("amount"))})
            elif items[-1]["quantity"] is None:
                items[-1].update(quantity=m.group("qty"), unit_price=_dec(m.group("price")))
            pending = None
            continue
        m = ITEM_QTY_FIRST_RE.match(up) or ITEM_FULL_RE.match(up)
        if m:
            items.append(_item(text, m))
            pending = None
            continue
        m = ITEM_SIMPLE_RE.match(up)
        if m:
            items.append(_item(text, m, qty=None))
            pending = None
        elif m := ITEM_DOLLARS_RE.match(up):
            item = _item(text, m, qty=None)
            item["amount"] = normalise_money(item["amount"])
            items.append(item)
            pending = None
        elif re.search(r"[A-Z]{3}", up) and not find_amounts(up):
            pending = norm_space(text)
    return items


def fuel(ups: list[str]) -> tuple[str | None, str | None, str | None]:
    fuel_type = litres = ppl = None
    for up in ups:
        if fuel_type is None:
            for pattern, name in FUEL_TYPES:
                if re.search(pattern, up):
                    fuel_type = name
                    break
        if litres is None:
            m = LITRES_RE.search(PPL_RE.sub(" ", up)) or LITRES_LABEL_RE.search(up)
            if m:
                litres = m.group("v").replace(",", ".")
        if ppl is None:
            m = PPL_RE.search(up) or PPL_LABEL_RE.search(up)
            if m:
                value = Decimal(m.group("v").replace(",", "."))
                unit = m.groupdict().get("unit") or ""
                if unit.startswith("C") or value > 20:  # cents per litre: 189.9 c/L -> 1.899
                    value = value / 100
                ppl = f"{value.quantize(Decimal('0.001'))}"
    return fuel_type, litres, ppl


def bank_fields(texts: list[str], ups: list[str]) -> dict[str, Any]:
    """BSB, account number, period and balances by their labels (the holder: `holder.account_holder`)."""
    out: dict[str, Any] = dict.fromkeys(
        ("bsb", "account_number", "statement_period", "opening_balance", "closing_balance"))
    for i, (text, up) in enumerate(zip(texts, ups, strict=True)):
        if out["bsb"] is None and (m := BSB_RE.search(up)):
            out["bsb"] = f"{m.group('v')}-{m.group('w')}"
        if out["account_number"] is None and (m := ACCOUNT_RE.search(up)):
            out["account_number"] = re.sub(r"\D", "", m.group("v"))
        if out["statement_period"] is None and "PERIOD" in up and (m := PERIOD_RE.search(text)):
            dates = find_dates(m.group("v"))
            if len(dates) >= 2:
                out["statement_period"] = f"{dates[0][1]} to {dates[1][1]}"
            elif m.group("v").strip():
                out["statement_period"] = norm_space(m.group("v"))
        for key, pattern in (("opening_balance", OPENING_RE), ("closing_balance", CLOSING_RE)):
            if out[key] is None and pattern.search(up):
                values = find_amounts(up) or (find_amounts(ups[i + 1]) if i + 1 < len(ups) else [])
                if values:
                    out[key] = normalise_money(values[-1])
    return out

"""Rules that turn OCR lines into the canonical fields (pure functions, no OCR runtime).

The OCR engine reads a page into text lines (see `layout`); these rules fill the same
fields a vision model would (names as in `fields.ALL_FIELDS`) and classify the document.
They are general, label-driven rules tuned on real scanned receipts (SROIE) and on the
project's Australian synthetic documents. A field the rules cannot find is None, never a
guess. Values come out normalised where that is cheap (dates DD/MM/YYYY, money "12.30",
ABN 11 digits); the pipeline normalises again, idempotently.

Entry points: `extract_fields(lines)` (lines as `Line`s or plain strings) and
`read_boxes(boxes)` (OCR boxes -> lines -> fields).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llama_vision.fields import empty_fields
from llama_vision.engines.ocr.layout import Line, TextBox, group_lines, lines_from_strings
from llama_vision.engines.ocr.text import (
    ABN_LABEL, ABN_LABEL_RE, MONEY_RE, abn_checksum_ok, find_abns, find_dates, fmt_date, fmt_money,
    money_values, norm_space,
)
from llama_vision.engines.ocr.vocabulary import (
    ACCOUNT_RE, ADDRESS_HINT_RE, BSB_RE, BUYER_RE, CLOSING_RE, FUEL_TYPES, GST_AMOUNT_RE, GST_INCLUDED_RE,
    GST_NOT_AMOUNT_RE, HOLDER_RE, INVOICE_NO_LOOSE_RE, INVOICE_NO_RE, ITEM_HEADER_RE, ITEM_SKIP_RE,
    LEGAL_SUFFIX_RE, LITRES_LABEL_RE, LITRES_RE, MONEY_LABEL_RE, NAME_TAIL_WORDS, NOISE_RE, NOT_TOTAL_RE,
    OPENING_RE, PAYMENT_CONTEXT_RE, PAYMENT_WORDS, PERIOD_RE, POSTCODE_END_RE, PPL_LABEL_RE, PPL_RE,
    REGISTRATION_RE, REG_NUMBER_RE, STOP_ADDRESS_RE, SUBTOTAL_RE, SUMMARY_RE, TAX_INVOICE_RE, TOTAL_LABELS,
)


# --------------------------------------------------------------------------------------------
# the reading
# --------------------------------------------------------------------------------------------


@dataclass
class Reading:
    text: str
    fields: dict[str, Any]
    document_type: str
    warnings: list[str] = field(default_factory=list)


def _as_lines(lines: Iterable[Line | str]) -> list[Line]:
    items = list(lines)
    if items and all(isinstance(x, Line) for x in items):
        return items  # type: ignore[return-value]
    return lines_from_strings(str(x) for x in items)


def read_boxes(boxes: Sequence[TextBox]) -> Reading:
    """OCR boxes -> rows -> fields."""
    return extract_fields(group_lines(boxes))


def extract_fields(lines: Iterable[Line | str]) -> Reading:
    """Fill the canonical fields from reading-order lines (strings or `Line`s)."""
    rows = _as_lines(lines)
    texts = [norm_space(str(r)) for r in rows]
    ups = [_fix_words(t.upper()) for t in texts]
    fields = empty_fields()
    warnings: list[str] = []
    if not texts:
        return Reading("", fields, "other", ["OCR found no text on the page."])

    buyer_start = _buyer_start(ups)
    name_idx, fields["supplier_name"] = supplier_name(texts)
    fields["supplier_address"] = supplier_address(texts, name_idx)
    fields["supplier_abn"], fields["buyer_abn"] = abns(ups, buyer_start)
    fields["buyer_name"] = buyer_name(texts, buyer_start)
    fields["date"] = document_date(ups)
    fields["invoice_number"] = invoice_number(ups)
    amounts = _amount_lines(rows, ups)
    fields["total"] = total_amount(ups, amounts)
    fields["subtotal"] = subtotal_amount(ups, amounts)
    fields["gst"] = gst_amount(ups, amounts, fields["total"])
    fields["payment_method"] = payment_method(ups, texts)
    full = "\n".join(ups)
    fields["tax_invoice_label"] = bool(TAX_INVOICE_RE.search(full))
    fields["gst_included_statement"] = bool(GST_INCLUDED_RE.search(full))
    fields["items"] = line_items(texts, ups)
    fields["fuel_type"], fields["litres"], fields["price_per_litre"] = fuel(ups)
    bank = bank_fields(texts, ups)
    fields.update(bank)
    doc_type = classify(ups, fields)
    if doc_type != "fuel_receipt":
        fields["fuel_type"] = fields["litres"] = fields["price_per_litre"] = None
    if doc_type == "bank_statement":
        # transaction lines ("EFTPOS Purchase 45.00") are not a purchase: no tender, items or totals
        for name in ("payment_method", "total", "subtotal", "gst", "invoice_number", "buyer_name", "buyer_abn"):
            fields[name] = None
        fields["items"] = []
        fields["date"] = document_date(ups, labelled_only=True)
    if fields["total"] is None and doc_type != "bank_statement":
        warnings.append("OCR rules found no total; check the scan or try a model engine.")
    if fields["date"] is None:
        warnings.append("OCR rules found no date.")
    return Reading("\n".join(texts), fields, doc_type, warnings)


# -- supplier ---------------------------------------------------------------------------------


def _is_noise(up: str) -> bool:
    letters = re.sub(r"[^A-Z]", "", up)
    if len(letters) < 3 or NOISE_RE.match(up.strip(" .:*-=#")):
        return True
    # a line that is mostly digits and punctuation (phone, date, receipt numbers)
    return sum(c.isdigit() for c in up) > len(letters)


def clean_name(text: str) -> str:
    """A name line without its registration number, and nothing after a legal suffix."""
    up = text.upper()
    m = LEGAL_SUFFIX_RE.search(up)
    if m:
        # "Sdn Ehd", "SLN BHD": the recogniser's usual slips on the legal suffix
        suffix = re.sub(r"S[DL]N(\.?\s*)[BE8]HD", r"SDN\1BHD", text[m.start(): m.end()], flags=re.I)
        text = text[: m.start()] + suffix
    else:
        text = REG_NUMBER_RE.sub(" ", text)
    text = re.sub(r"(?<=[A-Za-z])0(?=[A-Za-z])", "O", text)  # "YONG S0ON": a zero inside a word is an O
    return norm_space(text.strip(" *-=#:,"))


_ADDRESS_START_RE = re.compile(r"\b(JALAN|JLN|LOT|STREET|ROAD|LEVEL|FLOOR|FLR|LORONG|TAMAN|PO\s*BOX)\b")


def _name_candidate(text: str) -> bool:
    up = clean_name(text).upper()
    if not up or _is_noise(up) or REGISTRATION_RE.search(up) or BUYER_RE.match(up):
        return False
    if LEGAL_SUFFIX_RE.search(up):
        return True
    if money_values(up):
        return False  # an item line ("Apples 7.18"), never a shop name
    return not (STOP_ADDRESS_RE.search(up) or POSTCODE_END_RE.search(up) or _ADDRESS_START_RE.search(up))


def supplier_name(texts: list[str]) -> tuple[int, str | None]:
    """The trading or legal name printed at the top; (index of its last line, name)."""
    candidates = []
    for i in range(min(len(texts), 8)):
        if BUYER_RE.match(texts[i]):
            break
        if _name_candidate(texts[i]):
            candidates.append(i)
    if not candidates:
        return -1, None
    # prefer a legal name (SDN BHD, PTY LTD) near the top: receipts often print a brand first
    first = candidates[0]
    legal = [i for i in candidates if LEGAL_SUFFIX_RE.search(clean_name(texts[i]).upper()) and i <= first + 4]
    idx = legal[0] if legal else first
    name = clean_name(texts[idx])
    head = LEGAL_SUFFIX_RE.split(name.upper())[0]
    if legal and idx - 1 in candidates and (_only_tail_words(head) or re.match(r"\s*(&|AND\b)", head)):
        name = clean_name(texts[idx - 1]) + " " + name  # "POPULAR BOOK" / "CO. (M) SDN BHD"
    elif not legal and idx + 1 < len(texts) and _only_tail_words(texts[idx + 1].upper()):
        name, idx = name + " " + clean_name(texts[idx + 1]), idx + 1  # "TSH POWER HARDWARE" / "TRADING"
    return idx, name


def _only_tail_words(text: str) -> bool:
    words = re.findall(r"[A-Z]+", text)
    return all(w in NAME_TAIL_WORDS for w in words)


_STRONG_STOP_RE = re.compile(r"(\bTEL\b|TELEPHONE|\bPH(ONE)?\b|\bFAX\b|E-?MAIL|WWW\.|TAX\s*INVOICE|\bINVOICE\b|"
                             r"RECEIPT|\bCASHIER\b|\bTABLE\b|\bQTY\b|DESCRIPTION|" + ABN_LABEL + ")")


def supplier_address(texts: list[str], name_idx: int) -> str | None:
    """Address lines after the name, up to phone / ABN / registration / date lines."""
    if name_idx < 0:
        return None
    block: list[str] = []
    for i in range(name_idx + 1, min(len(texts), name_idx + 10)):
        up = texts[i].upper()
        if not block:
            # before the address: registration numbers, a brand or branch line, the date
            if _STRONG_STOP_RE.search(up) or BUYER_RE.match(up) or money_values(up) or i > name_idx + 4:
                break
            if (not ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", up)) or REGISTRATION_RE.search(up)
                    or find_dates(up) or up.startswith("(")):
                continue
        elif (STOP_ADDRESS_RE.search(up) or BUYER_RE.match(up) or find_dates(up) or money_values(up)
              or REGISTRATION_RE.search(up)):
            break
        block.append(norm_space(texts[i]))
    if not block:
        return None
    # the address ends at its postcode / state line; anything after (a branch name) is not it
    ends = [j for j, t in enumerate(block) if POSTCODE_END_RE.search(t.upper())]
    if ends:
        block = block[: ends[-1] + 1]
    return " ".join(block).strip(" ,")


# -- ABN, buyer -------------------------------------------------------------------------------


def _buyer_start(ups: list[str]) -> int:
    for i, up in enumerate(ups):
        if BUYER_RE.match(up):
            return i
    return len(ups)


def abns(ups: list[str], buyer_start: int) -> tuple[str | None, str | None]:
    """(supplier ABN, buyer ABN): 11 digits next to "ABN", checksum-valid preferred."""
    supplier: list[str] = []
    buyer: list[str] = []
    for i, up in enumerate(ups):
        label = ABN_LABEL_RE.search(up)
        if not label:
            continue
        found = find_abns(up[label.end():]) or (find_abns(ups[i + 1]) if i + 1 < len(ups) else [])
        (buyer if _in_buyer_block(ups, i, buyer_start) else supplier).extend(found)
    if not supplier:
        # an unlabelled, checksum-valid 11-digit number near the top, above any buyer block
        for i, up in enumerate(ups[: min(len(ups), 12, buyer_start)]):
            if not _in_buyer_block(ups, i, buyer_start):
                supplier.extend(a for a in find_abns(up) if abn_checksum_ok(a))
    pick = lambda xs: next((x for x in xs if abn_checksum_ok(x)), xs[0] if xs else None)  # noqa: E731
    return pick(supplier), pick(buyer)


def _in_buyer_block(ups: list[str], i: int, buyer_start: int) -> bool:
    up = ups[i]
    return (buyer_start <= i <= buyer_start + 5 or bool(BUYER_RE.match(up))
            or bool(re.search(r"CUSTOMER|CLIENT|BUYER|RECIPIENT|PURCHASER", up)))


def buyer_name(texts: list[str], buyer_start: int) -> str | None:
    """The name after "Bill to:" / "Customer:", on the same line or the next; never an ABN line."""
    if buyer_start >= len(texts):
        return None
    m = BUYER_RE.match(texts[buyer_start])
    value = norm_space(m.group("v")).strip(":- ") if m else ""
    if value:
        return None if ABN_LABEL_RE.search(value.upper()) else value
    for nxt in texts[buyer_start + 1: buyer_start + 2]:
        up = nxt.upper()
        if not (ABN_LABEL_RE.search(up) or ITEM_HEADER_RE.search(up) or _is_noise(up) or money_values(up)
                or re.search(r"\d{5,}", re.sub(r"\s", "", up))):
            return norm_space(nxt)
    return None


# -- dates, numbers -----------------------------------------------------------------------------

DATE_LABEL_RE = re.compile(r"\b(DATE|DATED|TARIKH|ISSUED|INVOICE\s*DATE|DATE\s*OF\s*ISSUE)\b")
DATE_AVOID_RE = re.compile(r"EXP(IRY|IRES|\.)?\b|VALID|\bDUE\b|\bBEST\b|\bUSE\s*BY|\bFROM\b|\bTO\b|PERIOD|BIRTH|\bDOB\b")


def document_date(ups: list[str], *, labelled_only: bool = False) -> str | None:
    """The issue date: a labelled date first, else the first date not marked expiry/due.

    `labelled_only`: only a date next to a date label (a statement's period is not its date).
    """
    labelled, plain, avoided = [], [], []
    for i, up in enumerate(ups):
        for _pos, value in find_dates(up):
            if DATE_LABEL_RE.search(up) and not re.search(r"DUE\s*DATE|DATE\s*DUE|EXPIRY", up):
                labelled.append(value)
            elif DATE_AVOID_RE.search(up):
                avoided.append(value)
            else:
                plain.append(value)
        if DATE_LABEL_RE.search(up) and not find_dates(up) and i + 1 < len(ups) and not DATE_AVOID_RE.search(up):
            labelled.extend(v for _p, v in find_dates(ups[i + 1]))
    for group in (labelled,) if labelled_only else (labelled, plain, avoided):
        if group:
            return fmt_date(group[0])
    return None


def invoice_number(ups: list[str]) -> str | None:
    for pattern in (INVOICE_NO_RE, INVOICE_NO_LOOSE_RE):
        for up in ups:
            m = pattern.search(up)
            if m and re.search(r"\d", m.group("num")):
                return m.group("num").strip("-/")
    return None


@dataclass
class _AmountLine:
    index: int
    label: str  # the words that own the amount (the row without its amounts, or the piece to its left)
    value: Decimal | None  # the rightmost amount on the row, or on the next row when the label stands alone
    after_summary: bool = False  # inside a "GST summary" table at the foot of the receipt


_OCR_WORD_FIXES = ((re.compile(r"\b[L1I7]OTAL\b"), "TOTAL"), (re.compile(r"\bT0TAL\b"), "TOTAL"))


def _fix_words(up: str) -> str:
    for pattern, word in _OCR_WORD_FIXES:
        up = pattern.sub(word, up)
    return up


def _row_label(row: Line, up: str) -> str:
    """The label of the row's rightmost amount.

    With OCR pieces, two columns can share a row ("TOTAL SAVING: 0.00   TOTAL 6.85"): the label
    is the text between the previous amount piece and the amount itself.
    """
    segments = row.segments
    if len(segments) > 1:
        money_at = [i for i, seg in enumerate(segments) if money_values(seg.text)]
        if money_at:
            last = money_at[-1]
            prev = max((i for i in money_at if i < last), default=-1)
            piece = " ".join(seg.text for seg in segments[prev + 1:last]).upper()
            own = MONEY_RE.sub(" ", segments[last].text.upper())
            label = _fix_words((piece + " " + own).strip())
            if re.search(r"[A-Z]{2}", label):
                return label
    return MONEY_RE.sub(" ", up)


def _amount_lines(rows: list[Line], ups: list[str]) -> list[_AmountLine]:
    out = []
    in_summary = False
    for i, up in enumerate(ups):
        in_summary = in_summary or bool(SUMMARY_RE.search(up))
        values = money_values(up)
        label = _row_label(rows[i], up) if values else up
        value = values[-1] if values else None
        if value is None and i + 1 < len(ups) and re.search(r"[A-Z]{2}", up):
            nxt = ups[i + 1]
            nxt_vals = money_values(nxt)
            # "TOTAL" with its amount printed on the next row, alone or beside an unrelated label
            if nxt_vals and not MONEY_LABEL_RE.search(MONEY_RE.sub(" ", nxt)):
                value = nxt_vals[-1]
        out.append(_AmountLine(i, label, value, in_summary))
    return out


def total_amount(ups: list[str], amounts: list[_AmountLine]) -> str | None:
    """The amount payable: the strongest total label wins; the last such line breaks ties."""
    best: tuple[int, int, Decimal] | None = None
    for a in amounts:
        if a.value is None or a.value <= 0:
            continue
        if a.after_summary:
            break
        if NOT_TOTAL_RE.search(a.label) and not re.search(r"ROUND(ED)?\s*TOTAL|TOTAL\s*\(?ROUNDED|GRAND\s*TOTAL|AFTER\s*(ADJ|ROUND)", a.label):
            continue
        rank = next((r for pattern, r in TOTAL_LABELS if pattern.search(a.label)), 0)
        # a stronger label wins; among equals the later line (the total after rounding)
        if rank and (best is None or rank >= best[0]):
            best = (rank, a.index, a.value)
    if best is not None:
        return fmt_money(best[2])
    # no label: cash tendered minus change, else nothing (never the largest number on the page)
    cash = next((a.value for a in amounts if a.value and re.search(r"\bCASH\b|TENDER", a.label)), None)
    change = next((a.value for a in amounts if a.value is not None and re.search(r"\bCHANGE\b", a.label)), None)
    if cash is not None and change is not None and cash - abs(change) > 0:
        return fmt_money(cash - abs(change))
    return None


def subtotal_amount(ups: list[str], amounts: list[_AmountLine]) -> str | None:
    for a in amounts:
        if a.value is not None and a.value > 0 and SUBTOTAL_RE.search(a.label):
            return fmt_money(a.value)
    return None


def gst_amount(ups: list[str], amounts: list[_AmountLine], total: str | None) -> str | None:
    """The GST (or SST) amount: "GST 10%: 3.50", "GST included 3.50", "Total includes GST of $3.50"."""
    total_value = Decimal(total) if total else None
    for a in amounts:
        if a.value is None or a.value < 0:
            continue
        if total_value is not None and a.value >= total_value and total_value > 0:
            continue  # "Total incl GST 49.40" is the total, not the tax
        label = a.label
        m = re.search(r"(INCLUDES?|INCLUDING|INCL\.?|INC\.?)\s*(GST|TAX)\s*(OF)?\s*$", label.strip(" :$"))
        if m or re.search(r"(GST|TAX)\s*(INCLUDED|AMOUNT|PAYABLE|TOTAL)|TOTAL\s*(GST|TAX)\b", label):
            return fmt_money(a.value)
        if GST_AMOUNT_RE.search(label) and not GST_NOT_AMOUNT_RE.search(label):
            return fmt_money(a.value)
    return None


def payment_method(ups: list[str], texts: list[str] | None = None) -> str | None:
    """The tender as printed (EFTPOS, VISA CREDIT, Mastercard, Amex, Cash...), preferring payment lines."""
    scored: list[tuple[int, int, str]] = []
    for i, up in enumerate(ups):
        if re.search(r"ACCEPT|WE\s*TAKE|AVAILABLE|SURCHARGE", up):
            continue  # "We accept Visa, Mastercard" is an advert, not this payment
        for rank, (pattern, _kind) in enumerate(PAYMENT_WORDS):
            m = re.search(pattern, up)
            if m:
                context = 0 if PAYMENT_CONTEXT_RE.search(up) or money_values(up) else 1
                original = texts[i] if texts is not None and len(texts[i]) == len(up) else up
                scored.append((context, rank, norm_space(original[m.start(): m.end()])))
                break
    if not scored:
        return None
    scored.sort()
    return scored[0][2]


# -- items ------------------------------------------------------------------------------------

_PRICE = r"(?:RM|\$)?\s?(?P<price>\d{1,3}(?:,\d{3})+\.\d{2,3}|\d+[.,]\d{2,3})"
_AMOUNT = r"(?:RM|\$)?\s?(?P<amount>\d{1,3}(?:,\d{3})*[.,]\d{2})"
_MARK = r"\s*(?:[A-Z]{1,3}|\*)?\s*$"  # a tax code ("SR", "T") or the GST-free star after the amount
ITEM_FULL_RE = re.compile(  # "Hammer 2 12.50 25.00", "Nails 500g 1 x 4.95 4.95"
    r"^(?P<desc>.*?[A-Z].*?)\s+(?P<qty>\d{1,4}(?:\.\d{1,3})?)\s*(?:X|@|PCS?|EA|UNITS?)?\s*(?:X|@)?\s*"
    + _PRICE + r"\s+" + _AMOUNT + _MARK
)
ITEM_QTY_FIRST_RE = re.compile(  # "2 x Bacon & Egg Roll @ 12.00   24.00"
    r"^(?P<qty>\d{1,4}(?:\.\d{1,3})?)\s*(?:X|@)?\s*(?P<desc>[A-Z].*?)(?:\s*@\s*|\s+)" + _PRICE + r"\s+" + _AMOUNT + _MARK
)
ITEM_SIMPLE_RE = re.compile(r"^(?P<desc>.*?[A-Z][A-Z0-9].*?)\s+" + _AMOUNT + _MARK)  # "E10  145.12"
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
    desc = norm_space(text[m.start("desc"): m.end("desc")]).strip(" @x*-")
    groups = m.groupdict()
    return {"description": desc, "quantity": qty if qty is not None else groups.get("qty"),
            "unit_price": _dec(groups.get("price")), "amount": _dec(groups.get("amount"))}


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
        elif re.search(r"[A-Z]{3}", up) and not money_values(up):
            pending = norm_space(text)
    return items


# -- fuel, bank ---------------------------------------------------------------------------------


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
    out: dict[str, Any] = dict.fromkeys(
        ("bsb", "account_number", "account_holder", "statement_period", "opening_balance", "closing_balance"))
    for i, (text, up) in enumerate(zip(texts, ups, strict=True)):
        if out["bsb"] is None and (m := BSB_RE.search(up)):
            out["bsb"] = f"{m.group('v')}-{m.group('w')}"
        if out["account_number"] is None and (m := ACCOUNT_RE.search(up)):
            out["account_number"] = re.sub(r"\D", "", m.group("v"))
        if out["account_holder"] is None and (m := HOLDER_RE.search(text)):
            value = norm_space(m.group("v")).strip(":- ")
            out["account_holder"] = value or None
        if out["statement_period"] is None and "PERIOD" in up and (m := PERIOD_RE.search(text)):
            dates = find_dates(m.group("v"))
            if len(dates) >= 2:
                out["statement_period"] = f"{fmt_date(dates[0][1])} to {fmt_date(dates[1][1])}"
            elif m.group("v").strip():
                out["statement_period"] = norm_space(m.group("v"))
        for key, pattern in (("opening_balance", OPENING_RE), ("closing_balance", CLOSING_RE)):
            if out[key] is None and pattern.search(up):
                values = money_values(up) or (money_values(ups[i + 1]) if i + 1 < len(ups) else [])
                if values:
                    out[key] = fmt_money(values[-1])
    return out


INVOICE_SIGNS_RE = re.compile(
    r"BILL(ED)?\s*TO|INVOICE\s*TO|PAYMENT\s*(DUE|TERMS)|DUE\s*DATE|\bTERMS\b|PLEASE\s*PAY|REMIT|"
    r"\bBSB\b.*\bACC|UNIT\s*PRICE|\bINVOICE\s*(NO|NUMBER|#|DATE)\b.*INV|^\W*INVOICE\W*$")
RECEIPT_SIGNS_RE = re.compile(
    r"PAID\s*BY|\bTENDER|\bCHANGE\b|\bRECEIPT\b|\bCASHIER\b|\bSALE\b|^\W*PAYMENT\b(?!\s*(DUE|TERMS))|"
    r"\bEFTPOS\b|THANK(S)?\s*(YOU)?\s*FOR\s*SHOPPING|\bCASH\b")


def classify(ups: list[str], fields: dict[str, Any]) -> str:
    """receipt, tax_invoice, fuel_receipt, bank_statement or other, from what is printed.

    A shop receipt titled "TAX INVOICE" is still a receipt: an invoice is told apart by a
    buyer block, payment terms or an invoice number in INV- form, a receipt by its tender lines.
    """
    full = "\n".join(ups)
    bank_hits = sum(bool(fields.get(k)) for k in ("bsb", "opening_balance", "closing_balance", "statement_period"))
    if bank_hits >= 2 or re.search(r"BANK\s*STATEMENT|STATEMENT\s*OF\s*ACCOUNT", full) and bank_hits:
        return "bank_statement"
    if fields.get("fuel_type") and (fields.get("litres") or fields.get("price_per_litre") or re.search(r"\bPUMP\b|\bFUEL\b", full)):
        return "fuel_receipt"
    invoice = sum(bool(INVOICE_SIGNS_RE.search(up)) for up in ups) + bool(fields.get("buyer_name") or fields.get("buyer_abn"))
    receipt = sum(bool(RECEIPT_SIGNS_RE.search(up)) for up in ups)
    if invoice and invoice >= receipt:
        return "tax_invoice"
    if receipt and fields.get("total"):
        return "receipt"
    if fields.get("tax_invoice_label"):
        return "tax_invoice"
    if fields.get("total") or receipt:
        return "receipt"
    return "other"

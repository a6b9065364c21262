"""Who is on the page: the supplier's name, address and ABN, and the buyer's ABN (pure functions).

Names and addresses are read from the top of the page, down to the first phone, ABN,
registration or date line; ABNs are 11 digits next to an "ABN" label (`fields.find_abns`,
checksum-valid ones preferred); the buyer's block and name are `buyer`'s.
"""

from __future__ import annotations

import re

from llama_vision.engines.ocr.layout import Line, norm_space
from llama_vision.engines.ocr.rules.evidence import Trace
from llama_vision.engines.ocr.rules.names import (
    address_commas, clean_name, join_address_lines, undo_address_slips, split_run_on,
)
from llama_vision.engines.ocr.vocabulary import (
    ABN_LABEL, ABN_LABEL_RE, ADDRESS_HINT_RE, BUYER_RE, LEGAL_SUFFIX_RE, NAME_TAIL_WORDS, NOISE_RE,
    POSTCODE_END_RE, REG_NUMBER_RE, REGISTRATION_RE, STAMP_RE, STOP_ADDRESS_RE,
)
from llama_vision.fields import abn_is_valid, find_abns, find_amounts, find_dates


def is_noise(up: str) -> bool:
    letters = re.sub(r"[^A-Z]", "", up)
    if len(letters) < 3 or NOISE_RE.match(up.strip(" .:*-=#")):
        return True
    # a line that is mostly digits and punctuation (phone, date, receipt numbers)
    return sum(c.isdigit() for c in up) > len(letters)


# a web address, an account line ("Everyday Account") or a page title is never the supplier ("Web: aldi.com.au")
NOT_NAME_RE = re.compile(r"\bWEB(SITE)?\b|\.(COM|NET|ORG|GOV|EDU)\b|\.AU\b|ACCOUNT\s*(HOLDER|NAME|NO)|\bACCOUNT\W*$|"
                         r"^\W*(TAX\s*)?INVOICE\b|\bPAGE\s*\d|\bSTATEMENT\b")
# a page title printed on the name's row, far right ("ACME PLUMBING        TAX INVOICE")
TITLE_PIECE_RE = re.compile(r"^\W*(((TAX|GST)\s*)?(INVOICE|RECEIPT)(\s*/\s*(TAX\s*)?(INVOICE|RECEIPT))?|"
                            r"(BANK\s*)?STATEMENT(\s*OF\s*ACCOUNT)?)\W*$", re.I)
_ADDRESS_START_RE = re.compile(r"\b(JALAN|JLN|LOT|STREET|ROAD|LEVEL|FLOOR|FLR|LORONG|TAMAN|PO\s*BOX)\b")


def _handwritten(text: str) -> bool:
    """Letters but not one capital: a note written on the receipt ("tan woon yann", "staff ref").
    Printed headers use capitals, at least for the first letters."""
    return bool(re.search(r"[a-z]{2}", text)) and not re.search(r"[A-Z]", text)


def _name_candidate(text: str) -> bool:
    up = clean_name(text).upper()
    if not up or is_noise(up) or REGISTRATION_RE.search(up) or BUYER_RE.match(up) or NOT_NAME_RE.search(up):
        return False
    if _handwritten(text) or STAMP_RE.match(up):
        return False
    if LEGAL_SUFFIX_RE.search(up):
        return True
    if find_amounts(up):
        return False  # an item line ("Apples 7.18"), never a shop name
    return not (STOP_ADDRESS_RE.search(up) or POSTCODE_END_RE.search(up) or _ADDRESS_START_RE.search(up))


# a document field in a column of its own right of the header ("Invoice No: A1240", "Issue Date: 05 Apr 2023")
_FIELD_PIECE_RE = re.compile(r"^\W*[A-Za-z][A-Za-z .#/]{1,24}?\s*[:#]\s*\S")
_COLUMN_GAP = 4.0  # a gap this many text heights wide parts two columns


def _side_field(row: Line, k: int) -> bool:
    """The row's k-th piece is a "label: value" field printed in another column, far right of the piece before."""
    if k == 0 or not _FIELD_PIECE_RE.match(row.segments[k].text):
        return False
    return row.segments[k].x0 - row.segments[k - 1].x1 > _COLUMN_GAP * max(row.y1 - row.y0, 1.0)


def header_texts(rows: list[Line]) -> list[str]:
    """Each row's text without a title piece, an office stamp or a document field beside it
    (a two-column header: "41 Station Rd, Melbourne VIC 3000   Invoice No: A1240"): the header's name side."""
    out = []
    for row in rows:
        kept = [seg.text for k, seg in enumerate(row.segments)
                if not (TITLE_PIECE_RE.match(seg.text) or STAMP_RE.match(seg.text) or _side_field(row, k))]
        out.append(norm_space(" ".join(kept)) if kept and len(row.segments) > 1 else norm_space(row.text))
    return out


def _header_name(texts: list[str], candidates: list[int], heights: list[float] | None) -> int:
    """The name line of the header block: the one over the address / registration / ABN lines.

    A stamp, a handwritten note or a "Counter" label printed above the name is a candidate too;
    the name is the tallest text above the block when one stands out, else the line right above it.
    """
    first = candidates[0]
    anchor = next((i for i in range(first + 1, min(len(texts), 10)) if _block_line(texts[i])), None)
    hinted = [i for i in candidates if ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", texts[i].upper()))]
    # the address starts the block even when its line could pass for a name ("104 Station Rd"):
    # the candidates under it (a misread "Perth WA 6000") are the address's, not the name's
    if anchor is None:
        return first
    end = min(anchor, next((i for i in hinted if i > first), anchor))
    before = [i for i in candidates if i < end and i not in hinted]
    if len(before) < 2 or first not in before:
        return first
    if heights is not None and len(heights) == len(texts):
        tallest = max(before, key=lambda i: heights[i])
        if all(heights[tallest] >= 1.25 * heights[i] for i in before if i != tallest):
            return _name_start(texts, tallest, before)
    return _name_start(texts, before[-1], before)


def _name_start(texts: list[str], idx: int, candidates: list[int]) -> int:
    """Back to the first line of a name broken after "&" / "AND" / "(" ("HARDWARE &" / "ELECTRICAL")."""
    while idx - 1 in candidates and re.search(r"(&|\bAND|\bOF|\()$", clean_name(texts[idx - 1]).upper()):
        idx -= 1
    return idx


def _block_line(text: str) -> bool:
    """An address, registration or ABN line: what follows the name in a header block."""
    up = text.upper()
    return not _name_candidate(text) and bool(
        ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", up)) or REGISTRATION_RE.search(up) or ABN_LABEL_RE.search(up))


def buyer_column_row(rows: list[Line]) -> int | None:
    """The first row with a buyer label in a column of its own ("Invoice No  Date  Customer:"):
    the names under it are the customer's, not the supplier's."""
    return next((i for i, row in enumerate(rows) if len(row.segments) > 1
                 and any(BUYER_RE.match(seg.text) for seg in row.segments[1:])), None)


def supplier_name(texts: list[str], heights: list[float] | None = None,
                  trace: Trace | None = None, stop: int | None = None,
                  skip: frozenset[int] = frozenset()) -> tuple[int, str | None]:
    """The trading or legal name printed at the top; (index of its last line, name).

    `heights`: each line's text height, when the lines come from boxes (the name is often largest).
    `stop`: the row where the customer's block starts, when a column says so (`buyer_column_row`);
    `skip`: rows that hold someone else's name (`holder.holder_rows`).
    """
    trace = {} if trace is None else trace
    candidates = []
    for i in range(min(len(texts), 8, len(texts) if stop is None else stop)):
        if BUYER_RE.match(texts[i]):
            break
        if _name_candidate(texts[i]) and i not in skip:
            candidates.append(i)
    if not candidates:
        return -1, None
    # prefer a legal name (SDN BHD, PTY LTD) near the top: receipts often print a brand first
    first = candidates[0]
    legal = [i for i in candidates if LEGAL_SUFFIX_RE.search(clean_name(texts[i]).upper()) and i <= first + 4]
    idx = legal[0] if legal else _header_name(texts, candidates, heights)
    name = clean_name(texts[idx])
    trace["supplier_name"] = ((idx,), "legal_name" if legal else "first_name_line")
    top = _legal_name_top(texts, idx, candidates) if legal else idx
    if top < idx:
        name = " ".join(clean_name(texts[i]) for i in range(top, idx + 1))  # "POPULAR BOOK" / "CO. (M) SDN BHD"
        trace["supplier_name"] = (tuple(range(top, idx + 1)), "legal_name_two_lines")
    elif not legal and idx + 1 < len(texts) and _only_tail_words(texts[idx + 1].upper()):
        name, idx = name + " " + clean_name(texts[idx + 1]), idx + 1  # "TSH POWER HARDWARE" / "TRADING"
        trace["supplier_name"] = ((idx - 1, idx), "name_with_tail_line")
    elif re.search(r"(&|\bAND|\bOF)$", name.upper()) and idx + 1 < len(texts) and _name_candidate(texts[idx + 1]):
        name, idx = name + " " + clean_name(texts[idx + 1]), idx + 1  # "HOME MASTER HARDWARE &" / "ELECTRICAL"
        trace["supplier_name"] = ((idx - 1, idx), "name_with_tail_line")
    return idx, split_run_on(name)


# words a business name ends with but never starts with ("ENTERPRISE (SETIA" / "ALAM) SDN BHD")
_NEVER_FIRST = frozenset({"ENTERPRISE", "ENTERPRISES", "TRADING", "COMPANY", "CO", "HOLDINGS", "SDN", "BHD", "PTY",
                          "LTD", "LIMITED", "BERHAD", "AND"})


def _legal_name_top(texts: list[str], idx: int, candidates: list[int]) -> int:
    """The first line of a legal name broken over lines: back up while what is read so far cannot
    start a name (only tail words, "&" first, a tail word first, or a ")" opened on a line above)."""
    top = idx
    while top - 1 in candidates and top > idx - 3:
        name = " ".join(clean_name(texts[i]) for i in range(top, idx + 1)).upper()
        head = LEGAL_SUFFIX_RE.split(name)[0]
        words = re.findall(r"[A-Z]+", head)
        if not (_only_tail_words(head) or re.match(r"\s*&", head) or (words and words[0] in _NEVER_FIRST)
                or name.count(")") > name.count("(")):
            break
        top -= 1
    return top


def _only_tail_words(text: str) -> bool:
    words = re.findall(r"[A-Z]+", text)
    return all(w in NAME_TAIL_WORDS for w in words)


_STRONG_STOP_RE = re.compile(r"(\bTEL\b|TELEPHONE|\bPH(ONE)?\b|\bFAX\b|E-?MAIL|WWW\.|TAX\s*INVOICE|\bINVOICE\b|"
                             r"RECEIPT|\bCASHIER\b|\bTABLE\b|\bQTY\b|DESCRIPTION|" + ABN_LABEL + ")")


# "HQ ADD: LOT 11995, ...", "Address: 12 Marine Pde": the address wherever the header prints it
ADDRESS_LABEL_RE = re.compile(r"^\W*(?:[A-Z]{1,3}\s+)?(?:ADD|ADDR|ADDRESS)\s*[:.]\s*(?=\S)", re.I)
# a phone number alone on its row ("016-5498845,"): the end of the address above it
_PHONE_LINE_RE = re.compile(r"^\W*\+?\d[\d\s()/-]{6,}\d\W*$")
# a phone number anywhere on the row, its label misread ("lel:05-60952052", "T: 03-2093 7358")
_PHONE_RE = re.compile(r"(?<![\d-])0\d{1,2}\s?-\s?\d{3,4}\s?\d{4}(?!\d)")


def _address_line(up: str) -> bool:
    """An address hint, and no run of 8+ digits (a tax or phone number, an item code) on the row."""
    return bool(ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", up))) and not re.search(r"\d{8,}", up)


def _item_amount(up: str) -> bool:
    """An amount on a row that is not an address ("LOT 38. 39 101 BOULEVARD" is not RM 38.39)."""
    return bool(find_amounts(up)) and not _address_line(up)


# a value after a label ("Order :6224 By : WEB_30263", "Ref# 30263"): a number, never a postcode
_LABELLED_VALUE_RE = re.compile(r"[:#]\s*[A-Z_]*\d+")


def _postcode_line(text: str) -> bool:
    """A line that ends an address: a postcode or a state / country name, not a labelled number."""
    return bool(POSTCODE_END_RE.search(_LABELLED_VALUE_RE.sub(" ", text.upper())))


def supplier_address(texts: list[str], name_idx: int, trace: Trace | None = None) -> str | None:
    """Address lines after the name (or after an "Address:" label), up to phone / ABN /
    registration / date lines."""
    labelled = next((i for i in range(min(len(texts), 12)) if ADDRESS_LABEL_RE.match(texts[i])), None)
    if name_idx < 0 and labelled is None:
        return None
    first = labelled if labelled is not None else name_idx + 1
    block: list[str] = []
    at: list[int] = []  # the rows of `block`
    for i in range(first, min(len(texts), first + 9)):
        up = texts[i].upper()
        if i == labelled:
            pass  # the label says what the row is
        elif not block:
            # before the address: registration numbers, a brand or branch line, the date
            if _STRONG_STOP_RE.search(up) or BUYER_RE.match(up) or _item_amount(up) or i > first + 4:
                break
            if not _address_line(up) or REGISTRATION_RE.search(up) or find_dates(up) or up.startswith("("):
                continue
        elif (STOP_ADDRESS_RE.search(up) or BUYER_RE.match(up) or find_dates(up) or _item_amount(up)
              or REGISTRATION_RE.search(up) or _PHONE_LINE_RE.match(up) or _PHONE_RE.search(up)):
            break
        block.append(norm_space(ADDRESS_LABEL_RE.sub("", texts[i]) if i == labelled else texts[i]))
        at.append(i)
    if not block:
        return None
    # the address ends at its postcode / state line; anything after (a branch name) is not it
    ends = [j for j, t in enumerate(block) if _postcode_line(t)]
    if ends:
        block, at = block[: ends[-1] + 1], at[: ends[-1] + 1]
    if trace is not None:
        trace["supplier_address"] = (tuple(at), "labelled_address" if labelled is not None else "address_block")
    return address_commas(undo_address_slips(join_address_lines(block)).strip(" ,"))


def abns(ups: list[str], buyer_start: int, trace: Trace | None = None,
         party: dict[int, tuple[str, str]] | None = None) -> tuple[str | None, str | None]:
    """(supplier ABN, buyer ABN): 11 digits next to "ABN", checksum-valid preferred.

    `party`: per row of a buyer's (or delivery) block, the text inside the block's column and the
    rest of the row (`buyer.buyer_block`): an ABN inside is the buyer's, one beside it (the
    supplier's column of a two-column header) is not. `buyer_start`: the first row that starts
    with a party label; an unlabelled ABN is looked for above it, outside the blocks' columns.
    """
    party = {} if party is None else party
    # the ABNs found on each labelled piece, top to bottom, with the rows they were read from
    supplier: list[tuple[list[str], tuple[int, ...]]] = []
    buyer: list[tuple[list[str], tuple[int, ...]]] = []
    for i, up in enumerate(ups):
        inside, outside = party.get(i, ("", up))
        below = party.get(i + 1, ("", ups[i + 1] if i + 1 < len(ups) else ""))
        for text, under, owned in ((inside, below[0], True), (outside, below[1], False)):
            label = ABN_LABEL_RE.search(text)
            if not label:
                continue
            found, rows = find_abns(text[label.end():]), (i,)
            if not found and under:
                found, rows = find_abns(under), (i, i + 1)
            (buyer if owned or _buyer_words(text) else supplier).append((found, rows))
    labelled = any(found for found, _rows in supplier)
    if not labelled:
        # an unlabelled, checksum-valid 11-digit number near the top, above any buyer block
        for i, up in enumerate(ups[: min(len(ups), 12, buyer_start)]):
            outside = party.get(i, ("", up))[1]
            if not _buyer_words(outside):
                supplier.append(([a for a in find_abns(outside) if abn_is_valid(a)], (i,)))
    trace = {} if trace is None else trace
    return (_first_printed(supplier, "supplier_abn", trace, labelled),
            _first_printed(buyer, "buyer_abn", trace, True))


def _first_printed(groups: list[tuple[list[str], tuple[int, ...]]], name: str, trace: Trace,
                   labelled: bool) -> str | None:
    """The ABN of the topmost labelled line (the header's), checksum-valid reading preferred within it.

    A later line's ABN never replaces it, however "nicer" (a valid checksum): a second ABN printed
    lower down is a conflict for review (`llama_vision.conflicts`), not a better answer."""
    for found, rows in groups:
        if found:
            value = next((x for x in found if abn_is_valid(x)), found[0])
            kind = ("labelled_abn" if abn_is_valid(value) else "labelled_abn_bad_checksum") if labelled else "unlabelled_abn"
            trace[name] = (rows, kind)
            return value
    return None


def _buyer_words(up: str) -> bool:
    """A piece that says it is about the customer ("Customer ABN: ..."), wherever it is printed."""
    return bool(BUYER_RE.match(up)) or bool(re.search(r"CUSTOMER|CLIENT|BUYER|RECIPIENT|PURCHASER", up))

"""Who is on the page: the supplier's name, address and ABN, and the buyer (pure functions).

Names and addresses are read from the top of the page, down to the first phone, ABN,
registration or date line; ABNs are 11 digits next to an "ABN" label (`fields.find_abns`,
checksum-valid ones preferred).
"""

from __future__ import annotations

import re

from llama_vision.engines.ocr.layout import Line, norm_space
from llama_vision.engines.ocr.rules.evidence import Trace
from llama_vision.engines.ocr.vocabulary import (
    ABN_LABEL, ABN_LABEL_RE, ADDRESS_HINT_RE, BUYER_RE, ITEM_HEADER_RE, LEGAL_SUFFIX_RE, NAME_TAIL_WORDS, NOISE_RE,
    POSTCODE_END_RE, REG_NUMBER_RE, REGISTRATION_RE, STOP_ADDRESS_RE,
)
from llama_vision.fields import abn_is_valid, find_abns, find_amounts, find_dates


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


# a web address, an account line or a page title is never the supplier ("Web: aldi.com.au")
NOT_NAME_RE = re.compile(r"\bWEB(SITE)?\b|\.(COM|NET|ORG|GOV|EDU)\b|\.AU\b|ACCOUNT\s*(HOLDER|NAME|NO)|"
                         r"^\W*(TAX\s*)?INVOICE\b|\bPAGE\s*\d|\bSTATEMENT\b")
# a page title printed on the name's row, far right ("ACME PLUMBING        TAX INVOICE")
TITLE_PIECE_RE = re.compile(r"^\W*((TAX|GST)\s*)?(INVOICE|RECEIPT)(\s*/\s*(TAX\s*)?(INVOICE|RECEIPT))?\W*$", re.I)
_ADDRESS_START_RE = re.compile(r"\b(JALAN|JLN|LOT|STREET|ROAD|LEVEL|FLOOR|FLR|LORONG|TAMAN|PO\s*BOX)\b")


def _name_candidate(text: str) -> bool:
    up = clean_name(text).upper()
    if not up or _is_noise(up) or REGISTRATION_RE.search(up) or BUYER_RE.match(up) or NOT_NAME_RE.search(up):
        return False
    if LEGAL_SUFFIX_RE.search(up):
        return True
    if find_amounts(up):
        return False  # an item line ("Apples 7.18"), never a shop name
    return not (STOP_ADDRESS_RE.search(up) or POSTCODE_END_RE.search(up) or _ADDRESS_START_RE.search(up))


def header_texts(rows: list[Line]) -> list[str]:
    """Each row's text without a title piece beside it: the two-column header's left side."""
    out = []
    for row in rows:
        kept = [seg.text for seg in row.segments if not TITLE_PIECE_RE.match(seg.text)]
        out.append(norm_space(" ".join(kept)) if kept and len(row.segments) > 1 else norm_space(row.text))
    return out


def _header_name(texts: list[str], candidates: list[int], heights: list[float] | None) -> int:
    """The name line of the header block: the one over the address / registration / ABN lines.

    A stamp, a handwritten note or a "Counter" label printed above the name is a candidate too;
    the name is the tallest text above the block when one stands out, else the line right above it.
    """
    first = candidates[0]
    anchor = next((i for i in range(first + 1, min(len(texts), 10)) if _block_line(texts[i])), None)
    before = [i for i in candidates if anchor is not None and i < anchor
              and not ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", texts[i].upper()))]
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


def supplier_name(texts: list[str], heights: list[float] | None = None,
                  trace: Trace | None = None) -> tuple[int, str | None]:
    """The trading or legal name printed at the top; (index of its last line, name).

    `heights`: each line's text height, when the lines come from boxes (the name is often largest).
    """
    trace = {} if trace is None else trace
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
    idx = legal[0] if legal else _header_name(texts, candidates, heights)
    name = clean_name(texts[idx])
    head = LEGAL_SUFFIX_RE.split(name.upper())[0]
    trace["supplier_name"] = ((idx,), "legal_name" if legal else "first_name_line")
    if legal and idx - 1 in candidates and (_only_tail_words(head) or re.match(r"\s*(&|AND\b)", head)):
        name = clean_name(texts[idx - 1]) + " " + name  # "POPULAR BOOK" / "CO. (M) SDN BHD"
        trace["supplier_name"] = ((idx - 1, idx), "legal_name_two_lines")
    elif not legal and idx + 1 < len(texts) and _only_tail_words(texts[idx + 1].upper()):
        name, idx = name + " " + clean_name(texts[idx + 1]), idx + 1  # "TSH POWER HARDWARE" / "TRADING"
        trace["supplier_name"] = ((idx - 1, idx), "name_with_tail_line")
    elif re.search(r"(&|\bAND|\bOF)$", name.upper()) and idx + 1 < len(texts) and _name_candidate(texts[idx + 1]):
        name, idx = name + " " + clean_name(texts[idx + 1]), idx + 1  # "HOME MASTER HARDWARE &" / "ELECTRICAL"
        trace["supplier_name"] = ((idx - 1, idx), "name_with_tail_line")
    return idx, name


def _only_tail_words(text: str) -> bool:
    words = re.findall(r"[A-Z]+", text)
    return all(w in NAME_TAIL_WORDS for w in words)


_STRONG_STOP_RE = re.compile(r"(\bTEL\b|TELEPHONE|\bPH(ONE)?\b|\bFAX\b|E-?MAIL|WWW\.|TAX\s*INVOICE|\bINVOICE\b|"
                             r"RECEIPT|\bCASHIER\b|\bTABLE\b|\bQTY\b|DESCRIPTION|" + ABN_LABEL + ")")


def supplier_address(texts: list[str], name_idx: int, trace: Trace | None = None) -> str | None:
    """Address lines after the name, up to phone / ABN / registration / date lines."""
    if name_idx < 0:
        return None
    block: list[str] = []
    at: list[int] = []  # the rows of `block`
    for i in range(name_idx + 1, min(len(texts), name_idx + 10)):
        up = texts[i].upper()
        if not block:
            # before the address: registration numbers, a brand or branch line, the date
            if _STRONG_STOP_RE.search(up) or BUYER_RE.match(up) or find_amounts(up) or i > name_idx + 4:
                break
            if (not ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", up)) or REGISTRATION_RE.search(up)
                    or find_dates(up) or up.startswith("(")):
                continue
        elif (STOP_ADDRESS_RE.search(up) or BUYER_RE.match(up) or find_dates(up) or find_amounts(up)
              or REGISTRATION_RE.search(up)):
            break
        block.append(norm_space(texts[i]))
        at.append(i)
    if not block:
        return None
    # the address ends at its postcode / state line; anything after (a branch name) is not it
    ends = [j for j, t in enumerate(block) if POSTCODE_END_RE.search(t.upper())]
    if ends:
        block, at = block[: ends[-1] + 1], at[: ends[-1] + 1]
    if trace is not None:
        trace["supplier_address"] = (tuple(at), "address_block")
    return " ".join(block).strip(" ,")



def buyer_block_start(ups: list[str]) -> int:
    for i, up in enumerate(ups):
        if BUYER_RE.match(up):
            return i
    return len(ups)


def abns(ups: list[str], buyer_start: int, trace: Trace | None = None) -> tuple[str | None, str | None]:
    """(supplier ABN, buyer ABN): 11 digits next to "ABN", checksum-valid preferred."""
    # the ABNs found on each labelled line, top to bottom, with the rows they were read from
    supplier: list[tuple[list[str], tuple[int, ...]]] = []
    buyer: list[tuple[list[str], tuple[int, ...]]] = []
    for i, up in enumerate(ups):
        label = ABN_LABEL_RE.search(up)
        if not label:
            continue
        found, rows = find_abns(up[label.end():]), (i,)
        if not found and i + 1 < len(ups):
            found, rows = find_abns(ups[i + 1]), (i, i + 1)
        (buyer if _in_buyer_block(ups, i, buyer_start) else supplier).append((found, rows))
    labelled = any(found for found, _rows in supplier)
    if not labelled:
        # an unlabelled, checksum-valid 11-digit number near the top, above any buyer block
        for i, up in enumerate(ups[: min(len(ups), 12, buyer_start)]):
            if not _in_buyer_block(ups, i, buyer_start):
                supplier.append(([a for a in find_abns(up) if abn_is_valid(a)], (i,)))
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


def _in_buyer_block(ups: list[str], i: int, buyer_start: int) -> bool:
    up = ups[i]
    return (buyer_start <= i <= buyer_start + 5 or bool(BUYER_RE.match(up))
            or bool(re.search(r"CUSTOMER|CLIENT|BUYER|RECIPIENT|PURCHASER", up)))


def buyer_name(texts: list[str], buyer_start: int, trace: Trace | None = None) -> str | None:
    """The name after "Bill to:" / "Customer:", on the same line or the next; never an ABN line."""
    if buyer_start >= len(texts):
        return None
    trace = {} if trace is None else trace
    m = BUYER_RE.match(texts[buyer_start])
    value = norm_space(m.group("v")).strip(":- ") if m else ""
    if value:
        if ABN_LABEL_RE.search(value.upper()):
            return None
        trace["buyer_name"] = ((buyer_start,), "buyer_label_same_line")
        return value
    for nxt in texts[buyer_start + 1: buyer_start + 2]:
        up = nxt.upper()
        if not (ABN_LABEL_RE.search(up) or ITEM_HEADER_RE.search(up) or _is_noise(up) or find_amounts(up)
                or re.search(r"\d{5,}", re.sub(r"\s", "", up))):
            trace["buyer_name"] = ((buyer_start, buyer_start + 1), "buyer_label_next_line")
            return norm_space(nxt)
    return None

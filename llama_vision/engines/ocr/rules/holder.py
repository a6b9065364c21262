"""The account holder of a bank statement, read by label and by where it is printed (pure functions).

Statements print the holder in one of three ways: "Account holder: Jane Citizen" on one row; the
label alone with the name under it in the label's column (the next column of the row holds other
labels: "Account Holder:   BSB   187-843"); or no label at all, the holder's name heading the postal
address block the statement is mailed to ("JACK WILSON" / "13 Queen St, Adelaide SA 5000"). A BSB or
account-number piece is never the holder, whatever row it shares with the label.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from llama_vision.engines.ocr.layout import Line, norm_space
from llama_vision.engines.ocr.rules.labels import in_column
from llama_vision.engines.ocr.vocabulary import (
    ADDRESS_HINT_RE, HOLDER_LABEL_RE, LEGAL_SUFFIX_RE, POSTCODE_END_RE, REG_NUMBER_RE,
)

# a piece that starts another label of the statement's header: never the holder's value
_OTHER_LABEL_RE = re.compile(
    r"^\W*(BSB|ACC(OUNT)?\b|A/C|NUMBER|STATEMENT|PERIOD|ABN|DATE|BALANCE|OPENING|CLOSING|BRANCH|CUSTOMER\s*(NO|ID))\b")
# a person's name as a statement prints it: 2 to 6 words of letters ("Liam O'Connor", "MR J & MRS A SMITH")
_PERSON_RE = re.compile(r"^[A-Z][A-Z'.-]*(\s+(&|AND|[A-Z][A-Z'.-]*)){1,5}$")
# words of an institution's name or a header line, never in a person's name
_INSTITUTION_RE = re.compile(r"\b(BANK|BANKING|CREDIT\s*UNION|MUTUAL|BUILDING\s*SOCIETY|SAVINGS|FINANCIAL|FINANCE|"
                             r"GROUP|ACCOUNT|STATEMENT|EVERYDAY|TRANSACTION|CUSTOMER|SERVICE|PAGE)\b")


# the next label on a row read as one piece: "Account name: Jane Citizen BSB: 062-000"
_NEXT_LABEL_RE = re.compile(r"\s+(?=(?:BSB|ACC(?:OUNT)?\s*(?:NO|NUM|NUMBER|#)|A/C|ABN)\b)", re.I)


def _value_text(text: str) -> str | None:
    """A labelled holder value, or None when the text is empty, another label or mostly digits."""
    value = _NEXT_LABEL_RE.split(norm_space(text).strip(" :-"))[0].strip(" :-,")
    letters = sum(c.isalpha() for c in value)
    if letters < 2 or _OTHER_LABEL_RE.match(value.upper()) or sum(c.isdigit() for c in value) > letters:
        return None
    return value


Holder = tuple[str | None, tuple[int, ...], str]  # (holder, rows read, match kind)


def labelled_holder(rows: list[Line]) -> Holder:
    """The value after or under the first holder label (`account_holder` and `holder_rows` both
    start from it: read it once per page)."""
    for i, row in enumerate(rows):
        for j, seg in enumerate(row.segments):
            m = HOLDER_LABEL_RE.search(seg.text)
            if m is None:
                continue
            own = seg.text[m.end():]
            if own.strip(" :-"):
                return _value_text(own), (i,), "labelled_holder"
            if j + 1 < len(row.segments) and (value := _value_text(row.segments[j + 1].text)):
                return value, (i,), "labelled_holder"  # "Account name:   Jane Citizen"
            for k in range(i + 1, min(i + 3, len(rows))):  # the label's own column, on the rows under it
                under = in_column(rows[k], seg.x0, seg.x1)
                if under:
                    value = _value_text(under[0].text)
                    return value, ((i, k) if value else (i,)), "labelled_holder_below"
            return None, (i,), "labelled_holder"
    return None, (), ""


def _person_like(text: str) -> bool:
    up = norm_space(text).upper()
    return bool(_PERSON_RE.match(up)) and not (_INSTITUTION_RE.search(up) or LEGAL_SUFFIX_RE.search(up))


def _address_piece(text: str) -> bool:
    up = text.upper()
    return bool(ADDRESS_HINT_RE.search(REG_NUMBER_RE.sub(" ", up)) or POSTCODE_END_RE.search(up))


def _addressee(rows: list[Line], exclude: Collection[int]) -> Holder:
    """The name heading the postal address block in the header: a person-like leftmost piece with an
    address piece directly under it in the same column. The top row (the bank's name) never is."""
    for i in range(1, min(len(rows) - 1, 12)):
        if i in exclude or not rows[i].segments:
            continue
        name = rows[i].segments[0]
        if not _person_like(name.text):
            continue
        if any(_address_piece(s.text) for s in in_column(rows[i + 1], name.x0, name.x1)):
            return norm_space(name.text), (i,), "addressee_holder"
    return None, (), ""


def account_holder(rows: list[Line], labelled: Holder, *, statement: bool = False,
                   exclude: Collection[int] = ()) -> Holder:
    """(holder, rows read, match kind): by its label first (`labelled`, from `labelled_holder`); on
    a bank statement (`statement`) with no label, the addressee of the statement. `exclude`: rows
    that hold the supplier's (the bank's) name."""
    if labelled[0] is None and statement:
        return _addressee(rows, exclude)
    return labelled


def holder_rows(rows: list[Line], labelled: Holder, *, statement: bool = False) -> frozenset[int]:
    """A holder label standing alone and the row of the name under it: a person, never the bank
    (rows the supplier rule skips). On a statement (`statement`) with no holder label, the row of
    the addressee heading its postal address block too: with no ABN under the bank's name, that
    address block is the first one under the header, and the name over it is the holder's."""
    value, at, kind = labelled
    if kind == "labelled_holder_below":
        return frozenset(at)
    if statement and value is None:
        return frozenset(_addressee(rows, ())[1])
    return frozenset()

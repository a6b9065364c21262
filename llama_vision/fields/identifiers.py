"""ABNs (11 digits, ATO checksum via python-stdnum) and BSBs (NNN-NNN).

`find_abns` locates 11-digit runs in a line of OCR text, checksum-valid ones first."""

from __future__ import annotations

import re
from typing import Any

from stdnum.au import abn as _stdnum_abn

from llama_vision.fields.text import _clean_text, is_null


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

"""A business name and address as the recogniser printed them, put right (pure functions).

The recogniser's usual slips on a name line: the legal suffix misread ("SON BHD", "SDN BHU",
"5/B"), a zero for an O ("HAI-0", "YONG S0ON"), words run together when the print is bold and
tight ("SANYUSTATIONERYSHOP"), and a registration number glued to the end. On an address line:
a comma read as a full stop ("9. JALAN SUBANG JASA 3. 40150 SHAH ALAM"), spaces lost in tight
print ("394Collins St, SydneyNSW 2000"), an l read as 1 or I ("J1n", "BIk"), a zero as O ("4330O");
and the comma the written form puts before an Australian locality line ("37 Hay St, Sydney NSW 2000").
"""

from __future__ import annotations

import re

from llama_vision.engines.ocr.layout import norm_space
from llama_vision.engines.ocr.vocabulary import (
    AU_STATES, LEGAL_SUFFIX_RE, LOCALITY_LINE_RE, MY_STATES, REG_NUMBER_RE, TRADE_WORDS,
)

# "SDN BHD" with one letter misread: "Sdn Ehd", "SLN BHD", "SON BHD", "SIN BHD", "SDN BHU", "SDN 3HD"
_SDN_BHD_SLIP_RE = re.compile(r"S[DLOI0]N(\.?\s*)[BE83]H[DU]", re.I)
_SB_SLIP_RE = re.compile(r"[S5]/[B8]", re.I)  # "5/B", "S/8": Sendirian Berhad's short form
# a zero standing for an O inside a word ("YONG S0ON") or after a hyphen ("HAI-0 RAYA")
_ZERO_FOR_O_RE = re.compile(r"(?<=[A-Za-z])0(?=[A-Za-z])|(?<=[A-Za-z]-)0(?![0-9])")
# a run-on word: this many capitals with no space is more than one word in a name
_RUN_ON_RE = re.compile(r"\b[A-Z]{12,}\b")
# a legal suffix whose space the recogniser lost, in any case ("Signage PtyLtd", "ENTERPRISE SDNBHD")
_LEGAL_PAIR_RE = re.compile(r"\b(PTY|SDN)(LTD|BHD)\b", re.I)


def clean_name(text: str) -> str:
    """A name line without its registration number, nothing after a legal suffix, slips undone."""
    up = text.upper()
    m = LEGAL_SUFFIX_RE.search(up)
    if m:
        suffix = _SDN_BHD_SLIP_RE.sub(lambda s: "SDN" + s.group(1) + "BHD", text[m.start(): m.end()])
        suffix = _SB_SLIP_RE.sub("S/B", suffix)
        text = text[: m.start()] + suffix
    else:
        text = REG_NUMBER_RE.sub(" ", text)
    text = _ZERO_FOR_O_RE.sub("O", text)
    return norm_space(text.strip(" *-=#:,"))


def split_run_on(name: str) -> str:
    """Words run together in a name split where trade words end it: "SANYUSTATIONERYSHOP" ->
    "SANYU STATIONERY SHOP". Only capitals, only when the whole tail is trade words and the
    rest is still a word (>= 3 letters); anything else is left as printed. A legal suffix run
    together ("PtyLtd", "SDNBHD") gets its space back in any case."""
    return _RUN_ON_RE.sub(lambda m: _split_word(m.group(0)), _LEGAL_PAIR_RE.sub(r"\1 \2", name))


def _split_word(word: str) -> str:
    parts: list[str] = []
    rest = word
    while rest:
        tail = next((w for w in sorted(TRADE_WORDS, key=len, reverse=True)
                     if rest.endswith(w) and (len(rest) == len(w) or len(rest) - len(w) >= 3)), None)
        if tail is None:
            break
        parts.insert(0, tail)
        rest = rest[: -len(tail)]
    if not parts or (rest and len(rest) < 3):
        return word
    return " ".join([rest, *parts] if rest else parts)


# abbreviations an address may print with a full stop ("No. 7", "Cnr. George St."): kept as printed
_ADDRESS_ABBREVIATIONS = frozenset({"NO", "ST", "RD", "DR", "MT", "AVE", "CNR", "LVL", "APT", "JLN", "TMN", "BLK",
                                    "STH", "NTH", "PDE", "HWY", "CRES", "TCE", "BLVD", "HSE", "FLR", "KG", "SEK"})
_STATE_END_RE = re.compile(r"\b" + MY_STATES + r"$")
_STOP_BEFORE_SPACE_RE = re.compile(r"(?<!\S)(?P<token>[^\s.]+)\.(?=\s+\S)")


def address_commas(address: str) -> str:
    """Full stops after a number part of an address read back as the commas they are: "9. JALAN
    SUBANG JASA 3. 40150" -> "9, JALAN SUBANG JASA 3, 40150"; also a stop before the postcode.
    Small print makes the two marks alike, and a number part ending with a stop is rarer than a
    comma. A stop after an abbreviation ("No.", "St."), a dotted one ("P.T.") or between two words
    ("Air Panas. Setapak", printed so as often as misread) is kept."""
    def fix(m: re.Match[str]) -> str:
        token = m.group("token")
        numbered = bool(re.search(r"\d", token)) or bool(re.match(r"\s+\d{4,5}\b", address[m.end():]))
        # a stop after the state ends that address ("10300 Penang. 10400 Penang"): a full stop
        ends = bool(_STATE_END_RE.search(address[: m.end() - 1].upper()))
        keep = token.upper() in _ADDRESS_ABBREVIATIONS or not numbered or ends
        return m.group(0) if keep else token + ","

    address = _STOP_BEFORE_SPACE_RE.sub(fix, address)
    return re.sub(r"(?<=[A-Za-z]{3})\.(?=[A-Za-z]{3})", ",", address)  # "JOHOR BAHRU.JOHOR"


def join_address_lines(lines: list[str]) -> str:
    """An address printed over lines, as one line: a locality line ("Sydney NSW 2000") after a
    street line takes the comma the written form puts there ("37 Hay St, Sydney NSW 2000") when
    the print has none; other lines join with a space, as printed."""
    out = ""
    for line in lines:
        if out and LOCALITY_LINE_RE.match(line.upper()) and not out.endswith((",", ";")):
            out += ","
        out = f"{out} {line}" if out else line
    return out


# spaces the recogniser drops in tight print: a street number against its street ("394Collins St"),
# a suburb against its state ("SydneyNSW 2000"), a state against its postcode ("ACT2601"); an
# ordinal ("3RD", "1st") or a unit code ("U13", "PT15944") keeps its letters and digits together
_GLUED_SPACES = (
    (re.compile(r"(?<![A-Za-z0-9])(\d+)(?=[A-Za-z]{3,})"), r"\1 "),
    (re.compile(r"(?<=[a-z])(?=" + AU_STATES + r"\s*\d{4}\b)"), " "),
    (re.compile(r"\b" + AU_STATES + r"(?=\d{4}\b)"), r"\1 "),
    (re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z])"), " "),  # "JalanPelabur": a capital starts a word
)


# words a number follows with no space in an address ("No1", "Lot1"): their 1 is a one
_NUMBER_LABELS = frozenset({"NO", "LOT", "UNIT", "LEVEL", "LVL", "BLK", "BLOCK", "SHOP", "SUITE", "FLOOR", "KM", "BATU"})
# the recogniser's letter / digit slips inside an address's words, undone where the case makes
# them certain: "1" or "I" for an l inside a word ("J1n", "F1r", "BIk", "JIn", "Ma11"), "O" for a
# zero after digits ("4330O", "G3O"), a speck read as a stop inside a word ("L.ot"); a number
# after a label ("No1", "NO1") is left alone
_ADDRESS_SLIPS = (
    (re.compile(r"(?<=[A-Za-z])1(?=[a-z])|(?<=[a-z])1(?=[A-Za-z])"), lambda m: "l"),
    (re.compile(r"\b([A-Za-z]*[a-z])(1+)\b"),
     lambda m: m.group(0) if m.group(1).upper() in _NUMBER_LABELS else m.group(1) + "l" * len(m.group(2))),
    (re.compile(r"(?<=\b[A-Z])I(?=[a-z])"), lambda m: "l"),
    (re.compile(r"(?<=\d)[Oo](?=[\dOo]*\b)"), lambda m: "0"),
    (re.compile(r"(?<=\b[A-Z])\.(?=[a-z]{2,}\b)"), lambda m: ""),
)


def undo_address_slips(address: str) -> str:
    """An address with the spaces small print lost put back (see `_GLUED_SPACES`), words run
    together in mixed case split ("JalanPelabur", "JohorBahru"), and letter / digit slips undone."""
    for pattern, repl in _GLUED_SPACES + _ADDRESS_SLIPS:
        address = pattern.sub(repl, address)
    return address

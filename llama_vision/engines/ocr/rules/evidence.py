"""Where each field the rules read came from, and how sure the reading is (ARCHITECTURE.md section 9).

The rules record, per field, the rows they read it from and *how* it matched (a `Trace`); this
module turns that into `FieldEvidence`: the rows' page box and recognised text, and a raw
confidence = how reliable that kind of match is x the recogniser's score on those rows. A
labelled "TOTAL" row is surer than "cash tendered minus change", and a well-printed row surer than
a blurred one. The raw number is mapped to a measured probability by the shipped calibration
(`llama_vision.evaluation.calibration`) where one exists for the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from llama_vision.engines.ocr.layout import Line
from llama_vision.engines.ocr.locate import box_of, locate
from llama_vision.result import FieldEvidence

logger = logging.getLogger(__name__)

# field -> (row indices the value was read from, match kind)
Trace = dict[str, tuple[tuple[int, ...], str]]

# How often each kind of match is right before the recogniser's score is counted (priors, in the
# order the rules try them; the calibration measures what they are really worth per field).
MATCH_KINDS: dict[str, float] = {
    "legal_name": 0.9,  # a name with SDN BHD / PTY LTD near the top
    "legal_name_two_lines": 0.85,  # "POPULAR BOOK" / "CO. (M) SDN BHD"
    "first_name_line": 0.75,  # the first line at the top that looks like a name
    "name_with_tail_line": 0.75,  # "TSH POWER HARDWARE" / "TRADING"
    "address_block": 0.7,  # the lines after the name up to a phone / ABN line
    "labelled_address": 0.75,  # "Address: ..." / "HQ ADD: ..." and the lines under it
    "labelled_abn": 0.97,  # 11 checksum-valid digits next to "ABN"
    "labelled_abn_bad_checksum": 0.4,  # next to "ABN" but the checksum fails: a misread digit
    "unlabelled_abn": 0.7,  # a checksum-valid 11-digit number near the top, no label
    "buyer_label_same_line": 0.85,  # "Bill to: Acme Pty Ltd"
    "buyer_label_next_line": 0.7,  # "Bill to:" / "Acme Pty Ltd"
    "labelled_holder": 0.9,  # "Account holder: Jane Citizen"
    "labelled_holder_below": 0.85,  # "Account Holder:" with the name under it, in its column
    "addressee_holder": 0.6,  # no label: the name heading the address block a statement is mailed to
    "labelled_date": 0.95,  # "Date: 15/03/2024"
    "labelled_date_next_line": 0.85,
    "first_plain_date": 0.8,  # the first date not marked expiry / due
    "avoided_date": 0.4,  # only an expiry- or due-looking date was printed
    "labelled_invoice_number": 0.9,
    "loose_invoice_number": 0.6,
    "rounded_total_label": 0.95,  # "TOTAL (ROUNDED)", "AFTER ROUNDING"
    "grand_or_due_label": 0.93,  # "GRAND TOTAL", "AMOUNT DUE", "BALANCE DUE"
    "total_label": 0.9,  # "TOTAL"
    "cash_minus_change": 0.55,  # no total label: tendered minus change
    "subtotal_label": 0.9,
    "gst_included_label": 0.9,  # "Total includes GST of $3.50", "GST INCLUDED 3.50"
    "gst_label": 0.88,  # "GST 10%: 3.50"
    "payment_line": 0.85,  # a tender word on a payment line or beside an amount
    "payment_word": 0.6,  # a tender word elsewhere
    "printed_label": 0.9,  # a "TAX INVOICE" or "GST included" statement
    "found_text": 0.7,  # the value's text found on a row (fields whose rule keeps no trace)
}

# an amount printed on the row below its label is a little less sure than one beside it
NEXT_ROW_FACTOR = 0.92
# kind suffixes and what each costs: beside its label on the row below; its cents lost at the
# box edge and read from the same amount printed elsewhere on the page ("25." -> 25.00)
SUFFIX_FACTORS = {"next_row": NEXT_ROW_FACTOR, "completed": 0.85}
# computed rather than read: the source is "rule", the evidence the rows it was computed from
DERIVED_KINDS = {"cash_minus_change"}


def total_kind(rank: int) -> str:
    """The match kind for the TOTAL_LABELS rank of the label that won."""
    return "rounded_total_label" if rank >= 9 else "grand_or_due_label" if rank >= 8 else "total_label"


def raw_confidence(rows: Sequence[Line], indices: Sequence[int], kind: str) -> float:
    """Prior of the match kind x the mean recogniser score of the rows, clipped to [0, 1]."""
    base, *suffixes = kind.split("+")
    prior = MATCH_KINDS.get(base, MATCH_KINDS["found_text"])
    for suffix in suffixes:
        prior *= SUFFIX_FACTORS.get(suffix, 1.0)
    scores = [rows[i].score for i in indices if 0 <= i < len(rows)]
    ocr = sum(scores) / len(scores) if scores else 1.0
    return max(0.0, min(1.0, prior * ocr))


def _union(boxes: list[tuple[float, float, float, float]]) -> list[float] | None:
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def one_evidence(rows: Sequence[Line], indices: Sequence[int], kind: str, name: str | None = None,
                 value: Any = None) -> FieldEvidence:
    """The rows' evidence; the box is the printed value's own characters within those rows when
    they can be found (`locate`: "$12.50", not "TOTAL ..... $12.50"), else the rows' union."""
    indices = sorted({i for i in indices if 0 <= i < len(rows)})
    boxes = [b for i in indices if (b := rows[i].box) is not None]
    text = "\n".join(rows[i].text for i in indices) or None
    box = _union(boxes)
    if name is not None and box is not None:
        traced = [rows[i] for i in indices]
        found = locate(traced, name, value)
        box = (box_of(traced, found) if found else None) or box
    return FieldEvidence(confidence=raw_confidence(rows, indices, kind), page=0, box=box, text=text,
                         source="rule" if kind in DERIVED_KINDS else "ocr")


def _locate(value: Any, rows: Sequence[Line]) -> int | None:
    """The first row whose text holds the value (spaces and case ignored); None if none does."""
    needle = re.sub(r"\s+", "", str(value)).upper()
    if not needle:
        return None
    for i, row in enumerate(rows):
        if needle in re.sub(r"\s+", "", row.text).upper():
            return i
    return None


def build_evidence(rows: Sequence[Line], fields: dict[str, Any], trace: Trace) -> dict[str, FieldEvidence]:
    """Evidence for every field that has a value: from the rules' trace, else the row printing it.

    A field whose text cannot be found on any row gets no evidence (never a made-up box), and so
    does one whose evidence fails to build: the values read are kept either way.
    """
    out: dict[str, FieldEvidence] = {}
    for name, value in fields.items():
        if value is None or value == [] or value is False or value == "":
            continue
        try:
            if name in trace:
                indices, kind = trace[name]
                out[name] = one_evidence(rows, indices, kind, name, value)
            elif isinstance(value, str | int | float) and not isinstance(value, bool):
                at = _locate(value, rows)
                if at is not None:
                    out[name] = one_evidence(rows, [at], "found_text", name, value)
        except Exception:  # noqa: BLE001 - a bug here must cost one field's box, not the document
            logger.exception("could not locate the evidence of %s; the field keeps its value without a box", name)
    return out

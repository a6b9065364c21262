"""Presentation of a Result's evidence: boxes to draw on the page, a confidence per field row,
and the review verdict. Pure functions (no Gradio import), shared by the Single tab and the
batch tab's row detail, so both show the same view of the same Result.

Nothing here measures or decides anything: confidence, boxes and the review verdict come from
the pipeline (ARCHITECTURE.md section 9). A field without evidence gets no box and a blank
confidence, never a made-up one.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from llama_vision import schema
from llama_vision.ui.views import esc, field_names, show_value

MISSING = "—"
EVIDENCE_COLUMNS = ["Field", "Value", "Confidence", "From"]
SOURCE_LABELS = {"ocr": "printed text", "model": "model answer", "rule": "derived"}


def _evidence(result: dict[str, Any], name: str) -> dict[str, Any]:
    return (result.get("evidence") or {}).get(name) or {}


def confidence_text(evidence: dict[str, Any]) -> str:
    confidence = evidence.get("confidence")
    return MISSING if confidence is None else f"{confidence:.0%}"


def confidence_band(evidence: dict[str, Any], threshold: float) -> str:
    """'sure', 'unsure' (below the review threshold) or 'unmeasured' — a CSS/colour key."""
    confidence = evidence.get("confidence")
    if confidence is None:
        return "unmeasured"
    return "sure" if confidence >= threshold else "unsure"


def evidence_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Field, value, confidence and where it came from: one row per field of `field_names`."""
    fields = result.get("fields") or {}
    rows = []
    for name in field_names(result):
        evidence = _evidence(result, name)
        source = SOURCE_LABELS.get(evidence.get("source") or "", "") if evidence else ""
        rows.append([schema.label_of(name), show_value(name, fields.get(name)), confidence_text(evidence), source])
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)


def annotations(result: dict[str, Any], *, page: int = 0, only: str | None = None) -> list[tuple[tuple[int, int, int, int], str]]:
    """(box, label) pairs for Gradio's AnnotatedImage: the fields found on `page` (0-based) that have
    a box; `only` keeps just one field (the row a user selected)."""
    out = []
    for name, evidence in (result.get("evidence") or {}).items():
        box = (evidence or {}).get("box")
        if not box or (evidence.get("page") or 0) != page or (only and name != only):
            continue
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        out.append(((x0, y0, x1, y1), schema.label_of(name)))
    return out


def field_at_row(result: dict[str, Any], row: int) -> str | None:
    """The field name shown on row `row` of `evidence_frame` (None when out of range)."""
    names = field_names(result)
    return names[row] if 0 <= row < len(names) else None


def review_html(result: dict[str, Any]) -> str:
    """The review verdict as a badge with its reasons, to sit beside the compliance verdict."""
    if result.get("status") == "error":
        return ""
    review = result.get("review") or {}
    if not review.get("needed"):
        return ('<div class="lv-review"><span class="lv-badge lv-ok" data-review="ok">Confident</span> '
                '<span class="lv-muted">every compliance field was read above the review threshold</span></div>')
    reasons = "".join(f"<li>{esc(r)}</li>" for r in review.get("reasons") or [])
    return ('<div class="lv-review"><span class="lv-badge lv-warn" data-review="needed">Needs a look</span>'
            f"<ul>{reasons}</ul></div>")

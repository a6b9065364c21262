"""Presentation of a Result's evidence: boxes to draw on the page, a confidence per field row,
and the review verdict. Pure functions (no Gradio import), shared by the Single tab and the
batch tab's row detail, so both show the same view of the same Result.

Nothing here measures or decides anything: confidence, boxes and the review verdict come from
the pipeline (ARCHITECTURE.md section 9). A field without evidence gets no box and a blank
confidence, never a made-up one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from llama_vision import schema
from llama_vision.ui import views
from llama_vision.ui.views import esc, field_names, show_value

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler
    from PIL import Image

MISSING = "—"
EVIDENCE_COLUMNS = ["Field", "Value", "Confidence", "From"]
SOURCE_LABELS = {"ocr": "printed text", "model": "model answer", "rule": "derived"}
#: The fields a tax claim turns on, shown beside the verdict at the top of the Single tab.
KEY_FIELDS = ("supplier_name", "total", "gst", "date", "supplier_abn")
#: Cell colours of the confidence column (the badges' AA-contrast pairs); the cell also says "low".
BAND_STYLE = {"sure": "background-color: #d6f5e3; color: #0b5d2a",
              "unsure": "background-color: #fff1cc; color: #6b4a00; font-weight: 600", "unmeasured": ""}
BAND_CLASS = {"sure": "lv-ok", "unsure": "lv-warn", "unmeasured": "lv-neutral"}


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


def confidence_chip(evidence: dict[str, Any], threshold: float) -> str:
    """The confidence as a chip coloured by the review threshold ("low" below it); a neutral "—"
    when the engine measured none."""
    band = confidence_band(evidence, threshold)
    word = " low" if band == "unsure" else ""
    return (f'<span class="lv-chip {BAND_CLASS[band]}" data-band="{band}">'
            f"{confidence_text(evidence)}{word}</span>")


def evidence_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Field, value, confidence and where it came from: one row per field of `field_names`."""
    fields = result.get("fields") or {}
    rows = []
    for name in field_names(result):
        evidence = _evidence(result, name)
        source = SOURCE_LABELS.get(evidence.get("source") or "", "") if evidence else ""
        rows.append([schema.label_of(name), show_value(name, fields.get(name)), confidence_text(evidence), source])
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)


def evidence_table(result: dict[str, Any], threshold: float) -> Styler:
    """`evidence_frame` with its confidence cells coloured by the review threshold (green at or
    above, amber and the word "low" below, plain when unmeasured): gr.Dataframe shows a Styler's
    colours when it is not interactive."""
    frame = evidence_frame(result)
    bands = [confidence_band(_evidence(result, name), threshold) for name in field_names(result)]
    low = [band == "unsure" for band in bands]
    frame.loc[low, "Confidence"] = frame.loc[low, "Confidence"] + " low"
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    styles["Confidence"] = [BAND_STYLE[band] for band in bands]
    return frame.style.apply(lambda _frame: styles, axis=None)


def annotations(result: dict[str, Any], *, page: int = 0, only: str | None = None,
                scale: float = 1.0) -> list[tuple[tuple[int, int, int, int], str]]:
    """(box, label) pairs for Gradio's AnnotatedImage: the fields found on `page` (0-based) that have
    a box; `only` keeps just one field (the row a user selected); `scale` maps page pixels to a
    downscaled copy of the page."""
    out = []
    for name, evidence in (result.get("evidence") or {}).items():
        box = (evidence or {}).get("box")
        if not box or (evidence.get("page") or 0) != page or (only and name != only):
            continue
        x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
        out.append(((x0, y0, x1, y1), schema.label_of(name)))
    return out


def page_view(image: Image.Image, result: dict[str, Any] | None, *, page: int = 0, only: str | None = None,
              max_side: int = 1200) -> tuple[Image.Image, list[tuple[tuple[int, int, int, int], str]]]:
    """An AnnotatedImage value: the page downscaled to `max_side` (a phone photo is 4000 px; the
    browser needs a fraction of it) with the boxes scaled to match."""
    view = new_view(result or {}, image, max_side=max_side)
    return view["image"], annotations(result or {}, page=page, only=only, scale=view["scale"])


def field_at_row(result: dict[str, Any], row: int) -> str | None:
    """The field name shown on row `row` of `evidence_frame` (None when out of range)."""
    names = field_names(result)
    return names[row] if 0 <= row < len(names) else None


# -- the page with its boxes, and a field row selected: the Single tab and the batch row detail --
# A "view" is a plain dict kept in a gr.State: the shown (downscaled) page, its Result, the scale
# from page pixels to the shown copy, and the selected field (None: every box).


def new_view(result: dict[str, Any], image: Image.Image, *, max_side: int = 1200) -> dict[str, Any]:
    """The view of `result` over its page `image` (as the pipeline loaded it), every box shown."""
    from llama_vision.documents import prepare_for_ocr  # the one downscaler (never upscales)

    shown = prepare_for_ocr(image, max_side)
    return {"result": result, "image": shown, "scale": shown.width / image.width if image.width else 1.0,
            "only": None}


def toggle_field(view: dict[str, Any], index: Any) -> dict[str, Any]:
    """A click on the fields table at `index` ((row, column) or row): only that row's field, or
    every field again when it was the one already selected."""
    row = index[0] if isinstance(index, (list, tuple)) else index
    name = field_at_row(view["result"], int(row))
    return {**view, "only": None if name == view.get("only") else name}


def view_annotations(view: dict[str, Any], label: str) -> tuple[tuple[Any, list], str]:
    """The AnnotatedImage value of `view` and its label (`label` when every box is shown; else
    which field is shown, or that it has no box)."""
    only = view.get("only")
    boxes = annotations(view["result"], page=0, only=only, scale=view["scale"])
    if only:
        name = schema.label_of(only)
        label = f"Where {name} was read (click it again for every field)" if boxes else (
            f"{name}: not located on the page (no box)")
    return (view["image"], boxes), label


def review_html(result: dict[str, Any], *, explain: bool = True) -> str:
    """The review verdict as a badge with its reasons, to sit beside the compliance verdict
    (`explain=False`: without the sentence under "Confident", for a narrow table cell)."""
    if result.get("status") == "error":
        return ""
    review = result.get("review") or {}
    if not review.get("needed"):
        why = ' <span class="lv-muted">every compliance field was read above the review threshold</span>'
        return f'<div class="lv-review"><span class="lv-badge lv-ok" data-review="ok">Confident</span>{why if explain else ""}</div>'
    reasons = "".join(f"<li>{esc(r)}</li>" for r in review.get("reasons") or [])
    return ('<div class="lv-review"><span class="lv-badge lv-warn" data-review="needed">Needs a look</span>'
            f"<ul>{reasons}</ul></div>")


def key_fields_html(result: dict[str, Any], threshold: float) -> str:
    """Supplier, total, GST, date and ABN with their confidence, for the top of the page."""
    fields = result.get("fields") or {}
    cells = []
    for name in KEY_FIELDS:
        value = fields.get(name)
        evidence = _evidence(result, name)
        if value in (None, ""):
            chip = '<span class="lv-chip lv-neutral">not found</span>'
        elif evidence.get("confidence") is None:
            chip = ""
        else:
            chip = confidence_chip(evidence, threshold)
        cells.append(f'<div class="lv-key" data-field="{name}"><span class="lv-key-label">'
                     f"{esc(schema.label_of(name))}</span> <b>{esc(show_value(name, value))}</b> {chip}</div>")
    return '<div class="lv-keys">' + "".join(cells) + "</div>"


def verdict_card_html(result: dict[str, Any] | None, threshold: float) -> str:
    """The first thing a person reads: compliance verdict and score, the review verdict beside
    it, whether a tax invoice is needed, and the key fields. A failed read is shown here, once."""
    if not result:
        return '<div class="lv-panel lv-muted">Pick a document and press Extract: the verdict appears here.</div>'
    if result.get("status") == "error":
        return views.compliance_html(result)
    compliance = result.get("compliance") or {}
    verdict = views.verdict_badge(compliance.get("verdict")) if compliance else ""
    need = f'<p class="lv-muted">{esc(views.tax_invoice_need(compliance))}</p>' if compliance else ""
    return (f'<div class="lv-panel lv-verdict"><div class="lv-verdict-row">{verdict}'
            f"{views.score_html(compliance)}{review_html(result)}</div>{need}"
            f"{key_fields_html(result, threshold)}</div>")

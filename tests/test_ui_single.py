"""The Single tab's handlers without a browser, on the real OCR engine and a bundled sample: the
run ends with the page and a box for every field found; a field row click leaves only its box;
a failed read is told once (in the verdict card); a new document brings the preview back."""

from __future__ import annotations

import contextlib
from pathlib import Path

import gradio as gr
import pytest

from llama_vision import schema
from llama_vision.ui import evidence_view, tab_single
from tests.fakes import fake_settings
from tests.ui_helpers import SAMPLES

SAMPLE = SAMPLES / "cafe_receipt.jpg"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from llama_vision.ui import build_app

    return build_app(fake_settings(tmp_path_factory.mktemp("single"), engine="ocr"))


def _handler(demo, name: str, output_id: str):
    """The Single tab's event `name` (its function's name) writing to the component `output_id`."""
    for block_fn in demo.fns.values():
        if block_fn.name == name and any(getattr(o, "elem_id", None) == output_id for o in block_fn.outputs):
            return block_fn.fn
    raise AssertionError(f"no event {name} writes to #{output_id}")


def _run(demo, path: Path, page: int = 1, *, fails: bool = False) -> tuple[list[tuple], dict, dict, dict | None]:
    """Extract `path` as the Extract button does, then the step that follows it: (every yield of
    the extract generator, the Result, the evidence image's update, the view state)."""
    extract = _handler(demo, "extract", "single-compliance")
    yields = []
    with pytest.raises(gr.Error) if fails else contextlib.nullcontext():
        for outputs in extract(str(path), page, "key_value"):
            yields.append(outputs)
    data = yields[-1][5]
    after = _handler(demo, "evidence_after_run", "single-evidence")
    evidence, preview, _checks, view = after(str(path), page, data)
    assert preview["visible"] is (view is None)  # the page shows once: evidence or preview
    return yields, data, evidence, view


def _inside(box, image) -> bool:
    x0, y0, x1, y1 = box
    return 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height


def test_a_run_shows_the_page_with_a_box_for_every_field_found(demo):
    yields, data, evidence, view = _run(demo, SAMPLE)
    assert data["status"] == "ok" and data["evidence"]
    image, boxes = evidence["value"]
    labels = {label for _box, label in boxes}
    located = {schema.label_of(n) for n, e in data["evidence"].items() if e.get("box")}
    assert labels == located and {"Total", "Date", "Supplier ABN"} <= labels
    assert evidence["visible"] is True and all(_inside(box, image) for box, _label in boxes)
    # the boxes are the pipeline's, scaled to the (never larger) page shown
    total = next(box for box, label in boxes if label == "Total")
    scale = view["scale"]
    assert 0 < scale <= 1 and max(image.size) <= tab_single.PREVIEW_MAX_SIDE
    assert total == tuple(int(round(v * scale)) for v in data["evidence"]["total"]["box"])
    # the verdict card has the compliance verdict with the review verdict and key fields beside it
    card = yields[-1][2]
    assert "data-verdict=" in card and "data-review=" in card and 'data-field="total"' in card


def test_a_field_row_click_leaves_only_its_box_and_a_second_click_brings_all_back(demo):
    _yields, data, evidence, view = _run(demo, SAMPLE)
    row = evidence_view.field_names(data).index("total")
    click = gr.SelectData(None, {"index": [row, 0], "value": "Total", "selected": True})
    update, view = tab_single.select_field(view, click)
    _image, boxes = update["value"]
    assert [label for _box, label in boxes] == ["Total"] and "Where Total was read" in update["label"]
    update, view = tab_single.select_field(view, click)
    assert len(update["value"][1]) == len(evidence["value"][1]) > 1


def test_a_row_without_a_box_says_so_instead_of_drawing_one(demo):
    _yields, data, _evidence, view = _run(demo, SAMPLE)
    names = evidence_view.field_names(data)
    unboxed = [n for n in names if not (data["evidence"].get(n) or {}).get("box")]
    assert unboxed, "the cafe receipt has fields without evidence (an invoice number, a subtotal)"
    click = gr.SelectData(None, {"index": [names.index(unboxed[0]), 1], "value": "—", "selected": True})
    update, _view = tab_single.select_field(view, click)
    assert update["value"][1] == [] and "not located" in update["label"]


def test_a_failed_read_is_told_once_in_the_verdict_card(demo, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    yields, data, evidence, view = _run(demo, broken, fails=True)
    raw, summary, card, *_rest = yields[-1]
    assert data["status"] == "error" and "broken.pdf" in card and "Could not read" in card
    assert summary == ""  # not a second time above the checks
    assert evidence["visible"] is False and view is None


def test_the_page_shown_is_the_page_extracted(demo, tmp_path):
    from PIL import Image

    pdf = tmp_path / "two.pdf"
    first = Image.new("RGB", (600, 800), "white")
    second = Image.open(SAMPLE).convert("RGB")
    first.save(pdf, save_all=True, append_images=[second], resolution=150)
    _yields, data, evidence, view = _run(demo, pdf, page=2)
    assert data["status"] == "ok" and evidence["value"][1], "page 2 is the receipt: its boxes show"
    shown = evidence["value"][0]
    assert abs(shown.width / shown.height - second.width / second.height) < 0.05  # not the blank page 1


def test_a_new_document_brings_the_preview_back_and_clears_the_last_result(demo):
    outputs = tab_single.fresh_document()
    preview, evidence, card, checks, fields, items, summary, raw, result, download, view = outputs
    assert preview["visible"] is True and evidence["visible"] is False
    assert "verdict appears here" in card and len(fields) == 0 and result is None and view is None

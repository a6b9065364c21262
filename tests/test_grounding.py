"""Grounding (issue G): boxes for a model engine's answers, found in an OCR pass of the same page.

A generated document records where each field was drawn; grounding must box the printed value
(the crop re-read by the OCR engine holds it), give no box for a value the page does not print,
and reach the pipeline's evidence through the single, streamed and batched paths, while the
model answers. `LLAMA_VISION_GROUNDING` is validated like every setting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from llama_vision import pipeline
from llama_vision.config import load_settings
from llama_vision.errors import ConfigError
from llama_vision.fields import find_money, normalise_abn, normalise_value
from llama_vision.grounding import enabled, ground_fields, read_page, shared_reader
from llama_vision.engines.ocr.locate import locate
from llama_vision.engines.ocr.layout import lines_from_strings
from tests.fakes import FakeEngine, fake_settings

pytest.importorskip("rapidocr")

CHECKED = ("supplier_name", "supplier_abn", "date", "total")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> tuple[Image.Image, dict[str, Any]]:
    """A small generated café docket (seeded) and its truth, with the drawn boxes."""
    from llama_vision.samples import generate_documents

    path = generate_documents(tmp_path_factory.mktemp("grounding"), 1, seed=9, families=["cafe_rounding"],
                              max_side=900)[0]
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    return image, json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(document: tuple[Image.Image, dict[str, Any]]) -> Any:
    return read_page(document[0], load_settings(engine="ocr", grounding="off"))


def _reread(image: Image.Image, box: list[float]) -> str:
    """The OCR engine's text of the box's crop, set on a white margin (the detector needs room)."""
    x0, y0, x1, y1 = box
    crop = image.crop((int(x0) - 3, int(y0) - 3, int(x1) + 3, int(y1) + 3))
    canvas = Image.new("RGB", (crop.width + 60, crop.height + 60), "white")
    canvas.paste(crop, (30, 30))
    reader = shared_reader(load_settings(engine="ocr"))
    return " ".join(b.text for b in reader.ocr_boxes(canvas))


def test_boxes_hold_the_printed_value(document: tuple[Image.Image, dict[str, Any]], page: Any) -> None:
    image, truth = document
    answer = {name: truth["fields"][name] for name in CHECKED}
    assert all(answer.values()), answer
    evidence = ground_fields(page, answer)
    assert set(evidence) == set(CHECKED)
    for name, item in evidence.items():
        x0, y0, x1, y1 = item.box
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height, (name, item.box)
        assert item.page == 0 and item.source == "model" and item.confidence is None  # nothing measured it
        text = _reread(image, item.box)
        value = truth["fields"][name]
        if name == "total":
            assert normalise_value("total", value) in {f"{a:.2f}" for a in find_money(text)}, (name, text)
        elif name == "supplier_abn":
            assert normalise_abn(text) == value or value in "".join(c for c in text if c.isdigit()), (name, text)
        elif name == "date":
            assert normalise_value("date", text) == value, (name, text)
        else:
            squash = "".join(c for c in text.upper() if c.isalnum())
            assert "".join(c for c in value.upper() if c.isalnum()) in squash, (name, text)


def test_boxes_overlap_where_the_value_was_drawn(document: tuple[Image.Image, dict[str, Any]], page: Any) -> None:
    _image, truth = document
    evidence = ground_fields(page, {name: truth["fields"][name] for name in CHECKED})
    for name, item in evidence.items():
        drawn = truth["boxes"][name]
        inter = (max(0, min(item.box[2], drawn[2]) - max(item.box[0], drawn[0]))
                 * max(0, min(item.box[3], drawn[3]) - max(item.box[1], drawn[1])))
        union = ((item.box[2] - item.box[0]) * (item.box[3] - item.box[1])
                 + (drawn[2] - drawn[0]) * (drawn[3] - drawn[1]) - inter)
        assert inter / union >= 0.5, (name, item.box, drawn)


def test_no_box_for_values_the_page_does_not_print(document: tuple[Image.Image, dict[str, Any]], page: Any) -> None:
    _image, truth = document
    wrong = {"total": "987.65", "supplier_name": "Zebra Quantum Holdings", "supplier_abn": "51824753556",
             "date": "29/02/2000", "invoice_number": "ZQ-99172"}
    assert not any(truth["fields"].get(k) == v for k, v in wrong.items())
    assert ground_fields(page, wrong) == {}


def test_values_match_in_their_normalised_forms() -> None:
    rows = lines_from_strings(["ACME HARDWARE PTY LTD", "12 Main St", "Geelong VIC 3220", "ABN 51 824 753 556",
                               "Date: 15 Mar 24", "Subtotal 45.00", "TOTAL $49.50", "Cash 50.00"])
    assert locate(rows, "total", "49.50").rows == [6]
    assert locate(rows, "supplier_abn", "51824753556").rows == [3]
    assert locate(rows, "date", "15/03/2024").rows == [4]
    assert locate(rows, "supplier_address", "12 Main St, Geelong VIC 3220").rows == [1, 2]  # two lines
    assert locate(rows, "supplier_name", "ACME HARDWAR PTY LTD").score < 1.0  # one letter lost: fuzzy
    assert locate(rows, "total", "50.00") is not None and locate(rows, "total", "45.00").rows == [5]
    assert locate(rows, "supplier_name", "Bunnings Warehouse") is None
    assert locate(rows, "total", "4.95") is None


def test_setting_is_validated_and_decides_per_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLAMA_VISION_GROUNDING")
    assert load_settings().grounding == "auto"
    with pytest.raises(ConfigError, match="LLAMA_VISION_GROUNDING='sometimes'.*auto, on or off"):
        load_settings(grounding="sometimes")
    model = FakeEngine(fake_settings(tmp_path))
    assert enabled(load_settings(grounding="auto"), model) and not enabled(load_settings(grounding="off"), model)
    from llama_vision.engines.ocr import OcrEngine

    assert not enabled(load_settings(grounding="on"), OcrEngine(load_settings()))  # it has its own boxes
    monkeypatch.setattr("llama_vision.config.ocr_runtime_installed", lambda: False)
    with pytest.raises(ConfigError, match="pip install 'rapidocr>=3.4' onnxruntime"):
        load_settings(grounding="on")
    monkeypatch.setattr("llama_vision.grounding.ocr_runtime_installed", lambda: False)
    assert not enabled(load_settings(grounding="auto"), model)


def _answer(truth: dict[str, Any]) -> str:
    fields = truth["fields"]
    return "\n".join([f"SUPPLIER_NAME: {fields['supplier_name']}", f"SUPPLIER_ABN: {fields['supplier_abn']}",
                      f"DATE: {fields['date']}", f"TOTAL: ${fields['total']}", "INVOICE_NUMBER: QX-44120"])


@pytest.mark.parametrize("path", ["single", "streamed", "batched"])
def test_pipeline_boxes_a_model_answer(document: tuple[Image.Image, dict[str, Any]], tmp_path: Path,
                                       path: str) -> None:
    image, truth = document
    engine = FakeEngine(fake_settings(tmp_path, grounding="on"), [_answer(truth)])
    if path == "single":
        result = pipeline.extract(image, engine=engine, document_type="receipt")
    elif path == "streamed":
        events = list(pipeline.extract_events(image, engine=engine, document_type="receipt"))
        result = events[-1].result
    else:
        results = dict(pipeline.extract_many([image, image], engine=engine, batch_size=2))
        assert engine.batch_sizes[-1] == 2
        result = results[1]
    assert result.status == "ok", result.error
    boxed = {name for name, e in result.evidence.items() if e.box}
    assert boxed >= {"supplier_name", "supplier_abn", "date", "total"}
    assert "invoice_number" not in boxed  # answered, but not printed: no box
    assert all(e.source == "model" for e in result.evidence.values())
    assert "grounding" in result.timings


def test_pipeline_without_grounding_has_no_boxes(document: tuple[Image.Image, dict[str, Any]], tmp_path: Path) -> None:
    image, truth = document
    engine = FakeEngine(fake_settings(tmp_path, grounding="off"), [_answer(truth)])
    result = pipeline.extract(image, engine=engine, document_type="receipt")
    assert result.status == "ok" and result.fields["total"] == truth["fields"]["total"]
    assert not any(e.box for e in result.evidence.values()) and "grounding" not in result.timings


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from llama_vision.tiny_model import write_tiny_model

    return write_tiny_model(tmp_path_factory.mktemp("llama") / "tiny", seed=0)


@pytest.mark.parametrize("grounding", ["on", "off"])
def test_tiny_llama_through_the_pipeline(document: tuple[Image.Image, dict[str, Any]], tiny_llama: Path,
                                         grounding: str) -> None:
    """The real llama engine (random weights: its answer is noise): with grounding on, the page's
    OCR pass is joined and any answered value it boxes is printed there; off, no pass, no boxes."""
    import torch

    from llama_vision.engines.llama import LlamaEngine

    image, _truth = document
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: spinning torch threads fight each other
    engine = LlamaEngine(load_settings(env_file=None, engine="llama", model_path=str(tiny_llama),
                                       max_new_tokens=8, grounding=grounding))
    try:
        result = pipeline.extract(image, engine=engine, document_type="receipt")
    finally:
        engine.unload()
        torch.set_num_threads(threads)
    assert result.status == "ok", result.error
    assert ("grounding" in result.timings) is (grounding == "on")
    assert not any("Boxes for the answers" in w for w in result.warnings)
    if grounding == "off":
        assert not any(item.box for item in result.evidence.values())
    for name, item in result.evidence.items():  # whatever the noise says, a box is only where it is printed
        assert item.source == "model" and (item.box is None or item.text), name


def test_a_failed_ocr_pass_leaves_the_answer_and_says_so(document: tuple[Image.Image, dict[str, Any]],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, truth = document

    def broken(*_args: Any) -> Any:
        raise RuntimeError("onnxruntime went away")

    monkeypatch.setattr("llama_vision.grounding.reader.read_page", broken)
    engine = FakeEngine(fake_settings(tmp_path, grounding="on"), [_answer(truth)])
    result = pipeline.extract(image, engine=engine, document_type="receipt")
    assert result.status == "ok" and result.fields["total"] == truth["fields"]["total"]
    assert not any(e.box for e in result.evidence.values())
    assert any("onnxruntime went away" in w for w in result.warnings)


def test_grounding_keeps_the_models_confidence(document: tuple[Image.Image, dict[str, Any]], page: Any) -> None:
    from llama_vision.result import FieldEvidence

    _image, truth = document
    measured = {"total": FieldEvidence(confidence=0.73, source="model", text=f"${truth['fields']['total']}"),
                "invoice_number": FieldEvidence(confidence=0.41, source="model", text="QX-44120")}
    out = ground_fields(page, {"total": truth["fields"]["total"], "invoice_number": "QX-44120"}, measured)
    assert out["total"].confidence == 0.73 and out["total"].box and out["total"].page == 0
    assert truth["fields"]["total"].split(".")[0] in out["total"].text  # the OCR row it is printed on
    assert out["invoice_number"] == measured["invoice_number"]  # not printed: as the model gave it, no box


def test_letters_that_grow_when_upper_cased_keep_their_place() -> None:
    """"ß" upper-cases to "SS" (and "ﬁ" to "FI"): the row positions must still line up with the
    letters, or a real receipt printing one crashes the whole reading (found on an SROIE scan)."""
    rows = lines_from_strings(["Straße Bäckerei ﬁne foods", "Hauptstraße 5, Berlin", "TOTAL 14.65"])
    match = locate(rows, "supplier_address", "Hauptstrasse 5, Berlin")
    assert match is not None and match.rows == [1]
    assert locate(rows, "supplier_name", "Strasse Backerei fine foods") is not None

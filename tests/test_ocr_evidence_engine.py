"""Evidence from the real OCR engine on generated documents: boxes lie inside the page as loaded and
hold the text they claim (crop + re-read), confidences are in [0, 1] and drop when the page is blurred.

CPU heavy: one engine for the module, three small generated documents.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image, ImageFilter

from llama_vision.config import load_settings
from llama_vision.engines.ocr import OcrEngine
from llama_vision.fields import find_dates, find_money
from llama_vision.samples.generator import generate_documents

pytest.importorskip("rapidocr")

CHECKED = ("total", "date", "supplier_abn", "gst")


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    built = OcrEngine(load_settings(engine="ocr", ocr_max_side=1000))  # documents are larger: boxes must scale back
    yield built
    built.unload()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Image.Image]:
    folder = tmp_path_factory.mktemp("evidence")
    return [Image.open(p).convert("RGB") for p in generate_documents(folder, 3, seed=7, max_side=1400)]


def _squash(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _holds(name: str, value: str, text: str) -> bool:
    """Whether printed `text` shows the normalised `value` (amounts, dates in any form, digits)."""
    if name in ("total", "gst"):
        return value in {f"{a:.2f}" for a in find_money(text)}
    if name == "date":
        return value in {v for _at, v in find_dates(text)}
    return value in _squash(text)


def test_boxes_lie_inside_the_page_and_hold_the_text_they_claim(engine: OcrEngine, pages: list[Image.Image]) -> None:
    checked = 0
    for image in pages:
        assert max(image.size) > 1000  # OCR ran on a downscaled copy
        reading = engine.generate(image, "")
        for name in CHECKED:
            item = reading.evidence.get(name)
            if item is None:
                continue
            assert 0.0 <= item.confidence <= 1.0 and item.page == 0 and item.text
            x0, y0, x1, y1 = item.box
            assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
            crop = image.crop((max(0, x0 - 8), max(0, y0 - 8), min(image.width, x1 + 8), min(image.height, y1 + 8)))
            again = " ".join(b.text for b in engine.ocr_boxes(crop))
            # the box is the value's own characters: the crop re-reads to the value the rules read
            # from the claimed row (whose text, label included, is in item.text)
            value = reading.fields[name]
            if name != "date":  # a date is normalised: "15 Mar 24" reads 15/03/2024
                assert _squash(value) in _squash(item.text), (name, value, item.text)
            assert _holds(name, value, again), (name, value, item.text, again)
            checked += 1
    assert checked >= 6


def test_a_blurred_copy_is_less_sure_of_the_fields_it_loses(engine: OcrEngine, pages: list[Image.Image]) -> None:
    lost, sharp_conf, blurred_conf = 0, [], []
    for image in pages:
        sharp = engine.generate(image, "")
        blurred = engine.generate(image.filter(ImageFilter.GaussianBlur(5)), "")
        for name, item in sharp.evidence.items():
            other = blurred.evidence.get(name)
            if other is None:
                lost += 1
                continue
            sharp_conf.append(item.confidence)
            blurred_conf.append(other.confidence)
            if blurred.fields.get(name) != sharp.fields.get(name):
                lost += 1
                # misread: the blurred reading must be less sure than the sharp one was
                assert other.confidence < item.confidence, (name, sharp.fields[name], blurred.fields.get(name))
    assert lost >= 1  # the blur does cost fields
    assert sum(blurred_conf) / len(blurred_conf) < sum(sharp_conf) / len(sharp_conf)

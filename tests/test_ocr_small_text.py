"""Small print read again from an enlarged copy (engines/ocr/small_text.py and OcrEngine.reread_small_text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from llama_vision.config import load_settings
from llama_vision.engines.ocr import OCR_PARAMS, OcrEngine
from llama_vision.engines.ocr.layout import TextBox
from llama_vision.engines.ocr.small_text import enlarge, shrink, upscale_factor

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _boxes(height: float, count: int = 6) -> list[TextBox]:
    return [TextBox(f"line {i}", 10, 30 * i, 200, 30 * i + height, 0.9, 0.01) for i in range(count)]


def test_only_a_page_of_small_print_is_enlarged_and_never_past_the_side_limit() -> None:
    settings = {"below": 23.0, "factor": 2.0, "max_side": 1600}
    assert upscale_factor(_boxes(18), (669, 747), **settings) == 2.0
    assert upscale_factor(_boxes(30), (669, 747), **settings) == 1.0  # print large enough
    assert upscale_factor(_boxes(18, count=3), (669, 747), **settings) == 1.0  # too few boxes to tell
    assert upscale_factor(_boxes(18), (950, 700), **settings) == pytest.approx(1600 / 950)
    assert upscale_factor(_boxes(18), (1580, 900), **settings) == 1.0  # no room left to enlarge
    assert upscale_factor(_boxes(18), (669, 747), below=0, factor=2.0, max_side=1600) == 1.0  # off


def test_boxes_read_from_the_enlarged_copy_come_back_in_the_original_pixels() -> None:
    page = Image.new("RGB", (301, 200), "white")
    larger = enlarge(page, 2.0)
    assert larger.size == (602, 400)
    (box,) = shrink([TextBox("Total 9.50", 100, 40, 300, 80, 0.8, 0.02)], page.size, larger.size)
    assert (box.x0, box.y0, box.y1, box.text, box.score) == (50, 20, 40, "Total 9.50", 0.8)
    assert box.x1 == pytest.approx(300 * 301 / 602)
    assert box.slope == pytest.approx(0.02)


def _small_print_page() -> Image.Image:
    image = Image.new("RGB", (620, 420), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 11) if FONT.is_file() else ImageFont.load_default(size=11)
    for i, text in enumerate(["Corner Deli Pty Ltd", "12 Smith St, Newtown NSW 2042", "Date: 15/03/2024",
                              "Flat White 4.50", "Banana Bread 6.00", "TOTAL $10.50"]):
        draw.text((40, 30 + i * 30), text, fill="black", font=font)
    return image


def test_the_engine_reads_small_print_again_and_keeps_the_page_coordinates(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OcrEngine(load_settings(engine="ocr"))
    try:
        page = _small_print_page()
        first = engine.read_pixels(page)
        sizes: list[tuple[int, int]] = []
        read = engine.read_pixels
        monkeypatch.setattr(engine, "read_pixels", lambda image: sizes.append(image.size) or read(image))
        monkeypatch.setitem(OCR_PARAMS, "Global.small_text_below", 40)
        boxes = engine.ocr_boxes(page)
        assert sizes == [page.size, (1240, 840)]  # the page, then its 2x copy
        assert "TOTAL" in " ".join(b.text for b in boxes)
        # every box lies on the page as given, where the first reading found the same line
        for box in boxes:
            assert 0 <= box.x0 < box.x1 <= page.width and 0 <= box.y0 < box.y1 <= page.height
            assert min(abs(box.yc - other.yc) for other in first) < 6
        monkeypatch.setitem(OCR_PARAMS, "Global.small_text_below", 0)
        sizes.clear()
        engine.ocr_boxes(page)
        assert sizes == [page.size]  # switched off: one reading
    finally:
        engine.unload()

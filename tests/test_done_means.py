"""Issue H's "done means", as a new user would check it: the OCR engine, through `pipeline.extract`
on a saved file, reads the right supplier, total and GST from a clean two-column invoice header, a
whole-dollar tradie invoice and a tall receipt photographed at an angle.

The documents come from the layout-family generator (samples.families) with seeds of their own,
none of the sets the rules were tuned on; the truth is what the generator printed.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from llama_vision.config import load_settings
from llama_vision.evaluation.scoring import normalise_for_comparison
from llama_vision.samples.families import make_family_document, render_family

FIELDS = ("supplier_name", "total", "gst")


@pytest.fixture(scope="module")
def ocr():
    pytest.importorskip("rapidocr")
    from llama_vision.engines.ocr import OcrEngine

    engine = OcrEngine(load_settings(env_file=None, engine="ocr"))
    yield engine
    engine.unload()


def _two_column_invoice(rng: random.Random):
    doc = make_family_document(rng, "invoice_two_column", abn="valid", gst_style="amount")
    return doc, render_family(doc, rng, long_side=1700, clean=True)[0]


def _tradie_invoice(rng: random.Random):
    doc = make_family_document(rng, "tradie_whole_dollars", abn="valid", gst_style="amount")
    return doc, render_family(doc, rng, long_side=1700)[0]


def _tall_receipt_photo(rng: random.Random):
    """A long supermarket receipt (8 to 10 lines of goods in large print on a narrow strip about 2.4
    times as tall as wide) on a table, photographed at an angle with perspective, 2000 px tall."""
    doc = make_family_document(rng, "supermarket_gst", abn="valid", gst_style="amount")
    while len(doc.items) < 8:
        doc = make_family_document(rng, "supermarket_gst", abn="valid", gst_style="amount")
    doc.style.update(width=520, size=28, leading=1.45, photo=True, angle=rng.uniform(-3.0, 3.0), blur=0.0)
    doc.style["effects"].update(perspective=True, low_resolution=False, jpeg=False)
    return doc, render_family(doc, rng, long_side=2000)[0]


CASES = {"two_column_invoice": _two_column_invoice, "tradie_whole_dollars": _tradie_invoice,
         "tall_receipt_photo": _tall_receipt_photo}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_right_supplier_total_and_gst(ocr, tmp_path: Path, case: str, seed: int) -> None:
    from llama_vision.pipeline import extract

    doc, image = CASES[case](random.Random(f"done-means-{case}-{seed}"))
    path = tmp_path / f"{case}.jpg"
    image.convert("RGB").save(path, quality=90)
    result = extract(path, engine=ocr)
    got = {name: normalise_for_comparison(name, result.fields.get(name)) for name in FIELDS}
    want = {name: normalise_for_comparison(name, doc.fields.get(name)) for name in FIELDS}
    assert want["total"] is not None and want["gst"] is not None  # the case prints both
    assert got == want

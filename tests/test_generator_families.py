"""samples/families: every layout family renders and loads, its truth adds up as printed, output is
deterministic per seed, and the recorded field boxes lie in the image where the value was drawn
(cropped and read back with the OCR engine on clean renders)."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from PIL import Image, ImageOps

from llama_vision import cli
from llama_vision.config import load_settings
from llama_vision.documents import load_pages
from llama_vision.fields import ALL_FIELDS, ITEM_KEYS, normalise_fields
from llama_vision.samples import generator as gen
from llama_vision.samples.families import FAMILIES, make_family_document, render_family

CENT2 = Decimal("0.02")


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.fixture(scope="module")
def truths() -> list[dict]:
    """Truth of many family documents, without rendering (fast)."""
    out = []
    for index in range(40 * len(FAMILIES)):
        family = FAMILIES[index % len(FAMILIES)]
        doc = make_family_document(random.Random(f"family-truth-{index}"), family)
        out.append(doc.truth(seed=0, index=index))
    return out


# -------------------------------------------------------------------------------------------
# files
# -------------------------------------------------------------------------------------------
def test_every_family_renders_loads_and_records_its_boxes(tmp_path):
    paths = gen.generate_documents(tmp_path, len(FAMILIES), seed=2, families="all", max_side=700)
    settings = load_settings()
    seen = set()
    for path in paths:
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        family = truth["generator"]["family"]
        seen.add(family)
        assert path.name.startswith(family) and truth["generator"]["kind"] == family
        pages = load_pages(path, settings=settings)
        assert len(pages) == 1 and pages[0].mode == "RGB"
        width, height = pages[0].size
        assert max(width, height) <= 700 and min(width, height) >= 250
        boxes = truth["boxes"]
        assert "supplier_name" in boxes
        for name, (x0, y0, x1, y1) in boxes.items():
            assert name in ALL_FIELDS and truth["fields"][name] is not None, name
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (path.name, name, boxes[name])
            assert truth["box_text"][name]
        for name in ("total", "gst", "date", "supplier_abn"):  # printed fields have a box, absent ones none
            assert (name in boxes) == (truth["fields"][name] is not None), (path.name, name)
    assert seen == set(FAMILIES)


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    gen.generate_documents(tmp_path / "a", 3, seed=4, families=["tradie_whole_dollars", "fuel_docket"], max_side=500)
    gen.generate_documents(tmp_path / "b", 3, seed=4, families=["tradie_whole_dollars", "fuel_docket"], max_side=500)
    gen.generate_documents(tmp_path / "c", 3, seed=5, families=["tradie_whole_dollars", "fuel_docket"], max_side=500)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_unknown_family_and_mixed_options_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown family"):
        gen.generate_documents(tmp_path, 1, families=["payslip"])
    with pytest.raises(ValueError, match="not both"):
        gen.generate_documents(tmp_path, 1, kinds=["cafe"], families="all")


def test_make_samples_family_option(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["make-samples", "docs", "--count", "2", "--family", "cafe_rounding", "--max-side", "500"]) == 0
    truths = [json.loads(p.read_text()) for p in sorted((tmp_path / "docs").glob("*.json"))]
    assert [t["generator"]["family"] for t in truths] == ["cafe_rounding", "cafe_rounding"]
    assert cli.main(["make-samples", "bad", "--count", "1", "--families", "nope"]) == 2
    assert "unknown family" in capsys.readouterr().err


# -------------------------------------------------------------------------------------------
# truth, as printed
# -------------------------------------------------------------------------------------------
def test_truth_is_normalised_and_adds_up_as_printed(truths):
    wrong = 0
    for truth in truths:
        fields, notes = truth["fields"], truth["generator"]["notes"]
        plain = dict(fields, items=[{k: i[k] for k in ITEM_KEYS} for i in fields["items"]])
        assert normalise_fields(plain)[0] == plain, truth["generator"]
        for item in fields["items"]:
            assert abs(Decimal(item["quantity"]) * Decimal(item["unit_price"]) - Decimal(item["amount"])) <= Decimal("0.005")
        if truth["document_type"] == "bank_statement":
            assert truth["compliance"]["verdict"] == "not_required"
            continue
        total, gst, subtotal = _money(fields["total"]), _money(fields["gst"]), _money(fields["subtotal"])
        line_sum = sum(Decimal(i["amount"]) for i in fields["items"])
        assert line_sum in {subtotal, total}, truth
        if any("does not" in n or "is not 10%" in n for n in notes):
            wrong += 1
            assert truth["compliance"]["gst_consistent"] is False
            continue
        if subtotal is not None:
            assert subtotal + gst == total and abs(gst - subtotal / 10) <= CENT2
        elif gst is not None:
            taxable = sum((Decimal(i["amount"]) for i in fields["items"] if i.get("gst_status") != "gst_free"), Decimal(0))
            assert gst == (taxable / 11).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert truth["compliance"]["gst_consistent"] in (True, None)
        assert truth["compliance"]["totals_consistent"] is True
    assert wrong > 0


def test_supermarket_items_carry_their_gst_status(truths):
    statuses = Counter()
    for truth in truths:
        items = truth["fields"]["items"]
        if truth["generator"]["family"] == "supermarket_gst":
            statuses.update(item["gst_status"] for item in items)
        else:
            assert all("gst_status" not in item for item in items)
    assert set(statuses) == {"taxable", "gst_free"}


def test_family_specifics(truths):
    by_family = {f: [t for t in truths if t["generator"]["family"] == f] for f in FAMILIES}
    for truth in by_family["tradie_whole_dollars"]:
        for name in ("subtotal", "gst", "total"):
            assert truth["fields"][name] is None or truth["fields"][name].endswith(".00")
    assert any(Decimal(t["fields"]["total"]) >= 1000 for t in by_family["tradie_whole_dollars"])
    for truth in by_family["cafe_rounding"]:
        assert any(n.startswith("cash rounding") for n in truth["generator"]["notes"])
        assert truth["fields"]["payment_method"] == "CASH"
    for truth in by_family["fuel_docket"]:
        assert truth["document_type"] == "fuel_receipt" and truth["fields"]["litres"]
    verdicts = Counter(t["compliance"]["verdict"] for t in truths)
    assert set(verdicts) == {"compliant", "non_compliant", "not_required", "review"}, verdicts


# -------------------------------------------------------------------------------------------
# boxes, read back
# -------------------------------------------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


@pytest.fixture(scope="module")
def ocr():
    pytest.importorskip("rapidocr")
    from llama_vision.engines.ocr import OcrEngine

    engine = OcrEngine(load_settings(engine="ocr"))
    yield engine
    engine.unload()


def _read_crop(ocr, image: Image.Image, box: list[int]) -> str:
    crop = image.crop(box)
    crop = ImageOps.expand(crop, border=24, fill=image.getpixel((2, 2)))
    return " ".join(b.text for b in ocr.ocr_boxes(crop))


@pytest.mark.parametrize("family", ["invoice_two_column", "tradie_whole_dollars", "supermarket_gst", "thermal_centred"])
def test_clean_render_boxes_hold_their_values(ocr, family):
    rng = random.Random(f"box-check-{family}")
    doc = make_family_document(rng, family, abn="valid", date=True, gst_style="amount")
    image, boxes, texts = render_family(doc, rng, long_side=1400, clean=True)
    for name in ("supplier_name", "supplier_abn", "date", "total", "gst"):
        read = _read_crop(ocr, image, boxes[name])
        assert _squash(texts[name]) in _squash(read), (family, name, texts[name], read)


def test_boxes_follow_perspective_and_rotation(ocr):
    rng = random.Random("box-check-photo")
    doc = make_family_document(rng, "invoice_bordered", abn="valid", date=True, gst_style="amount")
    doc.style.update(photo=True, angle=3.0, blur=0.0, shade=0.0)
    doc.style["effects"].update(perspective=True, shadow=False, jpeg=False, low_resolution=False)
    image, boxes, texts = render_family(doc, rng, long_side=1600)
    for name in ("total", "supplier_abn"):
        read = _read_crop(ocr, image, boxes[name])
        assert _squash(texts[name]) in _squash(read), (name, texts[name], read)


def test_the_family_benchmark_groups_evaluate_by_family(ocr, tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.generated_families import FIELDS, by_family
    from llama_vision.evaluation import evaluate

    gen.generate_documents(tmp_path, 2, seed=8, families=["fuel_docket", "tradie_whole_dollars"], max_side=900)
    report = evaluate(tmp_path, engine=ocr, progress=False).to_dict(details=True)
    table = by_family(tmp_path, report["details"])
    assert set(table) == {"fuel_docket", "tradie_whole_dollars", "all"}
    assert table["all"]["documents"] == 2 and table["fuel_docket"]["documents"] == 1
    for name in FIELDS:
        present = sum(table[f][name]["present"] for f in ("fuel_docket", "tradie_whole_dollars"))
        assert table["all"][name]["present"] == present
    assert 0 <= table["all"]["compliance_exact"] <= 1

"""Duplicates through run_batch (issue I item 6): the `duplicate_of` column, the `duplicate`
check, the summary line, and GST claimable counting each document once.

ATO rule checked: one GST credit per taxable supply, however often its tax invoice is submitted.
"""

from __future__ import annotations

import random
from pathlib import Path

from llama_vision import batch, pipeline
from llama_vision.batch import read_rows, run_batch
from llama_vision.result import Result
from llama_vision.samples.render import render_document
from tests.fakes import FakeEngine, fake_settings
from tests.test_duplicates import _jpeg, _rephotographed, _same_shop


def _result(path: Path, **fields: object) -> Result:
    base = {"supplier_name": "Harvest Foods", "gst": "4.00", "total": "44.00"}
    base.update(fields)
    return Result(file=str(path), engine="fake", prompt="key_value", document_type="tax_invoice", fields=base,
                  compliance={"verdict": "compliant", "score": 100, "checks": [], "recommendations": []}, pages=1)


def test_duplicate_rule_batch_flags_a_rephotographed_copy_and_counts_its_gst_once(tmp_path, monkeypatch) -> None:
    doc, other = _same_shop(4, "supermarket")
    folder = tmp_path / "in"
    folder.mkdir()
    _jpeg(render_document(doc, random.Random(4)), 85).save(folder / "a.jpg")
    _rephotographed(doc, 4).save(folder / "b.jpg")
    _jpeg(render_document(other, random.Random(5)), 85).save(folder / "c.jpg")
    (folder / "d.jpg").write_bytes((folder / "c.jpg").read_bytes())  # stands for a PDF of the same invoice
    # The readings differ (OCR misread b's total; d is another reading), so only the image or the
    # ABN + date + total can tell.
    readings = {"a.jpg": {"invoice_number": "1"}, "b.jpg": {"invoice_number": "7", "total": "41.00"},
                "c.jpg": {"supplier_abn": "51824753556", "date": "01/02/2024", "invoice_number": "2"},
                "d.jpg": {"supplier_abn": "51 824 753 556", "date": "01/02/2024", "invoice_number": None}}

    def scripted(paths, **options):  # noqa: ANN001, ANN003
        for index, path in enumerate(paths):
            yield index, _result(path, **readings[path.name])

    monkeypatch.setattr(pipeline, "extract_many", scripted)
    engine = FakeEngine(fake_settings(tmp_path))
    summary = run_batch(batch.collect_inputs(folder, settings=engine.settings, work_dir=tmp_path / "w"),
                        engine=engine, out_csv=tmp_path / "out.csv")
    rows = {row["file"]: row for row in read_rows(tmp_path / "out.csv")}
    assert rows["a.jpg"]["duplicate_of"] is None and rows["c.jpg"]["duplicate_of"] is None
    assert rows["b.jpg"]["duplicate_of"] == "a.jpg"
    assert rows["d.jpg"]["duplicate_of"] == "c.jpg"
    assert "near-identical image" in rows["b.jpg"]["warnings"]
    assert "Claim the GST credit once" in rows["b.jpg"]["recommendations"]
    assert summary.summary["duplicates"] == 2
    assert summary.summary["gst_claimable"] == "8.00"  # a and c, not their copies


def test_duplicate_rule_a_resumed_batch_knows_the_rows_it_keeps(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(b"\x89PNG")
    same = {"supplier_abn": "51824753556", "date": "01/02/2024"}

    def scripted(paths, **options):  # noqa: ANN001, ANN003
        for index, path in enumerate(paths):
            yield index, _result(path, **same)

    monkeypatch.setattr(pipeline, "extract_many", scripted)
    engine = FakeEngine(fake_settings(tmp_path))
    run_batch([folder / "a.png"], engine=engine, out_csv=tmp_path / "out.csv", base=folder)
    run_batch([folder / "a.png", folder / "b.png"], engine=engine, out_csv=tmp_path / "out.csv", resume=True,
              base=folder)
    rows = {row["file"]: row for row in read_rows(tmp_path / "out.csv")}
    assert rows["b.png"]["duplicate_of"] == "a.png"


def test_duplicate_rule_the_pipeline_hands_batch_its_first_page_unserialised(tmp_path) -> None:
    from PIL import Image

    from llama_vision.pipeline import extract
    from tests.test_pipeline import GOOD_ANSWER, classifying_responder

    engine = FakeEngine(fake_settings(tmp_path), responder=classifying_responder(GOOD_ANSWER))
    result = extract(Image.new("RGB", (1200, 1600), "white"), engine=engine, file_name="inv.png")
    page = result._first_page
    assert page is not None and page.mode == "L" and max(page.size) == 800
    assert "_first_page" not in result.to_json()

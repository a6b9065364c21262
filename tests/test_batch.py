"""batch.py and safe_zip.py: inputs, safe ZIP extraction, the crash-safe CSV, resume, XLSX, summary.

Most tests replace the pipeline seam (`pipeline.extract_many`) with a scripted generator so they
test the batch's own behaviour exactly; the last ones go through the real pipeline with
FakeEngine."""

from __future__ import annotations

import csv
import json
import stat
import threading
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from llama_vision import pipeline
from llama_vision.batch import (
    COLUMNS,
    collect_inputs,
    flatten_result,
    read_rows,
    results_frame,
    run_batch,
    summarise,
)
from llama_vision.errors import DocumentError
from llama_vision.result import Result
from llama_vision.safe_zip import extract_zip
from tests.fakes import FakeEngine, fake_settings

EXTENSIONS = (".jpg", ".jpeg", ".png", ".pdf")


def png(path: Path, colour: str = "white") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), colour).save(path)
    return path


def ok_result(path: Path, *, verdict: str = "compliant", gst: str | None = "10.00", seconds: float = 0.5) -> Result:
    return Result(
        file=str(path), engine="fake", prompt="key_value", document_type="tax_invoice",
        fields={"supplier_name": f"Shop {path.stem}", "gst": gst, "total": "110.00", "tax_invoice_label": True,
                "items": [{"description": "Widget", "quantity": "1", "unit_price": "100.00", "amount": "100.00"}]},
        compliance={"abn_valid": True, "gst_consistent": True, "totals_consistent": None, "date_valid": True,
                    "tax_invoice_required": True, "missing_elements": ["supplier_abn", "buyer_identity"],
                    "score": 80, "verdict": verdict, "recommendations": ["Ask for the ABN.", "Ask; for the buyer"]},
        timings={"load": 0.1, "total": seconds}, warnings=["first\nwarning", "second"], pages=1,
    )


class ScriptedPipeline:
    """Stands in for pipeline.extract_many: a file whose content starts with b'BAD' fails."""

    def __init__(self) -> None:
        self.seen: list[Path] = []

    def __call__(self, paths, *, engine, prompt_style, concurrency):  # noqa: ANN001
        for index, path in enumerate(paths):
            self.seen.append(path)
            if path.read_bytes().startswith(b"BAD"):
                yield index, Result.failed(str(path), "fake", prompt_style, f"'{path.name}' is a text file, not an image")
            else:
                yield index, ok_result(path)


@pytest.fixture
def settings(tmp_path):
    return fake_settings(tmp_path)


@pytest.fixture
def engine(settings):
    return FakeEngine(settings)


@pytest.fixture
def scripted(monkeypatch) -> ScriptedPipeline:
    fake = ScriptedPipeline()
    monkeypatch.setattr(pipeline, "extract_many", fake)
    return fake


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- the table -------------------------------------------------------------------------------


def test_columns_are_unique_and_cover_the_result_contract():
    assert len(COLUMNS) == len(set(COLUMNS))
    for name in ("file", "engine", "prompt", "status", "error", "document_type", "supplier_abn", "items", "bsb",
                 "missing_elements", "verdict", "score", "seconds", "warnings"):
        assert name in COLUMNS


def test_flatten_result_one_column_per_field_items_as_json(tmp_path):
    row = flatten_result(ok_result(tmp_path / "a.png"))
    assert list(row) == list(COLUMNS)
    assert row["supplier_name"] == "Shop a"
    assert json.loads(row["items"])[0]["description"] == "Widget"
    assert row["missing_elements"] == "supplier_abn;buyer_identity"
    assert row["verdict"] == "compliant" and row["score"] == 80.0 and row["seconds"] == 0.5
    assert row["tax_invoice_label"] is True and row["totals_consistent"] is None
    assert row["warnings"] == "first warning | second"  # one line per row, always


def test_flatten_failed_result():
    row = flatten_result(Result.failed("x.jpg", "ocr", "rules", "broken\nfile"))
    assert row["status"] == "error" and row["error"] == "broken file" and row["verdict"] is None


# -- collecting inputs ---------------------------------------------------------------------


def test_collect_folder_recursive_sorted_documents_only(tmp_path, settings):
    folder = tmp_path / "in"
    for name in ("b.png", "a.png", "sub/c d.png", "sub/ünï €$(x).png", ".hidden.png", "__MACOSX/z.png"):
        png(folder / name)
    (folder / "notes.txt").write_text("not a document")
    (folder / "truth.json").write_text("{}")
    (folder / "sub" / "inner.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    found = collect_inputs(folder, settings=settings, work_dir=tmp_path / "work")
    names = [p.relative_to(folder).as_posix() for p in found]
    assert names == ["a.png", "b.png", "sub/c d.png", "sub/inner.zip", "sub/ünï €$(x).png"]
    assert list(found.rejected) == [folder / "sub" / "inner.zip"]
    assert "not expanded" in found.rejected[folder / "sub" / "inner.zip"]
    assert collect_inputs(folder, settings=settings, work_dir=tmp_path / "work") == found  # stable


def test_collect_empty_folder_and_missing_path_are_one_line_errors(tmp_path, settings):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DocumentError, match="No documents"):
        collect_inputs(tmp_path / "empty", settings=settings, work_dir=tmp_path / "w")
    with pytest.raises(DocumentError, match="not found"):
        collect_inputs(tmp_path / "nope.zip", settings=settings, work_dir=tmp_path / "w")


def test_collect_list_of_files_keeps_order_and_missing_ones(tmp_path, settings):
    a, b = png(tmp_path / "a.png"), png(tmp_path / "b.png")
    found = collect_inputs([b, tmp_path / "missing.png", a], settings=settings, work_dir=tmp_path / "w")
    assert list(found) == [b, tmp_path / "missing.png", a]  # the missing one becomes an error row


# -- ZIP safety ------------------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def png_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_zip_extracts_documents_with_odd_names_and_skips_the_rest(tmp_path, settings):
    archive = make_zip(tmp_path / "batch.zip", {
        "receipts/a b.png": png_bytes(),
        "receipts/ünïcödé ; $(rm -rf) `x` 'q'.png": png_bytes(),
        "README.txt": b"hello",
        "__MACOSX/receipts/._a b.png": b"junk",
        "inner.zip": make_zip(tmp_path / "inner.zip", {"x.png": png_bytes()}).read_bytes(),
    })
    found = collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")
    names = sorted(p.relative_to(found.base).as_posix() for p in found)
    assert names == ["inner.zip", "receipts/a b.png", "receipts/ünïcödé ; $(rm -rf) `x` 'q'.png"]
    assert all(p.is_file() and p.is_relative_to(tmp_path / "work") for p in found)
    nested = next(p for p in found if p.name == "inner.zip")
    assert "nested ZIP" in found.rejected[nested]
    assert not (nested.parent / "x.png").exists()  # never expanded
    assert any("README.txt" in note for note in found.notes)


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/etc/evil.png", "C:/evil.png", "..\\evil.png"])
def test_zip_with_escaping_member_is_refused_before_writing(tmp_path, settings, name):
    archive = make_zip(tmp_path / "evil.zip", {"good.png": png_bytes(), name: png_bytes()})
    work = tmp_path / "deep" / "work"
    with pytest.raises(DocumentError, match="refusing to extract") as caught:
        collect_inputs(archive, settings=settings, work_dir=work)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "deep" / "evil.png").exists()
    assert not work.exists() or not any(work.rglob("*.png"))  # nothing extracted at all


def test_zip_with_symlink_is_refused(tmp_path, settings):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.png", png_bytes())
        info = zipfile.ZipInfo("link.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DocumentError, match="symbolic link"):
        collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")


def test_zip_bomb_by_ratio_is_refused(tmp_path, settings):
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.png": b"\0" * (20 * 1024 * 1024)})
    assert archive.stat().st_size < 100_000
    with pytest.raises(DocumentError, match="ZIP bomb"):
        collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")


def test_zip_bomb_by_total_size_and_member_count(tmp_path):
    archive = make_zip(tmp_path / "many.zip", {f"{i}.png": png_bytes() for i in range(30)})
    with pytest.raises(DocumentError, match="entries"):
        extract_zip(archive, tmp_path / "w1", extensions=EXTENSIONS, max_file_bytes=10**6, max_members=10)
    with pytest.raises(DocumentError, match="expand to more than"):
        extract_zip(archive, tmp_path / "w2", extensions=EXTENSIONS, max_file_bytes=10**6, max_total_bytes=1_000)


def test_zip_member_over_the_file_cap_becomes_an_error_row(tmp_path, scripted, engine):
    settings = fake_settings(tmp_path, max_file_mb=0.001)  # about 1 KB
    import os

    archive = make_zip(tmp_path / "big.zip", {"big.png": os.urandom(4096), "small.png": png_bytes()[:500]})
    found = collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")
    summary = run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    rows = {r["file"]: r for r in csv_rows(tmp_path / "out.csv")}
    assert rows["big.png"]["status"] == "error" and "MAX_FILE_MB" in rows["big.png"]["error"]
    assert rows["small.png"]["status"] == "ok"
    assert [p.name for p in scripted.seen] == ["small.png"]  # the oversized member never reached the engine
    assert summary.errors == 1


def test_not_a_zip_is_a_one_line_error(tmp_path, settings):
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    with pytest.raises(DocumentError, match="not a readable ZIP"):
        collect_inputs(fake, settings=settings, work_dir=tmp_path / "work")


# -- running ---------------------------------------------------------------------------------


def test_bad_file_becomes_an_error_row_and_the_run_goes_on(tmp_path, settings, engine, scripted):
    folder = tmp_path / "in"
    png(folder / "a.png"), png(folder / "c.png")
    (folder / "b.png").write_bytes(b"BAD not an image")
    found = collect_inputs(folder, settings=settings, work_dir=tmp_path / "w")
    summary = run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    rows = csv_rows(tmp_path / "out.csv")
    assert [r["file"] for r in rows] == ["a.png", "b.png", "c.png"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert "text file" in rows[1]["error"]
    assert rows[0]["missing_elements"] == "supplier_abn;buyer_identity" and rows[0]["tax_invoice_label"] == "true"
    assert (summary.processed, summary.errors, summary.skipped, summary.stopped) == (3, 1, 0, False)
    assert summary.summary["errors"] == 1 and summary.summary["by_verdict"] == {"compliant": 2}


def test_each_row_is_on_disk_before_the_next_document(tmp_path, settings, engine, scripted):
    for name in "abcd":
        png(tmp_path / "in" / f"{name}.png")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    out = tmp_path / "out.csv"
    seen_on_disk = []

    def progress(done, total, result):
        seen_on_disk.append((done, total, len(out.read_text(encoding="utf-8").splitlines()) - 1))

    run_batch(found, engine=engine, out_csv=out, progress=progress)
    assert seen_on_disk == [(1, 4, 1), (2, 4, 2), (3, 4, 3), (4, 4, 4)]


def test_stop_event_ends_cleanly_and_resume_finishes_without_duplicates(tmp_path, settings, engine, scripted):
    for i in range(6):
        png(tmp_path / "in" / f"{i}.png")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    out = tmp_path / "out.csv"
    stop = threading.Event()

    def progress(done, total, result):
        if done == 2:
            stop.set()

    first = run_batch(found, engine=engine, out_csv=out, progress=progress, stop_event=stop)
    assert first.stopped and first.processed == 2
    assert [r["file"] for r in csv_rows(out)] == ["0.png", "1.png"]

    scripted.seen.clear()
    second = run_batch(found, engine=engine, out_csv=out, resume=True)
    assert (second.skipped, second.processed, second.stopped) == (2, 4, False)
    assert [p.name for p in scripted.seen] == ["2.png", "3.png", "4.png", "5.png"]
    assert [r["file"] for r in csv_rows(out)] == [f"{i}.png" for i in range(6)]

    third = run_batch(found, engine=engine, out_csv=out, resume=True)  # nothing left to do
    assert (third.skipped, third.processed) == (6, 0)
    assert len(csv_rows(out)) == 6


def test_without_resume_the_csv_starts_afresh(tmp_path, settings, engine, scripted):
    png(tmp_path / "in" / "a.png")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    assert len(csv_rows(tmp_path / "out.csv")) == 1


def test_resume_cuts_a_torn_last_line_and_redoes_that_document(tmp_path, settings, engine, scripted):
    for name in "abc":
        png(tmp_path / "in" / f"{name}.png")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    out = tmp_path / "out.csv"
    run_batch(found, engine=engine, out_csv=out)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:25], encoding="utf-8")  # killed while writing c.png
    scripted.seen.clear()
    run_batch(found, engine=engine, out_csv=out, resume=True)
    assert [p.name for p in scripted.seen] == ["c.png"]
    assert [r["file"] for r in csv_rows(out)] == ["a.png", "b.png", "c.png"]


def test_resume_refuses_a_csv_with_other_columns(tmp_path, settings, engine, scripted):
    png(tmp_path / "in" / "a.png")
    (tmp_path / "out.csv").write_text("name,total\nx,1\n")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    with pytest.raises(DocumentError, match="columns differ"):
        run_batch(found, engine=engine, out_csv=tmp_path / "out.csv", resume=True)


def test_resume_keys_survive_a_fresh_extraction_folder(tmp_path, settings, engine, scripted):
    archive = make_zip(tmp_path / "b.zip", {"x/1.png": png_bytes(), "x/2.png": png_bytes()})
    out = tmp_path / "out.csv"
    run_batch(collect_inputs(archive, settings=settings, work_dir=tmp_path / "run1"), engine=engine, out_csv=out)
    scripted.seen.clear()
    again = run_batch(collect_inputs(archive, settings=settings, work_dir=tmp_path / "run2"), engine=engine,
                      out_csv=out, resume=True)
    assert again.skipped == 2 and scripted.seen == []
    assert [r["file"] for r in csv_rows(out)] == ["x/1.png", "x/2.png"]


def test_a_crashing_pipeline_still_gives_one_row_per_document(tmp_path, settings, engine, monkeypatch):
    for name in "abc":
        png(tmp_path / "in" / f"{name}.png")

    def crashing(paths, **kwargs):
        yield 0, ok_result(paths[0])
        raise RuntimeError("worker died")

    def one(path, *, engine, prompt_style):
        if path.name == "c.png":
            raise ValueError("still broken")
        return ok_result(path)

    monkeypatch.setattr(pipeline, "extract_many", crashing)
    monkeypatch.setattr(pipeline, "extract", one)
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    summary = run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    rows = csv_rows(tmp_path / "out.csv")
    assert [(r["file"], r["status"]) for r in rows] == [("a.png", "ok"), ("b.png", "ok"), ("c.png", "error")]
    assert "still broken" in rows[2]["error"] and summary.errors == 1


def test_formula_text_is_defused_in_csv_and_restored_on_read(tmp_path, settings, engine, monkeypatch):
    png(tmp_path / "in" / "a.png")
    nasty = ["=HYPERLINK(\"http://x\")", "'=already", "-rm", "@SUM(A1)", "plain"]

    def scripted(paths, **kwargs):
        result = ok_result(paths[0])
        result.fields["supplier_name"], result.fields["supplier_address"], result.fields["buyer_name"], \
            result.fields["invoice_number"], result.fields["payment_method"] = nasty
        result.fields["total"] = "-5.00"
        yield 0, result

    monkeypatch.setattr(pipeline, "extract_many", scripted)
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    run_batch(found, engine=engine, out_csv=tmp_path / "out.csv", xlsx=tmp_path / "out.xlsx")
    raw = csv_rows(tmp_path / "out.csv")[0]
    assert raw["supplier_name"].startswith("'=") and raw["buyer_name"] == "'-rm" and raw["total"] == "-5.00"
    typed = read_rows(tmp_path / "out.csv")[0]
    assert [typed[k] for k in ("supplier_name", "supplier_address", "buyer_name", "invoice_number",
                               "payment_method")] == nasty

    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "out.xlsx")["Results"]
    cell = sheet.cell(row=2, column=COLUMNS.index("supplier_name") + 1)
    assert cell.data_type == "s" and cell.value == nasty[0]


def test_xlsx_has_results_and_summary_sheets(tmp_path, settings, engine, scripted):
    png(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "b.png").write_bytes(b"BAD")
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    run_batch(found, engine=engine, out_csv=tmp_path / "out.csv", xlsx=tmp_path / "out.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["Results", "Summary"]
    results = book["Results"]
    assert [c.value for c in results[1]] == list(COLUMNS)
    assert results.max_row == 3
    gst = results.cell(row=2, column=COLUMNS.index("gst") + 1)
    assert gst.value == 10.0 and gst.number_format == "0.00"
    assert results.cell(row=2, column=COLUMNS.index("tax_invoice_label") + 1).value is True
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["documents"] == 2 and summary["errors"] == 1 and summary["GST claimable (compliant)"] == "10.00"


def test_unwritable_output_is_a_one_line_error(tmp_path, settings, engine, scripted):
    from llama_vision.errors import LlamaVisionError

    png(tmp_path / "in" / "a.png")
    (tmp_path / "taken").mkdir()
    found = collect_inputs(tmp_path / "in", settings=settings, work_dir=tmp_path / "w")
    with pytest.raises(LlamaVisionError, match="Cannot write"):
        run_batch(found, engine=engine, out_csv=tmp_path / "taken")
    with pytest.raises(LlamaVisionError, match="Cannot write"):
        run_batch(found, engine=engine, out_csv=tmp_path / "out.csv", xlsx=tmp_path / "taken")


# -- summary and frames --------------------------------------------------------------------


def test_summarise_counts_verdicts_gst_on_compliant_and_mean_seconds(tmp_path):
    rows = [
        flatten_result(ok_result(tmp_path / "a.png", gst="10.00", seconds=1.0)),
        flatten_result(ok_result(tmp_path / "b.png", gst="2.55", seconds=2.0)),
        flatten_result(ok_result(tmp_path / "c.png", verdict="non_compliant", gst="99.00", seconds=3.0)),
        flatten_result(ok_result(tmp_path / "d.png", verdict="not_required", gst="1.00", seconds=2.0)),
        flatten_result(Result.failed("e.png", "fake", "key_value", "broken")),
    ]
    summary = summarise(rows)
    assert summary["documents"] == 5 and summary["ok"] == 4 and summary["errors"] == 1
    assert summary["by_verdict"] == {"compliant": 2, "non_compliant": 1, "not_required": 1}
    assert summary["gst_claimable"] == "12.55" and summary["gst_not_required"] == "1.00"
    assert summary["mean_seconds"] == 2.0
    json.dumps(summary)
    # rows read back from a CSV (strings) give the same summary
    assert summarise([{k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows])["gst_claimable"] == "12.55"
    assert summarise([])["documents"] == 0


def test_results_frame_has_the_columns_and_types_for_the_ui(tmp_path):
    frame = results_frame([ok_result(tmp_path / "a.png"), Result.failed("b.png", "fake", "json", "x")])
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2
    assert frame["score"].dtype.kind == "f" and str(frame["abn_valid"].dtype) == "boolean"
    assert frame.loc[0, "gst"] == "10.00"  # money stays "10.00", not 10.0


# -- through the real pipeline with FakeEngine --------------------------------------------------


def _pipeline_ready() -> None:
    for module in ("llama_vision.pipeline", "llama_vision.prompts", "llama_vision.parsing", "llama_vision.compliance"):
        pytest.importorskip(module)


KEY_VALUE = (
    "DOCUMENT_TYPE: TAX INVOICE\nSUPPLIER_NAME: Acme Hardware Pty Ltd\nSUPPLIER_ABN: 51 824 753 556\n"
    "DATE: 15/03/2024\nSUBTOTAL: $100.00\nGST: $10.00\nTOTAL: $110.00\n"
)


def test_real_pipeline_good_and_bad_files(tmp_path, settings):
    _pipeline_ready()
    folder = tmp_path / "in"
    png(folder / "a.png"), png(folder / "c.png")
    (folder / "b.png").write_text("this is not an image")
    engine = FakeEngine(settings, responder=lambda prompt: KEY_VALUE)
    found = collect_inputs(folder, settings=settings, work_dir=tmp_path / "w")
    summary = run_batch(found, engine=engine, prompt_style="key_value", out_csv=tmp_path / "out.csv",
                        xlsx=tmp_path / "out.xlsx")
    rows = sorted(csv_rows(tmp_path / "out.csv"), key=lambda r: r["file"])  # written in order of completion
    assert [r["file"] for r in rows] == ["a.png", "b.png", "c.png"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"], rows[0]["error"]
    assert rows[1]["error"] and "\n" not in rows[1]["error"]
    assert rows[0]["engine"] == "fake" and rows[0]["prompt"] == "key_value"
    assert rows[0]["supplier_name"] == "Acme Hardware Pty Ltd" and rows[0]["total"] == "110.00"
    assert summary.processed == 3 and summary.errors == 1 and (tmp_path / "out.xlsx").is_file()

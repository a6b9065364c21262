"""The Batch tab's handlers without a browser: the summary's counts and wall-clock time, the
coloured verdict cells and amounts, Resume (carries on in the same run folder without reading a
finished document again) and the row detail (rebuilt from the saved Result and the document)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from llama_vision import batch
from llama_vision.result import FieldEvidence, Result
from llama_vision.ui import batch_folder, batch_views, common, tab_batch
from llama_vision.ui.state import AppState
from tests.fakes import FakeEngine, fake_settings

SESSION = "test-session"


@pytest.fixture(autouse=True)
def output_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "llama_vision_ui"
    monkeypatch.setattr(common, "OUTPUT_ROOT", root)
    return root


def _documents(folder: Path, count: int) -> list[Path]:
    """Documents of different widths, so the fake engine's calls say which one it read."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"doc{i:02d}.png"
        Image.new("RGB", (200 + i, 120), "white").save(path)
        paths.append(path)
    return paths


def _drain(updates) -> tuple:
    outputs = list(updates)
    return outputs[-1]


def _row(file: str, verdict: str | None, *, status: str = "ok", seconds: float = 1.0, **extra) -> dict:
    result = Result(file=file, engine="fake", prompt="key_value", status=status, error=None if status == "ok" else "bad",
                    fields={"total": "2288.00", "gst": "208.00"}, timings={"total": seconds},
                    compliance={"verdict": verdict, "score": 90, "missing_elements": []} if verdict else None, **extra)
    return batch.flatten_result(result)


# -- summary, times, cells --------------------------------------------------------------------


def test_the_summary_counts_verdicts_failures_and_reviews():
    rows = [_row("a.png", "compliant"), _row("b.png", "compliant"), _row("c.png", "non_compliant"),
            _row("d.png", None, status="error")]
    rows[2]["needs_review"], rows[2]["review_reasons"] = True, "low-confidence total (0.41)"
    text = batch_views.summary_markdown(batch.summarise(rows))
    assert "4 documents — 3 read, 1 failed" in text
    assert "Compliant: **2**" in text and "Not compliant: **1**" in text
    assert "1 of 3 need a look" in text
    assert "$416.00" in text  # GST on the two compliant documents, as money


def test_the_total_time_is_the_runs_wall_clock_not_the_sum_of_document_times(tmp_path):
    """A resumed run whose CSV holds three documents of 100 s each reads nothing: its wall clock
    is a moment, while the rows' sum is 300 s. The summary's time is the wall clock."""
    paths = _documents(tmp_path / "docs", 3)
    out = tmp_path / "results.csv"
    writer = batch.CsvAppender(out, resume=False)
    for path in paths:
        writer.append(_row(path.name, "compliant", seconds=100.0))
    writer.close()
    report = batch.run_batch(paths, engine=FakeEngine(fake_settings(tmp_path)), out_csv=out, resume=True)
    summary = report.summary
    assert report.skipped == 3 and summary["total_seconds"] == 300.0
    assert summary["wall_seconds"] == pytest.approx(report.seconds, abs=1e-3) and summary["wall_seconds"] < 60
    line = batch_views.times_line(summary)
    assert line.startswith(f"Time: **{summary['wall_seconds']:.1f} s** wall clock") and "100.00 s** per document" in line
    assert "5 min 0 s of document time" in line


def test_times_read_in_minutes_and_say_which_is_which():
    line = batch_views.times_line({"wall_seconds": 192.0, "mean_seconds": 0.9, "total_seconds": 180.0})
    assert line == "Time: **3 min 12 s** wall clock, **0.90 s** per document"


def test_verdict_cells_are_coloured_and_amounts_do_not_break():
    rows = [_row("a.png", "compliant"), _row("b.png", "non_compliant"), _row("c.png", "review"),
            _row("d.png", None, status="error")]
    frame = batch_views.table(rows)
    verdicts = list(frame["Verdict"])
    for cell, css in zip(verdicts, ("lv-ok", "lv-bad", "lv-warn", "lv-err"), strict=True):
        assert f"lv-verdict {css}" in cell
    assert ">Compliant<" in verdicts[0] and ">Could not read<" in verdicts[3]  # words, not only colour
    assert frame["Total"].iloc[0] == "$2,288.00" and " " not in frame["Total"].iloc[0]
    assert batch_views.DATATYPES[batch_views.HEADINGS.index("Verdict")] == "html"
    assert batch_views.DATATYPES[batch_views.HEADINGS.index("Supplier")] == "str"  # document text stays text


def test_the_needs_review_filter_keeps_flagged_rows_only():
    rows = [_row("a.png", "compliant"), _row("b.png", "compliant")]
    rows[1]["needs_review"], rows[1]["review_reasons"] = True, "missing ABN | low-confidence total (0.4)"
    shown = batch_views.table(rows, batch_views.NEEDS_REVIEW)
    assert list(shown["File"]) == ["b.png"] and shown["Review"].iloc[0] == "missing ABN; low-confidence total (0.4)"


def test_twenty_files_read_as_one_line(tmp_path):
    paths = _documents(tmp_path / "up", 20)
    label, names = batch_views.files_summary([str(p) for p in paths])
    size = sum(p.stat().st_size for p in paths)
    assert label.startswith("20 files, ") and f"{size / 1024:.0f} KB" in label
    assert names.count("<li>") == 20 and "doc19.png" in names
    assert batch_views.files_summary(None)[0] == "No files chosen"


# -- Resume -------------------------------------------------------------------------------------


def test_resume_carries_on_without_reading_a_finished_document_again(tmp_path):
    paths = _documents(tmp_path / "docs", 8)
    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings))

    def stop_after_three(prompt: str) -> str:
        if len(state.engine.calls) >= 3:
            state.request_stop(SESSION)  # as the Stop button does, mid-run
        return "SUPPLIER: Shop\nTOTAL: $1.00"

    state.engine.responder = stop_after_three
    first = _drain(tab_batch.batch_updates(state, [str(p) for p in paths], None, "all", SESSION))
    run_id = first[-1]
    run = batch_folder.open_run(run_id)
    done_first = [r["file"] for r in batch.read_rows(run.out_csv)]
    read_first = {size[0] for _, size in state.engine.calls}
    assert 1 <= len(done_first) < 8 and run.manifest()["state"] == "stopped"
    assert "stopped early" in first[1]

    state.engine.calls.clear()
    state.engine.responder = None
    state.engine.outputs = ["SUPPLIER: Shop\nTOTAL: $1.00"]
    last = _drain(tab_batch.resume_updates(state, run_id, "all", SESSION))
    read_second = {size[0] for _, size in state.engine.calls}
    rows = batch.read_rows(run.out_csv)
    assert last[-1] == run_id  # the same run folder
    width = {p.name: 200 + i for i, p in enumerate(paths)}
    assert {width[name] for name in done_first} <= read_first
    # exactly what the first run had not finished: nothing on disk is read again (a document
    # that was in flight when Stop came is, as with the CLI's --resume)
    assert read_second == set(width.values()) - {width[name] for name in done_first}
    assert [r["file"] for r in rows][: len(done_first)] == done_first  # the first rows kept as they were
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in paths)  # each document once
    assert run.manifest()["state"] == "done" and "8 of 8" in last[0]
    assert f"{len(done_first)} done before the resume" in last[1]


def test_resume_refuses_a_run_that_is_not_there(tmp_path):
    import gradio as gr

    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings))
    for bad in (None, "../etc", "run_../../x", "run_12-nothere", {"a": 1}):
        with pytest.raises(gr.Error, match="no batch to resume"):
            _drain(tab_batch.resume_updates(state, bad, "all", SESSION))


def test_a_new_run_removes_the_sessions_previous_run_folder(tmp_path):
    paths = _documents(tmp_path / "docs", 2)
    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings, outputs=["TOTAL: $1.00"]))
    first = _drain(tab_batch.batch_updates(state, [str(paths[0])], None, "all", SESSION))[-1]
    second = _drain(tab_batch.batch_updates(state, [str(paths[1])], None, "all", SESSION))[-1]
    assert first != second and not (common.OUTPUT_ROOT / first).exists()
    assert (common.OUTPUT_ROOT / second / "inputs" / paths[1].name).is_file()  # kept for Resume and the detail


# -- row detail ---------------------------------------------------------------------------------


def test_a_row_opens_with_its_page_boxes_fields_and_reasons(tmp_path, monkeypatch):
    """The batch keeps each Result; opening a row rebuilds the Single tab's view from it and the
    document's first page, with the boxes the engine found (and none it did not)."""
    paths = _documents(tmp_path / "docs", 2)
    box = [10.0, 20.0, 90.0, 40.0]

    def with_evidence(items, **kwargs):
        for index, path in enumerate(items):
            evidence = {"total": FieldEvidence(confidence=0.4 + index / 10, page=0, box=[v + index for v in box],
                                               text="TOTAL 12.30"),
                        "supplier_name": FieldEvidence(confidence=0.9, page=0, box=None)}
            yield index, Result(file=str(path), engine="fake", prompt="key_value", document_type="receipt",
                                fields={"total": "12.30", "supplier_name": f"Shop {index}"}, evidence=evidence,
                                compliance={"verdict": "not_required", "score": 100, "missing_elements": []},
                                review={"needed": True, "fields": ["total"], "reasons": ["low-confidence total"]})

    monkeypatch.setattr(batch, "extract_many_safely", with_evidence)
    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings))
    last = _drain(tab_batch.batch_updates(state, [str(p) for p in paths], None, "all", SESSION))
    run_id, table = last[-1], last[5]
    second_row = list(table.iloc[1])
    shown, heading, image, fields, verdicts, _view = tab_batch.open_row(state, run_id, second_row)
    page, boxes = image["value"]
    assert shown["visible"] is True and "doc01.png" in heading
    assert page.size == (201, 120)  # the second document's own page
    assert boxes == [((11, 21, 91, 41), "Total")]  # its box, and no invented one for the supplier
    values = dict(zip(fields["Field"], fields["Confidence"], strict=True))
    assert values["Total"] == "50%" and values["Supplier"] == "90%"
    assert 'data-verdict="not_required"' in verdicts and "low-confidence total" in verdicts


def test_a_field_row_click_in_the_detail_leaves_only_its_box_and_a_second_click_all(tmp_path, monkeypatch):
    """The detail's fields table works as the Single tab's: one field's box, then every box again."""
    import gradio as gr

    path = _documents(tmp_path / "docs", 1)[0]

    def with_evidence(items, **kwargs):
        evidence = {"total": FieldEvidence(confidence=0.9, page=0, box=[10.0, 20.0, 90.0, 40.0], text="TOTAL 12.30"),
                    "date": FieldEvidence(confidence=0.8, page=0, box=[10.0, 50.0, 80.0, 60.0], text="30/11/26"),
                    "supplier_name": FieldEvidence(confidence=0.9, page=0, box=None)}
        yield 0, Result(file=str(path), engine="fake", prompt="key_value", document_type="receipt",
                        fields={"total": "12.30", "date": "2026-11-30", "supplier_name": "Shop"}, evidence=evidence)

    monkeypatch.setattr(batch, "extract_many_safely", with_evidence)
    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings))
    last = _drain(tab_batch.batch_updates(state, [str(path)], None, "all", SESSION))
    _shown, _heading, page, fields, _verdicts, view = tab_batch.open_row(state, last[-1], list(last[5].iloc[0]))
    assert sorted(label for _box, label in page["value"][1]) == ["Date", "Total"]  # every box at first

    def click(label: str) -> gr.SelectData:
        row = list(fields["Field"]).index(label)
        return gr.SelectData(None, {"index": [row, 0], "value": label, "selected": True})

    update, view = tab_batch.select_detail_field(view, click("Date"))
    assert update["value"][1] == [((10, 50, 80, 60), "Date")] and "Where Date was read" in update["label"]
    update, view = tab_batch.select_detail_field(view, click("Supplier"))
    assert update["value"][1] == [] and "not located" in update["label"]  # no box is invented for it
    update, view = tab_batch.select_detail_field(view, click("Supplier"))
    assert len(update["value"][1]) == 2 and update["label"] == tab_batch.DETAIL_PAGE_LABEL


def test_a_row_of_a_run_that_is_gone_says_so(tmp_path):
    import gradio as gr

    settings = fake_settings(tmp_path)
    state = AppState(settings, engine=FakeEngine(settings))
    with pytest.raises(gr.Error, match="no longer on the server"):
        tab_batch.open_row(state, "run_1-gone", ["doc00.png"])

"""UI logic without a browser: presentation of Results, the comparison table, the batch table,
live-token streaming from the pipeline's worker thread, and the cold-start rule (no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llama_vision.result import Result
from llama_vision.ui import tab_batch, tab_compare, views
from llama_vision.ui.common import page_index, path_of, run_streaming
from tests.fakes import FakeEngine, fake_settings

REPO = Path(__file__).resolve().parents[1]


def _result(**overrides) -> dict:
    fields = {"supplier_name": "Bunnings Warehouse", "supplier_abn": "51824753556", "date": "15/03/2024",
              "total": "110.00", "gst": "10.00", "subtotal": "100.00", "tax_invoice_label": True,
              "items": [{"description": "Hammer", "quantity": "1", "unit_price": "100.00", "amount": "100.00"}]}
    data = {"file": "r.png", "engine": "fake", "prompt": "key_value", "status": "ok", "document_type": "tax_invoice",
            "fields": fields, "raw_output": "SUPPLIER: Bunnings",
            "compliance": {"verdict": "compliant", "score": 100, "tax_invoice_required": True,
                           "missing_elements": [], "recommendations": ["Keep it for five years."],
                           "checks": [{"name": "ABN checksum", "status": "pass", "reason": "valid"},
                                      {"name": "Buyer identity", "status": "not_applicable", "reason": "under $1,000"}]},
            "timings": {"total": 1.25}, "usage": {"generated_tokens": 40, "tokens_per_second": 32.0}, "warnings": []}
    data.update(overrides)
    return data


def test_fields_frame_formats_money_abn_and_flags():
    frame = views.fields_frame(_result())
    values = dict(zip(frame["Field"], frame["Value"]))
    assert values["Supplier"] == "Bunnings Warehouse"
    assert values["Supplier ABN"] == "51 824 753 556"
    assert values["Total"] == "$110.00"
    assert values['Says "tax invoice"'] == "yes"
    assert values["Buyer"] == views.MISSING  # absent is shown as absent, not guessed
    assert "Litres" not in values  # fuel fields only for fuel receipts


def test_items_get_their_own_table():
    frame = views.items_frame(_result())
    assert list(frame.columns) == ["Description", "Quantity", "Unit price", "Amount"]
    assert frame.iloc[0].tolist() == ["Hammer", "1", "100.00", "100.00"]


def test_compliance_panel_shows_badge_checks_reasons_and_recommendations():
    html = views.compliance_html(_result())
    assert 'data-verdict="compliant"' in html and "lv-ok" in html
    assert "ABN checksum" in html and "valid" in html
    assert "not applicable" in html and "under $1,000" in html
    assert "Score <b>100</b>/100" in html
    assert "Keep it for five years." in html


def test_compliance_panel_without_checks_list_derives_from_booleans():
    data = _result(compliance={"verdict": "non_compliant", "score": 40, "abn_valid": False, "gst_consistent": None,
                               "missing_elements": ["supplier_abn"], "recommendations": []})
    html = views.compliance_html(data)
    assert "lv-bad" in html and "ABN checksum" in html and "fail" in html
    assert "the supplier&#x27;s ABN" in html


def test_error_result_is_shown_with_its_fix_it_message():
    data = Result.failed("bad.pdf", "ocr", "rules", "bad.pdf is encrypted. Remove the password.").to_dict()
    assert "Remove the password." in views.compliance_html(data)
    assert "Could not read" in views.summary_markdown(data)


def test_html_is_escaped():
    data = _result(fields={"supplier_name": "<script>alert(1)</script>"})
    data["compliance"]["recommendations"] = ["<b>x</b>"]
    assert "<script>" not in views.compliance_html(data)
    assert "<script>" not in tab_compare.comparison({"A": data}, None)[0]


def test_comparison_highlights_disagreements_and_scores_against_truth(tmp_path):
    from llama_vision.ui.scoring import load_truth

    truth_path = tmp_path / "t.json"
    truth_path.write_text(json.dumps({"fields": {"supplier_name": "Bunnings Warehouse", "total": "110.00"}}))
    truth = load_truth(truth_path)
    good = _result()
    bad = _result(fields={**good["fields"], "total": "11.00"})
    html, data = tab_compare.comparison({"KEY-VALUE": good, "JSON": bad}, truth)
    assert data["accuracy"] == {"KEY-VALUE": 1.0, "JSON": 0.5}
    total_row = next(r for r in data["rows"] if r["field"] == "total")
    assert total_row["disagree"] and total_row["right"] == {"KEY-VALUE": True, "JSON": False}
    assert "lv-wrong" in html and "lv-right" in html and "Accuracy" in html and "50%" in html


def test_comparison_shows_each_prompts_confidence_and_review_verdict():
    """A prompt whose Result measured a confidence shows it, coloured by the threshold; one that
    measured none shows "—" (never a made-up figure); each prompt's review verdict is its own."""
    import re

    sure = _result(evidence={"total": {"confidence": 0.93, "page": 0, "box": None, "source": "model"},
                             "gst": {"confidence": 0.41, "page": 0, "box": None, "source": "model"}},
                   review={"needed": True, "fields": ["gst"], "reasons": ["low-confidence GST (0.41 < 0.80)"]})
    unmeasured = _result()  # no evidence at all: an engine that reports no confidence
    html, data = tab_compare.comparison({"KEY-VALUE": sure, "JSON": unmeasured}, None, 0.8)
    rows = {row["field"]: row for row in data["rows"]}
    assert rows["total"]["confidence"] == {"KEY-VALUE": 0.93, "JSON": None}
    assert rows["gst"]["confidence"]["KEY-VALUE"] == 0.41
    total_cells = re.search(r"<tr><th>Total</th>(.*?)</tr>", html).group(1)
    first, second = re.findall(r"<td[^>]*>(.*?)</td>", total_cells)
    assert 'data-band="sure"' in first and "93%" in first
    assert 'data-band="unmeasured"' in second and "—" in second and "%" not in second
    gst_cells = re.search(r"<tr><th>GST</th>(.*?)</tr>", html).group(1)
    assert 'data-band="unsure"' in gst_cells and "41% low" in gst_cells
    assert data["review"] == {"KEY-VALUE": {"needed": True, "reasons": ["low-confidence GST (0.41 < 0.80)"]},
                              "JSON": {"needed": False, "reasons": []}}
    review_cells = re.search(r'<tr class="lv-review-row"><th>Review</th>(.*?)</tr>', html).group(1)
    assert review_cells.index('data-review="needed"') < review_cells.index('data-review="ok"')
    assert "low-confidence GST" in review_cells
    # the threshold decides the colour, not the figure: at 0.95 the same 93% is low
    assert "93% low" in tab_compare.comparison({"KEY-VALUE": sure}, None, 0.95)[0]


def test_metrics_row_reads_usage_and_parse_success():
    row = tab_compare.metrics_row("KEY-VALUE", _result(), 0.5)
    assert row == ["KEY-VALUE", "yes", 8, 1.25, 40, 32.0, "50%"]
    refused = _result(warnings=["The model refused, and the fallback prompt did not help; fields left empty."])
    assert tab_compare.metrics_row("JSON", refused, None)[1] == "no"


def test_batch_table_filter_and_counts():
    from llama_vision import batch

    ok = batch.flatten_result(Result.model_validate(_result()))
    failed = batch.flatten_result(Result.failed("x.pdf", "ocr", "rules", "x.pdf is empty. Re-export it."))
    rows = [ok, failed]
    frame = tab_batch.table(rows)
    assert list(frame.columns) == tab_batch.HEADINGS and len(frame) == 2
    assert frame.iloc[1]["Error"].startswith("x.pdf is empty")
    assert len(tab_batch.table(rows, "compliant")) == 1
    assert len(tab_batch.table(rows, "error")) == 1
    counts = tab_batch.verdict_counts(rows)
    assert dict(zip(counts["verdict"], counts["documents"])) == {
        "Compliant": 1, "Not compliant": 0, "Not required": 0, "Review": 0, "Error": 1}


def test_batch_folder_picker_stays_inside_batch_dir(tmp_path):
    import gradio as gr

    (tmp_path / "march").mkdir()
    assert tab_batch.folder_choices(str(tmp_path)) == [tab_batch.ROOT_FOLDER, "march"]
    assert tab_batch.resolve_folder(str(tmp_path), "march") == (tmp_path / "march").resolve()
    with pytest.raises(gr.Error):
        tab_batch.resolve_folder(str(tmp_path), "../..")


def test_run_streaming_yields_tokens_before_the_result(tmp_path, monkeypatch):
    from llama_vision import pipeline

    def fake_events(path, *, engine, **kwargs):
        for word in ("SUPPLIER: ", "Bunnings ", "TOTAL: ", "110.00"):
            yield pipeline.TokenEvent(word)
            time.sleep(0.2)
        yield pipeline.ResultEvent(Result.model_validate(_result(raw_output="SUPPLIER: Bunnings TOTAL: 110.00")))

    monkeypatch.setattr(pipeline, "extract_events", fake_events)
    engine = FakeEngine(fake_settings(tmp_path))
    seen = list(run_streaming(engine, "doc.png"))
    partial = [text for text, result in seen if result is None]
    assert partial and partial[0] != seen[-1][0]  # text arrived while the model was still going
    assert seen[-1][1] is not None and seen[-1][1].fields["total"] == "110.00"


def test_run_streaming_surfaces_pipeline_exceptions(tmp_path, monkeypatch):
    from llama_vision import pipeline
    from llama_vision.errors import EngineOutOfMemoryError

    def boom(*args, **kwargs):
        raise EngineOutOfMemoryError("Out of GPU memory.", hint="Use LLAMA_VISION_QUANTIZATION=4bit.")

    monkeypatch.setattr(pipeline, "extract_events", boom)
    with pytest.raises(EngineOutOfMemoryError):
        list(run_streaming(FakeEngine(fake_settings(tmp_path)), "doc.png"))


def test_handler_errors_become_gr_error_with_the_cli_text():
    import gradio as gr

    from llama_vision.errors import ModelLoadError
    from llama_vision.ui.layout import reports_errors

    @reports_errors
    def handler():
        raise ModelLoadError("No model in /x.", hint="Set LLAMA_VISION_MODEL_PATH to a Mllama folder.")

    with pytest.raises(gr.Error) as caught:
        handler()
    assert str(caught.value.message) == "No model in /x. Set LLAMA_VISION_MODEL_PATH to a Mllama folder."


def test_small_helpers():
    assert page_index(None) is None and page_index(1) == 0 and page_index("3") == 2
    assert path_of({"path": "/tmp/a.png"}) == "/tmp/a.png" and path_of(None) is None


def test_header_on_ocr_says_no_model_and_how_to_configure(tmp_path):
    from llama_vision.ui.layout import header_html
    from llama_vision.ui.state import AppState

    state = AppState(fake_settings(tmp_path), FakeEngine(fake_settings(tmp_path)))
    state.engine.name = "ocr"
    html = header_html(state)
    assert "No language model is loaded" in html
    assert "LLAMA_VISION_MODEL_PATH" in html and "LLAMA_VISION_API_BASE" in html


def test_every_event_has_an_api_name_and_model_events_share_one_queue(tmp_path):
    from llama_vision.ui import build_app

    demo = build_app(fake_settings(tmp_path), engine=FakeEngine(fake_settings(tmp_path)))
    fns = list(demo.fns.values())
    assert all(fn.api_name for fn in fns), [fn.name for fn in fns if not fn.api_name]
    model = {fn.api_name for fn in fns if fn.concurrency_id == "model"}
    assert {"extract", "compare", "batch", "load_model", "unload_model", "reload_model"} <= model


def test_building_the_ocr_app_does_not_import_torch():
    code = ("import os, sys; os.environ.update(LLAMA_VISION_ENGINE='ocr', LLAMA_VISION_AUTH='', "
            "LLAMA_VISION_MODEL_PATH=''); import app; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_full_queue_says_the_model_is_busy(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from llama_vision.ui import build_app

    demo = build_app(fake_settings(tmp_path, queue_size=3), engine=FakeEngine(fake_settings(tmp_path)))
    demo._queue.max_size = 0  # as if three requests were already waiting
    accepted, message, status = asyncio.run(demo._queue.push(SimpleNamespace(fn_index=0), None, None))
    assert (accepted, status) == (False, "queue_full")
    assert message.startswith("The model is busy") and "LLAMA_VISION_QUEUE_SIZE=3" in message


def test_comparison_prompt_texts_come_from_the_library():
    assert "(prompt library unavailable" not in tab_compare.prompt_text("key_value")
    lines = tab_compare.prompt_text("field_specific").splitlines()
    assert lines and all(": " in line for line in lines)


def test_launch_options_follow_settings(tmp_path):
    from llama_vision.ui import launch_options
    from llama_vision.ui.state import SAMPLES_DIR

    settings = fake_settings(tmp_path, auth="ann:pw1,bob:pw2", max_file_mb=5, port=7999, host="0.0.0.0")
    options = launch_options(settings)
    assert options["auth"] == [("ann", "pw1"), ("bob", "pw2")]
    assert options["max_file_size"] == 5 * 1024 * 1024
    assert options["allowed_paths"] == [str(SAMPLES_DIR), str(tmp_path.resolve())]
    assert (options["server_name"], options["server_port"], options["share"]) == ("0.0.0.0", 7999, False)
    assert launch_options(fake_settings(tmp_path, auth=""))["auth"] is None


def test_servers_table_shows_health(tmp_path):
    from llama_vision.ui import tab_dashboard
    from llama_vision.ui.state import AppState

    engine = FakeEngine(fake_settings(tmp_path))
    engine.status = lambda: {"engine": "openai", "servers": [
        {"url": "http://a:11434/v1", "reachable": True, "model_present": True, "latency_ms": 12},
        {"url": "http://b:8000/v1", "reachable": False, "health_error": "connection refused"}]}
    frame = tab_dashboard.servers_frame(AppState(fake_settings(tmp_path), engine))
    assert frame["Health"].tolist() == ["healthy", "unhealthy"]
    assert frame["Error"].tolist()[1] == "connection refused"


def test_app_py_stops_on_a_bad_setting_with_one_line():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(LLAMA_VISION_QUANTIZATION="3bit", LLAMA_VISION_AUTH="")
    out = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "LLAMA_VISION_QUANTIZATION='3bit'" in last and "Traceback" not in out.stderr


def test_download_folders_are_pruned(monkeypatch, tmp_path):
    import os

    from llama_vision.ui import common

    monkeypatch.setattr(common, "OUTPUT_ROOT", tmp_path / "out")
    old = common.output_dir()
    os.utime(old, (0, 0))
    fresh = common.output_dir()
    assert fresh.is_dir() and not old.exists()


def _batch_run(tmp_path, count: int, delay: float):
    import threading

    from PIL import Image

    from llama_vision import batch
    from llama_vision.ui.batch_run import BatchRun

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (120, 80), "white").save(folder / f"d{i:02d}.png")
    settings = fake_settings(tmp_path)
    inputs = batch.collect_inputs(folder, settings=settings, work_dir=tmp_path / "work" / "unzipped")
    (tmp_path / "work" / "inputs").mkdir(parents=True)
    engine = FakeEngine(settings, outputs=["TOTAL: $1.00"], delay=delay)
    return BatchRun(inputs, engine=engine, work=tmp_path / "work", session_stop=threading.Event()).start()


def test_a_batch_run_stops_when_its_updates_are_closed(tmp_path):
    run = _batch_run(tmp_path, 12, delay=0.1)
    updates = run.updates()
    first = next(updates)
    updates.close()  # what Gradio does when the client cancels or disconnects
    report = run.summary()
    assert report.stopped and len(first) <= report.processed < 12
    # the documents stay for Resume and the row detail; each finished one has its Result JSON
    assert (tmp_path / "work" / "inputs").is_dir()
    assert len(list((tmp_path / "work" / "results").glob("*.json"))) == report.processed


def test_a_batch_run_nobody_reads_stops_on_its_own(tmp_path, monkeypatch):
    from llama_vision.ui import batch_run

    monkeypatch.setattr(batch_run, "CLIENT_GONE_AFTER", 0.3)
    run = _batch_run(tmp_path, 12, delay=0.2)
    updates = run.updates()
    next(updates)  # ... and then the generator is abandoned, never closed
    report = run.summary()
    assert report.stopped and report.processed < 12
    updates.close()


def test_a_batch_run_read_to_the_end_reports_every_document(tmp_path):
    run = _batch_run(tmp_path, 6, delay=0.0)
    seen = [item for bunch in run.updates() for item in bunch]
    report = run.summary()
    assert not report.stopped and report.processed == len(seen) == 6
    assert [done for done, _total, _result in seen] == list(range(1, 7))


def test_the_live_table_keeps_only_the_latest_rows_and_the_whole_tally():
    live = tab_batch.LiveTable(total=200)
    for i in range(1, 121):
        result = Result.failed(f"doc{i:03d}.png", "fake", "key_value", "bad") if i % 10 == 0 else \
            Result(file=f"doc{i:03d}.png", engine="fake", prompt="key_value", status="ok")
        live.add([(i, 200, result)])
    frame = live.frame()
    assert len(frame) == tab_batch.LIVE_ROWS and frame["File"].iloc[-1] == "doc120.png"
    counts = dict(zip(live.chart()["verdict"], live.chart()["documents"], strict=True))
    assert counts["Error"] == 12 and sum(counts.values()) == 120
    assert "latest 50" in live.note() and live.done == 120

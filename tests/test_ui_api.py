"""The real app (python app.py, OCR engine) on a free port, driven through gradio_client as the
page drives it: each of the page's own events (private: the public API is
tests/test_public_api.py's) answers with a well-formed Result or table."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.ui_helpers import RunningApp, bundled_samples, launch_app, page_event, three_documents

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

RESULT_KEYS = {"file", "engine", "prompt", "status", "error", "document_type", "fields", "compliance",
               "raw_output", "timings", "warnings"}
VERDICTS = {"compliant", "non_compliant", "not_required", "review"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui-api")


@pytest.fixture(scope="module")
def documents(workdir) -> list[Path]:
    return three_documents(workdir, seed=7)


@pytest.fixture(scope="module")
def app(workdir) -> RunningApp:
    return launch_app("ocr", workdir)


@pytest.fixture(scope="module")
def client(app, workdir) -> Client:
    return Client(app.url, verbose=False, download_files=str(workdir / "downloads"))


def _table(value) -> list[dict]:
    """A Dataframe output as the client returns it ({headers, data}) -> list of row dicts."""
    return [dict(zip(value["headers"], row)) for row in value["data"]]


def test_every_page_event_is_there_and_private(client):
    events = {d.get("api_name"): d.get("api_visibility") for d in client.config["dependencies"]}
    expected = {"single_extract", "inspect_document", "load_sample", "compare_run", "batch_run", "batch_stop", "batch_resume",
                "hardware_snapshot", "footprint_estimate", "load_model", "unload_model", "reload_model",
                "header", "ask_chat"}
    assert expected <= set(events), expected - set(events)
    assert {events[name] for name in expected} == {"private"}


def test_extract_returns_a_result_fields_items_and_compliance(client, documents):
    document = documents[0]
    raw, summary, compliance, fields, items, result, download = client.predict(
        handle_file(str(document)), 1, "key_value", fn_index=page_event(client, "single_extract"))
    assert RESULT_KEYS <= set(result)
    assert result["status"] == "ok", result["error"]
    assert result["engine"] == "ocr" and result["prompt"] == "rules"
    assert result["file"] == document.name
    assert result["compliance"]["verdict"] in VERDICTS
    assert raw.strip(), "the OCR text is shown as the raw output"
    rows = _table(fields)
    assert {r["Field"] for r in rows} >= {"Supplier", "Supplier ABN", "Date", "Total", "GST"}
    assert set(items["headers"]) == {"Description", "Quantity", "Unit price", "Amount"}
    assert "lv-badge" in compliance
    assert json.loads(Path(download).read_text())["file"] == document.name
    truth = json.loads(document.with_suffix(".json").read_text())
    supplier = truth["fields"]["supplier_name"]
    if supplier:
        assert result["fields"]["supplier_name"], "OCR should read the supplier of a clean sample"


def test_a_broken_document_is_a_gr_error_with_the_fix_it_text(client, workdir):
    broken = workdir / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(Exception) as caught:
        client.predict(handle_file(str(broken)), 1, "key_value", api_name="/extract")
    assert "broken.pdf" in str(caught.value)


def test_inspect_document_previews_and_offers_pages(client, documents):
    preview, page = client.predict(handle_file(str(documents[0])), fn_index=page_event(client, "inspect_document"))
    assert preview and Path(preview).is_file()


def test_load_sample_returns_the_bundled_file(client):
    if not bundled_samples():
        pytest.skip("no bundled samples yet")
    from llama_vision.ui.common import sample_choices

    path = client.predict(sample_choices()[0], fn_index=page_event(client, "load_sample"))
    assert Path(path).name == bundled_samples()[0].name


def test_compare_on_ocr_scores_against_ground_truth(client, documents):
    document = documents[0]
    outputs = client.predict(handle_file(str(document)), 1, handle_file(str(document.with_suffix(".json"))),
                             ["key_value", "json", "field_specific"], "", "", "", fn_index=page_event(client, "compare_run"))
    raw_kv, _raw_json, _raw_fs, metrics, html, data, status = outputs
    assert status == "Compared 1 prompt."
    assert raw_kv.strip()
    rows = _table(metrics)
    assert [r["Prompt"] for r in rows] == ["OCR (rules)"]  # prompts do not apply to OCR
    assert rows[0]["Accuracy"].endswith("%")
    assert data["engine"] == "ocr" and data["accuracy"]["OCR (rules)"] is not None
    assert "Accuracy" in html and "Ground truth" in html


def test_batch_of_three_files_and_a_broken_one(client, documents, workdir):
    broken = workdir / "empty.png"
    broken.write_bytes(b"")
    files = [handle_file(str(p)) for p in documents] + [handle_file(str(broken))]
    progress, summary, chart, csv_path, xlsx_path, table = client.predict(files, None, "all", fn_index=page_event(client, "batch_run"))
    rows = _table(table)
    assert len(rows) == 4
    failed = [r for r in rows if r["Error"]]
    assert [r["File"] for r in failed] == ["empty.png"]
    assert {r["File"] for r in rows} == {p.name for p in documents} | {"empty.png"}
    assert "4 of 4" in progress and "GST claimable" in summary
    with open(csv_path, newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert len(csv_rows) == 4 and {"file", "verdict", "error"} <= set(csv_rows[0])
    assert Path(xlsx_path).read_bytes()[:2] == b"PK"


def test_batch_from_a_zip_and_from_the_batch_folder(client, app, documents, workdir):
    archive = workdir / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in documents[:2]:
            zipped.write(path, f"inner/{path.name}")
    *_, table = client.predict([handle_file(str(archive))], None, "all", fn_index=page_event(client, "batch_run"))
    assert len(_table(table)) == 2
    folder = app.batch_dir / "march"
    folder.mkdir(exist_ok=True)
    shutil.copy(documents[0], folder / documents[0].name)
    *_, table = client.predict(None, "march", "all", fn_index=page_event(client, "batch_run"))
    assert [r["File"] for r in _table(table)] == [documents[0].name]
    with pytest.raises(Exception, match="is not a folder inside the batch folder"):
        client.predict(None, "../../etc", "all", fn_index=page_event(client, "batch_run"))


def test_dashboard_snapshot_and_estimator(client):
    devices, plot, model, device_map, servers = client.predict(fn_index=page_event(client, "hardware_snapshot"))
    device_rows = _table(devices)
    assert device_rows and any("cpu" in (r["Device"] + r["Name"]).lower() for r in device_rows)
    assert {"Engine", "Loaded"} <= {r[""] for r in _table(model)}
    assert any(r["Device"] == "app" and r["Used GiB"] for r in device_rows), "the app's own memory is shown"
    estimator = _table(client.predict(fn_index=page_event(client, "footprint_estimate")))
    assert len(estimator) == 3
    columns = ("Quantization", "Weights GiB", "Estimated GiB")
    verdicts = {v for row in estimator for k, v in row.items() if k not in columns}
    assert verdicts <= {"fits", "fits with CPU offload", "does not fit", "needs a CUDA GPU"}
    for row in estimator:  # the estimate is weights plus the runtime overhead
        assert row["Estimated GiB"] > row["Weights GiB"]
        cpu = next(v for k, v in row.items() if k.startswith("cpu "))
        if row["Quantization"] != "bf16":  # bitsandbytes' 8-bit and NF4 run on CUDA only
            assert cpu == "needs a CUDA GPU", row


def test_header_says_no_model_on_ocr(client):
    header = client.predict(fn_index=page_event(client, "header"))
    assert "No language model is loaded" in header and "LLAMA_VISION_MODEL_PATH" in header


def test_load_unload_reload(client):
    status, header = client.predict(fn_index=page_event(client, "load_model"))
    assert "loaded" in status
    status, header = client.predict(fn_index=page_event(client, "unload_model"))
    assert "unloaded" in status
    status, header = client.predict("none", "auto", fn_index=page_event(client, "reload_model"))
    assert "loaded" in status and "ocr" in header


def test_stop_ends_a_batch_cleanly(client, documents):
    import time

    files = [handle_file(str(p)) for p in documents * 3]  # nine uploads; same names get a suffix
    job = client.submit(files, None, "all", fn_index=page_event(client, "batch_run"))
    deadline = time.monotonic() + 120
    while len(job.outputs()) < 2 and not job.done() and time.monotonic() < deadline:
        time.sleep(0.1)  # the first yield is "starting", the second carries the first finished row
    client.predict(fn_index=page_event(client, "batch_stop"))
    progress, summary, _chart, csv_path, _xlsx, table = job.result(timeout=120)
    rows = _table(table)
    assert 1 <= len(rows) < 9, progress
    assert "stopped" in progress and "stopped early" in summary
    with open(csv_path, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(rows)  # the CSV holds every finished document
    assert len({r["File"] for r in rows}) == len(rows)


def test_pdf_page_picker_and_extracting_one_page(client, documents, workdir):
    from PIL import Image

    pdf = workdir / "two_pages.pdf"
    pages = [Image.open(p).convert("RGB") for p in documents[:2]]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=150)
    preview, page = client.predict(handle_file(str(pdf)), fn_index=page_event(client, "inspect_document"))
    assert Path(preview).is_file()
    assert page["visible"] is True and [c[1] for c in page["choices"]] == [1, 2]  # the picker appears
    result = client.predict(handle_file(str(pdf)), 2, "key_value", api_name="/extract")  # the public one
    assert result["status"] == "ok" and result["pages"] == 1 and result["file"] == "two_pages.pdf"


# -- a batch whose client has gone ------------------------------------------------------------------
def _new_run_folder(app: RunningApp, before: set[Path], timeout: float = 60) -> Path:
    """The run folder the app made for the batch just started (its name carries the app's pid)."""
    import time

    from llama_vision.ui.common import OUTPUT_ROOT, RUN_PREFIX

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for folder in set(OUTPUT_ROOT.glob(f"{RUN_PREFIX}{app.process.pid}-*")) - before:
            if (folder / "results.csv").is_file():
                return folder
        time.sleep(0.1)
    raise AssertionError("the batch made no run folder with a results.csv")


def _csv_rows(folder: Path) -> int:
    with open(folder / "results.csv", newline="", encoding="utf-8") as handle:
        return len(list(csv.DictReader(handle)))


def _assert_the_run_stopped(folder: Path, planned: int) -> None:
    """The worker ends after the document in progress (it writes the XLSX, then marks the run
    stopped in its manifest, for Resume), and the CSV stops growing well before every document is read."""
    import time

    def state() -> str | None:
        try:
            return json.loads((folder / "run.json").read_text(encoding="utf-8")).get("state")
        except (OSError, ValueError):
            return None

    deadline = time.monotonic() + 90
    while not (folder / "results.xlsx").is_file() or state() != "stopped":
        assert time.monotonic() < deadline, "the batch kept running after its client left"
        time.sleep(0.2)
    rows = _csv_rows(folder)
    time.sleep(4)  # two OCR documents' time: nothing more is written
    assert _csv_rows(folder) == rows
    assert 1 <= rows < planned, rows


def test_a_cancelled_batch_stops_after_the_current_document(client, app, documents):
    import time

    from llama_vision.ui.common import OUTPUT_ROOT

    before = set(OUTPUT_ROOT.glob("run_*"))
    files = [handle_file(str(p)) for p in documents * 5]  # fifteen uploads
    job = client.submit(files, None, "all", fn_index=page_event(client, "batch_run"))
    folder = _new_run_folder(app, before)
    deadline = time.monotonic() + 120
    while _csv_rows(folder) < 1:
        assert time.monotonic() < deadline and not job.done(), "no row came"
        time.sleep(0.1)
    assert job.cancel()
    _assert_the_run_stopped(folder, 15)
    # the model slot is free: the next batch runs at once and completes
    *_, table = client.predict([handle_file(str(documents[0]))], None, "all", fn_index=page_event(client, "batch_run"))
    assert len(_table(table)) == 1


def test_a_batch_whose_client_disconnects_stops(app, documents):
    """A browser closed mid-run: the event stream drops, with no cancel request."""
    import time

    import httpx

    from llama_vision.ui.common import OUTPUT_ROOT

    folder_name = "gone-client"
    source = app.batch_dir / folder_name
    source.mkdir(exist_ok=True)
    for i in range(15):
        shutil.copy(documents[i % 3], source / f"doc_{i:02d}{documents[i % 3].suffix}")
    config = httpx.get(app.url + "config", timeout=10).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "batch_run")
    before = set(OUTPUT_ROOT.glob("run_*"))
    session = "disconnecting-client"
    joined = httpx.post(app.url + "gradio_api/queue/join", timeout=10,
                        json={"data": [None, folder_name, "all"], "fn_index": fn_index, "session_hash": session})
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", app.url + f"gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        folder = _new_run_folder(app, before)
        deadline = time.monotonic() + 120
        for line in stream.iter_lines():  # read until the first finished document has been sent
            assert time.monotonic() < deadline
            if "process_generating" in line and _csv_rows(folder) >= 1:
                break
    # the connection is closed here, as a closed tab closes it
    _assert_the_run_stopped(folder, 15)


def test_a_long_batch_streams_only_the_latest_rows_then_the_whole_table(client, app):
    """Each live update carries the latest LIVE_ROWS rows (its cost does not grow with the batch);
    the last one carries every row."""
    from PIL import Image, ImageDraw

    from llama_vision.ui.tab_batch import LIVE_ROWS

    folder = app.batch_dir / "long"
    folder.mkdir(exist_ok=True)
    count = LIVE_ROWS + 12
    for i in range(count):
        image = Image.new("RGB", (260, 90), "white")
        ImageDraw.Draw(image).text((8, 30), f"SHOP {i:03d}  TOTAL $1.00", fill="black")
        image.save(folder / f"r_{i:03d}.png")
    job = client.submit(None, "long", "all", fn_index=page_event(client, "batch_run"))
    progress, _summary, _chart, _csv, _xlsx, table = job.result(timeout=900)
    assert len(_table(table)) == count and f"{count} of {count}" in progress
    live = [output[5] for output in job.outputs()[:-1] if isinstance(output, (list, tuple))
            and isinstance(output[5], dict) and output[5].get("data")]
    assert live, "no live update carried rows"
    assert max(len(_table(t)) for t in live) <= LIVE_ROWS
    latest = _table(live[-1])
    assert latest[-1]["File"] > latest[0]["File"]  # the newest rows, in order

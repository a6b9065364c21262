"""The real app on the llama engine, with the tiny random-weight Mllama checkpoint
(make-tiny-model): the header names the engine, extraction streams through the model, prompts
are compared, the dashboard reports the device map, and a model that fails to load leaves the
app up with the reason shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_helpers import RunningApp, bundled_samples, launch_app, page_event

pytestmark = pytest.mark.slow
pytest.importorskip("torch")
pytest.importorskip("transformers")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui-llama")


@pytest.fixture(scope="module")
def tiny_model(workdir) -> Path:
    try:
        from llama_vision.tiny_model import write_tiny_model
    except ImportError:
        pytest.skip("tiny_model is not available yet")
    return Path(write_tiny_model(workdir / "tiny-mllama"))


@pytest.fixture(scope="module")
def document(workdir) -> Path:
    samples = bundled_samples()
    if samples:
        return samples[0]
    from llama_vision.samples.generator import generate_documents

    return Path(generate_documents(workdir / "generated", 1, seed=3)[0])


@pytest.fixture(scope="module")
def app(workdir, tiny_model) -> RunningApp:
    return launch_app("llama-tiny", workdir, LLAMA_VISION_ENGINE="llama", LLAMA_VISION_MODEL_PATH=str(tiny_model),
                      LLAMA_VISION_DEVICE="cpu", LLAMA_VISION_MAX_NEW_TOKENS="16")


@pytest.fixture(scope="module")
def client(app, workdir) -> Client:
    return Client(app.url, verbose=False, download_files=str(workdir / "downloads"))


def test_header_names_the_llama_engine(client):
    header = client.predict(fn_index=page_event(client, "header"))
    assert "llama (tiny-mllama)" in header and "No language model" not in header


def test_extract_runs_through_the_model(client, document):
    job = client.submit(handle_file(str(document)), 1, "key_value", fn_index=page_event(client, "single_extract"))
    raw, summary, compliance, fields, items, result, download = job.result(timeout=240)
    assert result["engine"] == "llama" and result["prompt"] == "key_value"
    assert result["status"] == "ok", result["error"]
    assert result["usage"].get("generated_tokens"), result["usage"]
    assert raw == result["raw_output"] and "lv-badge" in compliance


def test_compare_two_prompts_side_by_side(client, document):
    outputs = client.predict(handle_file(str(document)), 1, None, ["key_value", "json"],
                             "Read this receipt. Answer as KEY: value lines.", "", "", fn_index=page_event(client, "compare_run"))
    raw_kv, raw_json, raw_fs, metrics, html, data, status = outputs
    assert status == "Compared 2 prompts."
    prompts = [row[0] for row in metrics["data"]]
    assert prompts == ["KEY-VALUE", "JSON"]
    assert {"Parsed", "Latency (s)", "Generated tokens", "Tokens/s"} <= set(metrics["headers"])
    assert data["engine"] == "llama"


def test_dashboard_reports_the_loaded_model(client):
    _devices, _plot, model, device_map, _servers = client.predict(fn_index=page_event(client, "hardware_snapshot"))
    rows = {row[0]: row[1] for row in model["data"]}
    assert rows["Engine"] == "llama" and rows["Loaded"] == "yes"
    assert "Measured footprint" in rows and rows["Device"] == "cpu"
    assert [row[0] for row in device_map["data"]] == ["cpu"]


def test_a_model_that_fails_to_load_leaves_the_app_up(client, workdir, document):
    status, header = client.predict("8bit", "cuda:7", fn_index=page_event(client, "reload_model"))
    assert "did not load" in status or "Not reloaded" in status
    assert "lv-header" in header
    # the app still answers, and reloading the working configuration brings the model back
    status, header = client.predict("none", "cpu", fn_index=page_event(client, "reload_model"))
    assert "loaded" in status and "did not" not in status


def test_ask_streams_an_answer_from_the_model(client, document):
    job = client.submit(handle_file(str(document)), "What was bought?", api_name="/ask")
    answer = job.result(timeout=240)
    assert isinstance(answer, str) and answer.strip()  # random weights: words, not sense
    assert len(job.outputs()) >= 2, job.outputs()  # it grew as the model generated it

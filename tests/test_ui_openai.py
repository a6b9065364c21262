"""The real app on the openai engine against the team's fake OpenAI-compatible server: the raw
text streams into the page while tokens arrive, and the dashboard shows each server's health."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.openai_fake_server import FakeOpenAIServer
from tests.ui_helpers import RunningApp, bundled_samples, launch_app, page_event

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(token_delay=0.03) as fake:
        yield fake


@pytest.fixture(scope="module")
def app(tmp_path_factory, server) -> RunningApp:
    return launch_app("openai-fake", tmp_path_factory.mktemp("ui-openai"), LLAMA_VISION_ENGINE="openai",
                      LLAMA_VISION_API_BASE=server.url, LLAMA_VISION_API_RETRIES="0")


@pytest.fixture(scope="module")
def client(app, tmp_path_factory) -> Client:
    return Client(app.url, verbose=False, download_files=str(tmp_path_factory.mktemp("openai-downloads")))


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> Path:
    samples = bundled_samples()
    if samples:
        return samples[0]
    from llama_vision.samples.generator import generate_documents

    return Path(generate_documents(tmp_path_factory.mktemp("gen"), 1, seed=5)[0])


def test_extract_streams_the_answer_then_shows_the_result(client, document):
    job = client.submit(handle_file(str(document)), 1, "key_value", fn_index=page_event(client, "single_extract"))
    while not job.done():
        time.sleep(0.05)
    raw_updates = [outputs[0] for outputs in job.outputs()]
    final = job.result()
    result = final[5]
    assert result["engine"] == "openai" and result["status"] == "ok", result["error"]
    assert result["fields"]["supplier_name"] == "Bunnings Warehouse"
    assert result["compliance"]["verdict"]
    partial = [text for text in raw_updates[:-1] if text and text != raw_updates[-1]]
    assert partial, f"no partial text before the end: {raw_updates!r}"
    assert all(raw_updates[-1].startswith(text.rstrip()[:10]) for text in partial[:1])


def test_header_and_dashboard_show_the_servers(client, server):
    header = client.predict(fn_index=page_event(client, "header"))
    assert "openai" in header and server.url.split("//")[1].split("/")[0] in header
    *_, servers = client.predict(fn_index=page_event(client, "hardware_snapshot"))
    rows = [dict(zip(servers["headers"], row)) for row in servers["data"]]
    assert len(rows) == 1 and rows[0]["Health"] == "healthy"

"""Faults the app must survive, checked against the running app (and the real tiny model).

- An engine that runs out of memory during generation: that request gets a clear gr.Error
  through gradio_client, no traceback, and the next request still works. The engine is
  injected with `build_app(settings, engine=...)` (the UI's own seam) in a small driver script.
- A model that fails to load (LLAMA_VISION_MODEL_PATH at a folder with a broken config.json):
  the app still starts and serves, and the header says why; extraction says why too.
- An upload over LLAMA_VISION_MAX_FILE_MB is refused with a clear message.
- Answers over the token cap (LLAMA_VISION_MAX_NEW_TOKENS) are cut and flagged, with the real
  llama engine on the tiny random-weight checkpoint.

The engine-level OOM behaviour (cache released, one retry with half the batch) is tested in
tests/test_llama_engine.py; the pipeline's error Result in tests/test_pipeline.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.ui_helpers import RunningApp, bundled_samples, launch_app, page_event

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

OOM_WIDTH = 333  # an upload this wide makes the fake engine run out of memory
SLOW_WIDTH = 444  # ...and this wide makes it slow (to fill the queue in tests/test_load.py)
OOM_MESSAGE = "The GPU ran out of memory while reading this page; the cache has been released."

# The real app (build_app + launch_options from the environment) around a fake engine with faults.
DRIVER = r"""
import os, time
from llama_vision.config import load_settings
from llama_vision.errors import EngineOutOfMemoryError
from llama_vision.ui import build_app, launch_options
from tests.fakes import FakeEngine

ANSWER = ("SUPPLIER: Fault Test Pty Ltd\nABN: 51 824 753 556\nDATE: 15/03/2024\nSUBTOTAL: $40.00\n"
          "GST: $4.00\nTOTAL: $44.00\n")

class FaultyEngine(FakeEngine):
    def _answer(self, request):
        if request.image.size[0] == %(oom)d:
            raise EngineOutOfMemoryError(%(message)r, hint="Set LLAMA_VISION_QUANTIZATION=4bit or try a smaller page.")
        if request.image.size[0] == %(slow)d:
            time.sleep(float(os.environ.get("FAULTS_SLOW_SECONDS", "2")))
        return super()._answer(request)

settings = load_settings()
demo = build_app(settings, engine=FaultyEngine(settings, outputs=[ANSWER]))
demo.launch(**launch_options(settings))
""" % {"oom": OOM_WIDTH, "slow": SLOW_WIDTH, "message": OOM_MESSAGE}  # noqa: UP031 - the script is full of braces

FAULTS_ENV = {"LLAMA_VISION_QUEUE_SIZE": "1", "LLAMA_VISION_MAX_FILE_MB": "1"}


def faults_app(workdir: Path) -> RunningApp:
    """One driver app for this file and tests/test_load.py's busy-queue test (same key, same env)."""
    return launch_app("faults", workdir / "faults", script=DRIVER, **FAULTS_ENV)


def document(folder: Path, name: str, width: int, height: int = 300) -> Path:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, 10), "TAX INVOICE  TOTAL $44.00", fill="black")
    path = folder / name
    image.save(path)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def app(workdir) -> RunningApp:
    return faults_app(workdir)


@pytest.fixture(scope="module")
def client(app, workdir) -> Client:
    return Client(app.url, verbose=False, download_files=str(workdir / "downloads"))


def test_out_of_memory_is_a_clear_error_and_the_next_request_works(client, app, workdir):
    heavy = document(workdir, "heavy page.png", OOM_WIDTH)
    normal = document(workdir, "normal page.png", 300)
    with pytest.raises(Exception) as caught:
        client.predict(handle_file(str(heavy)), 1, "key_value", api_name="/extract")
    message = str(caught.value)
    assert "ran out of memory" in message and "4bit" in message, message
    assert "Traceback" not in message and "File \"" not in message
    # The app keeps serving: the next document (and the one after the failure again) works.
    for _ in range(2):
        result = client.predict(handle_file(str(normal)), 1, "key_value", api_name="/extract")
        assert result["status"] == "ok" and result["fields"]["total"] == "44.00", result
    assert client.predict(api_name="/hardware")["engine"]
    assert app.process.poll() is None
    assert unexpected_tracebacks(app.log.read_text(errors="replace")) == []


def unexpected_tracebacks(log: str) -> list[str]:
    """The exception line of each traceback in a server log, except gr.Error (Gradio logs every
    user-facing error it sends with a traceback; that one is expected, anything else is a crash)."""
    found = []
    for chunk in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in chunk.splitlines() if line.strip() and not line.startswith(" ")]
        if lines and not lines[0].startswith("gradio.exceptions.Error"):
            found.append(lines[0])
    return found


def test_an_upload_over_the_size_cap_is_refused_clearly(client, app, workdir):
    data = b"\xff\xd8\xff\xe0" + os.urandom(1024 * 1024 + 100_000)  # the cap is 1 MB in this app
    big = workdir / "huge scan.jpg"
    big.write_bytes(data)
    with pytest.raises(Exception) as caught:  # gradio_client checks the app's cap before sending
        client.predict(handle_file(str(big)), 1, "key_value", api_name="/extract")
    assert "maximum file size" in str(caught.value) and "Traceback" not in str(caught.value)
    # A client that ignores the cap is refused by the server before the file reaches the pipeline.
    response = httpx.post(app.url + "gradio_api/upload", files={"files": ("huge scan.jpg", data)}, timeout=30)
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert "size" in response.text.lower() and "Traceback" not in response.text


# -- a model that fails to load ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def broken_model_app(workdir) -> RunningApp:
    folder = workdir / "broken-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "mllama", "text_config": {', encoding="utf-8")  # cut short
    (folder / "model.safetensors").write_bytes(b"")
    return launch_app("broken-model", workdir / "broken", LLAMA_VISION_ENGINE="auto",
                          LLAMA_VISION_MODEL_PATH=str(folder))


def test_a_model_that_fails_to_load_leaves_the_app_up_with_the_reason(broken_model_app, workdir):
    app = broken_model_app
    assert httpx.get(app.url, timeout=10).status_code == 200  # the page is up at once
    client = Client(app.url, verbose=False, download_files=str(workdir / "downloads-broken"))
    deadline = time.monotonic() + 120
    header = client.predict(fn_index=page_event(client, "header"))
    while "failed to load" not in header and time.monotonic() < deadline:
        time.sleep(1)  # the warm-up thread imports torch first
        header = client.predict(fn_index=page_event(client, "header"))
    assert "failed to load" in header and "config.json" in header, header
    samples = bundled_samples()
    if samples:
        with pytest.raises(Exception) as caught:
            client.predict(handle_file(str(samples[0])), 1, "key_value", api_name="/extract")
        assert "config.json" in str(caught.value) and "Traceback" not in str(caught.value)
    snapshot = client.predict(fn_index=page_event(client, "hardware_snapshot"))
    assert "config.json" in repr(snapshot)  # the dashboard's model table shows the load error
    assert httpx.get(app.url, timeout=10).status_code == 200 and app.process.poll() is None


# -- the token cap, with the real llama engine -------------------------------------------------------
def test_answers_over_the_token_cap_are_cut_and_flagged(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from llama_vision.config import load_settings
    from llama_vision.engines.llama import LlamaEngine
    from llama_vision.pipeline import extract
    from llama_vision.tiny_model import write_tiny_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores
    try:
        model = write_tiny_model(tmp_path / "tiny", seed=0)
        monkeypatch.setenv("LLAMA_VISION_MAX_NEW_TOKENS", "4")
        monkeypatch.setenv("LLAMA_VISION_MODEL_PATH", str(model))
        settings = load_settings(env_file=None)
        assert settings.max_new_tokens == 4 and settings.resolved_engine() == "llama"
        engine = LlamaEngine(settings)
        try:
            page = Image.new("RGB", (200, 300), "white")
            generation = engine.generate(page, "Read the receipt.")
            assert generation.truncated and generation.generated_tokens == 4
            result = extract(page, engine=engine, document_type="receipt")
        finally:
            engine.unload()
    finally:
        torch.set_num_threads(threads)
    assert result.status == "ok"
    assert any("token cap" in w and "LLAMA_VISION_MAX_NEW_TOKENS" in w for w in result.warnings), result.warnings
    assert result.usage.get("generated_tokens", 0) <= 4 * 2  # the answer and at most one fallback retry


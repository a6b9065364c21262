"""Load, against the real app: 20 concurrent gradio_client clients on the OCR engine lose
nothing and mix nothing up; beyond LLAMA_VISION_QUEUE_SIZE waiting requests the app answers
"busy" at once instead of queueing without bound. Correctness only; benchmarks/load.py times it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.test_faults import SLOW_WIDTH, document, faults_app
from tests.ui_helpers import RunningApp, launch_app

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.utils import Status  # noqa: E402

CLIENTS = 20


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("load")


@pytest.fixture(scope="module")
def load_app(workdir) -> RunningApp:
    return launch_app("ocr-load", workdir)  # default queue: 20 clients = 2 running + 18 waiting


def small_receipt(path: Path, number: int) -> Path:
    """A small, quick-to-OCR receipt whose supplier line names the client (so mix-ups show)."""
    image = Image.new("RGB", (360, 150), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), f"SHOP {number:02d}", fill="black", font_size=28)
    draw.text((12, 70), "TOTAL $12.30", fill="black", font_size=28)
    image.save(path)
    return path


def test_twenty_concurrent_clients_lose_nothing_and_mix_nothing_up(load_app, workdir):
    documents = [small_receipt(workdir / f"client {i:02d}.png", i) for i in range(CLIENTS)]
    results: dict[int, dict] = {}
    failures: dict[int, str] = {}
    barrier = threading.Barrier(CLIENTS)

    def call(i: int) -> None:
        try:
            client = Client(load_app.url, verbose=False, download_files=str(workdir / f"dl-{i}"))
        finally:
            barrier.wait()  # connected (or not) in parallel; then all requests at once
        try:
            result = client.predict(handle_file(str(documents[i])), 1, "key_value", api_name="/extract")
            results[i] = result
        except Exception as error:  # noqa: BLE001 - reported below
            failures[i] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=call, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a request never came back"
    assert failures == {}
    assert sorted(results) == list(range(CLIENTS)), "a request was lost"
    for i, result in results.items():
        assert result["status"] == "ok", result["error"]
        assert result["file"] == documents[i].name, "a client got someone else's Result"
        raw = result["raw_output"] or ""
        if "SHOP" in raw:  # OCR read the marker line: it must be this client's number
            assert f"{i:02d}" in raw, (i, raw)
    assert load_app.process.poll() is None


def test_beyond_the_queue_size_the_app_says_busy_at_once(workdir):
    # The fault-injection app (tests/test_faults.py): LLAMA_VISION_QUEUE_SIZE=1, two workers,
    # and a page SLOW_WIDTH wide takes a few seconds.
    app = faults_app(workdir)
    client = Client(app.url, verbose=False, download_files=str(workdir / "dl-busy"))
    slow = document(workdir, "slow page.png", SLOW_WIDTH)

    def wait_for(job, status: Status, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while job.status().code != status and not job.done():
            assert time.monotonic() < deadline, f"job never reached {status}: {job.status()}"
            time.sleep(0.05)

    running = []
    for _ in range(2):  # both workers busy
        job = client.submit(handle_file(str(slow)), 1, "key_value", api_name="/extract")
        wait_for(job, Status.PROCESSING)
        running.append(job)
    waiting = client.submit(handle_file(str(slow)), 1, "key_value", api_name="/extract")
    wait_for(waiting, Status.IN_QUEUE)  # the one waiting place is taken

    # A raw HTTP client gets 503 and the app's busy message at once.
    config = httpx.get(app.url + "config", timeout=10).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "extract")
    started = time.monotonic()
    response = httpx.post(app.url + "gradio_api/queue/join",
                          json={"data": [None, 1, "key_value"], "fn_index": fn_index, "session_hash": "load-test"},
                          timeout=10)
    assert time.monotonic() - started < 5
    assert response.status_code == 503, response.text
    assert "busy" in response.text and "LLAMA_VISION_QUEUE_SIZE=1" in response.text, response.text
    # gradio_client says so too (with its own words).
    with pytest.raises(Exception, match="(?i)queue is full|busy"):
        client.predict(handle_file(str(slow)), 1, "key_value", api_name="/extract")

    # Everything accepted finishes; nothing accepted is lost; the app then serves again.
    for job in [*running, waiting]:
        result = job.result(timeout=60)
        assert result["status"] == "ok"
    normal = document(workdir, "after the rush.png", 300)
    result = client.predict(handle_file(str(normal)), 1, "key_value", api_name="/extract")
    assert result["status"] == "ok"

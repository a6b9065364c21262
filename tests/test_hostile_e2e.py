"""Issue 10 end to end: the hostile corpus through the real command line and the running app.

`extract` of a self-drawing PDF is one line; a `batch` of 30 with one hostile file gives one error
row and 29 Results, `--resume` re-runs nothing, a batch killed mid-run leaves no page worker
behind; the app refuses hostile uploads while another user's document goes through. Each under
60 s, with the resident memory of the CLI's or the app's own process under 1.5 GB.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests import hostile_corpus as hostile
from tests.hostile_corpus import LIMIT_MB, RSS_CAP, good_png, page_workers, watched

REPO = Path(__file__).resolve().parents[1]


# -- the command line ------------------------------------------------------------------------
def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""), LLAMA_VISION_ENGINE="ocr",
        LLAMA_VISION_DOCUMENT_MEMORY_MB=str(LIMIT_MB), OMP_NUM_THREADS="1", TMPDIR=str(tmp), PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run the CLI, watching its own resident memory (not the worker's)."""
    process = subprocess.Popen([sys.executable, "-m", "llama_vision", *args], cwd=cwd, env=cli_env(cwd),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, seconds, peak = watched(lambda: process.communicate(timeout=120), pid=process.pid)
    assert isinstance(out, tuple), out
    return subprocess.CompletedProcess(process.args, process.returncode, *out), seconds, peak


def test_cli_extract_of_a_self_drawing_pdf_is_one_line(tmp_path):
    (tmp_path / "invoice.pdf").write_bytes(hostile.self_drawing_pdf())
    done, seconds, peak = run_cli(["extract", "invoice.pdf"], tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'invoice.pdf': this PDF needs more than 256 MB to draw" in lines[0], done.stderr
    assert seconds < 60 and peak < RSS_CAP


def test_cli_batch_of_30_with_one_hostile_document(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(29):
        good_png(folder / f"receipt-{index:02d}.png", text_colour=(index * 8, 0, 0))
    (folder / "receipt-15-hostile.pdf").write_bytes(hostile.fan_out_pdf())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left_behind = tmp_path / f"llama-vision-batch-{int(gone.stdout)}-killed"  # what a kill -9 leaves
    (left_behind / "00-a").mkdir(parents=True)
    done, seconds, peak = run_cli(["batch", "in", "--out", "out.csv"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and seconds < 60 and peak < RSS_CAP
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) == 30
    errors = [r for r in rows if r["status"] == "error"]
    assert [r["file"] for r in errors] == ["receipt-15-hostile.pdf"]
    assert "needs more than 256 MB to draw" in errors[0]["error"]
    # --resume never re-runs a document that already has a row, the hostile one included
    again, _, _ = run_cli(["batch", "in", "--out", "out.csv", "--resume"], tmp_path)
    assert again.returncode == 0 and "0 documents processed, 30 already done" in again.stdout, again.stdout
    assert len(list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))) == 30
    assert not list(tmp_path.glob("llama-vision-batch-*"))  # the batch's scratch folder is gone


# -- the running app -------------------------------------------------------------------------
@pytest.mark.slow
def test_the_app_refuses_hostile_uploads_and_keeps_serving(tmp_path):
    pytest.importorskip("gradio_client")
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    from tests.ui_helpers import launch_app

    app = launch_app("hostile", tmp_path / "ui", LLAMA_VISION_DOCUMENT_MEMORY_MB=str(LIMIT_MB))
    client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
    files = {"invoice.pdf": hostile.self_drawing_pdf(), "fan.pdf": hostile.fan_out_pdf(), "strip.png": hostile.wide_png()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    good = good_png(tmp_path / "good.png")

    def extract(path: Path) -> str:
        try:
            result = Client(app.url, verbose=False).predict(handle_file(str(path)), 1, "key_value", api_name="/extract")
            return result["status"]
        except Exception as error:  # noqa: BLE001 - the message is what we check
            return str(error)

    def all_uploads() -> list[str]:
        with ThreadPoolExecutor(4) as pool:  # another user's good document while the bad ones draw
            bad = [pool.submit(extract, tmp_path / name) for name in files]
            fine = pool.submit(extract, good)
            return [f.result() for f in bad] + [fine.result()]

    outcome, seconds, peak = watched(all_uploads, pid=app.process.pid)
    assert isinstance(outcome, list), outcome
    assert "'invoice.pdf': this PDF needs more than 256 MB to draw" in outcome[0], outcome
    assert "'fan.pdf': this PDF needs more than 256 MB to draw" in outcome[1], outcome
    assert "'strip.png' declares an image too large to decode safely" in outcome[2], outcome
    assert outcome[3] == "ok" and seconds < 60 and peak < RSS_CAP
    zeros = hostile.zeros_zip(tmp_path / "receipts.zip")
    with pytest.raises(Exception, match="looks like a ZIP bomb"):
        client.predict([handle_file(str(zeros))], api_name="/batch")
    assert app.process.poll() is None and extract(good) == "ok"


def test_a_killed_batch_leaves_no_worker_behind_and_resume_finishes_it(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(29):
        good_png(folder / f"receipt-{index:02d}.png", text_colour=(index * 8, 0, 0))
    (folder / "receipt-03-hostile.pdf").write_bytes(hostile.self_drawing_pdf())
    env = {**cli_env(tmp_path), "LLAMA_VISION_DOCUMENT_SECONDS": "5"}
    process = subprocess.Popen([sys.executable, "-m", "llama_vision", "batch", "in", "--out", "out.csv"],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out_csv, workers = tmp_path / "out.csv", set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        workers |= set(page_workers(process.pid))
        if out_csv.is_file() and len(out_csv.read_text(encoding="utf-8").splitlines()) > 6:
            break
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    assert workers, "the batch never started a page worker"
    gone, alive = psutil.wait_procs([psutil.Process(pid) for pid in workers if psutil.pid_exists(pid)], timeout=15)
    assert not alive, f"page workers outlived the killed batch: {alive}"
    done, _, _ = run_cli(["batch", "in", "--out", "out.csv", "--resume"], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == 30 and len({r["file"] for r in rows}) == 30
    assert [r["file"] for r in rows if r["status"] == "error"] == ["receipt-03-hostile.pdf"]

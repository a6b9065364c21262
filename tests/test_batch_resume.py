"""A batch killed with SIGKILL and rerun with --resume: every file exactly once, nothing lost,
at most the documents in flight redone.

The first test drives the real CLI in a child process with a slowed-down pipeline seam (so it
is fast, deterministic and independent of any engine); the second runs `python -m llama_vision
batch --engine ocr` on generated documents, as a user would (slow; skips without the OCR
engine or the sample generator)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

DRIVER = r"""
import sys, time
from pathlib import Path
from llama_vision import cli, pipeline
from llama_vision.result import Result
from tests.fakes import FakeEngine

log, delay = Path(sys.argv[1]), float(sys.argv[2])

def slow(paths, **kwargs):
    for index, path in enumerate(paths):
        with log.open("a", encoding="utf-8") as handle:
            handle.write(path.name + "\n")
        time.sleep(delay)
        yield index, Result(file=str(path), engine="fake", prompt="key_value", document_type="receipt",
                            fields={"supplier_name": path.stem, "total": "1.00"},
                            compliance={"verdict": "not_required", "score": 100, "missing_elements": []},
                            timings={"total": delay})

pipeline.extract_many = slow
cli._engine = lambda settings: FakeEngine(settings)
sys.exit(cli.main(sys.argv[3:]))
"""


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def data_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kill_after_rows(process: subprocess.Popen, out: Path, rows: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while complete_lines(out) < rows + 1:  # + header
        if process.poll() is not None:
            pytest.fail(f"the batch ended (rc={process.returncode}) before {rows} rows: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {rows} rows within {timeout} s")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_sigkilled_batch_resumes_with_every_file_exactly_once(tmp_path):
    folder = tmp_path / "in put"
    names = [f"receipt {i:02d} ü.png" for i in range(8)]
    for name in names:
        folder.mkdir(exist_ok=True)
        Image.new("RGB", (48, 48), "white").save(folder / name)
    out, first_log, second_log = tmp_path / "results.csv", tmp_path / "first.log", tmp_path / "second.log"

    first = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(first_log), "0.4", "batch", str(folder), "--out", str(out)],
        cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    kill_after_rows(first, out, 2, timeout=60)
    survivors = [r["file"] for r in data_rows(out)]
    assert out.read_bytes().endswith(b"\n")  # no torn row: each row is one write + fsync
    assert 2 <= len(survivors) < len(names)
    started = first_log.read_text(encoding="utf-8").split("\n")[:-1]
    in_flight = set(started) - set(survivors)
    assert len(in_flight) <= 1

    second = subprocess.run(
        [sys.executable, "-c", DRIVER, str(second_log), "0", "batch", str(folder), "--out", str(out), "--resume",
         "--xlsx", str(tmp_path / "results.xlsx")],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=120,
    )
    assert second.returncode == 0, second.stderr
    redone = second_log.read_text(encoding="utf-8").split("\n")[:-1]
    assert sorted(redone) == sorted(set(names) - set(survivors))  # only what was not on disk
    final = [r["file"] for r in data_rows(out)]
    assert final[: len(survivors)] == survivors  # the first run's rows are kept as they were
    assert sorted(final) == sorted(names)  # every file exactly once
    assert "already done" in second.stdout and (tmp_path / "results.xlsx").is_file()


@pytest.mark.slow
def test_sigkilled_real_ocr_batch_resumes(tmp_path):
    for module in ("llama_vision.samples.generator", "llama_vision.engines.ocr", "llama_vision.compliance", "rapidocr"):
        pytest.importorskip(module)
    from llama_vision.samples.generator import generate_documents

    folder = tmp_path / "samples"
    documents = [Path(p) for p in generate_documents(folder, 8, 7, max_side=1000)]  # smaller: faster OCR
    assert len(documents) == 8
    out = tmp_path / "results.csv"
    command = [sys.executable, "-m", "llama_vision", "batch", str(folder), "--out", str(out), "--engine", "ocr"]
    first = subprocess.Popen(command, cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    kill_after_rows(first, out, 2, timeout=240)
    survivors = [r["file"] for r in data_rows(out)]
    if len(survivors) == len(documents):
        pytest.skip("the OCR run finished before it could be killed")

    second = subprocess.run(command + ["--resume"], cwd=tmp_path, env=child_env(), capture_output=True, text=True,
                            timeout=400)
    assert second.returncode == 0, second.stderr
    final = data_rows(out)
    assert [r["file"] for r in final][: len(survivors)] == survivors
    assert sorted(r["file"] for r in final) == sorted(p.relative_to(folder).as_posix() for p in documents)
    assert all(r["engine"] == "ocr" for r in final)
    assert sum(r["status"] == "ok" for r in final) >= 6, [r["error"] for r in final]

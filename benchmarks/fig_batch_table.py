"""The batch tab's live table: server CPU for a 1,000-document batch vs a 250-document one.

The real app (build_app + launch_options) runs in its own process around the fake engine (an
instant, fixed answer), so what is left is the app's own work per document: loading the page,
parsing, compliance, the CSV row, and the live updates of the table. Before the table was capped
each update carried every row so far (1,000 rows cost 10x the CPU of 250); now each carries the
tally and the latest rows, so the cost grows with the rows, not with their square.

Both sizes run through gradio_client against the same app, interleaved (250, 1000, 250, ...);
the server's CPU is read from /proc before and after each run. Goal: 1,000 rows <= 4x 250 rows.

    python -m benchmarks.fig_batch_table [--quick]     # prints one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, figure

TITLE = "batch tab: server CPU for 1,000 rows vs 250 rows (fake engine)"
GOAL = "<= 4x"
DRIVER = r"""
from llama_vision.config import load_settings
from llama_vision.ui import build_app, launch_options
from tests.fakes import FakeEngine

ANSWER = ("SUPPLIER: Bench Pty Ltd\nABN: 51 824 753 556\nDATE: 15/03/2024\nSUBTOTAL: $40.00\n"
          "GST: $4.00\nTOTAL: $44.00\n")
settings = load_settings()
demo = build_app(settings, engine=FakeEngine(settings, outputs=[ANSWER]))
demo.launch(**launch_options(settings))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12)) / os.sysconf("SC_CLK_TCK")  # utime + stime, all threads


def make_folders(root: Path, sizes: list[int]) -> None:
    """One folder of `n` small receipts per size (the same page under n names: the fake engine
    does not read it; loading and checking it is the app's real per-document work)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).text((10, 10), "BENCH PTY LTD  TOTAL $44.00", fill="black")
    source = root / "page.png"
    image.save(source)
    data = source.read_bytes()
    for n in sizes:
        folder = root / f"n{n}"
        folder.mkdir(exist_ok=True)
        for i in range(n):
            (folder / f"receipt_{i:04d}.png").write_bytes(data)


class App:
    """The app around the fake engine, in its own process (as it runs for real)."""

    def __init__(self, batch_dir: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
        env.update(LLAMA_VISION_ENGINE="ocr", LLAMA_VISION_MODEL_PATH="", LLAMA_VISION_API_BASE="",
                   LLAMA_VISION_AUTH="", LLAMA_VISION_PORT=str(self.port), LLAMA_VISION_BATCH_DIR=str(batch_dir),
                   GRADIO_ANALYTICS_ENABLED="False", PYTHONPATH=str(ROOT))
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with {self.process.returncode}: {log.read_text()[-800:]}")
            try:
                urllib.request.urlopen(self.url + "gradio_api/info", timeout=2).close()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise TimeoutError("the app did not answer within 150 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


def _page_event(client: Any, api_name: str) -> int:
    """The Batch tab's own (private) event, called as the page calls it: the table is what is timed."""
    index = next(d.get("id", i) for i, d in enumerate(client.config["dependencies"]) if d.get("api_name") == api_name)
    client.endpoints[index].is_valid = True
    return index


def run_once(app: App, client: Any, n: int) -> dict[str, Any]:
    cpu0, wall0 = _cpu_seconds(app.process.pid), time.perf_counter()
    job = client.submit(None, f"n{n}", "all", fn_index=_page_event(client, "batch_run"))
    *_, table = job.result(timeout=1800)
    cpu, wall = _cpu_seconds(app.process.pid) - cpu0, time.perf_counter() - wall0
    rows = len(table["data"]) if isinstance(table, dict) else len(table)
    if rows != n:
        raise RuntimeError(f"the batch of {n} gave {rows} rows")
    return {"cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3), "updates": len(job.outputs())}


def batch_table(*, quick: bool) -> dict[str, Any]:
    from gradio_client import Client

    small, large = (125, 500) if quick else (250, 1000)
    repeats = 1 if quick else 2
    with tempfile.TemporaryDirectory(prefix="lv-bench-table-") as tmp:
        root = Path(tmp)
        make_folders(root, [20, small, large])
        app = App(root, root / "app.log")
        try:
            client = Client(app.url, verbose=False, download_files=str(root / "downloads"))
            run_once(app, client, 20)  # warm-up: imports, first compile of every code path
            runs: dict[int, list[dict[str, Any]]] = {small: [], large: []}
            for _ in range(repeats):
                for n in (small, large):
                    runs[n].append(run_once(app, client, n))
        finally:
            app.stop()
    value = statistics.median(r["cpu_seconds"] for r in runs[large])
    baseline = statistics.median(r["cpu_seconds"] for r in runs[small])
    ratio = value / baseline if baseline else None
    return figure(
        "batch_table",
        title=TITLE if not quick else TITLE.replace("1,000", str(large)).replace("250", str(small)),
        value=value, baseline=baseline, unit="server CPU s", ratio=ratio, goal=GOAL,
        met=ratio is not None and ratio <= 4.0,
        setup={"rows": [small, large], "repeats": repeats, "engine": "tests.fakes.FakeEngine (fixed answer)",
               "client": "gradio_client, folder mode (LLAMA_VISION_BATCH_DIR)",
               "clock": "server process CPU (utime + stime of all threads, /proc)"},
        details={str(n): r for n, r in runs.items()},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="125 vs 500 rows, one repeat")
    args = parser.parse_args(argv)
    print(json.dumps(batch_table(quick=args.quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

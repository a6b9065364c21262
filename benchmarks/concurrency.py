"""Documents per second through the openai engine at concurrency 1, 4 and 8; prints one JSON object.

    python benchmarks/concurrency.py            # full run (~25 s)
    python benchmarks/concurrency.py --quick    # ~6 s
    python benchmarks/concurrency.py --delay 0.5 --levels 1,4,8,16

The server is the loopback fake from tests/openai_fake_server.py, in its own process, with a fixed
per-request delay standing in for the model's generation time, so the numbers measure what this
engine adds: how well it overlaps requests (the real client, HTTP, image encoding, the concurrency
limit). Each document is one page (a 1000x1400 receipt-like image, JPEG-encoded per request) and
one request. Each level runs `repeats` times and keeps its best run, since other processes on a
shared machine only ever slow a run down.
Goals: at least 3.5x the single-request throughput at concurrency 4 and 6x at concurrency 8.

`run(quick)` returns the same dict, for the benchmarks entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines.base import GenerationRequest  # noqa: E402
from llama_vision.engines.openai import OpenAIEngine  # noqa: E402

GOALS = {4: 3.5, 8: 6.0}


def _page() -> Any:
    """A receipt-sized page with some ink, so JPEG encoding costs what a real page costs."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1000, 1400), "white")
    draw = ImageDraw.Draw(image)
    for row in range(40):
        draw.text((60, 40 + row * 32), f"ITEM {row:02d}  Widget number {row * 7}   ${row * 1.37:8.2f}", fill="black")
    return image


class _ServerProcess:
    """The fake server in its own process, as a real model server is: it must not compete with
    the client for this interpreter's GIL, or the benchmark measures Python, not the engine."""

    def __init__(self, delay: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.openai_fake_server", "--delay", str(delay)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.close()
            raise RuntimeError(f"the fake server did not start (said {self.url!r})")
        self._root = self.url.removesuffix("/v1")

    def stats(self, reset: bool = False) -> dict[str, int]:
        request = urllib.request.Request(self._root + ("/fake/reset" if reset else "/fake/stats"),
                                         data=b"{}" if reset else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _measure(server: _ServerProcess, concurrency: int, documents: int, image: Any, repeats: int) -> dict[str, Any]:
    settings = load_settings(env_file=None, engine="openai", api_base=server.url,
                             api_concurrency=concurrency, api_retries=0, api_timeout=60)
    engine = OpenAIEngine(settings)
    try:
        engine.initialize()
        engine.generate_batch([GenerationRequest(image, "warm-up")] * concurrency)  # open connections
        server.stats(reset=True)
        runs, lost = [], 0
        for _ in range(repeats):
            started = time.perf_counter()
            results = engine.generate_batch([GenerationRequest(image, f"ECHO doc{i}") for i in range(documents)])
            runs.append(time.perf_counter() - started)
            lost += sum(1 for i, r in enumerate(results) if not r.text.startswith(f"ECHO doc{i}\n"))
    finally:
        engine.unload()
    best = min(runs)
    return {
        "documents": documents,
        "seconds": round(best, 3),
        "docs_per_s": round(documents / best, 3),
        "runs_s": [round(r, 3) for r in runs],
        "server_max_in_flight": server.stats()["max_in_flight"],
        "lost_or_misordered": lost,
    }


def run(quick: bool = False, *, delay: float = 0.2, levels: tuple[int, ...] = (1, 4, 8)) -> dict[str, Any]:
    """Throughput at each concurrency level against a fake server that takes `delay` s per request."""
    rounds = 3 if quick else 5  # every level runs `rounds` full waves of requests...
    repeats = 1 if quick else 3  # ...`repeats` times, keeping the best
    image = _page()
    measured: dict[str, Any] = {}
    server = _ServerProcess(delay)
    try:
        for level in levels:
            measured[str(level)] = _measure(server, level, level * rounds, image, repeats)
    finally:
        server.close()
    base = measured[str(levels[0])]["docs_per_s"]
    speedup = {str(level): round(measured[str(level)]["docs_per_s"] / base, 2) for level in levels[1:]}
    goals = {str(level): goal for level, goal in GOALS.items() if str(level) in speedup}
    met = {level: speedup[level] >= goal for level, goal in goals.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "benchmark": "openai_concurrency",
        "quick": quick,
        "server": "tests/openai_fake_server.py in its own process on 127.0.0.1 (ollama flavor)",
        "server_delay_s": delay,
        "page": "1000x1400 RGB, JPEG per request",
        "levels": measured,
        "speedup_vs_1": speedup,
        "goals": goals,
        "met": met,
        "all_met": all(met.values()) and all(m["lost_or_misordered"] == 0 for m in measured.values()),
        "cpus": os.cpu_count(),
        "load_average_1m": load,  # a busy machine starves the client: read the ratios with it
        "python": platform.python_version(),
    }


def figures(quick: bool = False, result: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The same measurement as benchmarks/common.py figure records (one per goal), for an entry
    point that prints figures rather than whole benchmark objects."""
    from benchmarks.common import figure, machine

    result = result or run(quick)
    base = result["levels"]["1"]["docs_per_s"]
    records = []
    for level, goal in result["goals"].items():
        records.append(figure(
            f"openai_concurrency_{level}",
            title=f"openai engine: documents/s at concurrency {level} vs 1 (fake server, {result['server_delay_s']} s)",
            value=result["levels"][level]["docs_per_s"], baseline=base, unit="documents/s",
            goal=f">= {goal}x", met=result["met"][level],
            setup={**machine(), "server_delay_s": result["server_delay_s"], "page": result["page"]},
            details=result["levels"][level],
        ))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer documents per level")
    parser.add_argument("--delay", type=float, default=0.2, help="server seconds per request (default 0.2)")
    parser.add_argument("--levels", default="1,4,8", help="concurrency levels, the first is the baseline")
    args = parser.parse_args()
    levels = tuple(int(x) for x in args.levels.split(",") if x.strip())
    print(json.dumps(run(args.quick, delay=args.delay, levels=levels), indent=2))


if __name__ == "__main__":
    main()

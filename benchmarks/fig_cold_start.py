"""Figure 5: cold start of `python app.py` (no model configured: the OCR engine) to the first HTTP 200,
against `python -c "import gradio"`, the floor any Gradio app pays.

Also answers whether torch was imported, two ways: a probe process that imports `app` and looks
in sys.modules, and the running app's own memory map (/proc/PID/maps lists libtorch once torch is
loaded), read after the first 200 and again after its background OCR warm-up had a moment.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from benchmarks.common import CLOCK, ROOT, figure, skipped

TITLE = "python app.py to first HTTP 200 vs python -c 'import gradio'"
GOAL = "<= 1.5x, and no torch import on the OCR engine"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    # explicit empties win over a developer's .env (load_dotenv never overrides the environment)
    env.update(LLAMA_VISION_PORT=str(port), LLAMA_VISION_HOST="127.0.0.1", LLAMA_VISION_ENGINE="auto",
               LLAMA_VISION_MODEL_PATH="", LLAMA_VISION_API_BASE="", LLAMA_VISION_AUTH="",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONDONTWRITEBYTECODE="1")
    return env


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process and its waited-for children, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks  # utime stime cutime cstime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _torch_mapped(pid: int) -> bool | None:
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            return any("libtorch" in line for line in maps)
    except OSError:
        return None


def start_app(timeout: float = 120.0) -> dict[str, Any]:
    """Seconds from spawning `python app.py` to the first 200 on '/', and torch in its memory map."""
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=_env(port),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace")[-800:] if process.stderr else ""
                raise RuntimeError(f"app.py exited with {process.returncode} before serving: {error}")
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"app.py did not answer 200 within {timeout:.0f} s")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid)
        at_200 = _torch_mapped(process.pid)
        time.sleep(2.0)  # let the background OCR warm-up run
        later = _torch_mapped(process.pid)
        return {"seconds": seconds, "cpu_seconds": cpu, "torch_mapped_at_200": at_200, "torch_mapped_after_2s": later}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def import_gradio() -> dict[str, float]:
    started, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", "import gradio"], cwd=ROOT, env=_env(0), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _children_cpu() - cpu}


def torch_probe() -> bool:
    """Does importing the app (building the Blocks, OCR engine chosen) import torch?"""
    output = subprocess.run(
        [sys.executable, "-c", "import sys, app; print('torch' in sys.modules)"],
        cwd=ROOT, env=_env(_free_port()), check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()
    return output[-1] == "True"


def cold_start(*, quick: bool) -> dict[str, Any]:
    if not (ROOT / "app.py").is_file():
        return skipped("cold_start", title=TITLE, goal=GOAL, reason="app.py does not exist yet")
    import statistics

    repeats = 2 if quick else 5
    import_gradio()  # warm-up: the OS file cache, .pyc files
    start_app()
    apps: list[dict[str, Any]] = []
    gradio: list[dict[str, float]] = []
    for _ in range(repeats):  # interleaved
        apps.append(start_app())
        gradio.append(import_gradio())
    key = "cpu_seconds" if CLOCK == "cpu" and all(a["cpu_seconds"] is not None for a in apps) else "seconds"
    value = statistics.median(a[key] for a in apps)
    baseline = statistics.median(g[key] for g in gradio)
    probe = torch_probe()
    mapped = any(a["torch_mapped_at_200"] or a["torch_mapped_after_2s"] for a in apps)
    ratio = value / baseline
    return figure(
        "cold_start",
        title=TITLE,
        value=value, baseline=baseline, unit="s", goal=GOAL, met=ratio <= 1.5 and not probe and not mapped,
        setup={
            "command": f"{os.path.basename(sys.executable)} app.py, LLAMA_VISION_MODEL_PATH and _API_BASE empty "
                       "(engine auto -> ocr), a free LLAMA_VISION_PORT; polled GET / every 50 ms",
            "baseline": "python -c 'import gradio'",
            "repeats": repeats, "warmup": 1,
            "statistic": ("median CPU seconds (process and children, from /proc at the first 200), interleaved; "
                          "wall in details") if key == "cpu_seconds" else "median wall seconds, interleaved",
        },
        details={
            "torch_imported_by_import_app": probe,
            "torch_in_running_app_memory_map": mapped,
            "app": {"wall_runs": [round(a["seconds"], 3) for a in apps],
                    "cpu_runs": [None if a["cpu_seconds"] is None else round(a["cpu_seconds"], 3) for a in apps]},
            "import_gradio": {"wall_runs": [round(g["seconds"], 3) for g in gradio],
                              "cpu_runs": [round(g["cpu_seconds"], 3) for g in gradio]},
        },
    )

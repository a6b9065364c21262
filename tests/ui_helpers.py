"""Launch the real app (python app.py) on a free port in a subprocess, once per configuration
per test session, and share it between tests/test_ui_api.py and tests/test_browser.py."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SAMPLES = REPO / "llama_vision" / "samples" / "bundled"
START_TIMEOUT = 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen
    log: Path
    batch_dir: Path

    @property
    def dataset_dir(self) -> Path:
        """Where "Save as ground truth" writes (app_env points it beside the batch folder)."""
        return self.batch_dir.parent / "dataset"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_RUNNING: dict[str, RunningApp] = {}


def _stop_all() -> None:
    for app in _RUNNING.values():
        app.stop()


atexit.register(_stop_all)


def app_env(port: int, batch_dir: Path, **overrides: str) -> dict[str, str]:
    """A clean LLAMA_VISION_* environment for a launched app. Every setting that could leak in
    from a developer's .env is set explicitly (load_dotenv never overrides); the bind is left at
    its default, which tests/test_security.py checks is 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(
        LLAMA_VISION_ENGINE="ocr", LLAMA_VISION_MODEL_PATH="", LLAMA_VISION_API_BASE="", LLAMA_VISION_AUTH="",
        LLAMA_VISION_SHARE="false", LLAMA_VISION_PORT=str(port), LLAMA_VISION_BATCH_DIR=str(batch_dir),
        LLAMA_VISION_DATASET_DIR=str(batch_dir.parent / "dataset"),  # never the developer's data folder
        GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", OMP_NUM_THREADS="2",
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.update(overrides)
    return env


def launch_app(key: str, workdir: Path, *, script: str | None = None, **env_overrides: str) -> RunningApp:
    """Start `python app.py` (or `python -c script`, for an injected engine) with a clean
    environment plus overrides, wait until it answers HTTP at all (401 counts: with a login on,
    the app is up and wants credentials), and cache it under `key` for the session."""
    if key in _RUNNING and _RUNNING[key].process.poll() is None:
        return _RUNNING[key]
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    batch_dir = workdir / "batch-dir"
    batch_dir.mkdir(parents=True, exist_ok=True)
    env = app_env(port, batch_dir, **env_overrides)
    log = workdir / f"app-{key}.log"
    command = [sys.executable, "app.py"] if script is None else [sys.executable, "-c", script]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    app = RunningApp(url=f"http://127.0.0.1:{port}/", process=process, log=log, batch_dir=batch_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log_tail()}")
        try:
            urllib.request.urlopen(app.url + "gradio_api/info", timeout=2).close()
        except urllib.error.HTTPError:
            pass  # it answered (401 with a login on): the app is up
        except OSError:
            time.sleep(0.3)
            continue
        _RUNNING[key] = app
        return app
    app.stop()
    raise RuntimeError(f"the app did not answer within {START_TIMEOUT:.0f} s:\n{app.log_tail()}")


def bundled_samples() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".pdf"})


def three_documents(workdir: Path, *, seed: int) -> list[Path]:
    """Three documents with ground truth: the bundled samples, or freshly generated ones."""
    samples = [p for p in bundled_samples() if p.with_suffix(".json").is_file()]
    if len(samples) >= 3:
        return samples[:3]
    from llama_vision.samples.generator import generate_documents

    return [Path(p) for p in generate_documents(workdir / "generated", 3, seed=seed)][:3]



def page_event(client, api_name: str) -> int:
    """The fn_index of one of the page's own (private) events, callable through `client` as the
    browser calls it: gradio_client refuses private endpoints by name, and the public API has
    its own endpoints (tests/test_public_api.py). For tests of what the page shows."""
    for i, dependency in enumerate(client.config["dependencies"]):
        if dependency.get("api_name") == api_name.lstrip("/"):
            index = dependency.get("id", i)
            client.endpoints[index].is_valid = True
            return index
    raise LookupError(f"the app has no event named {api_name!r}")

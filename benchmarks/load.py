"""Load: N concurrent gradio_client clients calling the app's /extract API; prints JSON.

    python benchmarks/load.py                       # launches app.py (OCR engine) on a free port
    python benchmarks/load.py --clients 20 --rounds 2 --queue-size 64
    python benchmarks/load.py --url http://127.0.0.1:7860/   # an app that is already running

Every client uploads its own copy of a bundled sample (or a generated receipt), all start at
once (a barrier), and each request's wall time is measured from submit to final output, so
it includes upload, queueing and OCR. Reported: ok / busy / failed counts, p50, p95, max and
mean latency in seconds, throughput, and the settings the app ran with. Not a test: timings
depend on the machine (tests/test_load.py checks correctness under load, not speed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(engine: str, queue_size: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(LLAMA_VISION_ENGINE=engine, LLAMA_VISION_PORT=str(port), LLAMA_VISION_QUEUE_SIZE=str(queue_size),
               LLAMA_VISION_AUTH="", LLAMA_VISION_SHARE="false", GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=open(log, "w"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("app.py did not start within 180 s")


def _document(folder: Path) -> Path:
    from llama_vision.samples import bundled_samples

    samples = [p for p in bundled_samples() if p.suffix.lower() in (".png", ".jpg", ".jpeg")]
    if samples:
        return samples[0]
    from llama_vision.samples.generator import generate_documents

    return Path(generate_documents(folder, 1, seed=3)[0])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(url: str, clients: int, rounds: int, folder: Path) -> dict:
    from gradio_client import Client, handle_file

    source = _document(folder)
    copies = []
    for i in range(clients):
        copy = folder / f"client-{i:02d}{source.suffix}"
        shutil.copyfile(source, copy)
        copies.append(copy)
    connected = [Client(url, verbose=False, download_files=str(folder / f"dl-{i}")) for i in range(clients)]
    latencies: list[float] = []
    outcomes: dict[str, int] = {"ok": 0, "busy": 0, "failed": 0}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client_loop(i: int) -> None:
        barrier.wait()
        for _ in range(rounds):
            started = time.perf_counter()
            try:
                result = connected[i].predict(handle_file(str(copies[i])), 1, "key_value", api_name="/extract")
                kind = "ok" if result.get("status") == "ok" and result.get("file") == copies[i].name else "failed"
                message = None if kind == "ok" else f"{result.get('file')}: {result.get('error')}"
            except Exception as error:  # noqa: BLE001 - counted and reported
                message = f"{type(error).__name__}: {error}"
                kind = "busy" if "queue is full" in message.lower() or "busy" in message.lower() else "failed"
            elapsed = time.perf_counter() - started
            with lock:
                outcomes[kind] += 1
                if kind == "ok":
                    latencies.append(elapsed)
                elif message:
                    errors.append(message[:200])

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "requests": clients * rounds,
        **outcomes,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(_percentile(latencies, 0.95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "wall_s": round(wall, 3),
        "throughput_per_s": round(outcomes["ok"] / wall, 3) if wall else None,
        "document": source.name,
        "errors": sorted(set(errors))[:10],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="requests per client, one after another")
    parser.add_argument("--engine", default="ocr")
    parser.add_argument("--queue-size", type=int, default=64, help="LLAMA_VISION_QUEUE_SIZE for the launched app")
    parser.add_argument("--url", help="an app already running (no launch)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llama-vision-load-") as tmp:
        folder = Path(tmp)
        process = None
        url = args.url
        if url is None:
            process, url = _launch(args.engine, args.queue_size, folder / "app.log")
        try:
            report = run(url, args.clients, args.rounds, folder)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
    report = {"benchmark": "load", "clients": args.clients, "rounds": args.rounds, "engine": args.engine,
              "queue_size": args.queue_size if args.url is None else None, "cpus": os.cpu_count(), **report}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

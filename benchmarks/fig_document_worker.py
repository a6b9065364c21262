"""The cost of drawing documents in the bounded worker: load time in-process vs through the worker.

`load_pages` decodes and renders in a child process with a memory and a time limit (issue 10).
This measures what that costs an ordinary document, same run, interleaved: the bundled sample
receipts plus a generated three-page PDF, each loaded with `documents.iter_pages` in this
process (the unguarded path) and with `load_pages` (bytes to the worker, raw RGB pages back).
Wall time is used on both sides (the worker's CPU time is not this process's). The worker's
start-up (once per process, then reused) is reported separately.

`python -m benchmarks.fig_document_worker` prints the figure as JSON.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import figure

TITLE = "document load through the bounded worker vs in-process"
GOAL = "<= 50 ms more per document"


def _documents(folder: Path) -> list[Path]:
    from PIL import Image, ImageDraw

    from llama_vision.samples import bundled_samples

    pages = []
    for index in range(3):
        page = Image.new("RGB", (1240, 1754), "white")
        ImageDraw.Draw(page).text((100, 100 + 40 * index), f"TAX INVOICE page {index + 1}", fill="black")
        pages.append(page)
    pdf = folder / "statement.pdf"
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    pdf.write_bytes(buffer.getvalue())
    return [*bundled_samples(), pdf]


def document_worker(*, quick: bool = False) -> dict[str, Any]:
    import tempfile

    from llama_vision import document_worker as worker
    from llama_vision.config import load_settings
    from llama_vision.documents import detect_kind, iter_pages, load_pages

    settings = load_settings()
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as folder:
        paths = _documents(Path(folder))
        worker.shutdown()
        started = time.perf_counter()
        load_pages(paths[0], settings=settings)  # starts the worker
        first = time.perf_counter() - started

        def in_process() -> int:
            pixels = 0
            for path in paths:
                data = path.read_bytes()
                pixels += sum(p.width * p.height for p in iter_pages(data, path.name, detect_kind(data) or "", max_pages=20))
            return pixels

        def through_worker() -> int:
            return sum(p.width * p.height for path in paths for p in load_pages(path, settings=settings))

        runs: dict[str, list[float]] = {"in_process": [], "worker": []}
        assert in_process() == through_worker()  # the same pages either way (and a warm-up)
        for _ in range(repeats):
            for name, fn in (("in_process", in_process), ("worker", through_worker)):
                t0 = time.perf_counter()
                fn()
                runs[name].append(time.perf_counter() - t0)
    base, value = statistics.median(runs["in_process"]), statistics.median(runs["worker"])
    per_document_ms = (value - base) / len(paths) * 1000
    return figure(
        "document_worker", title=TITLE, value=value, baseline=base, unit="s", goal=GOAL,
        met=per_document_ms <= 50,
        setup={"documents": [p.name for p in paths], "repeats": repeats, "clock": "wall",
               "memory_mb": settings.document_memory_mb, "seconds": settings.document_seconds},
        details={"overhead_ms_per_document": round(per_document_ms, 2),
                 "first_call_with_worker_start_s": round(first, 3),
                 "runs_s": {k: [round(t, 4) for t in v] for k, v in runs.items()}},
    )


if __name__ == "__main__":
    print(json.dumps(document_worker(), indent=2))

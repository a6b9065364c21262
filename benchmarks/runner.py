"""`python -m benchmarks [--quick] [--only NAME ...] [--out FILE]`: every figure, one JSON object.

Each figure is measured against its baseline in the same run (see benchmarks/common.py for the
record's shape). A figure that cannot run here (no SROIE data, no app.py yet) is `skipped` with
the reason; one that crashes is `error` with the message; neither stops the others.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import failed, machine, report_json

# name -> (title, goal) for error records; the order is the order of the run and of the table.
FIGURES: dict[str, tuple[str, str]] = {
    "pipeline_overhead": ("pipeline.extract() vs bare model.generate", "<= 1.05x"),
    "batching": ("8 documents batched vs one by one", ">= 2x"),
    "field_prompts": ("8 field questions: ask_fields vs 8 generates", "<= 0.35x"),
    "image_prep": ("12 MP photo: downscale first vs full photo to the processor", ">= 5x faster"),
    "document_worker": ("document load through the bounded worker vs in-process", "<= 50 ms more per document"),
    "cold_start": ("python app.py to first 200 vs import gradio", "<= 1.5x"),
    "ocr": ("OCR seconds per SROIE receipt, downscale vs none", "<= 1.5 s, accuracy unchanged"),
    "ocr_batch": ("OCR engine batch: documents/s, a reader per core vs 1 on one core", ">= 1.7x"),
    "footprint": ("estimate_footprint vs meta-device 11B model", "within 1%"),
    "concurrency": ("openai engine concurrency (benchmarks/concurrency.py)", "see script"),
    "batch_table": ("batch tab: server CPU for 1,000 rows vs 250 rows", "<= 4x"),
}
MODEL_FIGURES = ("pipeline_overhead", "batching", "field_prompts")


def _runner(name: str, quick: bool, size: str, shared: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    if name in MODEL_FIGURES:
        def run_model() -> dict[str, Any]:
            from benchmarks import fig_model

            if "bench" not in shared:
                shared["bench"] = fig_model.LlamaBench(size)
            return getattr(fig_model, name)(shared["bench"], quick=quick)

        return run_model
    if name == "image_prep":
        from benchmarks.fig_image_prep import image_prep

        return lambda: image_prep(quick=quick)
    if name == "document_worker":
        from benchmarks.fig_document_worker import document_worker

        return lambda: document_worker(quick=quick)
    if name == "cold_start":
        from benchmarks.fig_cold_start import cold_start

        return lambda: cold_start(quick=quick)
    if name == "ocr":
        from benchmarks.fig_ocr import ocr

        return lambda: ocr(quick=quick)
    if name == "ocr_batch":
        from benchmarks.fig_ocr_batch import ocr_batch

        return lambda: ocr_batch(quick=quick)
    if name == "footprint":
        from benchmarks.fig_footprint import footprint

        return lambda: footprint(quick=quick)
    if name == "concurrency":
        from benchmarks.fig_concurrency import concurrency

        return lambda: concurrency(quick=quick)
    if name == "batch_table":
        from benchmarks.fig_batch_table import batch_table

        return lambda: batch_table(quick=quick)
    raise KeyError(name)


def run(names: list[str], *, quick: bool, size: str = "small", log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the named figures in FIGURES order; returns the whole report."""
    shared: dict[str, Any] = {}
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    for name in [n for n in FIGURES if n in names]:
        title, goal = FIGURES[name]
        if log:
            log(f"[benchmarks] {name} ...")
        t0 = time.perf_counter()
        try:
            record = _runner(name, quick, size, shared)()
        except Exception as error:  # one broken figure must not hide the others
            record = failed(name, title=title, goal=goal, error=error)
        record["elapsed_s"] = round(time.perf_counter() - t0, 2)
        figures[name] = record
        if log:
            log(f"[benchmarks] {name}: {record['status']}, met={record['met']} ({record['elapsed_s']} s)")
    measured = [f for f in figures.values() if f["status"] == "measured"]
    return {
        "benchmark": "llama_vision",
        "mode": "quick" if quick else "full",
        "model_size": size,
        "machine": machine(),
        "figures": figures,
        "summary": {
            "measured": len(measured),
            "met": sum(1 for f in measured if f["met"]),
            "missed": [f["name"] for f in measured if not f["met"]],
            "skipped": [f["name"] for f in figures.values() if f["status"] == "skipped"],
            "errors": [f["name"] for f in figures.values() if f["status"] == "error"],
        },
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and tokens: a few minutes on 2 CPU cores")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only this figure (repeatable, or comma separated): {', '.join(FIGURES)}")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON to this file")
    parser.add_argument("--size", choices=("small", "tiny"), default="small",
                        help="random-weight model for figures 1-3 (tiny: a smoke run, not a measurement)")
    args = parser.parse_args(argv)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()] or list(FIGURES)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    report = run(names, quick=args.quick, size=args.size, log=lambda line: print(line, file=sys.stderr, flush=True))
    report["command"] = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    report_json(report, args.out, indent=2)
    return 0

"""Figure 6: the OCR engine on the SROIE development receipts, and what downscaling does.

Seconds per receipt through the whole pipeline (`evaluation.evaluate`: load, OCR, rules,
normalise, compliance), with `settings.ocr_max_side` at its default and at 8192 (no downscale:
the scans are under 3000 px), and the exact field accuracy of each run against the ground truth.
OCR is run afresh (no box cache), after one untimed warm-up read that loads the ONNX models.
Both runs use the engine's RapidOCR settings (`engines.ocr.OCR_PARAMS`: detector limit "max" 800,
no orientation classifier, recognition padded to 160 px; ONNX threads without spinning, one per
reader by default since issue H), which the record lists under setup.ocr_settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import CLOCK, SROIE_DIR, figure, skipped, timed_both

TITLE = "OCR engine: seconds per SROIE receipt, default downscale vs none, and accuracy"
GOAL = "<= 1.5 s per receipt with accuracy unchanged"
NO_DOWNSCALE = 8192


def _engine(max_side: int, data: Path) -> Any:
    from llama_vision.config import load_settings
    from llama_vision.engines.ocr import OcrEngine
    from llama_vision.evaluation import evaluate

    engine = OcrEngine(load_settings(env_file=None, engine="ocr", ocr_max_side=max_side))
    evaluate(data, engine=engine, limit=1, progress=False)  # untimed: ONNX sessions, lazy imports
    return engine


def _run(data: Path, engine: Any, limit: int) -> dict[str, Any]:
    from llama_vision.evaluation import evaluate

    max_side = engine.settings.ocr_max_side
    cpu, wall, report = timed_both(lambda: evaluate(data, engine=engine, limit=limit, progress=False))
    summary = report.to_dict(details=False)
    return {
        "max_side": max_side,
        "documents": report.documents,
        "errors": report.errors,
        "seconds_per_receipt": (cpu if CLOCK == "cpu" else wall) / max(report.documents, 1),
        "cpu_seconds_per_receipt": round(cpu / max(report.documents, 1), 4),
        "wall_seconds_per_receipt": round(wall / max(report.documents, 1), 4),
        "accuracy": summary["accuracy"],
        "correct": summary["correct"],
        "present": summary["present"],
        "fields": {name: entry["accuracy"] for name, entry in summary["fields"].items() if entry["present"]},
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["seconds_per_receipt"])
    return ordered[len(ordered) // 2]


def ocr(*, quick: bool, data: Path = SROIE_DIR) -> dict[str, Any]:
    if not data.is_dir():
        return skipped("ocr", title=TITLE, goal=GOAL, reason=f"no SROIE data at {data} (../shared/data/sroie-dev)")
    from llama_vision.config import load_settings
    from llama_vision.engines.ocr import OCR_PARAMS, ocr_workers, ort_threads
    from llama_vision.evaluation import find_pairs

    settings = load_settings(env_file=None)
    default_side = settings.ocr_max_side
    available = len(find_pairs(data))
    limit = min(8 if quick else available, available)
    engines = {"default": _engine(default_side, data), "no_downscale": _engine(NO_DOWNSCALE, data)}
    repeats = 1 if quick else 2
    runs: dict[str, list[dict[str, Any]]] = {"default": [], "no_downscale": []}
    for _ in range(repeats):  # interleaved: default, none, default, none ...
        for name, engine in engines.items():
            runs[name].append(_run(data, engine, limit))
    for engine in engines.values():
        engine.unload()
    ours = min(runs["default"], key=lambda r: r["seconds_per_receipt"]) if repeats == 1 else _median_run(runs["default"])
    full = min(runs["no_downscale"], key=lambda r: r["seconds_per_receipt"]) if repeats == 1 else _median_run(runs["no_downscale"])
    value, baseline = ours["seconds_per_receipt"], full["seconds_per_receipt"]
    unchanged = (ours["accuracy"] or 0) >= (full["accuracy"] or 0)
    return figure(
        "ocr",
        title=TITLE,
        value=value, baseline=baseline, unit="s per receipt", goal=GOAL,
        met=value <= 1.5 and unchanged and ours["errors"] == 0,
        setup={
            "data": str(data), "receipts": limit, "of_available": available,
            "engine": "ocr (RapidOCR ONNX + rules) through evaluation.evaluate -> pipeline",
            "ocr_settings": OCR_PARAMS, "onnx_threads": ort_threads(ocr_workers(settings)),
            "readers": "one (receipts one after another; the ocr_batch figure reads two at once)",
            "value": f"ocr_max_side={default_side} (default)", "baseline": f"ocr_max_side={NO_DOWNSCALE} (no downscale)",
            "repeats": 1 if quick else 2, "warmup": "one untimed evaluate(limit=1) per engine (ONNX load, imports)",
            "order": "interleaved: default, no downscale (, default, no downscale)",
            "statistic": f"{CLOCK} seconds over all receipts / receipts (process CPU time, all threads, is an "
                         "upper bound of the wall time on an idle machine with these cores; wall in details)",
            "accuracy": "evaluation.evaluate exact field accuracy (micro) against the SROIE truth",
        },
        details={"default": ours, "no_downscale": full, "accuracy_unchanged_or_better": unchanged,
                 "accuracy_delta": None if ours["accuracy"] is None or full["accuracy"] is None
                 else round(ours["accuracy"] - full["accuracy"], 4)},
    )

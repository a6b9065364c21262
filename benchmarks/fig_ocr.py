"""Figure 6: the OCR engine on the SROIE development receipts, and what downscaling does.

Seconds per receipt through the whole pipeline (`evaluation.evaluate`: load, OCR, rules,
normalise, compliance), with `settings.ocr_max_side` at its default and at 8192 (no downscale:
the scans are under 3000 px), and the exact field accuracy of each run against the ground truth.
OCR is run afresh (no box cache), after one untimed warm-up read that loads the ONNX models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import CLOCK, SROIE_DIR, figure, skipped, timed_both

TITLE = "OCR engine: seconds per SROIE receipt, default downscale vs none, and accuracy"
GOAL = "<= 1.5 s per receipt with accuracy unchanged"
NO_DOWNSCALE = 8192


def _run(data: Path, max_side: int, limit: int) -> dict[str, Any]:
    from llama_vision.config import load_settings
    from llama_vision.documents import load_pages
    from llama_vision.engines.ocr import OcrEngine
    from llama_vision.evaluation import evaluate, find_pairs

    settings = load_settings(env_file=None, engine="ocr", ocr_max_side=max_side)
    engine = OcrEngine(settings)
    warm = find_pairs(data)[0][0]
    engine.read_fields(load_pages(warm, settings=settings)[0])  # load the ONNX sessions untimed
    cpu, wall, report = timed_both(lambda: evaluate(data, engine=engine, limit=limit, progress=False))
    engine.unload()
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


def ocr(*, quick: bool, data: Path = SROIE_DIR) -> dict[str, Any]:
    if not data.is_dir():
        return skipped("ocr", title=TITLE, goal=GOAL, reason=f"no SROIE data at {data} (../shared/data/sroie-dev)")
    from llama_vision.config import load_settings
    from llama_vision.evaluation import find_pairs

    default_side = load_settings(env_file=None).ocr_max_side
    available = len(find_pairs(data))
    limit = min(8 if quick else available, available)
    ours = _run(data, default_side, limit)
    full = _run(data, NO_DOWNSCALE, limit)
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
            "value": f"ocr_max_side={default_side} (default)", "baseline": f"ocr_max_side={NO_DOWNSCALE} (no downscale)",
            "repeats": 1, "warmup": "one untimed read per engine (model load)",
            "statistic": f"{CLOCK} seconds over all receipts / receipts (process CPU time, all threads, is an "
                         "upper bound of the wall time on an idle machine with these cores; wall in details)",
            "accuracy": "evaluation.evaluate exact field accuracy (micro) against the SROIE truth",
        },
        details={"default": ours, "no_downscale": full, "accuracy_unchanged_or_better": unchanged,
                 "accuracy_delta": None if ours["accuracy"] is None or full["accuracy"] is None
                 else round(ours["accuracy"] - full["accuracy"], 4)},
    )

"""Box accuracy on generated documents (issue G): IoU of evidence boxes with the drawn boxes.

    .venv/bin/python -m benchmarks.grounding_boxes [--per-family 6] [--seed 200] [--out FILE]

The layout families (llama_vision.samples.families) record the pixel box of every field value
they draw. Each page is read once by the OCR engine; from those same OCR boxes it scores

- ocr: the OCR engine's own evidence, for the fields its rules read correctly;
- grounding: `llama_vision.grounding` given the generator's TRUE values as if a model had
  answered them, which measures the grounding step itself without a model.

It also times the matching step alone (`ground_fields` on a page already read). A field counts
when its box overlaps the drawn box with IoU >= 0.5. Prints JSON per field, per
family and overall (goal: >= 90% of correctly read fields). Seeds 100-199 are for tuning the
matcher; report on other seeds (default 200).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import report_json  # noqa: E402

from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines.ocr.layout import group_lines  # noqa: E402
from llama_vision.engines.ocr.rules import read_boxes  # noqa: E402
from llama_vision.fields import normalise_value  # noqa: E402
from llama_vision.grounding import PageText, ground_fields, shared_reader  # noqa: E402

GOAL = 0.9
MATCH_SECONDS: list[float] = []  # ground_fields' time per page (the matching, after the OCR pass)


def iou(a: list[float] | None, b: list[float]) -> float:
    if not a:
        return 0.0
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def score_page(image: Any, truth: dict[str, Any], settings: Any) -> dict[str, dict[str, Any]]:
    """field -> {"ocr": iou or None (not read correctly), "grounding": iou} for one page."""
    reader = shared_reader(settings)
    boxes, scale = reader.ocr_boxes(image), reader.ocr_scale(image)
    reading = read_boxes(boxes)
    page = PageText(rows=group_lines(boxes), scale=scale, width=image.width, height=image.height)
    wanted = {name: truth["fields"][name] for name in truth["boxes"] if truth["fields"].get(name) is not None}
    started = time.perf_counter()
    grounded = ground_fields(page, wanted)
    MATCH_SECONDS.append(time.perf_counter() - started)
    out: dict[str, dict[str, Any]] = {}
    for name, value in wanted.items():
        drawn = truth["boxes"][name]
        read_ok = normalise_value(name, reading.fields.get(name)) == normalise_value(name, value)
        ocr_box = reading.evidence[name].box if read_ok and name in reading.evidence else None
        ocr_box = [v * scale for v in ocr_box] if ocr_box else None
        out[name] = {"ocr": iou(ocr_box, drawn) if read_ok else None,
                     "grounding": iou(grounded[name].box, drawn) if name in grounded else 0.0}
    return out


def _tally(entries: list[dict[str, Any]], side: str) -> dict[str, Any]:
    scored = [e[side] for e in entries if e[side] is not None]
    hits = sum(v >= 0.5 for v in scored)
    return {"fields": len(scored), "iou_ge_0_5": hits, "share": round(hits / len(scored), 4) if scored else None,
            "mean_iou": round(sum(scored) / len(scored), 4) if scored else None}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_field: dict[str, list[dict[str, Any]]] = {}
    by_family: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_field.setdefault(row["field"], []).append(row)
        by_family.setdefault(row["family"], []).append(row)
    sides = ("ocr", "grounding")
    return {
        "all": {side: _tally(rows, side) for side in sides},
        "per_field": {k: {side: _tally(v, side) for side in sides} for k, v in sorted(by_field.items())},
        "per_family": {k: {side: _tally(v, side) for side in sides} for k, v in sorted(by_family.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-family", type=int, default=6)
    parser.add_argument("--seed", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/llama_vision_grounding"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from PIL import Image

    from llama_vision.samples import generate_documents
    from llama_vision.samples.families import FAMILIES

    folder = args.work / f"{args.seed}-{args.per_family}"
    count = args.per_family * len(FAMILIES)
    paths = sorted(folder.glob("*.json"))
    if len(paths) != count:
        generate_documents(folder, count, seed=args.seed, families="all")
    settings = load_settings(engine="ocr")
    rows, started = [], time.perf_counter()
    for truth_path in sorted(folder.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        image_path = next(p for p in folder.glob(truth_path.stem + ".*") if p.suffix != ".json")
        with Image.open(image_path) as opened:
            image = opened.convert("RGB")
        for name, result in score_page(image, truth, settings).items():
            rows.append({"file": image_path.name, "family": truth["generator"]["family"], "field": name, **result})
    report = {"benchmark": "grounding_boxes", "seed": args.seed, "documents": count, "goal_share": GOAL,
              "seconds": round(time.perf_counter() - started, 1), **summarise(rows),
              "match_seconds_per_page": {"median": round(statistics.median(MATCH_SECONDS), 4),
                                         "max": round(max(MATCH_SECONDS), 4)},
              "misses": [r for r in rows if r["grounding"] < 0.5][:40]}
    report["met"] = {side: (report["all"][side]["share"] or 0) >= GOAL for side in ("ocr", "grounding")}
    report_json(report, args.out)


if __name__ == "__main__":
    main()

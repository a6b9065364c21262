"""Time the OCR engine's evidence (issue G): the rules with and without building evidence, same run.

    .venv/bin/python -m benchmarks.evidence_overhead [--pages 40] [--repeat 5]

Reads the cached OCR boxes of SROIE pages (benchmarks.ocr_cache, run ocr_sroie first) and runs the
rules on each page `repeat` times with evidence and with evidence switched off, interleaved, then
times a few real OCR calls. Prints JSON: the rules' extra time and the share of a whole document
(OCR + rules) it adds. Goal: <= 5%.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.ocr_cache import boxes_from_json, settings_key
from llama_vision.engines.ocr.rules import reading


def _time_rules(pages: list, repeat: int, with_evidence: bool) -> float:
    original = reading.build_evidence
    if not with_evidence:
        reading.build_evidence = lambda rows, fields, trace: {}  # noqa: E731 - the switch being measured
    try:
        started = time.perf_counter()
        for _ in range(repeat):
            for boxes in pages:
                reading.read_boxes(boxes)
        return (time.perf_counter() - started) / (repeat * len(pages))
    finally:
        reading.build_evidence = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/llama_vision_ocr_cache"))
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ocr-seconds", type=float, default=None, help="a document's OCR time (default: 1.4 s, fig. 6)")
    args = parser.parse_args()
    folder = args.cache / f"1600-{settings_key()}"
    files = sorted(folder.glob("*.json"))[: args.pages]
    if not files:
        raise SystemExit(f"No cached OCR boxes in {folder}; run python -m benchmarks.ocr_sroie first.")
    pages = [boxes_from_json(json.loads(f.read_text())["boxes"]) for f in files]
    plain, full = [], []
    for _ in range(3):  # interleaved rounds: the machine's load hits both sides alike
        plain.append(_time_rules(pages, args.repeat, False))
        full.append(_time_rules(pages, args.repeat, True))
    plain_s, full_s = min(plain), min(full)
    ocr_s = args.ocr_seconds if args.ocr_seconds is not None else 1.4
    print(json.dumps({
        "pages": len(pages), "rules_seconds_without_evidence": round(plain_s, 5),
        "rules_seconds_with_evidence": round(full_s, 5), "rules_ratio": round(full_s / plain_s, 3),
        "ocr_seconds_per_document": ocr_s,
        "document_ratio": round((ocr_s + full_s) / (ocr_s + plain_s), 4), "goal_document_ratio": 1.05,
    }, indent=1))


if __name__ == "__main__":
    main()

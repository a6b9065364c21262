"""Accuracy and speed of the OCR engine on the SROIE development scans; prints JSON.

    python benchmarks/ocr_sroie.py                       # all files, OCR at LLAMA_VISION_OCR_MAX_SIDE
    python benchmarks/ocr_sroie.py --max-side 1280 --errors
    python benchmarks/ocr_sroie.py --compare-sides 8192,1600,1280,1024   # downscaling effect
    python benchmarks/ocr_sroie.py --ocr-param Det.unclip_ratio=2.0      # try a RapidOCR setting

Scored by `evaluation.evaluate`, as `llama-vision evaluate DIR --engine ocr` scores it: "accuracy"
is its exact agreement per field; "accuracy_letters_digits" is its secondary text rate (only
letters and digits compared), the way SROIE figures are usually quoted.
OCR boxes are cached per page under --cache (default /tmp/llama_vision_ocr_cache/<max side>-<key>/,
the key a hash of the engine's RapidOCR settings, so changed settings never reuse stale boxes),
so re-runs only re-apply the rules; pass --no-cache to time OCR afresh. CPU heavy: run one at a time.
Timing (OCR calls that ran, not cached ones): ocr_cpu_seconds_mean is the process CPU time of the
OCR call (all threads), the stable number on a shared machine; ocr_seconds_mean is its wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ocr_cache import CachedOcrEngine, apply_ocr_params, print_misses, summarise  # noqa: E402
from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines.ocr import OCR_PARAMS  # noqa: E402
from llama_vision.evaluation import evaluate  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "sroie-dev"


def run(data: Path, max_side: int, cache: Path | None, limit: int | None, errors: bool = False) -> dict:
    engine = CachedOcrEngine(load_settings(engine="ocr", ocr_max_side=max_side), cache)
    engine.initialize()  # model loading is not part of a receipt's time
    report = evaluate(data, engine=engine, limit=limit, progress=False)
    if errors:
        print_misses(report, file_width=22, key_width=16)
    result = summarise(report, engine)
    result["max_side"] = max_side
    result["ocr_settings"] = OCR_PARAMS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--max-side", type=int, default=None, help="default: settings.ocr_max_side")
    parser.add_argument("--compare-sides", default=None, help="comma-separated max sides to compare")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/llama_vision_ocr_cache"))
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--ocr-param", action="append", default=[], metavar="KEY=JSON",
                        help="override one of the engine's OCR_PARAMS for this run (cached apart)")
    args = parser.parse_args()
    apply_ocr_params(args.ocr_param)
    if not args.data.is_dir():
        sys.exit(f"No SROIE folder at {args.data}; pass --data.")
    cache = None if args.no_cache else args.cache
    sides = [int(s) for s in args.compare_sides.split(",")] if args.compare_sides else [
        args.max_side or load_settings().ocr_max_side]
    for side in sides:
        print(json.dumps(run(args.data.resolve(), side, cache, args.limit, args.errors)))


if __name__ == "__main__":
    main()

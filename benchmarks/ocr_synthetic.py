"""Accuracy of the OCR engine on seeded synthetic Australian documents; prints JSON.

    python benchmarks/ocr_synthetic.py --count 60 --seed 7 --errors

Documents are generated under /tmp/llama_vision_synthetic/<seed>-<kinds>/ and OCR boxes are cached
under /tmp/llama_vision_ocr_cache/synthetic-<seed>-<kinds>[-<max side>]/, so re-runs only re-apply
the rules. --max-side N reads at another downscale (its own cache).
CPU heavy on the first run (about 60 OCR passes): run one at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llama_vision.config import load_settings  # noqa: E402
from llama_vision.documents import load_pages  # noqa: E402
from llama_vision.engines.ocr import OcrEngine  # noqa: E402
from benchmarks.ocr_cache import print_misses, score_synthetic  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kinds", default=None, help="comma-separated generator kinds (default: its default set)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/llama_vision_synthetic"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/llama_vision_ocr_cache"))
    parser.add_argument("--max-side", type=int, default=None, help="default: settings.ocr_max_side")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    from llama_vision.samples import generate_documents

    kinds = args.kinds.split(",") if args.kinds else None
    folder = args.work / f"{args.seed}-{args.kinds or 'default'}"
    images = sorted(p for p in folder.glob("*") if p.suffix in {".jpg", ".png"}) if folder.is_dir() else []
    if len(images) < args.count:
        images = generate_documents(folder, args.count, seed=args.seed, kinds=kinds)
    images = sorted(images)[: args.count]
    settings = load_settings(**({"ocr_max_side": args.max_side} if args.max_side else {}))
    engine = OcrEngine(settings)
    cache = args.cache / f"synthetic-{args.seed}-{args.kinds or 'default'}"
    if settings.ocr_max_side != 1600:  # 1600 (the default) keeps the original cache folder
        cache = cache.with_name(f"{cache.name}-{settings.ocr_max_side}")
    result = score_synthetic(images, cache_dir=cache,
                             run_ocr=lambda path: engine.ocr_boxes(load_pages(path, settings=settings)[0]))
    result["max_side"] = settings.ocr_max_side
    details = result.pop("details")
    if args.errors:
        print_misses(details, file_width=28, key_width=22)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Accuracy of the OCR engine on seeded synthetic Australian documents; prints JSON.

    python benchmarks/ocr_synthetic.py --count 60 --seed 7 --errors

Scored by `evaluation.evaluate` against the generator's truth JSON, as `llama-vision evaluate`
scores it: exact agreement per field present in the truth, values invented where the truth is null
("spurious"), the document type and compliance exactness. Line items are not scored there (see
evaluation.py); tests/test_ocr_rules.py checks the item rules.
Documents are generated under /tmp/llama_vision_synthetic/<seed>-<kinds>/ and OCR boxes are cached
under /tmp/llama_vision_ocr_cache/synthetic-<seed>-<kinds>/, so re-runs only re-apply the rules.
--max-side N reads at another downscale (cached apart: the key includes it).
CPU heavy on the first run (about 60 OCR passes): run one at a time.
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
from llama_vision.evaluation import evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kinds", default=None, help="comma-separated generator kinds (default: its default set)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/llama_vision_synthetic"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/llama_vision_ocr_cache"))
    parser.add_argument("--max-side", type=int, default=None, help="default: settings.ocr_max_side")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--ocr-param", action="append", default=[], metavar="KEY=JSON",
                        help="override one of the engine's OCR_PARAMS for this run (cached apart)")
    args = parser.parse_args()
    apply_ocr_params(args.ocr_param)
    from llama_vision.samples import generate_documents

    kinds = args.kinds.split(",") if args.kinds else None
    folder = args.work / f"{args.seed}-{args.kinds or 'default'}"
    images = sorted(p for p in folder.glob("*") if p.suffix in {".jpg", ".png"}) if folder.is_dir() else []
    if len(images) < args.count:
        generate_documents(folder, args.count, seed=args.seed, kinds=kinds)
    settings = load_settings(engine="ocr", **({"ocr_max_side": args.max_side} if args.max_side else {}))
    engine = CachedOcrEngine(settings, args.cache / f"synthetic-{args.seed}-{args.kinds or 'default'}")
    report = evaluate(folder, engine=engine, limit=args.count, progress=False)
    if args.errors:
        print_misses(report, file_width=28, key_width=22)
    result = summarise(report, engine)
    result["max_side"] = settings.ocr_max_side
    print(json.dumps(result))


if __name__ == "__main__":
    main()

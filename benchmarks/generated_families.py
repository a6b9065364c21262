"""Accuracy per generator layout family (samples.families); prints JSON.

    python benchmarks/generated_families.py --per-family 16 --seed 0

Generates PER_FAMILY documents of every family (seeded, so the same set each run) under
/tmp/llama_vision_families/<seed>-<per family>/, runs `evaluation.evaluate` with the chosen engine
(default: the OCR engine) and groups the scored documents by the truth's `generator.family`:
exact accuracy after normalisation for supplier_name, supplier_abn, date, total and gst, and the
share of documents whose compliance outcome is exactly right (evaluate's `compliance.exact`).
These families are the unseen-layout check: rules must not be tuned against them in the change
that adds them. CPU heavy on the first run (one OCR pass per document): run one at a time. With
the OCR engine its boxes are cached under --cache (per settings, as benchmarks/ocr_sroie.py does),
so re-runs only re-apply the rules; --errors lists every miss.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ocr_cache import CachedOcrEngine, apply_ocr_params, print_misses  # noqa: E402
from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines import create_engine  # noqa: E402
from llama_vision.evaluation import evaluate  # noqa: E402

FIELDS = ("supplier_name", "supplier_abn", "date", "total", "gst")


def _tally(details: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"documents": len(details)}
    for name in FIELDS:
        entries = [d["fields"][name] for d in details if name in d["fields"] and not d["fields"][name]["absent"]]
        correct = sum(bool(e["correct"]) for e in entries)
        spurious = sum(bool(d["fields"][name].get("spurious")) for d in details
                       if name in d["fields"] and d["fields"][name]["absent"])
        out[name] = {"present": len(entries), "correct": correct,
                     "accuracy": round(correct / len(entries), 4) if entries else None, "spurious": spurious}
    scored = [d for d in details if "compliance" in d]
    exact = sum(bool(d["compliance"]["exact"]) for d in scored)
    verdicts = sum(bool(d["compliance"]["agreement"].get("verdict")) for d in scored)
    out["compliance_exact"] = round(exact / len(scored), 4) if scored else None
    out["verdict_agreement"] = round(verdicts / len(scored), 4) if scored else None
    out["errors"] = sum(d["status"] == "error" for d in details)
    return out


def by_family(directory: Path, details: list[dict[str, Any]]) -> dict[str, Any]:
    """Group evaluate's per-document details by the truth's generator family."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in details:
        truth = json.loads((directory / entry["file"]).with_suffix(".json").read_text(encoding="utf-8"))
        family = (truth.get("generator") or {}).get("family") or (truth.get("generator") or {}).get("kind", "?")
        groups.setdefault(family, []).append(entry)
    table = {family: _tally(entries) for family, entries in sorted(groups.items())}
    table["all"] = _tally([e for entries in groups.values() for e in entries])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-family", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="ocr")
    parser.add_argument("--work", type=Path, default=Path("/tmp/llama_vision_families"))
    parser.add_argument("--families", default="all", help="'all' or comma-separated family names")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/llama_vision_ocr_cache"))
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list every miss (stderr)")
    parser.add_argument("--ocr-param", action="append", default=[], metavar="KEY=JSON",
                        help="override one of the engine's OCR_PARAMS for this run (cached apart)")
    args = parser.parse_args()
    apply_ocr_params(args.ocr_param)
    from llama_vision.samples import generate_documents
    from llama_vision.samples.families import FAMILIES

    names = FAMILIES if args.families == "all" else tuple(args.families.split(","))
    folder = args.work / f"{args.seed}-{args.per_family}-{'-'.join(names) if args.families != 'all' else 'all'}"
    expected = args.per_family * len(names)
    if not folder.is_dir() or len(list(folder.glob("*.json"))) != expected:
        generate_documents(folder, expected, seed=args.seed, families=list(names))
    settings = load_settings(engine=args.engine)
    if args.engine == "ocr" and not args.no_cache:
        engine = CachedOcrEngine(settings, args.cache / f"families-{folder.name}")
    else:
        engine = create_engine(settings, name=args.engine)
    try:
        report = evaluate(folder, engine=engine, progress=False)
    finally:
        engine.unload()
    if args.errors:
        print_misses(report, file_width=24, key_width=16)
    summary = report.to_dict(details=True)
    print(json.dumps({"directory": str(folder), "engine": summary["engine"], "seed": args.seed,
                      "per_family": args.per_family, "mean_seconds": summary["mean_seconds"],
                      "families": by_family(folder, summary["details"])}, indent=1))


if __name__ == "__main__":
    main()

"""Fit the OCR engine's per-field confidence calibration (isotonic, pure Python) and check it.

    .venv/bin/python scripts/fit_calibration.py [--generated-count 40] [--fit-seeds 101] [--check-seed 202]

Raw confidences (match-kind prior x recogniser score, `rules/evidence.py`) are paired with
whether each field was right, by `evaluate` on ../shared/data/sroie-train plus generated documents
(fit seeds); the fit is written to llama_vision/engines/ocr/calibration.json. Then the calibrated
engine is checked on sroie-train (fit), sroie-dev and a held-out generated seed: ECE and accepted
accuracy/coverage of the compliance fields at the review threshold, printed as JSON.
OCR boxes are cached (benchmarks.ocr_cache) so re-runs only re-apply the rules.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ocr_cache import CachedOcrEngine  # noqa: E402
from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines.ocr import engine as ocr_engine  # noqa: E402
from llama_vision.evaluation import evaluate  # noqa: E402
from llama_vision.evaluation.calibration import fit_isotonic  # noqa: E402
from llama_vision.samples.generator import generate_documents  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path("/tmp/llama_vision_ocr_cache")


def pairs_of(folder: Path, calibrated: bool, threshold: float) -> tuple[dict, dict]:
    engine = CachedOcrEngine(load_settings(engine="ocr", review_threshold=threshold), CACHE)
    engine.calibrated = calibrated
    report = evaluate(folder, engine=engine, progress=False)
    return report.confidences, report.to_dict(details=False)["calibration"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generated-count", type=int, default=40)
    parser.add_argument("--fit-seeds", default="101")
    parser.add_argument("--check-seed", type=int, default=202)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--prior", type=float, default=2.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fit-calibration-"))
    fit_folders = [DATA / "sroie-train"]
    for seed in (int(s) for s in args.fit_seeds.split(",")):
        generate_documents(work / f"seed-{seed}", args.generated_count, seed=seed)
        fit_folders.append(work / f"seed-{seed}")
    generate_documents(work / "check", args.generated_count, seed=args.check_seed)

    pooled: dict[str, list] = {}
    for folder in fit_folders:
        for name, pairs in pairs_of(folder, False, args.threshold)[0].items():
            pooled.setdefault(name, []).extend(pairs)
    fits = {name: fit_isotonic(pairs, prior=args.prior).to_dict() for name, pairs in sorted(pooled.items())}
    ocr_engine.CALIBRATION_FILE.write_text(json.dumps(
        {"method": "isotonic (PAV) on raw OCR-rule confidences, linear between block centres", "prior": args.prior,
         "fitted_on": [str(f.name) for f in fit_folders], "fields": fits}, indent=1) + "\n")
    ocr_engine._calibration.cache_clear()

    out = {}
    for label, folder in (("sroie-train (fit)", DATA / "sroie-train"), ("sroie-dev (held out)", DATA / "sroie-dev"),
                          (f"generated seed {args.check_seed} (held out)", work / "check")):
        raw = pairs_of(folder, False, args.threshold)[1]["compliance_fields"]
        cal = pairs_of(folder, True, args.threshold)[1]["compliance_fields"]
        out[label] = {"raw": {"ece": raw["ece"], "accepted": raw["accepted"]},
                      "calibrated": {"ece": cal["ece"], "accepted": cal["accepted"]}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

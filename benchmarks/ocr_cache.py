"""The OCR benchmarks' shared parts: an OCR engine that caches its text boxes, and the scoring.

Scoring is `llama_vision.evaluation.evaluate`, the same path as `llama-vision evaluate`: every
document goes through the pipeline and is compared with its ground truth there (one SROIE
scorer). This module only adds:

- `CachedOcrEngine`: the real OcrEngine, whose text boxes are kept as JSON per page (keyed by the
  page's pixels, the OCR downscale and RapidOCR's settings), so re-runs only re-apply the rules;
- `summarise`: the report's per-field accuracy, plus the `letters_digits` secondary rate that
  `evaluation.score_result` records for text fields (the comparison SROIE figures are quoted with);
- `print_misses`: the --errors listing.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from statistics import median
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.engines.ocr import OCR_PARAMS, OcrEngine
from llama_vision.engines.ocr.layout import TextBox

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.evaluation import EvaluationReport


# the engine's second reading of small print (engine.reread_small_text): a page's first reading
# does not depend on these, so it is cached under the key of the other settings as well
SECOND_READING = ("Global.small_text_below", "Global.small_text_upscale")


def settings_key(*, first_reading: bool = False) -> str:
    """A short hash of the engine's RapidOCR settings: boxes cached under another key are not reused.
    `first_reading`: the key of the first reading alone (before any small-print re-read)."""
    params = {k: v for k, v in OCR_PARAMS.items() if not (first_reading and k in SECOND_READING)}
    return hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]


def apply_ocr_params(items: Iterable[str]) -> None:
    """--ocr-param KEY=JSON overrides of the engine's OCR_PARAMS for this run (the cache key
    hashes OCR_PARAMS, so the boxes read with them are kept apart)."""
    for item in items:
        key, _, value = item.partition("=")
        if not value or (key not in OCR_PARAMS and not key.startswith(("Det.", "Rec.", "Global."))):
            sys.exit(f"--ocr-param {item!r}: expected KEY=JSON, e.g. Det.unclip_ratio=2.0")
        OCR_PARAMS[key] = json.loads(value)


def boxes_to_json(boxes: Iterable[TextBox]) -> list[dict[str, Any]]:
    return [{"text": b.text, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1, "score": b.score, "slope": b.slope}
            for b in boxes]


def boxes_from_json(rows: Iterable[dict[str, Any]]) -> list[TextBox]:
    return [TextBox(r["text"], r["x0"], r["y0"], r["x1"], r["y1"], r.get("score", 1.0), r.get("slope", 0.0))
            for r in rows]


class CachedOcrEngine(OcrEngine):
    """OcrEngine that reads each page's boxes from `cache_dir` when it has seen the page before.

    `ocr_cpu_seconds` / `ocr_seconds` hold the CPU and wall time of the OCR calls that ran (not
    the cached ones); `reread_cpu_seconds` the CPU time of the small-print re-reads among them (or
    run on a cached first reading). `cache_dir=None` caches nothing (time OCR afresh).
    """

    def __init__(self, settings: Settings, cache_dir: Path | None) -> None:
        super().__init__(settings)
        self.cache_dir = cache_dir
        self.ocr_cpu_seconds: list[float] = []
        self.ocr_seconds: list[float] = []
        self.reread_cpu_seconds: list[float] = []  # the small-print re-reads that ran (pages taking that path)

    def _cache_file(self, image: Image, *, first_reading: bool = False) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha1(f"{image.mode}{image.size}".encode() + image.tobytes()).hexdigest()[:20]
        key = settings_key(first_reading=first_reading)
        return self.cache_dir / f"{self.settings.ocr_max_side}-{key}" / f"{digest}.json"

    def ocr_boxes(self, image: Image) -> list[TextBox]:
        """The engine's boxes, from the cache when this page was read with these settings; a page
        read before with the same first-reading settings only runs the small-print re-read."""
        from llama_vision.documents import prepare_for_ocr

        cache_file, first_file = self._cache_file(image), self._cache_file(image, first_reading=True)
        if cache_file is not None and cache_file.is_file():
            return _load(cache_file)
        cpu, wall = time.process_time(), time.perf_counter()
        prepared = prepare_for_ocr(image, self.settings.ocr_max_side)
        cached = first_file is not None and first_file.is_file()
        first = _load(first_file) if cached else self.read_pixels(prepared)
        if not cached:
            _save(first_file, first)
        second = time.process_time()
        boxes = self.reread_small_text(prepared, first)
        if boxes is not first:  # kept apart; a page not re-read has only its first reading on disk
            self.reread_cpu_seconds.append(time.process_time() - second)
            _save(cache_file, boxes)
        if not cached:  # the OCR of this page ran in full
            self.ocr_cpu_seconds.append(time.process_time() - cpu)
            self.ocr_seconds.append(time.perf_counter() - wall)
        return boxes


def _load(path: Path) -> list[TextBox]:
    return boxes_from_json(json.loads(path.read_text())["boxes"])


def _save(path: Path | None, boxes: list[TextBox]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"boxes": boxes_to_json(boxes)}))


def _mean(values: list[float], places: int) -> float | None:
    return round(sum(values) / len(values), places) if values else None


def summarise(report: EvaluationReport, engine: CachedOcrEngine) -> dict[str, Any]:
    """The benchmark's JSON line: evaluate's figures per field, the secondary text rate, timing."""
    data = report.to_dict(details=False)
    letters: dict[str, list[int]] = {}
    for document in report.details:
        for name, entry in document["fields"].items():
            if "letters_digits" in entry:
                tally = letters.setdefault(name, [0, 0])
                tally[0] += entry["letters_digits"]
                tally[1] += 1
    return {
        "files": report.documents,
        "errors": report.errors,
        "accuracy": {name: entry["accuracy"] for name, entry in data["fields"].items() if entry["present"]},
        "accuracy_letters_digits": {name: round(c / n, 3) for name, (c, n) in letters.items()},
        "spurious": {name: entry["spurious"] for name, entry in data["fields"].items() if entry["spurious"]},
        "all_fields": data["accuracy"],
        "document_type": data["document_type"]["accuracy"] if data["document_type"] else None,
        "compliance_exact_rate": data["compliance"]["exact_rate"] if data["compliance"] else None,
        "ocr_seconds_mean": _mean(engine.ocr_seconds, 2),
        "ocr_cpu_seconds_mean": _mean(engine.ocr_cpu_seconds, 3),
        "ocr_cpu_seconds_median": round(median(engine.ocr_cpu_seconds), 3) if engine.ocr_cpu_seconds else None,
        "small_text_rereads": len(engine.reread_cpu_seconds),
        "small_text_reread_cpu_seconds_mean": _mean(engine.reread_cpu_seconds, 3),
        "method": data["method"],
    }


def print_misses(report: EvaluationReport, *, file_width: int = 22, key_width: int = 8) -> None:
    """One stderr line per field a run got wrong, or invented where the truth is null (--errors)."""
    for document in report.details:
        for name, entry in document["fields"].items():
            wrong = entry.get("spurious") if entry["absent"] else not entry["correct"]
            if wrong:
                print(f"{document['file']:<{file_width}} {name:<{key_width}} got={entry['got']!r} "
                      f"want={entry['expected']!r}", file=sys.stderr)
        kind = document.get("document_type")
        if kind and not kind["correct"]:
            print(f"{document['file']:<{file_width}} {'type':<{key_width}} got={kind['got']!r} "
                  f"want={kind['expected']!r}", file=sys.stderr)

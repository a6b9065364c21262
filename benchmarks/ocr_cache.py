"""Score the OCR engine against labelled scans (SROIE-style `company/date/address/total` labels).

Used by `benchmarks/ocr_sroie.py` and the SROIE accuracy test. Both sides are normalised before
comparing, with the project's normalisers (`fields.normalise_date` / `normalise_money`): dates to
DD/MM/YYYY (day first), money to 2 decimals (an "RM" or "$" prefix dropped),
text case-, spacing- and punctuation-insensitive (only letters and digits are compared).
OCR boxes are cached as JSON per image so rules can be re-run without re-running OCR.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from llama_vision.engines.ocr.layout import TextBox

# SROIE label -> our field
SROIE_FIELDS = {"company": "supplier_name", "date": "date", "address": "supplier_address", "total": "total"}


def norm_text(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(value or "").upper())


def norm_date(value: Any) -> str | None:
    from llama_vision.fields import normalise_date

    return normalise_date(value)


def norm_money(value: Any) -> str | None:
    from llama_vision.fields import normalise_money

    found = normalise_money(value)
    return found.lstrip("-") if found else None


NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "company": norm_text, "address": norm_text, "date": norm_date, "total": norm_money,
}


def matches(label_key: str, predicted: Any, label: Any) -> bool:
    norm = NORMALISERS[label_key]
    expected = norm(label)
    return expected not in (None, "") and norm(predicted) == expected


def boxes_to_json(boxes: Iterable[TextBox]) -> list[dict[str, Any]]:
    return [{"text": b.text, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1, "score": b.score, "slope": b.slope}
            for b in boxes]


def boxes_from_json(rows: Iterable[dict[str, Any]]) -> list[TextBox]:
    return [TextBox(r["text"], r["x0"], r["y0"], r["x1"], r["y1"], r.get("score", 1.0), r.get("slope", 0.0))
            for r in rows]


def cached_boxes(image_path: Path, cache_dir: Path | None, run_ocr: Callable[[Path], list[TextBox]]) -> tuple[list[TextBox], float | None]:
    """(boxes, OCR seconds or None when cached). The cache key is the file name and size."""
    if cache_dir is not None:
        cache_file = cache_dir / f"{image_path.stem}-{image_path.stat().st_size}.json"
        if cache_file.is_file():
            data = json.loads(cache_file.read_text())
            return boxes_from_json(data["boxes"]), None
    started = time.perf_counter()
    boxes = run_ocr(image_path)
    seconds = time.perf_counter() - started
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps({"seconds": seconds, "boxes": boxes_to_json(boxes)}))
    return boxes, seconds


def score_sroie(folder: Path, *, files: list[Path] | None = None, cache_dir: Path | None = None,
                run_ocr: Callable[[Path], list[TextBox]]) -> dict[str, Any]:
    """Per-field accuracy over `folder`'s ID.jpg + ID.json pairs, and per-file details."""
    from llama_vision.engines.ocr.rules import read_boxes

    images = files if files is not None else sorted(p for p in folder.glob("*.jpg") if p.with_suffix(".json").is_file())
    correct = dict.fromkeys(SROIE_FIELDS, 0)
    details, ocr_seconds = [], []
    for image in images:
        label = json.loads(image.with_suffix(".json").read_text())
        boxes, seconds = cached_boxes(image, cache_dir, run_ocr)
        if seconds is not None:
            ocr_seconds.append(seconds)
        reading = read_boxes(boxes)
        row: dict[str, Any] = {"file": image.name}
        for key, field in SROIE_FIELDS.items():
            ok = matches(key, reading.fields.get(field), label.get(key))
            correct[key] += ok
            row[key] = {"ok": ok, "got": reading.fields.get(field), "want": label.get(key)}
        details.append(row)
    n = max(len(images), 1)
    return {
        "files": len(images),
        "accuracy": {k: round(v / n, 3) for k, v in correct.items()},
        "ocr_seconds_mean": round(sum(ocr_seconds) / len(ocr_seconds), 2) if ocr_seconds else None,
        "details": details,
    }


# fields compared on the project's synthetic Australian documents (truth JSON from samples.generator)
SYNTHETIC_FIELDS = (
    "supplier_abn", "date", "total", "gst", "subtotal", "supplier_name", "supplier_address", "invoice_number",
    "payment_method",
    "buyer_name", "buyer_abn", "tax_invoice_label", "gst_included_statement", "fuel_type", "litres",
    "price_per_litre", "items", "bsb", "account_number", "account_holder", "statement_period", "opening_balance",
    "closing_balance",
)


def _same(field: str, predicted: Any, truth: Any) -> bool:
    from llama_vision.fields import normalise_items, normalise_value

    if field == "items":
        got, want = normalise_items(predicted or [])[0], normalise_items(truth or [])[0]
        key = lambda items: [(norm_text(i.get("description")), i.get("amount")) for i in items]  # noqa: E731
        return key(got) == key(want)

    got, want = normalise_value(field, predicted), normalise_value(field, truth)
    if isinstance(want, str) and isinstance(got, str):
        return norm_text(got) == norm_text(want)
    return got == want


def score_synthetic(images: list[Path], *, cache_dir: Path | None,
                    run_ocr: Callable[[Path], list[TextBox]]) -> dict[str, Any]:
    """Per-field accuracy on generated documents; a null truth needs a null answer."""
    from llama_vision.engines.ocr.rules import read_boxes

    correct = dict.fromkeys((*SYNTHETIC_FIELDS, "document_type"), 0)
    details = []
    for image in images:
        truth = json.loads(image.with_suffix(".json").read_text())
        boxes, _seconds = cached_boxes(image, cache_dir, run_ocr)
        reading = read_boxes(boxes)
        row: dict[str, Any] = {"file": image.name}
        for name in SYNTHETIC_FIELDS:
            ok = _same(name, reading.fields.get(name), truth["fields"].get(name))
            correct[name] += ok
            row[name] = {"ok": ok, "got": reading.fields.get(name), "want": truth["fields"].get(name)}
        ok = reading.document_type == truth["document_type"]
        correct["document_type"] += ok
        row["document_type"] = {"ok": ok, "got": reading.document_type, "want": truth["document_type"]}
        details.append(row)
    n = max(len(images), 1)
    return {"files": len(images), "accuracy": {k: round(v / n, 3) for k, v in correct.items()}, "details": details}


def print_misses(details: Iterable[dict[str, Any]], *, file_width: int = 22, key_width: int = 8) -> None:
    """One stderr line per field a run got wrong (the benchmarks' --errors)."""
    import sys

    for row in details:
        for key, cell in row.items():
            if key != "file" and not cell["ok"]:
                print(f"{row['file']:<{file_width}} {key:<{key_width}} got={cell['got']!r} want={cell['want']!r}",
                      file=sys.stderr)


"""A seeded generator of synthetic Australian documents with exact ground truth.

Kinds: café, supermarket and hardware receipts, fuel receipts, tax invoices under and over
$1,000, and (simple) bank statements. Each document varies the things that matter for the ATO
rules: ABN present, absent or with a bad checksum; "TAX INVOICE" title or not; GST shown as an
amount, as a "total includes GST" statement, both or neither; buyer identity on invoices of
$1,000 or more (sometimes deliberately missing); now and then bad GST arithmetic. Pages vary in
font, layout, paper and background, small rotation, mild blur, JPEG artefacts and size (some as
large as a phone photo), and stay legible for OCR.

For each document the generator writes IMAGE (.jpg or .png) and a same-named .json:

    {"document_type": ..., "fields": {every field of fields.ALL_FIELDS, normalised, null when
     not printed}, "compliance": {abn_valid, gst_consistent, totals_consistent, date_valid,
     tax_invoice_required, missing_elements, verdict}, "generator": {kind, seed, index, notes}}

The expected compliance is computed from what was *printed*, by code independent of
`llama_vision.compliance` (see `truth.py` for the rules it follows).
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image

from llama_vision.samples.document import DOCUMENT_TYPES, Document, choose
from llama_vision.samples.kinds import bank_statement, fuel_receipt, retail_receipt, tax_invoice
from llama_vision.samples.render import choose_style, render_document, save_as_pdf
from llama_vision.samples.truth import ALL_FIELDS, abn_checksum_ok, expected_compliance, invalid_abn, valid_abn

__all__ = [
    "ALL_FIELDS",
    "DOCUMENT_TYPES",
    "DEFAULT_KINDS",
    "KINDS",
    "abn_checksum_ok",
    "expected_compliance",
    "generate_documents",
    "make_document",
    "render_document",
    "invalid_abn",
    "save_as_pdf",
    "valid_abn",
    "write_bundled_samples",
]

KINDS: tuple[str, ...] = ("cafe", "supermarket", "hardware", "fuel", "invoice", "invoice_large", "bank_statement")
#: The kinds a mixed corpus draws from when `kinds` is None (bank statements are opt-in).
DEFAULT_KINDS: tuple[str, ...] = ("cafe", "supermarket", "hardware", "fuel", "invoice", "invoice_large")


def make_document(rng: random.Random, kind: str, **overrides: Any) -> Document:
    """One document of `kind`; keyword overrides force any field of `Choices`."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if kind == "bank_statement":
        doc = bank_statement(rng)
    else:
        choices = choose(rng, kind, overrides)
        if kind == "fuel":
            doc = fuel_receipt(rng, choices)
        elif kind.startswith("invoice"):
            doc = tax_invoice(rng, kind, choices)
        else:
            doc = retail_receipt(rng, kind, choices)
    doc.style = choose_style(rng, kind)
    return doc


# =============================================================================================
# writing corpora
# =============================================================================================
def _kind_sequence(rng: random.Random, count: int, kinds: tuple[str, ...]) -> list[str]:
    """Round-robin over shuffled kinds, so even a small corpus is varied."""
    sequence: list[str] = []
    while len(sequence) < count:
        block = list(kinds)
        rng.shuffle(block)
        sequence.extend(block)
    return sequence[:count]


def _write(doc: Document, image: Image.Image, folder: Path, stem: str, *, seed: int | None, index: int | None,
           fmt: str | None = None, quality: int | None = None) -> Path:
    fmt = fmt or doc.style["format"]
    path = folder / f"{stem}.{fmt}"
    if fmt == "png":
        image.save(path, "PNG", optimize=False)
    else:
        image.save(path, "JPEG", quality=quality or doc.style["quality"], optimize=True)
    truth = doc.truth(seed=seed, index=index)
    path.with_suffix(".json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def generate_documents(out_dir: str | Path, count: int, seed: int = 0, *,
                       kinds: list[str] | tuple[str, ...] | None = None, max_side: int | None = None,
                       families: str | list[str] | tuple[str, ...] | None = None) -> list[Path]:
    """Write `count` documents (image + same-named .json truth) into `out_dir`; return the images.

    Deterministic for a seed: the same seed gives the same files. `kinds` picks from KINDS
    (default: every kind but bank statements). `max_side` caps the image size (tests, quick runs).
    `families` ("all" or names from samples.families.FAMILIES) draws the harder layout families
    instead of the kinds; their truth also carries each field's pixel box ("boxes").
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    if families:
        if kinds:
            raise ValueError("pass kinds or families, not both")
        return _generate_families(Path(out_dir), count, seed, families, max_side)
    chosen = tuple(kinds) if kinds else DEFAULT_KINDS
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)}; use {', '.join(KINDS)}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    plan = _kind_sequence(random.Random(f"llama-vision-kinds-{seed}"), count, chosen)
    paths = []
    for index, kind in enumerate(plan):
        rng = random.Random(f"llama-vision-{seed}-{index}")
        doc = make_document(rng, kind)
        long_side = min(doc.style["long_side"], max_side) if max_side else None
        image = render_document(doc, rng, long_side=long_side)
        paths.append(_write(doc, image, folder, f"{kind}_{seed}_{index:04d}", seed=seed, index=index))
    return paths


def _generate_families(folder: Path, count: int, seed: int, families: str | list[str] | tuple[str, ...],
                       max_side: int | None) -> list[Path]:
    from llama_vision.samples.families import FAMILIES, make_family_document, render_family

    chosen = FAMILIES if families == "all" or list(families) == ["all"] else tuple(
        [families] if isinstance(families, str) else families)
    unknown = [name for name in chosen if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown family(ies) {', '.join(unknown)}; use 'all' or {', '.join(FAMILIES)}")
    folder.mkdir(parents=True, exist_ok=True)
    plan = _kind_sequence(random.Random(f"llama-vision-families-{seed}"), count, chosen)
    paths = []
    for index, family in enumerate(plan):
        rng = random.Random(f"llama-vision-family-{seed}-{index}")
        doc = make_family_document(rng, family)
        long_side = min(doc.style["long_side"], max_side) if max_side else None
        image, boxes, texts = render_family(doc, rng, long_side=long_side)
        path = folder / f"{family}_{seed}_{index:04d}.{doc.style['format']}"
        if doc.style["format"] == "png":
            image.save(path, "PNG", optimize=False)
        else:
            image.save(path, "JPEG", quality=doc.style["quality"], optimize=True)
        truth = doc.truth(seed=seed, index=index, boxes=boxes, box_text=texts)
        path.with_suffix(".json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


BUNDLED = {
    # name: (kind, seed, forced choices, (lowest total, highest total))
    "cafe_receipt": ("cafe", 11, {"abn": "valid", "title": True, "gst_style": "both", "bad_arithmetic": False,
                                  "date": True, "boundary": False}, ("5.00", "40.00")),
    "tax_invoice_over_1000": ("invoice_large", 12, {"abn": "valid", "title": True, "gst_style": "amount",
                                                    "bad_arithmetic": False, "date": True, "buyer": "both",
                                                    "boundary": False}, ("1000.00", "6000.00")),
    "fuel_receipt": ("fuel", 13, {"abn": "valid", "title": True, "gst_style": "both", "bad_arithmetic": False,
                                  "date": True}, ("82.51", "150.00")),
    "no_abn_hardware_receipt": ("hardware", 14, {"abn": "none", "title": True, "gst_style": "both",
                                                 "bad_arithmetic": False, "date": True}, ("82.51", "400.00")),
}


def write_bundled_samples(folder: str | Path) -> list[Path]:
    """The four small samples shipped in llama_vision/samples/bundled (each image < 200 KB):
    a small café receipt (not_required), a compliant tax invoice over $1,000, a compliant fuel
    receipt and a hardware receipt over $82.50 with no ABN (non_compliant)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (kind, seed, overrides, (low, high)) in BUNDLED.items():
        for attempt in range(200):  # the first seed whose total lands in the wanted range
            rng = random.Random(f"llama-vision-bundled-{seed}-{attempt}")
            doc = make_document(rng, kind, **overrides)
            if Decimal(low) <= Decimal(doc.fields["total"]) <= Decimal(high):
                break
        else:  # pragma: no cover - the ranges are wide
            raise RuntimeError(f"no {kind} with a total in {low}..{high}")
        sheet = kind.startswith("invoice")
        doc.style.update(blur=0.0, photo=not sheet, shade=0.0 if sheet else 0.05, specks=20,
                         angle=0.3 if sheet else max(-1.5, min(1.5, doc.style["angle"])))
        image = render_document(doc, rng, long_side=1500 if sheet else 1400)
        paths.append(_write(doc, image, folder, name, seed=seed, index=attempt, fmt="jpg", quality=80))
    return paths



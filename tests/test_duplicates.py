"""Duplicates in a batch (issue I item 6).

ATO rule checked: a GST credit is claimed once per taxable supply; the same tax invoice submitted
twice (a re-photographed copy, or the same invoice in two batches) must not be counted twice.
"""

from __future__ import annotations

import copy
import io
import random

from PIL import Image

from llama_vision.duplicates import DuplicateFinder, fingerprint, mark_duplicate
from llama_vision.result import Result
from llama_vision.samples.generator import make_document
from llama_vision.samples.render import render_document


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _same_shop(seed: int, kind: str):
    """Two different receipts of one shop: the same header and look, other items and totals."""
    first = make_document(random.Random(seed), kind)
    second = make_document(random.Random(seed + 1000), kind)
    head = next(i for i, line in enumerate(first.lines) if line[0] == "rule")
    tail = next(i for i, line in enumerate(second.lines) if line[0] == "rule")
    second.lines = first.lines[:head] + second.lines[tail:]
    second.style = dict(first.style)
    return first, second


def _rephotographed(doc, seed: int) -> Image.Image:
    """The same document rendered again, turned a little and compressed differently."""
    again = copy.copy(doc)
    again.style = dict(doc.style, angle=doc.style["angle"] + (1.0 if seed % 2 else -1.0))
    return _jpeg(render_document(again, random.Random(seed)), 70)


def test_duplicate_rule_a_rephotographed_copy_is_caught_by_its_image() -> None:
    caught = 0
    for seed in range(6):
        doc, _ = _same_shop(seed, ("cafe", "supermarket", "hardware")[seed % 3])
        original = _jpeg(render_document(doc, random.Random(seed)), doc.style["quality"])
        finder = DuplicateFinder()
        assert finder.check("a.jpg", {}, fingerprint(original)) is None
        found = finder.check("copy.jpg", {}, fingerprint(_rephotographed(doc, seed)))
        caught += found is not None and found.of == "a.jpg"
    assert caught == 6


def test_duplicate_rule_two_receipts_of_the_same_shop_are_not_duplicates() -> None:
    for seed in range(8):
        first, second = _same_shop(seed, ("cafe", "supermarket", "hardware", "invoice")[seed % 4])
        finder = DuplicateFinder()
        finder.check("one.jpg", first.truth()["fields"], fingerprint(_jpeg(render_document(first, random.Random(1)), 80)))
        page = fingerprint(_jpeg(render_document(second, random.Random(2)), 80))
        assert finder.check("two.jpg", second.truth()["fields"], page) is None, seed


def test_duplicate_rule_same_abn_date_and_total_or_same_invoice_number() -> None:
    finder = DuplicateFinder()
    fields = {"supplier_abn": "51824753556", "date": "15/03/2024", "total": "110.00", "invoice_number": "INV-1"}
    assert finder.check("a.png", fields) is None
    same = finder.check("b.png", dict(fields, invoice_number=None))
    assert same is not None and same.of == "a.png" and "ABN, date" in same.reason
    number = finder.check("c.png", {"supplier_name": "ACME Pty Ltd", "invoice_number": "inv 7"})
    assert number is None
    again = finder.check("d.png", {"supplier_name": "acme pty ltd", "invoice_number": "INV-7"})
    assert again is not None and again.of == "c.png" and "invoice number" in again.reason
    # Another total from the same shop on the same day is another purchase.
    assert finder.check("e.png", dict(fields, total="12.00", invoice_number="INV-2")) is None


def test_duplicate_rule_remembers_rows_of_an_earlier_batch() -> None:
    finder = DuplicateFinder()
    finder.remember("old/a.png", {"supplier_abn": "51824753556", "date": "15/03/2024", "total": "110.00"})
    found = finder.check("new/a.png", {"supplier_abn": "51 824 753 556", "date": "15/03/2024", "total": "110.00"})
    assert found is not None and found.of == "old/a.png"


def test_mark_duplicate_adds_the_column_check_and_recommendation() -> None:
    result = Result(file="b.png", engine="ocr", prompt="rules", compliance={"verdict": "compliant", "checks": [],
                                                                           "recommendations": []})
    from llama_vision.duplicates import Duplicate

    marked = mark_duplicate(result, Duplicate("a.png", "a near-identical image"))
    assert marked.compliance["duplicate_of"] == "a.png"
    assert marked.compliance["checks"][-1]["name"] == "duplicate"
    assert "once" in marked.compliance["recommendations"][-1] and marked.warnings
    assert result.compliance.get("duplicate_of") is None  # the original is untouched

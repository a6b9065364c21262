"""The pipeline's finish step: evidence carried into the Result, review filled, page conflicts wired.

The engine here runs the real OCR rules on page text given inline (no OCR runtime), so the
pipeline sees exactly what the OCR engine would hand it for that text."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence
from typing import Any

from PIL import Image

from llama_vision.engines.base import Capabilities, Engine, Generation, GenerationRequest
from llama_vision.engines.ocr.rules import extract_fields
from llama_vision.pipeline import extract
from tests.fakes import fake_settings

HEADER = ["Corner Deli Pty Ltd", "ABN 51 824 753 556", "TAX INVOICE", "Date: 15/03/2024"]
BODY = ["Flat White 4.50", "Banana Bread 6.00", "GST 0.95", "TOTAL $10.50", "EFTPOS 10.50"]


class PageTextEngine(Engine):
    """Reads each page as the given lines with the OCR rules (one list of lines per page)."""

    name = "ocr"
    capabilities = Capabilities(follows_prompts=False, streams=False, batches=False)

    def __init__(self, settings: Any, pages: list[list[str]]) -> None:
        super().__init__(settings)
        self.pages = list(pages)

    def _load(self) -> None:
        pass

    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        out = []
        for _request in requests:
            reading = extract_fields(self.pages.pop(0))
            out.append(Generation(text=reading.text, fields=reading.fields, document_type=reading.document_type,
                                  warnings=reading.warnings, evidence=reading.evidence))
        return out


def _run(tmp_path: Path, *pages: list[str], **settings: Any) -> Any:
    engine = PageTextEngine(fake_settings(tmp_path, **settings), list(pages))
    images = [Image.new("RGB", (400, 600), "white") for _ in pages]
    return extract(images, engine=engine, file_name="r.png")


def test_a_clean_sure_receipt_needs_no_review_and_carries_its_evidence(tmp_path: Path) -> None:
    result = _run(tmp_path, HEADER + BODY, review_threshold=0.5)
    assert result.status == "ok" and result.fields["total"] == "10.50"
    assert result.evidence["total"].text == "TOTAL $10.50" and result.evidence["total"].page == 0
    assert not result.review.needed, result.review.reasons
    assert result.compliance["verdict"] != "review"
    assert "evidence" in result.to_dict() and "review" in result.to_dict()


def test_the_threshold_sends_a_document_to_review(tmp_path: Path) -> None:
    result = _run(tmp_path, HEADER + BODY, review_threshold=0.99)
    assert result.review.needed and "total" in result.review.fields
    assert any(r.startswith("low-confidence total") for r in result.review.reasons)


def test_two_supplier_abns_on_the_page_mean_review(tmp_path: Path) -> None:
    page = HEADER + BODY + ["Supplier ABN 53 004 085 616"]
    result = _run(tmp_path, page, review_threshold=0.5)
    assert result.review.needed and "supplier_abn" in result.review.fields
    assert any(r.startswith("conflict:") for r in result.review.reasons)
    assert result.compliance["verdict"] == "review"
    assert any("conflicting values" in line for line in result.compliance["recommendations"])


def test_evidence_of_a_field_comes_from_the_page_that_gave_it(tmp_path: Path) -> None:
    result = _run(tmp_path, HEADER, BODY, review_threshold=0.5)
    assert result.evidence["supplier_abn"].page == 0
    assert result.evidence["total"].page == 1

"""stages wires a model engine's token probabilities into Result.evidence: per page, from the
answer the fields were really read from (the fallback's after a refusal), and into review."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from llama_vision.engines.base import Generation, GenerationRequest
from llama_vision.pipeline import extract
from tests.fakes import FakeEngine, fake_settings


class ScoredEngine(FakeEngine):
    """FakeEngine whose answers carry token log-probabilities: `unsure` pieces get probability 0.3."""

    def __init__(self, settings: Any, outputs: list[str], unsure: set[str]) -> None:
        super().__init__(settings, outputs)
        self.unsure = unsure

    def _answer(self, request: GenerationRequest) -> Generation:
        generation = super()._answer(request)
        pieces = re.findall(r" ?[^\s]+|\s", generation.text)
        generation.token_logprobs = [(p, math.log(0.3) if p.strip() in self.unsure else -0.01) for p in pieces]
        return generation


def pages(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (300, 400), "white") for _ in range(count)]


def test_each_field_keeps_the_evidence_of_the_page_that_gave_it(tmp_path: Path) -> None:
    engine = ScoredEngine(fake_settings(tmp_path, engine="llama", review_threshold=0.5), [
        "SUPPLIER: Corner Deli\nDATE: 15/03/2024\nTOTAL: NOT_FOUND\n",
        "SUPPLIER: Other Name\nTOTAL: $10.50\n",
    ], unsure={"Other"})
    result = extract(pages(2), engine=engine, document_type="receipt")
    assert result.fields["supplier_name"] == "Corner Deli" and result.fields["total"] == "10.50"
    assert result.evidence["supplier_name"].page == 0 and result.evidence["supplier_name"].confidence > 0.9
    assert result.evidence["total"].page == 1 and result.evidence["total"].text == "$10.50"
    assert result.evidence["date"].text == "15/03/2024"  # normalised later; the printed text is kept
    assert {e.source for e in result.evidence.values()} == {"model"}


def test_after_a_refusal_the_fallback_answer_gives_the_confidence(tmp_path: Path) -> None:
    engine = ScoredEngine(fake_settings(tmp_path, engine="llama", review_threshold=0.5), [
        "I'm sorry, I can't help with that.",
        '{"supplier_name": "Corner Deli", "total": "$12.00", "gst": "$1.09"}',
    ], unsure={'"$12.00",'})
    result = extract(pages(1)[0], engine=engine, document_type="receipt")
    assert result.fields["total"] == "12.00"
    assert result.evidence["total"].confidence == pytest.approx(0.3)
    assert any(r.startswith("low-confidence total") for r in result.review.reasons)
    assert not any("GST" in r and "low-confidence" in r for r in result.review.reasons)

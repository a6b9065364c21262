"""Review routing: low, missing and inconsistent compliance fields, page conflicts, the summary."""

from __future__ import annotations

from llama_vision.result import FieldEvidence, Review
from llama_vision.review import arithmetic_problems, route, summary

GOOD = {"total": "11.00", "gst": "1.00", "subtotal": "10.00", "supplier_abn": "51824753556",
        "date": "15/03/2024", "supplier_name": "Corner Deli"}


def ev(conf: float | None) -> FieldEvidence:
    return FieldEvidence(confidence=conf, page=0, box=[0, 0, 1, 1], text="x")


def sure(**low: float) -> dict[str, FieldEvidence]:
    return {name: ev(low.get(name, 0.99)) for name in GOOD}


def test_a_sure_complete_consistent_document_needs_no_review() -> None:
    review = route(GOOD, sure(), 0.9)
    assert review == Review(needed=False, fields=[], reasons=[])


def test_a_low_confidence_total_is_named_with_its_confidence() -> None:
    review = route(GOOD, sure(total=0.62), 0.9)
    assert review.needed and review.fields == ["total"]
    assert review.reasons == ["low-confidence total (0.62 < 0.90)"]
    assert not route(GOOD, sure(total=0.62), 0.5).needed  # the threshold decides


def test_a_missing_abn_needs_review_and_an_unmeasured_field_is_not_low() -> None:
    fields = {**GOOD, "supplier_abn": None}
    review = route(fields, {**sure(), "total": ev(None)}, 0.9)
    assert review.fields == ["supplier_abn"] and review.reasons == ["missing ABN"]


def test_arithmetic_that_does_not_add_up() -> None:
    assert arithmetic_problems({"total": "12.00", "gst": "1.00", "subtotal": "10.00"})
    assert not arithmetic_problems({"total": "11.02", "gst": "1.00", "subtotal": "10.00"})  # rounding
    assert not arithmetic_problems({"total": "11.00", "gst": "1.00", "subtotal": "11.00"})  # GST-inclusive subtotal
    review = route({**GOOD, "gst": "20.00"}, sure(), 0.9)
    assert review.fields == ["gst"] and review.reasons[0].startswith("inconsistent GST")


def test_page_conflicts_are_review_reasons() -> None:
    review = route(GOOD, sure(), 0.9, conflicts=[("supplier_abn", "two supplier ABNs are printed")])
    assert review.needed and review.fields == ["supplier_abn"]
    assert review.reasons == ["conflict: two supplier ABNs are printed"]


def test_a_bank_statement_is_not_asked_for_a_total() -> None:
    fields = {**GOOD, "total": None, "gst": None}
    assert not route(fields, sure(), 0.9, document_type="bank_statement").needed
    assert route(fields, sure(), 0.9, document_type="receipt").fields == ["total", "gst"]


def test_summary_counts_documents_per_kind_of_problem() -> None:
    low = route(GOOD, sure(total=0.5), 0.9)
    no_abn = route({**GOOD, "supplier_abn": None}, sure(), 0.9)
    fine = route(GOOD, sure(), 0.9)
    line = summary([low, low, no_abn, fine])
    assert line == "3 of 4 need a look: 2 low-confidence totals, 1 missing ABNs"
    assert summary([fine]) == "0 of 1 need a look."


def test_the_review_threshold_setting_is_validated() -> None:
    import pytest

    from llama_vision.config import load_settings
    from llama_vision.errors import ConfigError

    assert load_settings(review_threshold=0.9).review_threshold == 0.9
    with pytest.raises(ConfigError, match="LLAMA_VISION_REVIEW_THRESHOLD"):
        load_settings(review_threshold=1.5)


def test_batch_rows_summary_and_terminal_show_the_review() -> None:
    from llama_vision.result import Result
    from llama_vision.results_report import summarise
    from llama_vision.results_table import COLUMNS, flatten_result
    from llama_vision.terminal import format_result

    def result(name: str, **low: float) -> Result:
        evidence = sure(**low)
        return Result(file=name, engine="ocr", prompt="rules", fields=dict(GOOD), evidence=evidence,
                      review=route(GOOD, evidence, 0.9))

    assert {"needs_review", "review_reasons"} <= set(COLUMNS)
    low, fine = flatten_result(result("a.png", total=0.62)), flatten_result(result("b.png"))
    assert low["needs_review"] is True and low["review_reasons"] == "low-confidence total (0.62 < 0.90)"
    assert fine["needs_review"] is False and fine["review_reasons"] is None
    assert summarise([low, fine, low])["review_summary"] == "2 of 3 need a look: 2 low-confidence totals"
    text = format_result(result("a.png", total=0.62))
    assert "review: needed - low-confidence total (0.62 < 0.90)" in text
    assert "11.00  (0.62)" in text

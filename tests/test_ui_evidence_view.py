"""The evidence view shows exactly the pipeline's evidence: boxes only where found, blanks where unmeasured."""

from llama_vision.ui import evidence_view

RESULT = {
    "status": "ok",
    "document_type": "receipt",
    "fields": {"supplier_name": "Bean There", "total": "12.50", "date": "2026-11-30"},
    "evidence": {
        "total": {"confidence": 0.91, "page": 0, "box": [10.4, 20.6, 90.0, 40.0], "text": "TOTAL $12.50", "source": "ocr"},
        "date": {"confidence": 0.42, "page": 1, "box": [5, 5, 50, 15], "text": "30/11/26", "source": "rule"},
        "supplier_name": {"confidence": None, "page": 0, "box": None, "text": None, "source": "model"},
    },
    "review": {"needed": True, "fields": ["date"], "reasons": ["low-confidence date (0.42 < 0.80)"]},
}


def test_boxes_only_for_fields_found_on_that_page():
    assert evidence_view.annotations(RESULT) == [((10, 21, 90, 40), "Total")]
    assert evidence_view.annotations(RESULT, page=1) == [((5, 5, 50, 15), "Date")]
    assert evidence_view.annotations(RESULT, only="date") == []


def test_confidence_column_is_blank_when_unmeasured():
    frame = evidence_view.evidence_frame(RESULT).set_index("Field")
    assert frame.loc["Total", "Confidence"] == "91%"
    assert frame.loc["Supplier", "Confidence"] == "—"
    assert frame.loc["Supplier", "From"] == "model answer"
    assert frame.loc["Supplier ABN", "From"] == ""


def test_selected_row_names_its_field_and_bands_follow_the_threshold():
    frame = evidence_view.evidence_frame(RESULT)
    row = list(frame["Field"]).index("Total")
    assert evidence_view.field_at_row(RESULT, row) == "total"
    assert evidence_view.field_at_row(RESULT, 999) is None
    assert evidence_view.confidence_band(RESULT["evidence"]["total"], 0.8) == "sure"
    assert evidence_view.confidence_band(RESULT["evidence"]["date"], 0.8) == "unsure"
    assert evidence_view.confidence_band(RESULT["evidence"]["supplier_name"], 0.8) == "unmeasured"


def test_review_badge_lists_the_reasons():
    html = evidence_view.review_html(RESULT)
    assert 'data-review="needed"' in html and "low-confidence date" in html
    assert 'data-review="ok"' in evidence_view.review_html({**RESULT, "review": {"needed": False}})

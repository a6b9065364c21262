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


def test_confidence_cells_are_coloured_by_the_threshold_and_say_low():
    styled = evidence_view.evidence_table(RESULT, 0.8)
    frame = styled.data.set_index("Field")
    assert frame.loc["Total", "Confidence"] == "91%" and frame.loc["Date", "Confidence"] == "42% low"
    html = styled.to_html()
    sure, unsure = evidence_view.BAND_STYLE["sure"], evidence_view.BAND_STYLE["unsure"]
    assert sure.split(";")[0] in html and unsure.split(";")[0] in html
    # a stricter threshold turns the 91% total amber too
    strict = evidence_view.evidence_table(RESULT, 0.95).data.set_index("Field")
    assert strict.loc["Total", "Confidence"] == "91% low"


def test_key_fields_show_confidence_and_say_what_is_missing():
    html = evidence_view.key_fields_html(RESULT, 0.8)
    assert 'data-field="total"' in html and "$12.50" in html and "91%" in html
    assert "42% low" in html  # the date is below the threshold
    assert html.count("not found") == 2  # GST and the ABN were not read
    supplier = html.split('data-field="supplier_name"')[1].split("</div>")[0]
    assert "Bean There" in supplier and "%" not in supplier  # unmeasured: no made-up chip


def test_the_verdict_card_puts_the_review_verdict_beside_the_compliance_one():
    data = {**RESULT, "compliance": {"verdict": "compliant", "score": 90, "tax_invoice_required": False}}
    card = evidence_view.verdict_card_html(data, 0.8)
    row = card.split('class="lv-verdict-row"')[1].split('class="lv-keys"')[0]
    assert 'data-verdict="compliant"' in row and 'data-review="needed"' in row
    failed = evidence_view.verdict_card_html({"status": "error", "error": "x.pdf is empty."}, 0.8)
    assert failed.count("x.pdf is empty.") == 1 and 'data-review' not in failed
    assert "verdict appears here" in evidence_view.verdict_card_html(None, 0.8)


def test_page_view_downscales_the_page_and_its_boxes_together():
    from PIL import Image

    page = Image.new("RGB", (4000, 3000), "white")
    shown, boxes = evidence_view.page_view(page, RESULT, max_side=1000)
    assert shown.size == (1000, 750)
    assert boxes == [((3, 5, 22, 10), "Total")]  # [10.4, 20.6, 90, 40] at a quarter
    small = Image.new("RGB", (200, 100), "white")
    assert evidence_view.page_view(small, RESULT, max_side=1000)[0].size == (200, 100)  # never upscaled

"""Evidence of the OCR rules: each field points at the rows it was read from, with a confidence
from the recogniser's scores and how the rule matched (pure, inline boxes, no OCR runtime)."""

from __future__ import annotations

from llama_vision.engines.ocr.layout import TextBox, group_lines
from llama_vision.engines.ocr.rules import extract_fields, read_boxes
from llama_vision.engines.ocr.rules.evidence import MATCH_KINDS, raw_confidence

VALID_ABN = "51 824 753 556"


def page(total_score: float = 0.97) -> list[TextBox]:
    return [
        TextBox("Corner Deli Pty Ltd", 100, 10, 300, 40, 0.99),
        TextBox(f"ABN {VALID_ABN}", 10, 45, 250, 58, 0.95),
        TextBox("Date: 15/03/2024", 10, 60, 250, 85, 0.9),
        TextBox("TOTAL", 10, 100, 80, 125, total_score),
        TextBox("$12.30", 400, 101, 470, 126, total_score),
    ]


def test_lines_keep_the_original_boxes_and_the_weakest_score() -> None:
    lines = group_lines([TextBox("TOTAL", 10, 100, 80, 125, 0.9), TextBox("12.30", 400, 101, 470, 127, 0.6)])
    assert len(lines) == 1
    assert lines[0].box == (10, 100, 470, 127)
    assert lines[0].score == 0.6


def test_a_tilted_row_points_at_the_boxes_as_printed_not_the_deskewed_ones() -> None:
    slope = 0.04
    boxes = [TextBox(t, x, y + slope * x, x + 150, y + slope * x + 28 + slope * 150, slope=slope)
             for t, x, y in (("Corner Store", 30, 20), ("Apples 2.00", 30, 80), ("TOTAL", 30, 140), ("12.30", 700, 140))]
    total = read_boxes(boxes).evidence["total"]
    # the box is the amount's own piece where it is printed, lower on the page than its label
    # (deskewed, it would sit at the label's height)
    x0, y0, x1, y1 = total.box
    assert 700 <= x0 < x1 <= 850 and 140 + slope * 700 <= y0 < y1 <= 140 + slope * 700 + 28 + slope * 150


def test_every_read_field_has_its_row_box_text_and_a_confidence_in_range() -> None:
    reading = read_boxes(page())
    ev = reading.evidence
    assert reading.fields["total"] == "12.30"
    for name in ("supplier_name", "supplier_abn", "date", "total"):
        assert 0.0 <= ev[name].confidence <= 1.0
        assert ev[name].page == 0 and ev[name].source == "ocr"
    # the box is the value's own characters inside the row (not the label); the text is the row's
    assert 400 <= ev["total"].box[0] < ev["total"].box[2] <= 470 and ev["total"].text == "TOTAL $12.30"
    assert ev["date"].text == "Date: 15/03/2024"  # the printed text, though the value is normalised
    abn = ev["supplier_abn"].box  # "ABN 51 824 753 556": the digits, right of the label
    assert 10 + 240 * 3 / 18 < abn[0] < abn[2] <= 250 and 45 <= abn[1] < abn[3] <= 58
    # a missing field has no evidence, never a made-up box
    assert reading.fields["gst"] is None and "gst" not in ev


def test_confidence_follows_the_recognisers_score() -> None:
    sure = read_boxes(page(0.97)).evidence["total"].confidence
    blurred = read_boxes(page(0.55)).evidence["total"].confidence
    assert blurred < sure
    assert read_boxes(page(0.97)).evidence["date"].confidence == read_boxes(page(0.55)).evidence["date"].confidence


def test_a_labelled_total_is_surer_than_cash_minus_change() -> None:
    labelled = extract_fields(["Shop", "TOTAL 12.30", "CASH 20.00", "CHANGE 7.70"])
    derived = extract_fields(["Shop", "CASH 20.00", "CHANGE 7.70"])
    assert labelled.fields["total"] == derived.fields["total"] == "12.30"
    assert labelled.evidence["total"].confidence > derived.evidence["total"].confidence
    # computed, not read: the rule's evidence is both rows it was computed from
    assert derived.evidence["total"].source == "rule"
    assert derived.evidence["total"].text == "CASH 20.00\nCHANGE 7.70"


def test_an_amount_on_the_next_row_keeps_both_rows_and_is_a_little_less_sure() -> None:
    beside = extract_fields(["Shop", "TOTAL 12.30"]).evidence["total"]
    below = extract_fields(["Shop", "TOTAL", "12.30"]).evidence["total"]
    assert below.text == "TOTAL\n12.30"
    assert below.confidence < beside.confidence


def test_gst_from_a_total_includes_gst_line_keeps_that_line() -> None:
    reading = extract_fields(["Shop", "TOTAL 38.50", "Total includes GST of $3.50"])
    assert reading.fields["gst"] == "3.50"
    assert reading.evidence["gst"].text == "Total includes GST of $3.50"


def test_a_bad_checksum_abn_is_much_less_sure_than_a_valid_one() -> None:
    good = extract_fields(["Shop Pty Ltd", f"ABN {VALID_ABN}"]).evidence["supplier_abn"].confidence
    bad = extract_fields(["Shop Pty Ltd", "ABN 51 824 753 557"]).evidence["supplier_abn"].confidence
    assert bad < good - 0.3


def test_labelled_date_beats_a_plain_one_and_match_kinds_are_named() -> None:
    labelled = extract_fields(["Shop", "Date: 15/03/2024"]).evidence["date"].confidence
    plain = extract_fields(["Shop", "15/03/2024 10:22"]).evidence["date"].confidence
    assert labelled > plain
    assert raw_confidence([], [], "labelled_date") == MATCH_KINDS["labelled_date"]
    assert raw_confidence([], [], "no_such_kind") == MATCH_KINDS["found_text"]


def test_a_failure_locating_one_field_costs_its_box_not_the_reading(monkeypatch, caplog) -> None:
    from llama_vision.engines.ocr.rules import evidence

    real = evidence.one_evidence

    def broken(rows, indices, kind, name, value):
        if name == "total":
            raise IndexError("a locating bug")
        return real(rows, indices, kind, name, value)

    monkeypatch.setattr(evidence, "one_evidence", broken)
    reading = read_boxes(page(0.97))
    assert reading.fields["total"] is not None and "total" not in reading.evidence
    assert "date" in reading.evidence and "could not locate the evidence of total" in caplog.text

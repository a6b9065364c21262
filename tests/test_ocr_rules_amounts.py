"""Total and date rules on small hand-made OCR lines (issue H): each can fail on its own."""

from __future__ import annotations

from llama_vision.engines.ocr.rules import extract_fields


def fields(*lines: str) -> dict:
    return extract_fields(list(lines)).fields


# -- totals ---------------------------------------------------------------------------------


def test_a_total_cut_short_at_the_box_edge_is_completed_from_the_same_amount_elsewhere() -> None:
    assert fields("SHOP A", "2 SubTotal 25.00", "Net Total 25.", "CASH 50.00", "CHANGE 25.00")["total"] == "25.00"
    assert fields("SHOP A", "Subtotal 183.35", "TOTAL 201.6", "EFTPOS 201.68")["total"] == "201.68"


def test_a_cut_short_total_that_two_amounts_could_complete_stays_unknown() -> None:
    assert fields("SHOP A", "Item 12.00", "TOTAL 12.", "Item 12.50")["total"] is None


def test_a_cut_short_total_takes_nothing_from_the_row_below() -> None:
    assert fields("SHOP A", "TOTAL 12.", "Biscuits 3.50")["total"] is None


def test_the_completion_is_in_the_evidence_rows() -> None:
    reading = extract_fields(["SHOP A", "2 SubTotal 25.00", "Net Total 25."])
    assert reading.fields["total"] == "25.00"
    text = reading.evidence["total"].text or ""
    assert "Net Total 25." in text and "25.00" in text  # the cut row and the row that completed it
    assert reading.evidence["total"].confidence < extract_fields(["SHOP A", "Net Total 25.00"]).evidence["total"].confidence


def test_a_misread_gst_summary_heading_still_ends_the_totals() -> None:
    result = fields("SHOP A", "SUB-TOTAL (GST) 12.19", "GST 0.69", "ROUNDING -0.04", "TOTAL 12.15", "CASH 50.15",
                    "CHANGE 38.00", "GST SUHHARY", "CODE AMOUNT TAX", "TAS TOTAL : 0.69")
    assert result["total"] == "12.15"


def test_the_total_after_rounding_whose_label_was_lost_is_what_is_paid() -> None:
    result = fields("SHOP A", "TotalSales (Inclusive GST) RM 52.08", "Rounding Adjustment RM .02", "Rounding RM 52.10",
                    "CASH RM 60.00", "CHANGE RM 7.90")
    assert result["total"] == "52.10"


def test_total_paid_after_cash_rounding_is_the_payment_not_the_total() -> None:
    result = fields("CAFE A", "TOTAL $80.47", "GST included in total $7.32", "Rounding adj -0.02", "TOTAL PAID $80.45",
                    "Tendered $100.00", "Change $19.55")
    assert result["total"] == "80.47"


def test_total_paid_is_the_total_when_nothing_else_is() -> None:
    assert fields("CAFE A", "Flat White 5.00", "Total paid $5.00", "Change $0.00")["total"] == "5.00"


def test_a_zero_rounding_keeps_the_total() -> None:
    assert fields("SHOP A", "TOTAL 52.08", "Rounding 0.00", "CASH 60.00", "CHANGE 7.92")["total"] == "52.08"


def test_an_amount_below_rounding_that_does_not_fit_is_not_the_total() -> None:
    assert fields("SHOP A", "TOTAL 52.08", "Rounding 0.02", "CASH 60.00", "CHANGE 7.90")["total"] == "52.08"


def test_a_thin_font_total_read_as_iuial_is_still_the_total() -> None:
    assert fields("SHOP A", "SUBIUIAL 2.28", "IUIAL (GSI INUL) 2.28", "CASH 3.00")["total"] == "2.28"


# -- dates ----------------------------------------------------------------------------------


def test_a_date_with_its_first_slash_read_as_a_colon() -> None:
    assert fields("SHOP A", "27:03/2018 No.:CS-20242", "TOTAL 5.00")["date"] == "27/03/2018"


def test_a_time_is_not_turned_into_a_date() -> None:
    assert fields("SHOP A", "Time 12:30", "TOTAL 5.00")["date"] is None


def test_a_date_glued_to_letters_is_an_item_code() -> None:
    assert fields("SHOP A", "HD03-04-06 - 5/40/160", "19-09-17 15:39", "TOTAL 5.00")["date"] == "19/09/2017"


def test_a_dollar_sign_read_as_s_is_still_money() -> None:
    result = fields("SHOP A", "Subtotal (ex GST) $146.73", "GST S14.67", "Total (inc GST) S161.40")
    assert (result["total"], result["gst"]) == ("161.40", "14.67")


def test_a_whole_dollar_piece_with_its_dollar_read_as_s_is_money() -> None:
    from llama_vision.engines.ocr.layout import TextBox
    from llama_vision.engines.ocr.rules import read_boxes

    boxes = [TextBox("PLUMBING CO", 110, 10, 300, 30), TextBox("Subtotal", 110, 100, 162, 119),
             TextBox("$680", 619, 100, 655, 119), TextBox("GST 10%", 109, 130, 169, 150),
             TextBox("$68", 624, 130, 655, 150), TextBox("TOTAL", 108, 160, 156, 179), TextBox("S748", 615, 160, 654, 179)]
    assert read_boxes(boxes).fields["total"] == "748.00"


def test_a_thousands_comma_read_as_a_point_is_still_money_and_a_dotted_date_is_not() -> None:
    result = fields("IRONBARK FREIGHT", "Date: 12.04.2024", "Subtotal (ex GST) $1.387.08", "GST (10%) $138.71",
                    "TOTAL $1.525.79")
    assert (result["subtotal"], result["total"], result["date"]) == ("1387.08", "1525.79", "12/04/2024")


def test_an_s_code_inside_a_line_is_not_money() -> None:
    assert fields("SHOP A", "Phone S500 case", "TOTAL 12.00")["total"] == "12.00"


def test_a_dollar_sign_read_as_a_five_is_dropped_only_when_the_gst_agrees() -> None:
    lines = ["Peak Performance Physio", "TAX INVOICE", "ABN 51 824 753 556", "Standard consultation 156.97",
             "GST 10% $84.67", "Amount Due 5931.38"]  # "$931.38" in small print
    assert extract_fields(lines).fields["total"] == "931.38"
    # a real total starting with 5: its own GST agrees, so it stays
    assert extract_fields([*lines[:4], "GST 10% $539.22", "Amount Due 5931.38"]).fields["total"] == "5931.38"
    # no GST to check against: kept as read
    assert extract_fields([*lines[:4], "Amount Due 5931.38"]).fields["total"] == "5931.38"
    # one digit left over agrees with a GST by chance ("58.86" with GST 0.80, 8.86/11 = 0.805): kept
    assert extract_fields([*lines[:4], "GST: 0.80", "Total Payable: 58.86"]).fields["total"] == "58.86"


def test_a_gst_column_heading_in_the_item_table_is_not_the_gst_amount() -> None:
    """A supermarket's "Description   GST Amount" heading (its last two columns read as one piece)
    owns the item rows under it (Y/N flags and prices); the GST is the one the foot states."""
    from llama_vision.engines.ocr.layout import TextBox
    from llama_vision.engines.ocr.rules import read_boxes

    boxes = [TextBox("CORNER IGA MARKET", 110, 10, 380, 34),
             TextBox("Description", 20, 100, 140, 120), TextBox("GST Amount", 330, 100, 500, 120),
             TextBox("Bananas Cavendish", 20, 126, 200, 146), TextBox("N", 340, 126, 352, 146),
             TextBox("4.72", 450, 126, 500, 146),
             TextBox("Laundry Powder 2kg", 20, 152, 210, 172), TextBox("Y", 340, 152, 352, 172),
             TextBox("12.50", 440, 152, 500, 172),
             TextBox("TOTAL", 20, 190, 90, 210), TextBox("$17.22", 420, 190, 500, 210),
             TextBox("Total includes GST of $1.14", 20, 216, 300, 236)]
    assert (read_boxes(boxes).fields["total"], read_boxes(boxes).fields["gst"]) == ("17.22", "1.14")

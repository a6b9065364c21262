"""OCR rules on inline lines and boxes: pure, no OCR runtime, each test can fail on its own."""

from __future__ import annotations

import pytest

from llama_vision.engines.ocr.layout import TextBox, group_lines, page_slope, slope_at
from llama_vision.engines.ocr.rules import extract_fields, read_boxes
from llama_vision.fields import ALL_FIELDS, find_abns, find_amounts, find_dates

VALID_ABN = "51824753556"  # the ATO's worked example
BUYER_ABN = "53004085616"


def fields(*lines: str) -> dict:
    return extract_fields(list(lines)).fields


# -- layout -----------------------------------------------------------------------------------


def test_boxes_on_one_row_join_left_to_right_and_rows_stay_apart() -> None:
    boxes = [
        TextBox("49.40", 600, 202, 680, 230),
        TextBox("Total RM", 30, 200, 150, 228),
        TextBox("Cash", 30, 250, 100, 278),
        TextBox("50.00", 600, 251, 680, 279),
    ]
    assert [line.text for line in group_lines(boxes)] == ["Total RM 49.40", "Cash 50.00"]


def test_a_tilted_photo_keeps_label_and_amount_on_one_row() -> None:
    slope = 0.04  # about 2.3 degrees: the amount 600 px to the right sits 24 px lower
    def box(text: str, x0: float, y0: float, width: float) -> TextBox:
        y = y0 + slope * x0
        return TextBox(text, x0, y, x0 + width, y + 28 + slope * width, slope=slope)
    boxes = [box("GST 10%", 30, 100, 200), box("$3.50", 600, 100, 100),
             box("Total", 30, 140, 150), box("$38.50", 600, 140, 110),
             box("Payment", 30, 180, 200), box("CASH", 600, 180, 100)]
    assert [line.text for line in group_lines(boxes)] == ["GST 10% $3.50", "Total $38.50", "Payment CASH"]


def test_every_canonical_field_is_present_and_missing_ones_are_null() -> None:
    result = fields("Some Shop", "Total 5.00")
    assert set(ALL_FIELDS) <= set(result)
    assert result["supplier_abn"] is None and result["date"] is None and result["gst"] is None


def test_no_text_gives_other_and_a_warning() -> None:
    reading = extract_fields([])
    assert reading.document_type == "other" and reading.warnings


# -- small parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("15/03/2024", "15/03/2024"), ("15-03-24", "15/03/2024"), ("15 Mar 2024", "15/03/2024"),
    ("2024-03-15", "15/03/2024"), ("March 15, 2024", "15/03/2024"), ("05/01/201813:30", "05/01/2018"),
    ("Date: 01.06.2018 18:21", "01/06/2018"), ("27 May 2018 18:25", "27/05/2018"),
])
def test_dates_in_printed_forms_read_day_first(text: str, expected: str) -> None:
    assert fields("Shop", f"Date {text}")["date"] == expected


def test_an_impossible_date_is_not_a_date() -> None:
    assert find_dates("31/02/2024") == []


def test_a_labelled_date_beats_a_card_expiry_printed_first() -> None:
    assert fields("Shop", "Card Expiry: 30/09/18", "Date: 01/03/2018", "Total 5.00")["date"] == "01/03/2018"


def test_money_reads_currency_signs_thousands_and_comma_decimals() -> None:
    assert [str(v) for v in find_amounts("RM49.40  $1,234.50  12,30  -1.20")] == ["49.40", "1234.50", "12.30", "-1.20"]
    assert find_amounts("GST 6% 15/03/2024 01.03.18") == []


def test_abn_candidates_put_checksum_valid_ones_first() -> None:
    assert find_abns("ABN 12 345 678 901 / 51 824 753 556")[0] == VALID_ABN


# -- totals, GST ------------------------------------------------------------------------------


def test_total_after_rounding_adjustment_wins() -> None:
    result = fields("Shop", "Total RM Incl. of GST 49.39", "Rounding Adj 0.01", "Total RM 49.40", "Cash 50.00",
                    "Change 0.60")
    assert result["total"] == "49.40"


def test_total_ignores_subtotal_quantity_gst_and_savings_lines() -> None:
    result = fields("Shop", "Sub Total 28.58", "Total QTY: 4", "GST payable (6%): 1.72", "Total Savings 3.29",
                    "TOTAL: 30.30", "Cash 50.00")
    assert result["total"] == "30.30"
    assert result["subtotal"] == "28.58"


def test_amount_due_outranks_an_earlier_total() -> None:
    assert fields("Shop", "Total 120.00", "Less deposit 20.00", "Amount Due 100.00")["total"] == "100.00"


def test_total_printed_on_the_next_line() -> None:
    assert fields("Shop", "GRAND TOTAL", "$ 1,045.00")["total"] == "1045.00"


def test_gst_summary_table_at_the_foot_is_not_the_total() -> None:
    result = fields("Shop", "Total Sales Incl GST 88.97", "Rounding Adj -0.02", "Total After Adj Incl GST 88.95",
                    "CASH 100.00", "GST Summary Amount Tax", "Total 83.93 5.04")
    assert result["total"] == "88.95"


def test_without_a_total_label_the_total_is_null_not_the_largest_number() -> None:
    result = extract_fields(["Shop", "Widget 12.00", "Gadget 30.00"])
    assert result.fields["total"] is None
    assert any("total" in w for w in result.warnings)


@pytest.mark.parametrize(("line", "expected"), [
    ("GST 10%: $3.50", "3.50"), ("GST $3.50", "3.50"), ("GST included 3.50", "3.50"),
    ("Total includes GST of $3.50", "3.50"), ("Tax @ 6% 1.72", "1.72"),
])
def test_gst_amount_labels(line: str, expected: str) -> None:
    assert fields("Shop", "Total $38.50", line)["gst"] == expected


def test_gst_registration_number_and_total_incl_gst_are_not_the_gst() -> None:
    result = fields("Shop", "GST Reg No: 000465809408", "Total incl GST 38.50")
    assert result["gst"] is None
    assert result["total"] == "38.50"


def test_includes_gst_statement_and_tax_invoice_label() -> None:
    result = fields("Shop", "TAX INVOICE", "Total $38.50", "Total price includes GST")
    assert result["tax_invoice_label"] is True and result["gst_included_statement"] is True
    plain = fields("Shop", "RECEIPT", "Total $38.50")
    assert plain["tax_invoice_label"] is False and plain["gst_included_statement"] is False


# -- supplier, buyer, ABN ---------------------------------------------------------------------


def test_supplier_name_skips_banner_noise() -> None:
    result = fields("WELCOME", "TAX INVOICE", "Harbour Hardware", "12 Smith St, Fremantle WA 6160", "Total 5.00")
    assert result["supplier_name"] == "Harbour Hardware"


def test_supplier_name_broken_over_two_lines_and_registration_dropped() -> None:
    result = fields("POPULAR BOOK", "CO. (M) SDN BHD", "(Co. No. 113825-W)", "No 8, Jalan 7/118B, Desa Tun Razak",
                    "56000 Kuala Lumpur, Malaysia", "SUNWAY VELOCITY", "Tel: 03-9201 6281")
    assert result["supplier_name"] == "POPULAR BOOK CO. (M) SDN BHD"
    assert result["supplier_address"] == "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur, Malaysia"


def test_legal_name_preferred_over_a_brand_line_and_number_stripped() -> None:
    result = fields("31803003", "AEON CO. (M) BHD. (126926-H)", "3RD FLR, AEON TAMAN MALURI SC",
                    "JLN JEJAKA, TAMAN MALURI", "CHERAS, 55100 KUALA LUMPUR", "GST ID :002017394688")
    assert result["supplier_name"] == "AEON CO. (M) BHD."
    assert result["supplier_address"] == "3RD FLR, AEON TAMAN MALURI SC JLN JEJAKA, TAMAN MALURI CHERAS, 55100 KUALA LUMPUR"


def test_address_stops_at_the_abn_line_and_supplier_abn_is_read() -> None:
    result = fields("Harbour Hardware Pty Ltd", "Shop 4, 12 Marine Pde", "Fremantle WA 6160",
                    "ABN 51 824 753 556", "TAX INVOICE", "Total $99.00")
    assert result["supplier_address"] == "Shop 4, 12 Marine Pde, Fremantle WA 6160"
    assert result["supplier_abn"] == VALID_ABN


def test_abn_with_a_bad_checksum_is_still_reported_raw() -> None:
    assert fields("Shop", "ABN: 12 345 678 901", "Total 5.00")["supplier_abn"] == "12345678901"


def test_buyer_name_and_abn_from_bill_to_block() -> None:
    result = fields("Acme Consulting Pty Ltd", "ABN 51 824 753 556", "TAX INVOICE", "Invoice No: INV-2041",
                    "Bill to: Brightside Dental", "ABN 53 004 085 616", "Total $1,650.00")
    assert result["supplier_abn"] == VALID_ABN
    assert result["buyer_name"] == "Brightside Dental"
    assert result["buyer_abn"] == BUYER_ABN
    assert result["invoice_number"] == "INV-2041"


def _keystone_receipt() -> list[TextBox]:
    """A receipt photographed at an angle: its rows tilt down to the right at the top and up at
    the foot (skew 0.08 - 0.00012 y); labels at the left, amounts at the right."""
    def row(y: float, label: str, amount: str | None) -> list[TextBox]:
        skew = 0.08 - 0.00012 * y
        ends = (skew * 140, skew * 450)  # a tilted box's bounds span both ends' heights
        out = [TextBox(label, 140, y + min(ends), 450, y + 44 + max(ends), slope=skew)]
        if amount is not None:  # a short box: RapidOCR gives it no measurable skew
            out.append(TextBox(amount, 650, y + skew * 708, 766, y + 44 + skew * 708))
        return out
    boxes = [b for n in range(20) for b in row(100 + 46 * n, f"Grocery item {n}", f"{n}.50")]
    boxes += row(1020, "20 ITEMS", None) + row(1066, "TOTAL AUD", "$95.21")
    for n, text in enumerate(("Total includes GST $4.10", "Thanks for shopping with us", "Please keep your receipt")):
        boxes += row(1112 + 46 * n, text, None)
    return boxes


def test_a_keystoned_photo_straightens_each_band_by_its_own_skew() -> None:
    # one page-wide skew (the median, tilted down) lifts the foot's amount onto the row above it
    rows = [line.text for line in group_lines(_keystone_receipt())]
    assert rows[-6:-3] == ["Grocery item 19 19.50", "20 ITEMS", "TOTAL AUD $95.21"]
    assert read_boxes(_keystone_receipt()).fields["total"] == "95.21"


def test_a_merely_turned_page_with_noisy_skews_keeps_one_skew() -> None:
    noise = (0.009, -0.015, 0.004, 0.012, -0.008, 0.016, -0.011, 0.002, 0.026, -0.006, 0.02)
    boxes = [TextBox(f"Line {n} of the header", 212, 90 + 30 * n, 420, 120 + 30 * n, slope=0.048 + d)
             for n, d in enumerate(noise)]
    assert slope_at(boxes) == (page_slope(boxes), 0.0)


# -- payment, items, fuel, bank, type ---------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("EFTPOS 38.50", "EFTPOS"), ("VISA ****1234 38.50", "VISA"), ("Paid by Mastercard", "Mastercard"),
    ("AMEX 38.50", "AMEX"), ("Cash 50.00", "Cash"), ("Tender VISA CREDIT", "VISA CREDIT"),
])
def test_payment_method_as_printed(line: str, expected: str) -> None:
    assert fields("Shop", "Total 38.50", line)["payment_method"] == expected


def test_an_advert_for_cards_is_not_the_payment() -> None:
    assert fields("Shop", "We accept Visa and Mastercard", "Total 38.50", "Cash 40.00")["payment_method"] == "Cash"


def test_a_card_label_gives_way_to_the_tender_in_its_value_and_a_fleet_card_is_named() -> None:
    boxes = [TextBox("Milk Bar Cafe", 380, 60, 882, 129), TextBox("TOTAL AUD", 53, 895, 307, 953),
             TextBox("$29.44", 1043, 895, 1217, 953), TextBox("Card", 53, 1157, 180, 1216),
             TextBox("CASH", 1096, 1157, 1221, 1216)]
    assert read_boxes(boxes).fields["payment_method"] == "CASH"
    assert fields("Servo", "Total Due $149.17", "Tender FLEET CARD")["payment_method"] == "FLEET CARD"
    assert fields("Shop", "Total 38.50", "Card: Visa")["payment_method"] == "Visa"


@pytest.mark.parametrize("footer", [
    "Direct deposit details on request. Payment due in 14 days.", "Payment by bank transfer within 7 days",
    "Direct deposit: BSB 062-000 Account 12345678", "EFT or BPAY accepted", "Please pay by card or bank transfer",
])
def test_payment_instructions_on_an_invoice_are_not_how_it_was_paid(footer: str) -> None:
    assert fields("Acme Plumbing", "TAX INVOICE", "Total $1,064.12", footer)["payment_method"] is None


def test_a_transfer_recorded_as_made_is_the_payment() -> None:
    assert fields("Acme Plumbing", "TAX INVOICE", "Total $450.00", "Paid by direct deposit 03/05/2025")[
        "payment_method"] == "direct deposit"


def test_line_items_with_quantity_price_and_amount() -> None:
    result = fields("Shop", "Description Qty Price Amount", "Hammer 2 12.50 25.00", "Nails 500g 1 4.95 4.95",
                    "Subtotal 29.95", "Total 29.95")
    assert result["items"] == [
        {"description": "Hammer", "quantity": "2", "unit_price": "12.50", "amount": "25.00"},
        {"description": "Nails 500g", "quantity": "1", "unit_price": "4.95", "amount": "4.95"},
    ]


def test_fuel_receipt_fields_and_type() -> None:
    reading = extract_fields(["Metro Fuel Fremantle", "TAX INVOICE", "Pump 4", "Unleaded 91 $72.07",
                              "36.40 L @ 198.0 c/L", "Total $72.07", "EFTPOS $72.07"])
    assert reading.document_type == "fuel_receipt"
    assert (reading.fields["fuel_type"], reading.fields["litres"], reading.fields["price_per_litre"]) == (
        "Unleaded 91", "36.40", "1.980")


def test_diesel_and_price_per_litre_in_dollars() -> None:
    result = fields("Servo", "Pump 2 DIESEL", "Volume 40.00 L", "Price $1.899/L", "Total $75.96")
    assert (result["fuel_type"], result["litres"], result["price_per_litre"]) == ("Diesel", "40.00", "1.899")


def test_bank_statement_fields_and_type() -> None:
    reading = extract_fields(["Southern Cross Bank", "Account Statement", "Account name: Jane Citizen",
                              "BSB: 062 000   Account number: 1234 5678", "Statement period 01/03/2024 to 31/03/2024",
                              "Opening balance $1,200.00", "Closing balance $980.55"])
    assert reading.document_type == "bank_statement"
    f = reading.fields
    assert (f["bsb"], f["account_number"], f["account_holder"]) == ("062-000", "12345678", "Jane Citizen")
    assert f["statement_period"] == "01/03/2024 to 31/03/2024"
    assert (f["opening_balance"], f["closing_balance"]) == ("1200.00", "980.55")


def _statement_header(holder_rows: list[TextBox]) -> list[TextBox]:
    """A bank statement's header in three columns (the holder block left, labels middle, values right)."""
    return [TextBox("Tasman Savings Bank Ltd", 25, 20, 295, 56), TextBox("Statement of Account", 825, 20, 1016, 56),
            TextBox("ABN 82 549 691 746", 27, 60, 241, 84), *holder_rows,
            TextBox("Statement period", 534, 150, 642, 174), TextBox("01/12/2024 to 31/12/2024", 860, 150, 1016, 174),
            TextBox("Opening balance", 165, 230, 313, 254), TextBox("4,596.92", 948, 230, 1018, 254),
            TextBox("Closing balance", 164, 456, 313, 482), TextBox("3,491.97", 946, 456, 1013, 482)]


def test_the_holder_under_its_label_is_read_not_the_bsb_beside_the_label() -> None:
    reading = read_boxes(_statement_header([
        TextBox("Account Holder:", 25, 96, 170, 125), TextBox("BSB", 534, 96, 576, 125),
        TextBox("187-843", 951, 96, 1016, 125),
        TextBox("Olivia Brown", 27, 126, 168, 150), TextBox("Account number", 532, 126, 653, 150),
        TextBox("24551565", 939, 126, 1018, 150)]))
    assert reading.document_type == "bank_statement"
    assert (reading.fields["account_holder"], reading.fields["bsb"]) == ("Olivia Brown", "187-843")
    assert reading.fields["supplier_name"] == "Tasman Savings Bank Ltd"
    assert reading.evidence["account_holder"].text == "Account Holder: BSB 187-843\nOlivia Brown Account number 24551565"


def test_an_unlabelled_holder_is_the_name_heading_the_statement_address_block() -> None:
    reading = read_boxes(_statement_header([
        TextBox("JACK WILSON", 25, 96, 141, 125), TextBox("BSB", 534, 96, 576, 125),
        TextBox("473-719", 951, 96, 1016, 125),
        TextBox("13 Queen St, Adelaide SA 5000", 27, 124, 218, 150), TextBox("Account number", 532, 124, 653, 150),
        TextBox("27360255", 939, 124, 1018, 150)]))
    assert reading.fields["account_holder"] == "JACK WILSON"
    assert reading.fields["supplier_name"] == "Tasman Savings Bank Ltd"


def test_with_no_abn_under_the_bank_the_statement_addressee_is_the_holder_not_the_supplier() -> None:
    # the bank's name hardly taller than the rest (a low-resolution scan) and no ABN line: the first
    # address block under the header is the holder's, so the name over it is not the bank's
    boxes = [TextBox("Kangaroo Point Credit Union", 25, 20, 300, 48), TextBox("Statement of Account", 825, 22, 1016, 46),
             TextBox("KPCU Everyday Account", 840, 56, 1016, 80),
             TextBox("OLIVIA BROWN", 25, 96, 160, 122), TextBox("BSB", 534, 96, 576, 122),
             TextBox("724-361", 951, 96, 1016, 122),
             TextBox("22 Main Rd, Newcastle NSW 2300", 27, 126, 260, 150), TextBox("Account number", 532, 126, 653, 150),
             TextBox("79126821", 939, 126, 1018, 150),
             TextBox("Statement period", 534, 156, 642, 180), TextBox("01/12/2024 to 31/12/2024", 860, 156, 1016, 180),
             TextBox("Opening balance", 165, 230, 313, 254), TextBox("3,528.86", 948, 230, 1018, 254),
             TextBox("Closing balance", 164, 456, 313, 482), TextBox("2,854.68", 946, 456, 1013, 482)]
    reading = read_boxes(boxes)
    assert reading.document_type == "bank_statement"
    assert reading.fields["supplier_name"] == "Kangaroo Point Credit Union"
    assert reading.fields["account_holder"] == "OLIVIA BROWN"
    # a sole trader's invoice is no statement: the name over its address is the supplier's
    assert fields("JOHN SMITH", "12 Smith St, Newtown NSW 2042", "Invoice No: 123",
                  "Total $450.00")["supplier_name"] == "JOHN SMITH"


def test_an_account_number_label_missing_one_letter_is_still_read() -> None:
    assert fields("Harbour Bank", "BSB 062-000", "Accout number 35990589")["account_number"] == "35990589"
    assert fields("Harbour Bank", "BSB 062-000", "Acount no: 1234 5678")["account_number"] == "12345678"
    assert fields("Harbour Bank", "BSB 062-000", "Contact no 0412345678")["account_number"] is None


def test_a_holder_label_alone_takes_the_next_line_and_an_addressee_off_a_statement_is_no_holder() -> None:
    assert fields("Harbour Bank", "Account holder:", "Priya Sharma", "BSB 062-000")["account_holder"] == "Priya Sharma"
    assert fields("Harbour Bank", "Account holder name: Priya Sharma")["account_holder"] == "Priya Sharma"
    assert fields("Harbour Bank", "Account name: Jane Citizen BSB: 062-000")["account_holder"] == "Jane Citizen"
    lr = [TextBox("Harbour Bank", 20, 10, 300, 40), TextBox("Account holder:", 20, 60, 180, 84),
          TextBox("Priya Sharma", 600, 60, 760, 84), TextBox("BSB:", 20, 90, 70, 114), TextBox("062-000", 600, 90, 700, 114)]
    assert read_boxes(lr).fields["account_holder"] == "Priya Sharma"
    # a name over an address on an invoice is the customer, not an account holder
    assert fields("Acme Plumbing", "INVOICE", "Jane Citizen", "12 Smith St, Newtown NSW 2042",
                  "Total $450.00")["account_holder"] is None


@pytest.mark.parametrize(("lines", "expected"), [
    (["Shop", "TAX INVOICE", "Total 10.00"], "tax_invoice"),
    (["Shop", "RECEIPT", "Total 10.00"], "receipt"),
    (["Cafe", "TAX INVOICE", "Total 10.00", "Paid by EFTPOS"], "receipt"),
    (["Plumbing Pty Ltd", "INVOICE", "Invoice No: INV-00123", "Bill To:", "Jane Citizen", "Total $450.00",
      "Payment due within 14 days"], "tax_invoice"),
    (["Hello world"], "other"),
    # a shop's "Tax Invoice" title with a tender line is a receipt
    (["CELLAR DOOR LIQUOR", "ABN: 74 900 404 560", "Tax Invoice", "Date: 11/12/2025", "Pale Ale 6pk 24.99",
      "Total $35.99", "Paid MASTERCARD"], "receipt"),
    # payment terms are an invoice's, not a tender
    (["Greenview Tiling", "ABN: 85 071 482 145", "TAX INVOICE", "Invoice # 90293 Date: 25/06/2024", "Wall tiles $440",
      "Total $484", "Payment by bank transfer within 7 days"], "tax_invoice"),
])
def test_document_type(lines: list[str], expected: str) -> None:
    assert extract_fields(lines).document_type == expected


def test_read_boxes_goes_from_boxes_to_fields() -> None:
    boxes = [TextBox("Corner Deli", 100, 10, 300, 40), TextBox("Date: 15/03/2024", 10, 60, 250, 85),
             TextBox("TOTAL", 10, 100, 80, 125), TextBox("$12.30", 400, 101, 470, 126)]
    reading = read_boxes(boxes)
    assert (reading.fields["supplier_name"], reading.fields["date"], reading.fields["total"]) == (
        "Corner Deli", "15/03/2024", "12.30")


def test_item_prices_with_thousands_separators() -> None:
    result = fields("Electrical Pty Ltd", "Description Qty Unit Price Amount",
                    "Project work (fixed price) 1 1,000.00 1,000.00", "Total $1,100.00")
    assert result["items"] == [{"description": "Project work (fixed price)", "quantity": "1",
                                "unit_price": "1000.00", "amount": "1000.00"}]


def test_items_without_a_header_in_one_line_layout() -> None:
    result = fields("Cafe", "ABN 51 824 753 556", "Date: 15/03/2024", "2 x Bacon & Egg Roll @ 12.00 24.00",
                    "1 x Flat White @ 5.00 5.00 *", "GST 2.64", "Total 29.00")
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in result["items"]] == [
        ("Bacon & Egg Roll", "2", "12.00", "24.00"), ("Flat White", "1", "5.00", "5.00")]


def test_items_with_quantity_on_the_line_below() -> None:
    result = fields("Cafe", "RECEIPT", "Date: 15/03/2024", "Flat White 5.00", "1 x $5.00", "Bananas 1.49 *",
                    "0.75 kg @ $1.99/kg", "Total 6.49")
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in result["items"]] == [
        ("Flat White", "1", "5.00", "5.00"), ("Bananas", "0.75", "1.99", "1.49")]


def test_glued_forms_ocr_makes_of_abn_labels_and_iso_dates_with_time() -> None:
    result = fields("HARBOUR HARDWARE", "66 Beach Rd", "Parramatta NSW 2150", "A.B.N.51824753 556",
                    "Date: 2025-04-0407:30", "Total $24.90")
    assert result["supplier_abn"] == VALID_ABN
    assert result["supplier_address"] == "66 Beach Rd, Parramatta NSW 2150"
    assert result["date"] == "04/04/2025"


def test_a_customer_abn_alone_is_the_buyer_not_the_supplier_nor_a_name() -> None:
    result = fields("Coastal Plumbing Services Pty Ltd", "175 Victoria Pde, Parramatta NSW 2150", "INVOICE",
                    "Invoice No: INV-36298", "Bill To:", "CustomerA.B.N.53004085616",
                    "Description Qty Unit Price Amount", "Call-out fee 2 356.31 712.62", "Amount Due $783.88")
    assert result["supplier_abn"] is None
    assert result["buyer_abn"] == BUYER_ABN
    assert result["buyer_name"] is None


def test_shop_names_containing_registration_like_letters_are_names() -> None:
    # "GROCER" contains "ROC" (Registrar of Companies), which once made it a registration line
    assert fields("SOUTHERN GROCER", "206 Church St, Geelong VIC 3220", "Apples 7.18", "TOTAL 7.18")[
        "supplier_name"] == "SOUTHERN GROCER"


def test_a_bank_statement_has_no_tender_items_totals_or_period_date() -> None:
    reading = extract_fields(["Harbour Savings Bank", "Account Statement", "Account holder: Priya Sharma",
                              "BSB: 061-073", "Account number: 17659166",
                              "Statement period: 01/04/2025 to 30/04/2025", "Opening balance $5,902.03",
                              "Date Description Amount Balance", "03/04 EFTPOS Purchase -45.00 5,857.03",
                              "Closing balance $4,525.16"])
    f = reading.fields
    assert reading.document_type == "bank_statement"
    assert (f["payment_method"], f["total"], f["date"], f["items"]) == (None, None, None, [])
    assert (f["account_holder"], f["statement_period"]) == ("Priya Sharma", "01/04/2025 to 30/04/2025")


# -- layout-aware reading (issue H item 3) ------------------------------------------------------


def test_two_column_header_gives_the_name_top_left_not_the_title_top_right() -> None:
    boxes = [
        TextBox("Sparkle Cleaning Co", 40, 40, 360, 80), TextBox("TAX INVOICE", 700, 40, 960, 84),
        TextBox("Web: sparkleclean.com.au", 40, 100, 400, 126),
        TextBox("12 Smith Street", 40, 130, 300, 156), TextBox("Invoice No: 1042", 700, 130, 960, 156),
        TextBox("Newtown NSW 2042", 40, 160, 320, 186),
        TextBox(f"ABN {VALID_ABN}", 40, 190, 320, 216),
        TextBox("Total", 40, 400, 140, 426), TextBox("$1,320", 840, 400, 960, 426),
    ]
    result = read_boxes(boxes).fields
    assert result["supplier_name"] == "Sparkle Cleaning Co"
    assert result["total"] == "1320.00"


def test_a_misread_line_under_the_street_address_is_never_the_supplier() -> None:
    # small print: "Perth WA 6000" (and the invoice date beside it) misread no longer looks like an
    # address, but it is under the street line, so it is the address block's, not the name over it
    lines = ("Peak Performance Physio", "104 Soctim Rd", "Fet 103 6000 lovice Daor. 030325", "Ph (03) 5404 5189",
             "ABN 51 475 275 703")
    assert fields(*lines)["supplier_name"] == "Peak Performance Physio"
    # a counter label over the name is still passed over for the line right above the block
    assert fields("Counter 2", "Corner Deli", "12 Smith St, Newtown NSW 2042", "ABN 51 824 753 556")[
        "supplier_name"] == "Corner Deli"


def test_a_web_address_or_account_holder_is_never_the_supplier() -> None:
    assert fields("Web: aldi.com.au", "ALDI STORES", "Total 5.00")["supplier_name"] == "ALDI STORES"
    assert fields("Account Holder: Jane Citizen", "BRIGHT BANK", "Total 5.00")["supplier_name"] == "BRIGHT BANK"


def test_a_name_in_capitals_under_a_tax_invoice_title() -> None:
    result = fields("Tax Invoice", "HARBOUR PLUMBING SERVICES", f"ABN {VALID_ABN}", "Total $220.00")
    assert result["supplier_name"] == "HARBOUR PLUMBING SERVICES"


def test_a_name_ending_in_and_continues_on_the_next_line() -> None:
    result = fields("HOME MASTER HARDWARE &", "ELECTRICAL", "NO. 5, JALAN BESAR, 40170 SHAH ALAM", "TOTAL 15.90")
    assert result["supplier_name"] == "HOME MASTER HARDWARE & ELECTRICAL"


def test_whole_dollar_amounts_are_read_with_their_labels() -> None:
    result = fields("Harbour Conveyancing", "Conveyancing services $1,200", "GST $120", "Total $1,320")
    assert result["total"] == "1320.00" and result["gst"] == "120.00"


@pytest.mark.parametrize(("line", "expected"), [
    ("TOTAL 24,000", "24000.00"), ("TOTAL Rp 91,000", "91000.00"), ("Total RM11.90", "11.90"),
    ("TOTAL $24.000", "24000.00"), ("Total 12,30", "12.30"),
])
def test_totals_with_either_separator_and_currency(line: str, expected: str) -> None:
    assert fields("A Shop", line)["total"] == expected


def test_a_bare_number_without_separator_or_currency_is_not_money() -> None:
    assert fields("A Shop", "Total items 12", "Table 4")["total"] is None


def test_rounding_line_then_amount_to_be_paid() -> None:
    result = fields("A Shop", "Total Sales Inclusive GST @6%: 25.44", "Rounding Adjustment: 0.01", "Amount To Be Paid: 25.45")
    assert result["total"] == "25.45"


def test_rounding_line_is_not_the_total() -> None:
    assert fields("A Shop", "Total 12.17", "Rounding -0.02", "Cash 20.00", "Change 7.85")["total"] == "12.17"


def test_total_including_the_gst_rate_is_still_the_total() -> None:
    assert fields("A Shop", "SUBTOTAL 40.00", "TOTAL INCL. GST 6.00% RM 47.70", "CASH 50.00")["total"] == "47.70"


def test_recogniser_slips_on_the_total_label_and_amount() -> None:
    assert fields("A Shop", "TOTL, : RM 73.00")["total"] == "73.00"
    assert fields("A Shop", "NET TOTAL : 19-80")["total"] == "19.80"
    assert fields("A Shop", "Total PM1.00")["total"] == "1.00"


def test_value_below_its_label_is_taken_from_the_column_under_it() -> None:
    boxes = [
        TextBox("Subtotal", 40, 100, 180, 126), TextBox("Total due", 500, 100, 660, 126),
        TextBox("90.00", 40, 140, 140, 166), TextBox("99.00", 520, 140, 640, 166),
    ]
    assert read_boxes(boxes).fields["total"] == "99.00"


def test_a_tax_summary_whose_heading_lost_a_letter_is_not_the_total() -> None:
    boxes = [
        TextBox("Total Amt Rounded", 60, 800, 300, 830), TextBox("15.90", 440, 800, 515, 830),
        TextBox("G", 57, 1000, 88, 1030), TextBox("ummary", 127, 1000, 239, 1030),
        TextBox("Amount (RM)", 264, 1000, 426, 1030), TextBox("Tax (RM)", 476, 1000, 594, 1030),
        TextBox("SR @ 6%", 59, 1048, 235, 1078), TextBox("15.00", 348, 1048, 426, 1078),
        TextBox("0.90", 528, 1048, 594, 1078),
    ]
    assert read_boxes(boxes).fields["total"] == "15.90"


def test_month_first_date_with_a_zero_for_o_and_the_time_glued_on() -> None:
    assert fields("A Shop", "Date; 0ct 3, 201612:16:25 PM", "Total 5.00")["date"] == "03/10/2016"


def test_nett_of_tax_is_not_the_total() -> None:
    assert fields("A Shop", "Total Sales Incl,GST @ 6% RM33.90", "Cash RM100.00", "Nett of Tax: RM31.98")["total"] == "33.90"


def test_the_header_name_is_the_line_over_the_address_not_a_stamp_above_it() -> None:
    boxes = [
        TextBox("POST", 430, 10, 600, 40),
        TextBox("FIVE STAR CASH & CARRY", 110, 60, 590, 110),
        TextBox("(1365663-P)", 250, 120, 420, 146),
        TextBox("No.1 Jalan SS 9/1, 47300 PJ, Selangor.", 50, 160, 630, 186),
        TextBox("TOTAL", 40, 400, 140, 426), TextBox("19.80", 500, 400, 600, 426),
    ]
    assert read_boxes(boxes).fields["supplier_name"] == "FIVE STAR CASH & CARRY"


def test_whole_dollar_lines_with_a_dollar_sign_are_items_and_bare_numbers_are_not() -> None:
    from llama_vision.engines.ocr.rules.items import line_items

    texts = ["Greenview Tiling", "ABN: 85672844996", "TAX INVOICE", "Invoice # A5560 Date: 08-03-2025",
             "Removal of old tiles $800", "Bathroom floor tiling $2,360", "Unit 12 Block 4", "Subtotal (ex GST) $3,160",
             "GST (10%) $316", "Total Due $3,476"]
    items = line_items(texts, [t.upper() for t in texts])
    assert [(i["description"], i["amount"]) for i in items] == [("Removal of old tiles", "800.00"),
                                                                ("Bathroom floor tiling", "2360.00")]

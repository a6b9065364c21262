"""Supplier name and address rules on small hand-made OCR lines (issue H): each can fail alone."""

from __future__ import annotations

import pytest

from llama_vision.engines.ocr.layout import TextBox
from llama_vision.engines.ocr.rules import extract_fields, read_boxes
from llama_vision.engines.ocr.rules.names import address_commas, clean_name, split_run_on


def fields(*lines: str) -> dict:
    return extract_fields(list(lines)).fields


@pytest.mark.parametrize(("printed", "name"), [
    ("MR. D.I.Y. (M) SON BHD", "MR. D.I.Y. (M) SDN BHD"),
    ("SUBANG HEALTHCARE SIN BHD", "SUBANG HEALTHCARE SDN BHD"),
    ("ALAM TRADING SDN BHU", "ALAM TRADING SDN BHD"),
    ("99 SPEED MART 5/B", "99 SPEED MART S/B"),
    ("99 SPEED MART S/8 (519537-X", "99 SPEED MART S/B"),
    ("HAI-0 RAYA BHD", "HAI-O RAYA BHD"),
])
def test_the_legal_suffix_and_zero_slips_are_undone(printed: str, name: str) -> None:
    assert clean_name(printed) == name


def test_a_fraction_in_an_address_is_not_a_legal_suffix() -> None:
    assert clean_name("LOT 5/8 JALAN BESAR") == "LOT 5/8 JALAN BESAR"


@pytest.mark.parametrize(("printed", "split"), [
    ("SANYUSTATIONERYSHOP", "SANYU STATIONERY SHOP"),
    ("SANYU STATIONERYSHOP", "SANYU STATIONERY SHOP"),
    ("INTERNATIONALS", "INTERNATIONALS"),  # no trade word ends it: left as printed
    ("GOODSHOP", "GOODSHOP"),  # too short to be two words run together
    ("ABSTATIONERYSHOP", "ABSTATIONERY SHOP"),  # no split that would leave "AB" alone as a word
    ("Northside Signage PtyLtd", "Northside Signage Pty Ltd"),  # a legal suffix's lost space, any case
    ("KEDAI JAYA SDNBHD", "KEDAI JAYA SDN BHD"),
    ("SPTYLTD CO", "SPTYLTD CO"),  # not a word of its own: left alone
])
def test_run_on_words_split_only_where_trade_words_end_the_name(printed: str, split: str) -> None:
    assert split_run_on(printed) == split


def test_the_supplier_read_from_a_run_on_header_line() -> None:
    result = fields("SANYUSTATIONERYSHOP", "NO. 31G, JALAN SETIA INDAH", "40170 SETIA ALAM", "TOTAL 14.90")
    assert result["supplier_name"] == "SANYU STATIONERY SHOP"


def test_a_handwritten_note_above_the_name_is_skipped() -> None:
    result = fields("tan woon yann", "YONGFATT ENTERPRISE", "NO 122, JALAN DEDAP 13", "81100 JOHOR BAHRU", "TOTAL 80.90")
    assert result["supplier_name"] == "YONGFATT ENTERPRISE"


def test_a_title_case_name_is_still_a_name() -> None:
    assert fields("Harbour Hardware", "12 Marine Pde Fremantle WA 6160", "Total 5.00")["supplier_name"] == "Harbour Hardware"


def test_an_office_stamp_beside_the_name_is_not_part_of_it() -> None:
    boxes = [
        TextBox("YONG CEN ENTERPRISE", 50, 100, 410, 150), TextBox("POSTED", 416, 90, 672, 160),
        TextBox("9, JALAN SUBANG JASA 3,", 46, 170, 420, 210),
        TextBox("TOTAL", 40, 400, 140, 426), TextBox("94.00", 500, 400, 600, 426),
    ]
    assert read_boxes(boxes).fields["supplier_name"] == "YONG CEN ENTERPRISE"


def test_a_stamp_alone_on_a_line_is_not_the_supplier() -> None:
    assert fields("PAID", "SEGI CASH & CARRY SDN. BHD.", "PT17920 SEK U9, SHAH ALAM", "TOTAL 9.00")[
        "supplier_name"] == "SEGI CASH & CARRY SDN. BHD."


def test_a_legal_name_over_three_lines_is_read_from_its_first_line() -> None:
    result = fields("AIK HUAT HARDWARE", "ENTERPRISE (SETIA", "ALAM) SDN BHD", "822737-X",
                    "NO. 17-G, JALAN SETIA INDAH", "TOTAL 4.00")
    assert result["supplier_name"] == "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD"


def test_a_legal_name_on_one_line_does_not_take_the_brand_above() -> None:
    result = fields("GEOVENTURE", "TASTE OF THE WORLD SDN BHD", "965857-A", "LOT 38, JALAN KENARI 5", "TOTAL 6.00")
    assert result["supplier_name"] == "TASTE OF THE WORLD SDN BHD"


# -- address --------------------------------------------------------------------------------


@pytest.mark.parametrize(("printed", "address"), [
    ("9. JALAN SUBANG JASA 3. 40150 SHAH ALAM", "9, JALAN SUBANG JASA 3, 40150 SHAH ALAM"),
    ("No. 47. Jalan Meranti 1a. Bandar Baru", "No. 47, Jalan Meranti 1a, Bandar Baru"),
    ("LOT P.T. 2811, JALAN ANGSA", "LOT P.T. 2811, JALAN ANGSA"),  # a dotted abbreviation keeps its stops
    ("Cnr. George St. Sydney NSW 2000", "Cnr. George St. Sydney NSW 2000"),
    ("Jalan Air Panas. Setapak", "Jalan Air Panas. Setapak"),  # between two words: maybe printed so, kept
    ("Taman Air Biru. 81700 Pasir Gudang", "Taman Air Biru, 81700 Pasir Gudang"),  # before the postcode
    ("81750 JOHOR BAHRU.JOHOR", "81750 JOHOR BAHRU,JOHOR"),
])
def test_full_stops_between_address_parts_are_commas(printed: str, address: str) -> None:
    assert address_commas(printed) == address


def test_an_address_with_numbers_like_an_amount_is_still_read() -> None:
    result = fields("TASTE OF THE WORLD SDN BHD", "965857-A", "Lot 38. 39 101 Boulevard,", "Jalan Kenari 5,",
                    "47170 Puchong, Selangor", "TEL: 03-8079 0255", "TOTAL 64.15")
    assert result["supplier_address"] == "Lot 38, 39 101 Boulevard, Jalan Kenari 5, 47170 Puchong, Selangor"


def test_a_labelled_address_after_the_phone_line_is_read_without_its_label() -> None:
    result = fields("HAI-O RAYA BHD", "KEPONG OUTLET", "TEL / FAX : 03-62636977", "HQ ADD: LOT 11995, BATU 2, JALAN KAPAR",
                    "41400 KLANG, SELANGOR", "DATE: 15/12/2016", "TOTAL 47.70")
    assert result["supplier_address"] == "LOT 11995, BATU 2, JALAN KAPAR 41400 KLANG, SELANGOR"


def test_a_phone_number_alone_ends_the_address() -> None:
    result = fields("PASARAYA PINTAR SDN BHD", "NO 19-G JALAN TASIK UTAMA 4,", "MEDAN NIAGA TASIK DAMAI", "016-5498845,",
                    "TOTAL 8.20")
    assert result["supplier_address"] == "NO 19-G JALAN TASIK UTAMA 4, MEDAN NIAGA TASIK DAMAI"


def test_a_tax_number_line_is_not_the_start_of_the_address() -> None:
    result = fields("DOMINO'S PIZZA", "GST REF NO : 001694261248", "D-08, M Avenue, Jln 1/38A", "51200 Kuala Lumpur",
                    "TOTAL 6.00")
    assert result["supplier_address"] == "D-08, M Avenue, Jln 1/38A 51200 Kuala Lumpur"


def test_a_unit_number_first_line_starts_the_address() -> None:
    result = fields("GOLDEN SCOOP SDN BHD", "A-16-1, Tower A, Northpoint Office", "Mid Valley City, 58000 Kuala Lumpur",
                    "Tax Invoice", "TOTAL 21.50")
    assert result["supplier_address"] == "A-16-1, Tower A, Northpoint Office Mid Valley City, 58000 Kuala Lumpur"


# a credit union's statement header: its name and title, then the holder label beside the BSB label
_KPCU_HEADER = [
    TextBox("Kangaroo Point Credit Union", 25, 10, 450, 45), TextBox("Statement of Account", 885, 10, 1160, 45),
    TextBox("KPCU Everyday Account", 936, 50, 1163, 86),
    TextBox("Account Holder:", 25, 95, 170, 129), TextBox("BSB", 609, 95, 665, 129),
]


def test_a_bank_name_beside_the_statement_title_is_the_supplier() -> None:
    assert read_boxes(_KPCU_HEADER).fields["supplier_name"] == "Kangaroo Point Credit Union"


def test_a_legal_name_under_a_customer_column_is_the_buyer_not_the_supplier() -> None:
    boxes = [
        TextBox("TAX INVOICE", 568, 10, 802, 48), TextBox("MERIDIAN BOOKKEEPING", 455, 60, 911, 98),
        TextBox("338 Main Rd, Fremantle WA 6160", 516, 110, 852, 143),
        TextBox("Invoice No", 171, 160, 315, 193), TextBox("Date", 415, 160, 491, 193),
        TextBox("Customer:", 697, 160, 835, 193),
        TextBox("36828", 171, 205, 258, 238), TextBox("Acacia Holdings Pty Ltd", 697, 205, 966, 238),
    ]
    assert read_boxes(boxes).fields["supplier_name"] == "MERIDIAN BOOKKEEPING"


def test_the_account_holder_under_its_label_is_not_the_bank() -> None:
    boxes = [
        *_KPCU_HEADER,
        TextBox("187-843", 1071, 95, 1163, 129),
        TextBox("Olivia Brown", 27, 140, 168, 168), TextBox("Account number", 611, 140, 776, 168),
        TextBox("24551565", 1053, 140, 1159, 168),
        TextBox("206 King William St, Cairns QLD 4870", 25, 180, 357, 210),
    ]
    assert read_boxes(boxes).fields["supplier_name"] == "Kangaroo Point Credit Union"

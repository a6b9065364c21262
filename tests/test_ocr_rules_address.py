"""Supplier address rules on small hand-made OCR lines (issue H): where the block ends, how its
lines are joined and which recogniser slips are put right. Each test fails without its rule."""

from __future__ import annotations

import pytest

from llama_vision.engines.ocr.layout import TextBox
from llama_vision.engines.ocr.rules import extract_fields, read_boxes
from llama_vision.engines.ocr.rules.names import address_commas, undo_address_slips


def fields(*lines: str) -> dict:
    return extract_fields(list(lines)).fields


def test_a_labelled_order_number_under_the_address_is_not_its_postcode() -> None:
    result = fields("DOMINO'S PIZZA", "No.12, Jalan Permas Jaya 10,", "Bandar Baru Permas Jaya, 81750 Masai", "Johor",
                    "CARRY OUT TIMED Pay By: CASH", "Order :6224 BY : WEB_30263", "TOTAL 30.00")
    assert result["supplier_address"] == "No.12, Jalan Permas Jaya 10, Bandar Baru Permas Jaya, 81750 Masai Johor"


def test_a_locality_line_after_the_street_line_takes_the_written_comma() -> None:
    assert fields("The Corner Roastery", "37 Hay St", "Sydney NSW 2000", "TOTAL 5.00")["supplier_address"] == (
        "37 Hay St, Sydney NSW 2000")
    # printed with its comma: not doubled; a Malaysian postcode line is joined as printed
    assert fields("Cafe", "37 Hay St,", "Sydney NSW 2000", "TOTAL 5.00")["supplier_address"] == "37 Hay St, Sydney NSW 2000"
    assert fields("LIM SDN BHD", "TAMAN BERKELEY", "41150 KLANG, SELANGOR", "TOTAL 5.00")["supplier_address"] == (
        "TAMAN BERKELEY 41150 KLANG, SELANGOR")


def test_document_fields_in_a_column_right_of_the_address_do_not_end_it() -> None:
    boxes = [
        TextBox("NORTHSIDE SIGNAGE PTY LTD", 161, 70, 530, 95), TextBox("TAX INVOICE", 956, 70, 1120, 95),
        TextBox("41 Station Rd, Melbourne VIC 3000", 161, 104, 394, 128),
        TextBox("Invoice No: A1240", 968, 104, 1120, 128),
        TextBox("Web: northsidesignage.com.au", 159, 128, 380, 151),
        TextBox("Issue Date: 05 Apr 2023", 925, 128, 1118, 151),
        TextBox("Email: accounts@northsidesig.com.au", 157, 152, 410, 176), TextBox("Terms: 14 days", 1009, 152, 1116, 176),
        TextBox("Total", 639, 400, 786, 424), TextBox("$495.00", 1039, 400, 1111, 424),
    ]
    result = read_boxes(boxes).fields
    assert result["supplier_address"] == "41 Station Rd, Melbourne VIC 3000"
    assert result["supplier_name"] == "NORTHSIDE SIGNAGE PTY LTD"


def test_a_field_close_beside_the_address_is_still_a_stop() -> None:
    # not a column apart: the row is one line of print ("12 Smith St Tel: 02 9999 1234")
    boxes = [
        TextBox("HARBOUR HARDWARE PTY LTD", 100, 10, 500, 40), TextBox("12 Smith St", 100, 50, 260, 80),
        TextBox("Tel: 02 9999 1234", 280, 50, 500, 80), TextBox("Total", 100, 200, 200, 230),
        TextBox("$5.00", 400, 200, 480, 230),
    ]
    assert read_boxes(boxes).fields["supplier_address"] is None


@pytest.mark.parametrize(("printed", "address"), [
    ("394Collins St, SydneyNSW 2000", "394 Collins St, Sydney NSW 2000"),
    ("218main rd, Canberra ACT2601", "218 main rd, Canberra ACT 2601"),
    ("3RD FLR, 1st Floor, LOT 1F-01", "3RD FLR, 1st Floor, LOT 1F-01"),  # ordinals, unit codes: as printed
    ("HQ:7,Jln SS21/34,47400PJ PT15944 U13/X", "HQ:7,Jln SS21/34,47400PJ PT15944 U13/X"),
])
def test_spaces_lost_in_tight_print_are_restored(printed: str, address: str) -> None:
    assert undo_address_slips(printed) == address


def test_a_glued_street_number_and_state_are_spaced_in_the_address() -> None:
    assert fields("Bushranger Roadhouse", "394Collins St, SydneyNSW 2000", "TOTAL 5.00")["supplier_address"] == (
        "394 Collins St, Sydney NSW 2000")


@pytest.mark.parametrize(("printed", "address"), [
    ("Lot 3, JalanPelabur 23/1", "Lot 3, Jalan Pelabur 23/1"),  # mixed-case words run together
    ("Tampoi,81200 JohorBahru,Johor", "Tampoi,81200 Johor Bahru,Johor"),
    ("1st F1r, No: G3, BIk G, JIn PJU 1A/3", "1st Flr, No: G3, Blk G, Jln PJU 1A/3"),  # 1 / I for an l
    ("AEON Ma11 TEBRAU", "AEON Mall TEBRAU"),
    ("LOT G29 & G3O, 4330O SERI KEMBANGAN", "LOT G29 & G30, 43300 SERI KEMBANGAN"),  # O for a zero after digits
    ("L.ot PTD 182908", "Lot PTD 182908"),  # a speck read as a stop inside a word
    ("City, No1 Medan, NO1, Lot1, U13/X", "City, No1 Medan, NO1, Lot1, U13/X"),  # a number after a label: kept
    ("LOT P.T. 2811, McDonald's, NO. 53", "LOT P.T. 2811, McDonald's, NO. 53"),
])
def test_letter_and_digit_slips_in_an_address_are_undone(printed: str, address: str) -> None:
    assert undo_address_slips(printed) == address


def test_a_phone_number_with_a_misread_label_ends_the_address() -> None:
    result = fields("GUARDIAN HEALTH AND BEAUTY SDN BHD", "No 15 Jalan Bandar Rawang 10", "Bandar Baru Rawang",
                    "lel:05-60952052", "Company Keg #1101083-1", "TOTAL 5.00")
    assert result["supplier_address"] == "No 15 Jalan Bandar Rawang 10 Bandar Baru Rawang"


def test_a_full_stop_after_the_state_is_kept_before_a_second_postcode() -> None:
    assert address_commas("95, Beach Road, 10300 Penang. 10400 Penang.") == "95, Beach Road, 10300 Penang. 10400 Penang."
    assert address_commas("Taman Air Biru. 81700 Pasir Gudang") == "Taman Air Biru, 81700 Pasir Gudang"  # not a state

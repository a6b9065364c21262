"""Supplier address rules on small hand-made OCR lines (issue H): where the block ends, how its
lines are joined and which recogniser slips are put right. Each test fails without its rule."""

from __future__ import annotations

from llama_vision.engines.ocr.rules import extract_fields


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

"""Label-value pairing by geometry (rules.labels) and the buyer and invoice-number rules built on it:
a value beside its label, to its right, or under it in its column (pure, inline boxes, no OCR runtime)."""

from __future__ import annotations

import pytest

from llama_vision.engines.ocr.layout import TextBox, group_lines, lines_from_strings
from llama_vision.engines.ocr.rules import extract_fields, read_boxes
from llama_vision.engines.ocr.rules.labels import find_labels, is_label, value_of
from llama_vision.engines.ocr.vocabulary import PARTY_LABEL_RE

SUPPLIER_ABN = "51824753556"  # the ATO's worked example
BUYER_ABN = "53004085616"
ROW = 40  # px between rows


def page(*rows: list[tuple[str, float, float]]) -> list[TextBox]:
    """Boxes from rows of (text, x0, x1), one row every ROW px, 24 px tall."""
    return [TextBox(text, x0, ROW * i, x1, ROW * i + 24) for i, row in enumerate(rows) for text, x0, x1 in row]


def _name(text: str) -> str | None:
    return None if "ABN" in text.upper() else text


# -- the helper --------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "expected"), [
    ([[("Customer: Acme Pty Ltd", 600, 900)]], ("Acme Pty Ltd", (0,))),  # the rest of its own piece
    ([[("Customer:", 600, 700), ("Acme Pty Ltd", 760, 900)]], ("Acme Pty Ltd", (0,))),  # the next piece right
    # under it, in its column: the piece on the left of the next row is another column's
    ([[("Invoice No", 40, 160), ("Customer:", 600, 700)], [("36828", 40, 100), ("Acme Pty Ltd", 600, 800)]],
     ("Acme Pty Ltd", (0, 1))),
    # the piece to its right is a label: its value is under it
    ([[("Bill To:", 40, 120), ("Ship To:", 600, 700)], [("Acme Pty Ltd", 40, 260), ("Site Office", 600, 720)]],
     ("Acme Pty Ltd", (0, 1))),
])
def test_a_label_owns_the_value_beside_right_of_or_under_it(rows: list, expected: tuple) -> None:
    lines = group_lines(page(*rows))
    label = find_labels(lines, PARTY_LABEL_RE)[0]
    value = value_of(lines, label, _name)
    assert value is not None and (value.text, value.rows) == expected


def test_nothing_under_the_label_in_its_column_or_past_a_blank_line_is_not_its_value() -> None:
    beside = group_lines(page([("Invoice No", 40, 160), ("Customer:", 600, 700)], [("36828", 40, 100)]))
    assert value_of(beside, find_labels(beside, PARTY_LABEL_RE)[0], _name) is None
    boxes = [TextBox("Customer:", 40, 0, 140, 24), TextBox("Acme Pty Ltd", 40, 120, 260, 144)]
    apart = group_lines(boxes)
    assert value_of(apart, find_labels(apart, PARTY_LABEL_RE)[0], _name) is None
    # the value rule says no (an ABN line under "Customer:"): no value, not the line after it
    abn = group_lines(page([("Customer:", 40, 140)], [("ABN 53 004 085 616", 40, 260)], [("Acme", 40, 120)]))
    assert value_of(abn, find_labels(abn, PARTY_LABEL_RE)[0], _name) is None


def test_lines_from_plain_strings_pair_with_the_next_line() -> None:
    lines = lines_from_strings(["Bill To:", "Jane Citizen", "12 Smith St"])
    value = value_of(lines, find_labels(lines, PARTY_LABEL_RE)[0], _name)
    assert value is not None and (value.text, value.rows) == ("Jane Citizen", (0, 1))


@pytest.mark.parametrize(("text", "expected"), [
    ("Ship To:", True), ("Date", True), ("Terms: 14 days", True), ("Invoice No", True), ("ABN", True),
    ("Unit Price", True), ("Acme Pty Ltd", False), ("36828", False), ("INV-2041", False), ("Invoice No 36828", False),
])
def test_which_pieces_are_labels(text: str, expected: bool) -> None:
    assert is_label(text) is expected


# -- the buyer ---------------------------------------------------------------------------------


def bordered(customer: list[str]) -> list[TextBox]:
    """A bordered invoice: the header centred, then "Invoice No | Date | Customer:" over the cells,
    the customer's block in its own column beside the table's cells."""
    rows = [[("TAX INVOICE", 500, 700)], [("HARBOUR PLUMBING", 450, 750)], [(f"ABN {SUPPLIER_ABN}", 480, 720)],
            [("Invoice No", 40, 160), ("Date", 300, 360), ("Customer:", 600, 700)],
            [("36828", 40, 110), ("22/03/2025", 300, 420), (customer[0], 600, 840)]]
    rows += [[(line, 600, 880)] for line in customer[1:]]
    rows += [[("Description", 40, 160), ("Qty", 600, 640), ("Amount", 900, 990)], [("Labour", 40, 120), ("1", 600, 610),
             ("1,200.00", 900, 990)], [("Total", 600, 680), ("$1,320.00", 900, 990)]]
    return page(*rows)


def test_a_customer_column_beside_a_table_gives_the_buyer_its_abn_and_the_invoice_number_below() -> None:
    reading = read_boxes(bordered(["Acacia Holdings Pty Ltd", "438 Collins St, Hobart TAS 7000",
                                   "ABN 53 004 085 616"]))
    f = reading.fields
    assert (f["buyer_name"], f["buyer_abn"], f["supplier_abn"]) == ("Acacia Holdings Pty Ltd", BUYER_ABN, SUPPLIER_ABN)
    assert f["invoice_number"] == "36828"
    # the boxes are the values' own pieces: the name in the customer's column, the ABN three rows down
    x0, y0, x1, y1 = reading.evidence["buyer_name"].box
    assert 600 <= x0 < x1 <= 840 and 4 * ROW <= y0 < y1 <= 4 * ROW + 24
    x0, y0, x1, y1 = reading.evidence["buyer_abn"].box
    assert 600 <= x0 < x1 <= 880 and 6 * ROW <= y0 < y1 <= 6 * ROW + 24


def test_an_abn_straight_under_the_customer_label_is_the_buyers_abn_not_its_name() -> None:
    f = read_boxes(bordered(["ABN 53 004 085 616"])).fields
    assert (f["buyer_name"], f["buyer_abn"], f["supplier_abn"]) == (None, BUYER_ABN, SUPPLIER_ABN)


def two_column(left: str | None, right: str = "Ship To:") -> list[TextBox]:
    header = [[("HARBOUR PLUMBING PTY LTD", 40, 400), ("TAX INVOICE", 900, 1100)],
              [("12 Marine Pde, Fremantle WA 6160", 40, 380), ("Invoice No: INV-2041", 900, 1100)],
              [(f"ABN {SUPPLIER_ABN}", 40, 300)]]
    labels = ([(left, 40, 120)] if left else []) + [(right, 600, 700)]
    blocks = [([("Riverbend Dental Clinic", 40, 300)] if left else []) + [("Site Office", 600, 720)],
              ([("ABN 53 004 085 616", 40, 280)] if left else []) + [("19 King St, Sydney NSW 2000", 600, 900)]]
    return page(*header, labels, *blocks, [("Total", 600, 680), ("$1,320.00", 900, 990)])


def test_bill_to_and_ship_to_on_one_row_each_own_the_block_under_it() -> None:
    f = read_boxes(two_column("Bill To:")).fields
    assert (f["buyer_name"], f["buyer_abn"], f["supplier_abn"]) == ("Riverbend Dental Clinic", BUYER_ABN, SUPPLIER_ABN)


def test_a_ship_to_block_alone_is_where_goods_go_not_the_buyer() -> None:
    assert read_boxes(two_column(None)).fields["buyer_name"] is None
    attn = page([("Acme Pty Ltd", 40, 300)], [("Ship To:", 600, 700)], [("Attn: Accounts Payable", 600, 820)],
                [("19 King St, Sydney NSW 2000", 600, 900)], [("Total", 600, 680), ("$20.00", 900, 990)])
    assert read_boxes(attn).fields["buyer_name"] is None


def test_a_bill_to_block_in_the_right_column_keeps_the_supplier_abn_on_the_left() -> None:
    boxes = page([("HARBOUR PLUMBING PTY LTD", 40, 400), ("TAX INVOICE", 700, 900)],
                 [("12 Marine Pde", 40, 220), ("Bill To:", 700, 780)],
                 [("Fremantle WA 6160", 40, 260), ("Acme Pty Ltd", 700, 860)],
                 [(f"ABN {SUPPLIER_ABN}", 40, 300), ("ABN 53 004 085 616", 700, 940)],
                 [("Total", 600, 680), ("$1,320.00", 900, 990)])
    f = read_boxes(boxes).fields
    assert (f["supplier_abn"], f["buyer_abn"], f["buyer_name"]) == (SUPPLIER_ABN, BUYER_ABN, "Acme Pty Ltd")


@pytest.mark.parametrize("beside", ["Invoice Date 12/03/2024", "Invoice No INV-2041"])
def test_another_columns_value_beside_the_label_is_not_the_name_the_line_under_it_is(beside: str) -> None:
    boxes = page([("HARBOUR PLUMBING PTY LTD", 40, 400)], [("Bill To:", 40, 120), (beside, 700, 980)],
                 [("Acme Pty Ltd", 40, 200)], [("Total", 600, 680), ("$20.00", 900, 990)])
    assert read_boxes(boxes).fields["buyer_name"] == "Acme Pty Ltd"


def test_an_unlabelled_supplier_abn_beside_a_bill_to_column_stays_the_suppliers() -> None:
    boxes = page([("HARBOUR PLUMBING PTY LTD", 40, 400), ("Bill To:", 700, 780)],
                 [("12 Marine Pde, Fremantle WA 6160", 40, 380), ("Acme Pty Ltd", 700, 860)],
                 [("51 824 753 556", 40, 240), ("53 004 085 616", 700, 900)],
                 [("Total", 600, 680), ("$1,320.00", 900, 990)])
    f = read_boxes(boxes).fields
    assert (f["supplier_abn"], f["buyer_name"]) == (SUPPLIER_ABN, "Acme Pty Ltd")


def test_a_bare_to_label_starts_the_buyer_block() -> None:
    f = extract_fields(["Sparky Bros Electrical", f"ABN {SUPPLIER_ABN}", "TAX INVOICE", "Invoice # 51341", "To:",
                        "Acacia Holdings Pty Ltd", "284 Smith St, Brisbane QLD 4000", "ABN 53 004 085 616",
                        "Labour $1,200", "Total $1,320"]).fields
    assert (f["buyer_name"], f["buyer_abn"], f["supplier_abn"]) == ("Acacia Holdings Pty Ltd", BUYER_ABN, SUPPLIER_ABN)


# -- the invoice number ------------------------------------------------------------------------


def test_an_order_or_table_number_is_not_the_invoice_number() -> None:
    assert extract_fields(["Corner Cafe", "Table 27 Order #273", "TOTAL $12.00"]).fields["invoice_number"] is None
    assert extract_fields(["Corner Cafe", "Receipt #273", "TOTAL $12.00"]).fields["invoice_number"] == "273"


def test_an_invoice_number_under_its_heading_points_at_its_cell() -> None:
    reading = read_boxes(bordered(["Acacia Holdings Pty Ltd"]))
    assert reading.fields["invoice_number"] == "36828"
    evidence = reading.evidence["invoice_number"]
    x0, y0, x1, y1 = evidence.box
    assert 40 <= x0 < x1 <= 110 and 4 * ROW <= y0 < y1 <= 4 * ROW + 24  # the cell, not the heading
    assert evidence.text.startswith("Invoice No Date Customer:")
    beside = extract_fields(["Shop", "Invoice No: 36828", "TOTAL $12.00"]).evidence["invoice_number"]
    assert evidence.confidence < beside.confidence  # under its label: a little less sure


@pytest.mark.parametrize("cell", ["22/03/2025", "12.50", "14:03"])
def test_a_date_amount_or_time_under_an_invoice_number_heading_is_not_the_number(cell: str) -> None:
    boxes = page([("Shop Pty Ltd", 40, 300)], [("Invoice No", 40, 160)], [(cell, 40, 160)],
                 [("Total", 40, 120), ("$12.00", 600, 680)])
    assert read_boxes(boxes).fields["invoice_number"] is None

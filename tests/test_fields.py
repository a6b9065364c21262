"""Normalisation of raw field values (llama_vision.fields): dates, money, ABN, BSB, flags."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_vision import fields as F
from llama_vision.fields import (
    ALL_FIELDS,
    ITEM_KEYS,
    abn_is_valid,
    format_abn,
    is_null,
    normalise_abn,
    normalise_bool,
    normalise_bsb,
    normalise_date,
    normalise_fields,
    normalise_money,
    normalise_number,
    normalise_price_per_litre,
    normalise_quantity,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15/03/2024", "15/03/2024"),
        ("15-03-24", "15/03/2024"),
        ("15 Mar 2024", "15/03/2024"),
        ("2024-03-15", "15/03/2024"),
        ("15.03.2024", "15/03/2024"),
        ("MAR 15, 2024", "15/03/2024"),
        ("25/12/2018", "25/12/2018"),
        ("2018-12-25", "25/12/2018"),
        ("25 DEC 2018", "25/12/2018"),
        ("25-12-2018 10:30:11 AM", "25/12/2018"),
        ("Dec 25, 2018", "25/12/2018"),
        ("2018/12/25", "25/12/2018"),
        ("25.12.18", "25/12/2018"),
        ("2024-03-05", "05/03/2024"),  # dateutil's dayfirst would swap this to 3 May
        ("5/3/2024", "05/03/2024"),
        ("01/02/2024", "01/02/2024"),  # day first, never month first
        ("15/03/2024 14:32", "15/03/2024"),
        ("Date: 2 Jan 24", "02/01/2024"),
        ("15-Mar-24", "15/03/2024"),
        ("15th March, 2024", "15/03/2024"),
        ("Friday the 15th of March 2024", "15/03/2024"),
        ("Fri, 15 Mar 2024", "15/03/2024"),
        ("September 3, 2023", "03/09/2023"),
        ("3 Sept 2023", "03/09/2023"),
        ("**15/03/2024**", "15/03/2024"),
        ("29/02/2024", "29/02/2024"),  # leap year
        (dt.date(2024, 3, 15), "15/03/2024"),
        (dt.datetime(2024, 3, 15, 9, 30), "15/03/2024"),
    ],
)
def test_normalise_date_reads_printed_forms_day_first(raw: object, expected: str) -> None:
    assert normalise_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "31/02/2024",  # impossible day
        "29/02/2023",  # not a leap year
        "03/15/2024",  # US order: month 15 is impossible, and we never swap
        "00/03/2024",
        "15/13/2024",
        "March 2024",  # no day: dateutil would invent one
        "12/25",  # no year
        "2024",
        "N/A",
        "NOT_FOUND",
        "",
        None,
        "total 12.30",
        "15/03/1492",  # outside any receipt's lifetime
        True,
        ["15/03/2024"],
    ],
)
def test_normalise_date_rejects_impossible_or_incomplete(raw: object) -> None:
    assert normalise_date(raw) is None


def test_normalise_date_is_idempotent() -> None:
    for raw in ("15 Mar 2024", "2018-12-25", "1-2-03"):
        once = normalise_date(raw)
        assert once is not None
        assert normalise_date(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$1,234.50", "1234.50"),
        ("RM 12.3", "12.30"),
        ("RM12.30", "12.30"),  # SROIE prints the currency glued to the amount
        ("12.30AUD", "12.30"),
        ("Total RM 1,234.50", "1234.50"),
        ("1,234", "1234.00"),  # ',' separates thousands in Australia
        ("12,300.5", "12300.50"),
        ("12.30", "12.30"),
        ("$12.30 incl GST", "12.30"),
        ("AUD 5", "5.00"),
        ("A$ 7.5", "7.50"),
        ("-12.30", "-12.30"),
        ("(4.50)", "-4.50"),
        ("4.50-", "-4.50"),
        ("120.00 DR", "-120.00"),
        ("120.00 CR", "120.00"),
        ("GST 10%: 1.12", "1.12"),  # the percentage is not the amount
        ("$12.30 (including GST of $1.12)", "12.30"),
        ("(4.50) (refund)", "-4.50"),
        (".50", "0.50"),
        ("1 234.50", "1234.50"),
        ("12.345", "12.35"),  # half up
        ("0.005", "0.01"),
        ("**$12.30**", "12.30"),
        ("Total 12.30.", "12.30"),
        (12.3, "12.30"),
        (7, "7.00"),
        (Decimal("1.5"), "1.50"),
        ("-0.00", "0.00"),
    ],
)
def test_normalise_money(raw: object, expected: str) -> None:
    assert normalise_money(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["12,30", "1,23", "1.234,50", "1.2.3", "4.50, 3.00", "abc", "N/A", "-", "", None, True, float("nan"), "1e400"],
)
def test_normalise_money_refuses_to_guess(raw: object) -> None:
    assert normalise_money(raw) is None


def test_normalise_money_max_places_keeps_precision() -> None:
    assert normalise_money("1.899", max_places=3) == "1.899"
    assert normalise_money("1.9", max_places=3) == "1.90"
    assert normalise_money("1.8999", max_places=3) == "1.900"


def test_price_per_litre_converts_cents() -> None:
    assert normalise_price_per_litre("189.9 c/L") == "1.899"
    assert normalise_price_per_litre("189.9c/L") == "1.899"
    assert normalise_price_per_litre("$1.899/L") == "1.899"
    assert normalise_price_per_litre("1.899 per litre") == "1.899"
    assert normalise_price_per_litre("$1.899") == "1.899"
    assert normalise_price_per_litre("NOT_FOUND") is None


def test_numbers_and_quantities() -> None:
    assert normalise_number("45.20 L") == "45.20"
    assert normalise_number("45.2 litres") == "45.2"
    assert normalise_number("1,045") == "1045"
    assert normalise_quantity("2 x") == "2"
    assert normalise_quantity("x3") == "3"
    assert normalise_quantity("1.50") == "1.5"
    assert normalise_quantity("2.0") == "2"
    assert normalise_quantity(2) == "2"
    assert normalise_quantity("lots") is None


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False))
def test_money_round_trips_every_two_place_amount(amount: Decimal) -> None:
    text = f"{amount:,.2f}"
    expected = f"{amount:.2f}" if amount != 0 else "0.00"
    assert normalise_money(f"${text}") == expected
    assert normalise_money(expected) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("51 824 753 556", "51824753556"),
        ("ABN: 51 824 753 556", "51824753556"),
        ("51824753556", "51824753556"),
        ("51-824-753-556", "51824753556"),
        ("12 345 678 901", "12345678901"),  # checksum is not required to record what is printed
        ("ABN 51 824 753 556 Ph 02 9999 1234", "51824753556"),
    ],
)
def test_normalise_abn(raw: str, expected: str) -> None:
    assert normalise_abn(raw) == expected


@pytest.mark.parametrize("raw", ["123 456 789", "5182475355", "518247535561", "N/A", None, "", 51824753556.0])
def test_normalise_abn_needs_eleven_digits(raw: object) -> None:
    assert normalise_abn(raw) is None


def test_abn_checksum_and_format() -> None:
    assert abn_is_valid("51 824 753 556")
    assert abn_is_valid("53 004 085 616")
    assert not abn_is_valid("51 824 753 557")
    assert not abn_is_valid("12 345 678 901")
    assert not abn_is_valid(None)
    assert not abn_is_valid("garbage")
    assert format_abn("51824753556") == "51 824 753 556"
    assert format_abn("5182") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("062-000", "062-000"), ("062 000", "062-000"), ("062000", "062-000"), ("BSB: 062-000", "062-000")],
)
def test_normalise_bsb(raw: str, expected: str) -> None:
    assert normalise_bsb(raw) == expected


@pytest.mark.parametrize("raw", ["06200", "0620001", "062-000 and 063-000", "N/A", None, ""])
def test_normalise_bsb_rejects(raw: object) -> None:
    assert normalise_bsb(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True), ("Yes.", True), ("TRUE", True), ("present", True), ("1", True), (True, True), (1, True),
        ("no", False), ("No", False), ("false", False), ("absent", False), ("0", False), (False, False),
        ("Yes, the words TAX INVOICE appear", True), ("No - not shown", False),
        ("maybe", None), ("N/A", None), (None, None), ("", None), (2, None),
    ],
)
def test_normalise_bool(raw: object, expected: bool | None) -> None:
    assert normalise_bool(raw) is expected


@pytest.mark.parametrize("raw", ["N/A", "NOT_FOUND", "none", "null", "-", "", "  ", "Not visible", "**N/A**", None])
def test_null_tokens(raw: object) -> None:
    assert is_null(raw)
    assert F.normalise_text(raw) is None


def test_is_null_keeps_real_values() -> None:
    assert not is_null("Coles")
    assert not is_null(0)
    assert not is_null(False)
    assert not is_null("No")  # "No" is an answer for a flag, not an absence


def test_normalise_fields_fills_every_key_and_normalises() -> None:
    raw = {
        "supplier_name": "  **Cafe   Roma** ",
        "supplier_abn": "51 824 753 556",
        "date": "15 Mar 2024",
        "total": "$12.30",
        "gst": "$1.12",
        "tax_invoice_label": "yes",
        "gst_included_statement": "no",
        "bsb": "062 000",
        "litres": "45.20 L",
        "price_per_litre": "189.9 c/L",
        "items": [
            "Coffee | 1 | 4.50 | 4.50",
            {"desc": "Muffin", "qty": "2", "price": "$3.90", "total": "$7.80"},
            ["Water", "1", "0", "0.00"],
        ],
    }
    fields, warnings = normalise_fields(raw)
    assert tuple(fields) == ALL_FIELDS
    assert fields["supplier_name"] == "Cafe Roma"
    assert fields["supplier_abn"] == "51824753556"
    assert fields["date"] == "15/03/2024"
    assert fields["total"] == "12.30"
    assert fields["gst"] == "1.12"
    assert fields["tax_invoice_label"] is True
    assert fields["gst_included_statement"] is False
    assert fields["bsb"] == "062-000"
    assert fields["litres"] == "45.20"
    assert fields["price_per_litre"] == "1.899"
    assert fields["buyer_name"] is None
    assert fields["items"] == [
        {"description": "Coffee", "quantity": "1", "unit_price": "4.50", "amount": "4.50"},
        {"description": "Muffin", "quantity": "2", "unit_price": "3.90", "amount": "7.80"},
        {"description": "Water", "quantity": "1", "unit_price": "0.00", "amount": "0.00"},
    ]
    assert all(tuple(item) == ITEM_KEYS for item in fields["items"])
    assert warnings == []


def test_normalise_fields_is_idempotent() -> None:
    raw = {"date": "2024-03-15", "total": "1,234.5", "supplier_abn": "51 824 753 556",
           "items": "Coffee | 2 | 4.50 | 9.00; Tea | 1 | 3.00 | 3.00", "tax_invoice_label": "present"}
    once, _ = normalise_fields(raw)
    twice, warnings = normalise_fields(once)
    assert twice == once
    assert warnings == []
    assert len(once["items"]) == 2


def test_normalise_fields_warns_instead_of_guessing() -> None:
    fields, warnings = normalise_fields(
        {"date": "31/02/2024", "gst": "12,30", "supplier_abn": "12 345 678 901", "colour": "red",
         "tax_invoice_label": "N/A", "total": "NOT_FOUND"}
    )
    assert fields["date"] is None
    assert fields["gst"] is None
    assert fields["supplier_abn"] == "12345678901"
    assert fields["tax_invoice_label"] is None
    assert fields["total"] is None
    joined = " | ".join(warnings)
    assert "date" in joined and "31/02/2024" in joined
    assert "gst" in joined and "12,30" in joined
    assert "checksum" in joined
    assert "colour" in joined
    assert "total" not in joined  # NOT_FOUND is an answer, not a failure


def test_normalise_fields_accepts_junk() -> None:
    assert normalise_fields(None) == (F.empty_fields(), [])
    fields, warnings = normalise_fields("not a dict")  # type: ignore[arg-type]
    assert fields == F.empty_fields() and warnings
    fields, _ = normalise_fields({"items": "N/A"})
    assert fields["items"] == []
    fields, warnings = normalise_fields({"items": [42, {"qty": "x"}]})
    assert fields["items"] == []


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=60),
    st.lists(st.text(max_size=10), max_size=3), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(ALL_FIELDS + ("junk",)), _values, max_size=8))
def test_normalise_fields_never_raises_and_is_idempotent(raw: dict) -> None:
    fields, warnings = normalise_fields(raw)
    assert tuple(fields) == ALL_FIELDS
    assert isinstance(warnings, list)
    again, _ = normalise_fields(fields)
    assert again == fields


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_single_normalisers_never_raise(text: str) -> None:
    for function in (normalise_date, normalise_money, normalise_abn, normalise_bsb, normalise_bool,
                     normalise_number, normalise_quantity, normalise_price_per_litre):
        result = function(text)
        if result is not None and function is not normalise_bool:
            assert function(result) == result, (function.__name__, text, result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Coffee | 4.50", {"description": "Coffee", "quantity": None, "unit_price": None, "amount": "4.50"}),
        ("Coffee | 2 | 9.00", {"description": "Coffee", "quantity": "2", "unit_price": None, "amount": "9.00"}),
        (["Tea", "1", "$3", "$3"], {"description": "Tea", "quantity": "1", "unit_price": "3.00", "amount": "3.00"}),
        ({"Item": "Pie", "Qty": "x2", "Unit Price": "5", "Line Total": "10"},
         {"description": "Pie", "quantity": "2", "unit_price": "5.00", "amount": "10.00"}),
    ],
)
def test_normalise_item_shapes(raw: object, expected: dict) -> None:
    item, warnings = F.normalise_item(raw)
    assert item == expected
    assert warnings == []


def test_abn_checksum_follows_the_ato_rule_where_stdnum_is_stricter() -> None:
    # 10 183 910 430: weighted sum 267 = 3 x 89, so the ATO rule accepts it; stdnum wants "99".
    assert abn_is_valid("10183910430")
    assert abn_is_valid("99183910430")
    assert not abn_is_valid("01183910430")  # an ABN never starts with 0
    assert not abn_is_valid("11183910430")


def test_every_sroie_label_normalises(sroie_dir) -> None:
    """Real printed forms (Malaysian SROIE labels: 14/JUN/2017, 05-AUG-2017, 2016/05/01, RM totals)."""
    import json

    labels = [json.loads(p.read_text()) for p in sorted(sroie_dir.glob("*.json"))]
    assert labels
    for label in labels:
        assert normalise_date(label["date"]) is not None, label["date"]
        assert normalise_money(label["total"]) is not None, label["total"]
    assert normalise_date("14/JUN/2017") == "14/06/2017"
    assert normalise_date("05-AUG-2017") == "05/08/2017"


# -- finding values in a line of printed text (the OCR rules' reader) -----------------------------


@pytest.mark.parametrize(
    "printed",
    ["15/03/2024", "15-03-24", "15.03.2024", "15 Mar 2024", "15-MAR-24", "2024-03-15", "March 15, 2024",
     "25 DEC 2018", "1-2-03"],
)
def test_find_dates_reads_each_date_as_normalise_date_does(printed: str) -> None:
    assert F.find_dates(printed) == [(0, normalise_date(printed))]


def test_find_dates_gives_every_date_in_a_line_with_its_position() -> None:
    line = "Date: 05/01/201813:30  Due 2018 - 02 - 04  Exp 31/02/2018"
    # a glued time, spaces around separators; the impossible 31/02 is left out
    assert F.find_dates(line) == [(6, "05/01/2018"), (27, "04/02/2018")]


def test_find_dates_never_swaps_to_month_first() -> None:
    assert F.find_dates("03/15/2024") == [] and normalise_date("03/15/2024") is None
    assert F.find_dates("TEL.:05.22.95.66.66") == []  # a phone number is not 22 May 2095


def test_find_amounts_reads_two_decimal_amounts_left_to_right() -> None:
    assert F.find_amounts("RM49.40  $1,234.50  -1.20  A$ 7.05") == [
        Decimal("49.40"), Decimal("1234.50"), Decimal("-1.20"), Decimal("7.05")]
    assert F.find_amounts("Qty 2  GST 6%  15/03/2024  01.03.18  3.5") == []  # counts, rates, dates
    assert F.find_amounts("---- 5.00") == [Decimal("5.00")]  # a ruled line is not a minus sign


def test_find_amounts_reads_a_decimal_comma_that_a_lone_value_cannot_be_trusted_with() -> None:
    # two decimals on a printed line make "12,30" an amount; alone it may be thousands or cents
    assert F.find_amounts("Total 12,30") == [Decimal("12.30")]
    assert normalise_money("12,30") is None


def test_find_abns_puts_checksum_valid_numbers_first() -> None:
    assert F.find_abns("ABN 12 345 678 901 / 51 824 753 556") == ["51824753556", "12345678901"]
    assert F.find_abns("ABN: 51824753556 12")[0] == "51824753556"  # a branch number run on
    assert F.find_abns("Ph 02 9876 5432") == []  # ten digits


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789/-.: ,$RMAJNayMARCHß"), max_size=40))
def test_finders_never_raise_and_give_normalised_values(text: str) -> None:
    for position, value in F.find_dates(text):
        assert 0 <= position < len(text) and normalise_date(value) == value
    for amount in F.find_amounts(text):
        assert normalise_money(amount) == f"{amount:.2f}".replace("-0.00", "0.00")
    assert all(len(abn) == 11 and abn.isdigit() for abn in F.find_abns(text))


def test_find_money_reads_whole_dollars_only_with_a_currency_or_separators() -> None:
    from decimal import Decimal

    from llama_vision.fields import find_money

    assert find_money("Conveyancing services $1,200") == [Decimal("1200")]
    assert find_money("GST $120") == [Decimal("120")]
    assert find_money("Rp 91,000") == [Decimal("91000")]
    assert find_money("TOTAL 24,000") == [Decimal("24000")]
    assert find_money("Total RM11.90 cash 20.00") == [Decimal("11.90"), Decimal("20.00")]
    assert find_money("Table 12 Qty 3") == []
    assert find_money("24.000") == []  # litres or a date piece without a currency mark
    assert find_money("Date 12/03/2024 Tel 03-3362 4395") == []

"""Model answers -> fields (llama_vision.parsing). Pure, and never raises on any string."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llama_vision.fields import ALL_FIELDS, normalise_fields
from llama_vision.parsing import (
    ParseOutcome,
    canonical_field,
    is_refusal,
    parse_document_type,
    parse_field_answer,
    parse_json,
    parse_key_value,
    parse_output,
)
from llama_vision.result import DOCUMENT_TYPES

MARKDOWN_ANSWER = """Here are the details I extracted:

```
**SUPPLIER_NAME:** Cafe Roma
**ABN:** 51 824 753 556
- **BUYER_ABN:** NOT_FOUND
* DATE: 15/03/2024
SUBTOTAL: $11.18
GST: $1.12
**TOTAL:** $12.30
TAX_INVOICE_LABEL: Yes
ITEMS:
- Coffee | 1 | 4.50 | 4.50
- Muffin | 2 | 3.90 | 7.80
PAYMENT METHOD: EFTPOS
```
"""


def test_key_value_markdown_bullets_fences() -> None:
    outcome = parse_output(MARKDOWN_ANSWER, "key_value")
    assert outcome.ok and outcome.problem is None
    f = outcome.fields
    assert f["supplier_name"] == "Cafe Roma"
    assert f["supplier_abn"] == "51 824 753 556"
    assert f["buyer_abn"] is None
    assert f["date"] == "15/03/2024"
    assert f["subtotal"] == "$11.18"
    assert f["gst"] == "$1.12"
    assert f["total"] == "$12.30"
    assert f["payment_method"] == "EFTPOS"
    normal, warnings = normalise_fields(f)
    assert warnings == []
    assert normal["tax_invoice_label"] is True
    assert normal["total"] == "12.30" and normal["subtotal"] == "11.18"
    assert normal["items"] == [
        {"description": "Coffee", "quantity": "1", "unit_price": "4.50", "amount": "4.50"},
        {"description": "Muffin", "quantity": "2", "unit_price": "3.90", "amount": "7.80"},
    ]


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("SUBTOTAL: 10.00\nTOTAL: 11.00", "total", "11.00"),
        ("TOTAL: 11.00\nSUBTOTAL: 10.00", "subtotal", "10.00"),
        ("GST_INCLUDED: yes\nGST: 1.00", "gst", "1.00"),
        ("GST: 1.00\nGST_INCLUDED: yes", "gst_included_statement", True),
        ("GST INCLUDED: $1.12\nTOTAL: 12.30", "gst", "$1.12"),
        ("ABN: 51 824 753 556\nBUYER_ABN: 53 004 085 616", "buyer_abn", "53 004 085 616"),
        ("BUYER_ABN: 53 004 085 616\nABN: 51 824 753 556", "supplier_abn", "51 824 753 556"),
        ("BUSINESS_NAME: Coles", "supplier_name", "Coles"),
        ("STORE: Coles", "supplier_name", "Coles"),
        ("SUPPLIER: Coles", "supplier_name", "Coles"),
        ("PAYER: Jane Pty Ltd", "buyer_name", "Jane Pty Ltd"),
        ("TOTAL (INC GST): $55.00", "total", "$55.00"),
        ("GST (10%): $5.00", "gst", "$5.00"),
        ("Invoice No.: INV-001", "invoice_number", "INV-001"),
        ("TAX_INVOICE: TAX INVOICE", "tax_invoice_label", True),
        ("total = 4.20", "total", "4.20"),
        ("## TOTAL: 4.20", "total", "4.20"),
        ("1. TOTAL: 4.20", "total", "4.20"),
        ("TOTAL: N/A", "total", None),
        ("TOTAL: None", "total", None),
        ("TOTAL: NOT_FOUND (not printed)", "total", None),
        ("TOTAL: NOT_FOUND\nTOTAL: 9.00", "total", "9.00"),
        ("BSB: 062-000\nACCOUNT NUMBER: 1234 5678\nCLOSING BALANCE: 100.00", "bsb", "062-000"),
        ("LITRES: 45.2\nPRICE PER LITRE: 1.899", "price_per_litre", "1.899"),
    ],
)
def test_key_value_synonyms_and_nested_names(text: str, field: str, expected: object) -> None:
    outcome = parse_key_value(text)
    assert outcome.ok
    assert outcome.fields[field] == expected


def test_key_value_item_forms() -> None:
    inline = parse_output("ITEMS: Coffee | 1 | 4.50 | 4.50 ; Muffin | 2 | 3.90 | 7.80\nTOTAL: 12.30")
    assert inline.fields["items"] == [["Coffee", "1", "4.50", "4.50"], ["Muffin", "2", "3.90", "7.80"]]
    parallel = parse_output("DESCRIPTIONS: Coffee | Muffin\nQUANTITIES: 1 | 2\nPRICES: 4.50 | 7.80\nTOTAL: 12.30")
    items, _ = normalise_fields(parallel.fields)[0]["items"], None
    assert [i["description"] for i in items] == ["Coffee", "Muffin"]
    assert [i["amount"] for i in items] == ["4.50", "7.80"]  # PRICES alone: the line amounts
    with_amounts = parse_output("DESCRIPTIONS: A | B\nPRICES: 1.00 | 2.00\nAMOUNTS: 2.00 | 2.00")
    items = normalise_fields(with_amounts.fields)[0]["items"]
    assert [i["unit_price"] for i in items] == ["1.00", "2.00"]
    assert [i["amount"] for i in items] == ["2.00", "2.00"]
    table = parse_output(
        "TOTAL: 9.00\n\n| Qty | Description | Amount |\n|---|---|---|\n| 2 | Pie | 6.00 |\n| 1 | Tea | 3.00 |"
    )
    items = normalise_fields(table.fields)[0]["items"]
    assert items == [
        {"description": "Pie", "quantity": "2", "unit_price": None, "amount": "6.00"},
        {"description": "Tea", "quantity": "1", "unit_price": None, "amount": "3.00"},
    ]
    prose = parse_output("ITEMS:\n- 2 x Coffee @ 4.50 = 9.00\n- Muffin $3.90\nTOTAL: 12.90")
    items = normalise_fields(prose.fields)[0]["items"]
    assert items[0] == {"description": "Coffee", "quantity": "2", "unit_price": "4.50", "amount": "9.00"}
    assert items[1]["description"] == "Muffin" and items[1]["amount"] == "3.90"
    names = parse_output("ITEMS: Coffee | Muffin | Tea\nTOTAL: 1.00")
    assert [i["description"] for i in normalise_fields(names.fields)[0]["items"]] == ["Coffee", "Muffin", "Tea"]


def test_multiline_address_is_joined() -> None:
    outcome = parse_output("SUPPLIER_ADDRESS: 1 George St\nSydney NSW 2000\nTOTAL: 5.00")
    assert outcome.fields["supplier_address"] == "1 George St, Sydney NSW 2000"
    assert outcome.fields["total"] == "5.00"


@pytest.mark.parametrize(
    "text",
    [
        "The receipt is from Coles and the total is $12.30.",
        "This image shows a receipt.",
        "Lorem ipsum dolor sit amet",
    ],
)
def test_prose_is_not_ok_and_says_why(text: str) -> None:
    outcome = parse_output(text, "key_value")
    assert not outcome.ok
    assert outcome.fields == {}
    assert "prose" in outcome.problem or "JSON" in outcome.problem


def test_empty_and_refusal_outcomes() -> None:
    assert parse_output("", "key_value") == ParseOutcome({}, False, "the answer is empty")
    refused = parse_output("I'm not able to provide information about the people in this image.")
    assert not refused.ok and "refused" in refused.problem


def test_all_not_found_still_follows_the_format() -> None:
    outcome = parse_output("SUPPLIER_NAME: NOT_FOUND\nTOTAL: NOT_FOUND")
    assert outcome.ok
    assert outcome.fields == {"supplier_name": None, "total": None}


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"supplier_name": "Cafe Roma", "total": "12.30", "gst": "1.12",}\n```',
        "Sure! Here it is: {'supplier_name': 'Cafe Roma', 'total': '12.30', 'gst': '1.12'} Hope this helps.",
        '{"supplier_name": "Cafe Roma", "total": 12.30, "gst": 1.12, "items": [{"description": "Cof',
        '[{"supplier_name": "Cafe Roma", "total": "$12.30", "gst": "$1.12"}]',
    ],
)
def test_json_variants(text: str) -> None:
    outcome = parse_output(text, "json")
    assert outcome.ok, outcome.problem
    normal, _ = normalise_fields(outcome.fields)
    assert normal["supplier_name"] == "Cafe Roma"
    assert normal["total"] == "12.30"
    assert normal["gst"] == "1.12"


def test_json_nested_objects_and_items() -> None:
    text = """{"supplier": {"name": "Cafe Roma", "abn": "51 824 753 556", "address": "1 George St"},
               "buyer": {"name": "Acme", "abn": "53 004 085 616"},
               "totals": {"subtotal": "10.00", "gst": "1.00", "total": "11.00"},
               "tax_invoice_label": true, "document_type": "tax_invoice",
               "line_items": [{"item": "Widget", "qty": 2, "price": 5, "total": 10}]}"""
    outcome = parse_json(text)
    assert outcome.ok
    normal, warnings = normalise_fields(outcome.fields)
    assert normal["supplier_name"] == "Cafe Roma"
    assert normal["supplier_abn"] == "51824753556"
    assert normal["supplier_address"] == "1 George St"
    assert normal["buyer_name"] == "Acme"
    assert normal["buyer_abn"] == "53004085616"
    assert (normal["subtotal"], normal["gst"], normal["total"]) == ("10.00", "1.00", "11.00")
    assert normal["tax_invoice_label"] is True
    assert normal["items"] == [{"description": "Widget", "quantity": "2", "unit_price": "5.00", "amount": "10.00"}]
    assert warnings == []


def test_json_buyer_abn_is_not_taken_as_the_supplier_abn() -> None:
    outcome = parse_json('{"buyer": {"abn": "53 004 085 616"}, "total": "5"}')
    assert "supplier_abn" not in outcome.fields
    assert outcome.fields["buyer_abn"] == "53 004 085 616"


def test_json_parallel_lists() -> None:
    outcome = parse_json('{"descriptions": ["A", "B"], "quantities": [1, 2], "prices": ["1.00", "4.00"]}')
    items = normalise_fields(outcome.fields)[0]["items"]
    assert [(i["description"], i["quantity"], i["amount"]) for i in items] == [("A", "1", "1.00"), ("B", "2", "4.00")]


def test_style_mismatch_falls_back_to_the_other_parser() -> None:
    assert parse_output("TOTAL: 5.00", "json").fields == {"total": "5.00"}
    assert parse_output('{"total": "5.00"}', "key_value").fields == {"total": "5.00"}


def test_json_without_known_keys_is_not_ok() -> None:
    outcome = parse_json('{"colour": "red"}')
    assert not outcome.ok and "expected keys" in outcome.problem
    assert not parse_json("no json here").ok


# Keys other people's prompts use (issue 12): a user pasting their own prompt into the comparison tab
# gets answers in this vocabulary, and each key must land in our field.
OTHER_VOCABULARY = {
    "SUPPLIER": "supplier_name", "SUPPLIER_NAME": "supplier_name", "STORE": "supplier_name",
    "BUSINESS_NAME": "supplier_name", "BUSINESS_ABN": "supplier_abn", "ABN": "supplier_abn",
    "INVOICE_DATE": "date", "GST_AMOUNT": "gst", "TOTAL_AMOUNT": "total", "PAYER_NAME": "buyer_name",
    "BUSINESS_ADDRESS": "supplier_address", "BSB_NUMBER": "bsb", "BANK_ACCOUNT_NUMBER": "account_number",
    "ACCOUNT_HOLDER": "account_holder", "STATEMENT_PERIOD": "statement_period",
}


@pytest.mark.parametrize(("key", "field"), sorted(OTHER_VOCABULARY.items()))
def test_other_prompt_vocabularies_map_to_our_fields(key: str, field: str) -> None:
    assert canonical_field(key) == field
    assert canonical_field(key.replace("_", " ").title()) == field  # "Bank Account Number"


def test_an_answer_in_another_vocabulary_parses_to_our_fields() -> None:
    answer = """BUSINESS_NAME: Harbour Hardware
BUSINESS_ABN: 51 824 753 556
BUSINESS_ADDRESS: 12 Wharf St, Hobart TAS 7000
INVOICE_DATE: 15/03/2024
PAYER_NAME: Jane Citizen
GST_AMOUNT: $10.00
TOTAL_AMOUNT: $110.00
"""
    fields, warnings = normalise_fields(parse_output(answer, "key_value").fields)
    assert warnings == []
    assert (fields["supplier_name"], fields["supplier_abn"], fields["supplier_address"]) == (
        "Harbour Hardware", "51824753556", "12 Wharf St, Hobart TAS 7000")
    assert (fields["date"], fields["buyer_name"], fields["gst"], fields["total"]) == (
        "15/03/2024", "Jane Citizen", "10.00", "110.00")
    bank = parse_json('{"BSB_NUMBER": "062 000", "BANK_ACCOUNT_NUMBER": "1234 5678", '
                      '"ACCOUNT_HOLDER": "J Citizen", "STATEMENT_PERIOD": "01/03/2024 to 31/03/2024"}')
    fields, _ = normalise_fields(bank.fields)
    assert (fields["bsb"], fields["account_number"], fields["account_holder"], fields["statement_period"]) == (
        "062-000", "1234 5678", "J Citizen", "01/03/2024 to 31/03/2024")


def test_parallel_line_item_lists_in_another_vocabulary() -> None:
    answer = ("LINE_ITEM_DESCRIPTIONS: Hammer | Nails\nLINE_ITEM_QUANTITIES: 1 | 2\n"
              "LINE_ITEM_PRICES: 20.00 | 5.00\nLINE_ITEM_TOTAL_PRICES: 20.00 | 10.00\nTOTAL_AMOUNT: 30.00")
    items = normalise_fields(parse_output(answer, "key_value").fields)[0]["items"]
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in items] == [
        ("Hammer", "1", "20.00", "20.00"), ("Nails", "2", "5.00", "10.00")]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("TOTAL", "total"), ("SUBTOTAL", "subtotal"), ("Sub-Total", "subtotal"), ("GST", "gst"),
        ("GST_INCLUDED_STATEMENT", "gst_included_statement"), ("ABN", "supplier_abn"), ("BUYER_ABN", "buyer_abn"),
        ("Business Name", "supplier_name"), ("PAYER", "buyer_name"), ("Total Amount (AUD)", "total"),
        ("TOTAL_AMOUNT", "total"), ("Invoice #", "invoice_number"), ("colour", None), ("", None),
    ],
)
def test_canonical_field(key: str, expected: str | None) -> None:
    assert canonical_field(key) == expected


@pytest.mark.parametrize(
    ("field", "answer", "expected"),
    [
        ("supplier_abn", "The ABN is 51 824 753 556.", "51824753556"),
        ("supplier_abn", "ABN: 51 824 753 556", "51824753556"),
        ("supplier_abn", "Not visible", None),
        ("supplier_abn", "No ABN is shown on this receipt.", None),
        ("supplier_abn", "There is no ABN.", None),
        ("supplier_abn", "NOT_FOUND", None),
        ("total", "The total amount is $12.30.", "12.30"),
        ("total", "$1,234.50", "1234.50"),
        ("date", "15 Mar 2024", "15/03/2024"),
        ("date", "The date is not visible on the receipt.", None),
        ("date", "I cannot see a date.", None),
        ("supplier_name", "The supplier's name is Cafe Roma.", "Cafe Roma"),
        ("supplier_name", "**Cafe Roma**", "Cafe Roma"),
        ("supplier_name", "This Is It Cafe", "This Is It Cafe"),
        ("tax_invoice_label", "Yes", True),
        ("tax_invoice_label", "No, the words do not appear.", False),
        ("tax_invoice_label", "The document does not say tax invoice.", False),
        ("tax_invoice_label", "Yes, TAX INVOICE is printed at the top.", True),
        ("gst_included_statement", "no", False),
        ("bsb", "The BSB is 062 000.", "062-000"),
        ("litres", "45.20 L", "45.20"),
        ("price_per_litre", "189.9 c/L", "1.899"),
        ("total", "I'm not able to provide that information.", None),
    ],
)
def test_parse_field_answer(field: str, answer: str, expected: object) -> None:
    assert parse_field_answer(field, answer) == expected


def test_parse_field_answer_keeps_unreadable_typed_values_for_a_warning() -> None:
    value = parse_field_answer("date", "31/02/2024")
    assert value == "31/02/2024"
    fields, warnings = normalise_fields({"date": value})
    assert fields["date"] is None and any("31/02/2024" in w for w in warnings)


def test_parse_field_answer_items() -> None:
    items = parse_field_answer("items", "Coffee | 1 | 4.50 | 4.50\nMuffin | 2 | 3.90 | 7.80")
    assert [i["amount"] for i in items] == ["4.50", "7.80"]
    assert parse_field_answer("items", "NOT_FOUND") == []


@pytest.mark.parametrize(
    "text",
    [
        "I'm not able to provide information about individuals in this image.",
        "I am unable to help with that request.",
        "I cannot help with this.",
        "I can't assist with that.",
        "I can’t assist with identifying people.",
        "I'm sorry, but I can't do that.",
        "I apologize, but I cannot extract this.",
    ],
)
def test_is_refusal(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "TOTAL: 12.30\nGST: 1.12",
        "I cannot read the ABN clearly.\nSUPPLIER_NAME: Coles\nTOTAL: 12.30",
        '{"supplier_name": "Coles", "total": "5.00"}',
        "The total is $12.30.",
        "",
    ],
)
def test_is_not_refusal(text: str) -> None:
    assert not is_refusal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TAX_INVOICE", "tax_invoice"), ("Tax invoice", "tax_invoice"), ("receipt", "receipt"),
        ("**Receipt.**", "receipt"), ("fuel_receipt", "fuel_receipt"), ("This is a fuel receipt from Shell", "fuel_receipt"),
        ("A petrol station docket", "fuel_receipt"), ("bank statement", "bank_statement"),
        ("Document type: BANK_STATEMENT", "bank_statement"), ("It is an invoice.", "tax_invoice"),
        ("A receipt with a GST statement", "receipt"), ("other", "other"), ("a cat", "other"), ("", "other"),
    ],
)
def test_parse_document_type(text: str, expected: str) -> None:
    assert parse_document_type(text) == expected


# -- never raise --------------------------------------------------------------------------------

_answer_like = st.lists(
    st.one_of(
        st.sampled_from(["TOTAL", "**GST:**", "ITEMS:", "| a | 1 |", "```json", "```", "{", "}", "[", "'", '"',
                         "NOT_FOUND", "$", "1,234.50", "\n", ":", "|", "- ", "I'm not able to", "DESCRIPTIONS:",
                         "GST_INCLUDED:", "supplier", "{\"total\": ", ",", "x", "@", "=", "12,30", "31/02/2024"]),
        st.text(max_size=20),
    ),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), _answer_like), st.sampled_from(["key_value", "json", "field", "bogus"]))
def test_parse_output_never_raises(text: str, style: str) -> None:
    outcome = parse_output(text, style)
    assert isinstance(outcome, ParseOutcome)
    assert outcome.ok or outcome.problem
    assert set(outcome.fields) <= set(ALL_FIELDS)
    normalise_fields(outcome.fields)  # and what it gives can always be normalised


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_FIELDS + ("unknown_field",)), st.one_of(st.text(max_size=200), _answer_like))
def test_parse_field_answer_never_raises(field: str, text: str) -> None:
    parse_field_answer(field, text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), _answer_like))
def test_refusal_and_type_never_raise(text: str) -> None:
    assert isinstance(is_refusal(text), bool)
    assert parse_document_type(text) in DOCUMENT_TYPES


def test_non_strings_do_not_raise() -> None:
    for value in (None, 12, b"TOTAL: 1", ["TOTAL: 1"]):
        assert not parse_output(value).ok  # type: ignore[arg-type]
        assert parse_document_type(value) == "other"  # type: ignore[arg-type]
        assert is_refusal(value) is False  # type: ignore[arg-type]
        parse_field_answer("total", value)  # type: ignore[arg-type]


def test_a_typical_chatty_llama_answer() -> None:
    text = """Here is the extracted information:

**Supplier Name:** Cafe Roma
**ABN:** 51 824 753 556
**Date:** 15/03/2024 10:32 AM
**Items:**
* Latte (Large): $5.00
* 2 x Muffin: $7.80
**Subtotal:** Not shown
**GST:** $1.16 (10%)
**Total:** $12.80 (including GST of $1.16)
**Tax Invoice Label:** Yes

Note: the receipt does not show a payment method."""
    outcome = parse_output(text, "key_value")
    assert outcome.ok
    fields, warnings = normalise_fields(outcome.fields)
    assert warnings == []
    assert fields["supplier_name"] == "Cafe Roma"
    assert fields["supplier_abn"] == "51824753556"
    assert fields["date"] == "15/03/2024"
    assert fields["subtotal"] is None
    assert fields["gst"] == "1.16"
    assert fields["total"] == "12.80"
    assert fields["tax_invoice_label"] is True
    assert fields["payment_method"] is None
    assert [(i["description"], i["quantity"], i["amount"]) for i in fields["items"]] == [
        ("Latte (Large)", None, "5.00"), ("Muffin", "2", "7.80")]

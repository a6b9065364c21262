"""Token probabilities -> one confidence per field (llama_vision/parsing/confidence.py), on
hand-made token lists: KEY-VALUE, JSON and one-field answers, derived values, low tokens."""

from __future__ import annotations

import math
import re

import pytest

from llama_vision.parsing import parse_field_answer, parse_output
from tests.openai_fake_server import DEFAULT_ANSWER
from llama_vision.parsing.confidence import answer_confidence, field_answer_confidence, locate, span_confidence

SURE = math.log(0.99)
KEY_VALUE = DEFAULT_ANSWER  # the loopback server's own answer, read the same way here


def tokens(text: str, unsure: dict[str, float] | None = None) -> list[tuple[str, float]]:
    """Split like a byte-level BPE (a leading space stays on its word, digits in runs of up to 3);
    every token is sure except the pieces named in `unsure` (piece -> probability)."""
    pieces = re.findall(r" ?\d{1,3}| ?[A-Za-z]+| ?[^\sA-Za-z\d]|\s", text)
    assert "".join(pieces) == text
    unsure = unsure or {}
    return [(p, math.log(unsure[p]) if p in unsure else SURE) for p in pieces]


def test_key_value_fields_get_the_confidence_of_their_own_tokens() -> None:
    fields = parse_output(KEY_VALUE).fields
    found = answer_confidence(KEY_VALUE, tokens(KEY_VALUE, {"44": 0.3}), fields)
    assert found["total"].text == "$44.00" and found["total"].confidence == pytest.approx(0.3)
    # "$4.00" is not found inside "$44.00", and SUBTOTAL's value is not TOTAL's
    assert found["gst"].text == "$4.00" and found["gst"].confidence == pytest.approx(0.99)
    assert found["subtotal"].confidence == pytest.approx(0.99)
    assert found["supplier_abn"].text == "51 824 753 556"
    assert found["supplier_name"].text == "Bunnings Warehouse"


def test_one_low_token_lowers_only_its_field_and_sets_the_minimum() -> None:
    fields = parse_output(KEY_VALUE).fields
    sure = answer_confidence(KEY_VALUE, tokens(KEY_VALUE), fields)
    shaky = answer_confidence(KEY_VALUE, tokens(KEY_VALUE, {" 753": 0.2, " 556": 0.6}), fields)
    assert shaky["supplier_abn"].confidence == pytest.approx(0.2)
    assert sure["supplier_abn"].confidence == pytest.approx(0.99)
    assert {k: v.confidence for k, v in shaky.items() if k != "supplier_abn"} == \
        {k: v.confidence for k, v in sure.items() if k != "supplier_abn"}


def test_the_key_picks_the_occurrence_when_the_value_repeats() -> None:
    text = "SUBTOTAL: $44.00\nGST: $0.00\nTOTAL: $44.00\n"
    toks = tokens(text)
    toks[-3] = (toks[-3][0], math.log(0.4))  # the "." of the TOTAL line's amount
    found = answer_confidence(text, toks, parse_output(text).fields)
    assert found["total"].confidence == pytest.approx(0.4)
    assert found["subtotal"].confidence == pytest.approx(0.99)


def test_derived_values_take_the_confidence_of_the_printed_text() -> None:
    # The date is normalised later (to 15/03/2024) and the money to "12.50": the raw text the
    # parser saw is what is located, so its tokens decide.
    text = "DATE: 15 March 2024\nTOTAL: $12.50\nGST INCLUDED: $1.14\n"
    fields = parse_output(text).fields
    assert fields["gst"] == "$1.14" and fields["gst_included_statement"] is True
    found = answer_confidence(text, tokens(text, {" March": 0.5, "14": 0.7}), fields)
    assert found["date"].text == "15 March 2024" and found["date"].confidence == pytest.approx(0.5)
    assert found["total"].text == "$12.50"
    # the GST read from a "GST INCLUDED" line, and the flag derived from the same line
    assert found["gst"].confidence == pytest.approx(0.7)
    assert found["gst_included_statement"].text == "$1.14"


def test_json_answers_numbers_and_flags() -> None:
    text = '```json\n{"supplier": {"name": "Cafe Roma"}, "total": 12.5, "date": "2024-03-15", "tax_invoice": true}\n```'
    fields = parse_output(text, "json").fields
    found = answer_confidence(text, tokens(text, {"5": 0.25}), fields)
    assert found["total"].text == "12.5" and found["total"].confidence == pytest.approx(0.25)
    assert found["supplier_name"].text == "Cafe Roma" and found["supplier_name"].confidence == pytest.approx(0.99)
    assert found["tax_invoice_label"].text == "true"
    assert found["date"].text == "2024-03-15"


def test_a_value_the_parser_joined_is_matched_word_by_word() -> None:
    text = "SUPPLIER_ADDRESS: 12 George St\nSydney NSW 2000\nTOTAL: $5.00\n"
    fields = parse_output(text).fields
    assert fields["supplier_address"] == "12 George St, Sydney NSW 2000"
    found = answer_confidence(text, tokens(text, {" NSW": 0.45}), fields)
    assert found["supplier_address"].text == "12 George St\nSydney NSW 2000"
    assert found["supplier_address"].confidence == pytest.approx(0.45)


def test_field_specific_answers() -> None:
    text = "The ABN is 51 824 753 556."
    assert parse_field_answer("supplier_abn", text) == "51824753556"  # normalised
    found = field_answer_confidence("supplier_abn", text, tokens(text, {" is": 0.1, " 824": 0.8}))
    assert found is not None and found.text == "51 824 753 556"
    assert found.confidence == pytest.approx(0.8)  # the lead-in's unsure " is" does not count
    date = "15/03/2024"
    found = field_answer_confidence("date", date, tokens(date, {"03": 0.6}))
    assert found is not None and found.confidence == pytest.approx(0.6)
    assert field_answer_confidence("supplier_abn", "Not visible", tokens("Not visible")) is None


def test_nothing_measured_means_no_confidence() -> None:
    fields = parse_output(KEY_VALUE).fields
    assert answer_confidence(KEY_VALUE, None, fields) == {}
    assert answer_confidence(KEY_VALUE, [], fields) == {}
    # pieces that do not spell the text cannot be mapped: nothing rather than a wrong span
    assert answer_confidence(KEY_VALUE, tokens(KEY_VALUE)[:-1], fields) == {}
    assert field_answer_confidence("total", "$5.00", None) is None
    # a value the answer does not spell gets a null confidence, never a made-up one
    found = answer_confidence(KEY_VALUE, tokens(KEY_VALUE), {"total": "$99.00"})
    assert found["total"].confidence is None


def test_span_confidence_counts_overlapping_tokens_and_split_characters() -> None:
    toks = [("TOTAL", -0.1), (":", -0.1), (" $", -0.2), ("4", -1.0), ("4", -0.01), ("", -3.0), ("€", -0.05)]
    # " $" overlaps "$"; the empty piece is half of "€" and counts with it
    assert span_confidence(toks, 7, 9) == pytest.approx(math.exp(-1.0))
    assert span_confidence(toks, 10, 11) == pytest.approx(math.exp(-3.0))
    assert span_confidence(toks, 9, 10) == pytest.approx(math.exp(-0.01))
    assert span_confidence(toks, 0, 5) == pytest.approx(math.exp(-0.1))
    assert span_confidence(toks, 20, 25) is None
    assert locate("GST: $4.00\nTOTAL: $44.00", "total", "$4.00") is None

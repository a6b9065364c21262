"""ATO tax-invoice rules (llama_vision.compliance), as ARCHITECTURE.md §5 states them."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_vision.compliance import (
    ELEMENTS,
    NO_ABN_WITHHOLDING_RATE,
    VERDICTS,
    WITHHOLDING_EXEMPT_UP_TO,
    check_compliance,
)
from llama_vision.fields import empty_fields, normalise_fields

VALID_ABN = "51824753556"
INVALID_ABN = "51824753557"


def invoice(**overrides: Any) -> dict[str, Any]:
    """A complete, consistent tax invoice for $110.00 (subtotal 100 + GST 10)."""
    fields = empty_fields()
    fields.update(
        supplier_name="Acme Plumbing", supplier_abn=VALID_ABN, date="15/03/2024", tax_invoice_label=True,
        subtotal="100.00", gst="10.00", total="110.00",
        items=[{"description": "Tap washer", "quantity": "2", "unit_price": "50.00", "amount": "100.00"}],
    )
    fields.update(overrides)
    return fields


def check_names(result: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result["checks"]}


def test_complete_invoice_is_compliant() -> None:
    result = check_compliance(invoice(), "tax_invoice")
    assert result["verdict"] == "compliant"
    assert result["missing_elements"] == []
    assert result["abn_valid"] is True
    assert result["gst_consistent"] is True
    assert result["totals_consistent"] is True
    assert result["date_valid"] is True
    assert result["tax_invoice_required"] is True
    assert result["score"] == 100
    assert all(c["status"] in ("pass", "not_applicable") for c in result["checks"])
    assert check_names(result)["buyer_identity"] == "not_applicable"
    assert result["recommendations"] and "keep" in result["recommendations"][0].lower()
    assert set(result) >= {"abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required",
                           "missing_elements", "score", "verdict", "recommendations", "checks"}


@pytest.mark.parametrize(
    ("total", "required", "verdict"),
    [("82.50", False, "not_required"), ("82.49", False, "not_required"), ("82.51", True, "compliant"),
     ("10.00", False, "not_required")],
)
def test_82_50_threshold(total: str, required: bool, verdict: str) -> None:
    fields = invoice(subtotal=None, gst=None, total=total, gst_included_statement=True,
                     items=[{"description": "Thing", "quantity": "1", "unit_price": total, "amount": total}])
    result = check_compliance(fields, "receipt")
    assert result["tax_invoice_required"] is required
    assert result["verdict"] == verdict


def test_small_receipt_still_runs_and_shows_checks() -> None:
    fields = invoice(total="12.30", subtotal=None, gst="1.12", tax_invoice_label=None, supplier_abn=None,
                     items=[{"description": "Coffee", "quantity": "1", "unit_price": "12.30", "amount": "12.30"}])
    result = check_compliance(fields, "receipt")
    assert result["verdict"] == "not_required"
    assert result["missing_elements"] == ["tax_invoice_label", "supplier_abn"]
    assert check_names(result)["tax_invoice_label"] == "fail"
    assert result["score"] < 100
    joined = " ".join(result["recommendations"])
    assert "82.50" in joined
    # Rule "no-ABN withholding, $75 exception": $11.18 excluding GST is under $75, so no withholding.
    assert "no 'no ABN' withholding applies" in joined and "47%" not in joined and "49%" not in joined


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"tax_invoice_label": None}, ["tax_invoice_label"]),
        ({"tax_invoice_label": False}, ["tax_invoice_label"]),
        ({"supplier_name": None}, ["supplier_identity"]),
        ({"supplier_abn": None}, ["supplier_abn"]),
        ({"date": None}, ["issue_date"]),
        ({"items": []}, ["item_description"]),
        ({"items": [{"description": None, "quantity": None, "unit_price": None, "amount": "100.00"}]},
         ["item_description"]),
        ({"gst": None, "subtotal": None}, ["gst_amount"]),
        ({"tax_invoice_label": None, "date": None, "supplier_abn": None},
         ["tax_invoice_label", "supplier_abn", "issue_date"]),
    ],
)
def test_missing_elements_make_it_non_compliant(overrides: dict[str, Any], missing: list[str]) -> None:
    result = check_compliance(invoice(**overrides), "tax_invoice")
    assert result["missing_elements"] == missing
    assert result["verdict"] == "non_compliant"
    assert set(result["missing_elements"]) <= set(ELEMENTS)
    assert 0 <= result["score"] < 100


def test_gst_statement_satisfies_gst_amount_when_gst_is_one_eleventh() -> None:
    fields = invoice(subtotal=None, gst=None, total="110.00", gst_included_statement=True,
                     items=[{"description": "Job", "quantity": "1", "unit_price": "110.00", "amount": "110.00"}])
    result = check_compliance(fields, "tax_invoice")
    assert "gst_amount" not in result["missing_elements"]
    assert result["gst_consistent"] is None
    assert result["verdict"] == "compliant"


def test_gst_statement_does_not_count_when_gst_is_not_one_eleventh() -> None:
    fields = invoice(subtotal="105.00", gst=None, total="110.00", gst_included_statement=True)
    result = check_compliance(fields, "tax_invoice")
    assert result["missing_elements"] == ["gst_amount"]
    assert result["verdict"] == "non_compliant"


def test_buyer_identity_only_from_1000() -> None:
    big = dict(subtotal="1000.00", gst="100.00", total="1100.00",
               items=[{"description": "Install", "quantity": "1", "unit_price": "1000.00", "amount": "1000.00"}])
    result = check_compliance(invoice(**big), "tax_invoice")
    assert result["missing_elements"] == ["buyer_identity"]
    assert result["verdict"] == "non_compliant"
    assert any("buyer" in r.lower() for r in result["recommendations"])
    assert check_compliance(invoice(**big, buyer_name="Jane Pty Ltd"), "tax_invoice")["verdict"] == "compliant"
    assert check_compliance(invoice(**big, buyer_abn="53004085616"), "tax_invoice")["verdict"] == "compliant"
    exactly = invoice(subtotal=None, gst="90.91", total="1000.00",
                      items=[{"description": "X", "quantity": "1", "unit_price": "1000.00", "amount": "1000.00"}])
    assert check_compliance(exactly, "tax_invoice")["missing_elements"] == ["buyer_identity"]
    under = invoice(subtotal=None, gst="90.91", total="999.99",
                    items=[{"description": "X", "quantity": "1", "unit_price": "999.99", "amount": "999.99"}])
    assert check_compliance(under, "tax_invoice")["missing_elements"] == []


def test_invalid_abn_is_non_compliant_but_not_missing() -> None:
    result = check_compliance(invoice(supplier_abn=INVALID_ABN), "tax_invoice")
    assert result["abn_valid"] is False
    assert result["missing_elements"] == []
    assert result["verdict"] == "non_compliant"
    joined = " ".join(result["recommendations"])
    assert "checksum" in joined and "ABN Lookup" in joined


def test_no_abn_recommends_asking_and_mentions_withholding() -> None:
    result = check_compliance(invoice(supplier_abn=None), "tax_invoice")
    assert result["abn_valid"] is None
    text = " ".join(result["recommendations"])
    assert "Acme Plumbing" in text and "47%" in text and "withh" in text


# -- rule: PAYG "no ABN" withholding (ARCHITECTURE.md §5) --------------------------------------------


def _withholding_advice(result: dict[str, Any]) -> list[str]:
    return [r for r in result["recommendations"] if "withh" in r]


def test_withholding_rule_rate_is_the_top_rate_47_percent() -> None:
    assert NO_ABN_WITHHOLDING_RATE == Decimal("0.47")
    assert WITHHOLDING_EXEMPT_UP_TO == Decimal("75.00")


def test_withholding_rule_500_invoice_without_abn_names_47_percent_and_every_exception() -> None:
    fields = invoice(supplier_abn=None, subtotal="454.55", gst="45.45", total="500.00",
                     items=[{"description": "Repairs", "quantity": "1", "unit_price": "454.55", "amount": "454.55"}])
    advice = _withholding_advice(check_compliance(fields, "tax_invoice"))
    assert len(advice) == 1
    text = advice[0]
    assert "47%" in text and "49%" not in text
    for exception in ("$75.00 or less excluding GST", "Statement by a supplier", "wholly input taxed",
                      "not carrying on an enterprise"):
        assert exception in text, exception


def test_withholding_rule_cafe_receipt_under_75_without_abn_recommends_no_withholding() -> None:
    fields = invoice(supplier_name="Bean There Cafe", supplier_abn=None, subtotal=None, gst="2.09", total="23.00",
                     tax_invoice_label=None,
                     items=[{"description": "Flat white", "quantity": "2", "unit_price": "11.50", "amount": "23.00"}])
    result = check_compliance(fields, "receipt")
    assert result["verdict"] == "not_required"
    text = " ".join(result["recommendations"])
    assert "47%" not in text and "may have to withhold" not in text
    assert "no 'no ABN' withholding applies" in text


@pytest.mark.parametrize(
    ("subtotal", "gst", "total", "withhold"),
    [
        ("75.00", "7.50", "82.50", False),  # exactly $75 excluding GST: the exception applies
        ("75.01", "7.50", "82.51", True),  # one cent over
        (None, "7.50", "82.50", False),  # total less the GST shown: $75.00
        (None, None, "75.00", False),  # no GST shown: the total is the most it can be
        (None, None, "80.00", True),  # $72.73-$80 excluding GST: the exception cannot be assumed
        (None, None, None, True),  # total unreadable: the payment is unknown
    ],
)
def test_withholding_rule_75_dollar_exception_is_excluding_gst(subtotal: str | None, gst: str | None,
                                                                 total: str | None, withhold: bool) -> None:
    fields = invoice(supplier_abn=None, subtotal=subtotal, gst=gst, total=total)
    text = " ".join(_withholding_advice(check_compliance(fields, "tax_invoice")))
    assert ("may have to withhold 47%" in text) is withhold


def test_withholding_rule_an_abn_failing_the_checksum_is_not_a_quoted_abn() -> None:
    big = " ".join(check_compliance(invoice(supplier_abn=INVALID_ABN), "tax_invoice")["recommendations"])
    assert "checksum" in big and "47%" in big and "Statement by a supplier" in big
    small = invoice(supplier_abn=INVALID_ABN, subtotal=None, gst="1.12", total="12.30",
                    items=[{"description": "Coffee", "quantity": "1", "unit_price": "12.30", "amount": "12.30"}])
    text = " ".join(check_compliance(small, "receipt")["recommendations"])
    assert "checksum" in text and "withh" not in text


def test_withholding_rule_does_not_apply_to_bank_statements_or_a_valid_abn() -> None:
    assert not _withholding_advice(check_compliance(invoice(), "tax_invoice"))
    assert not _withholding_advice(check_compliance(empty_fields(), "bank_statement"))


@pytest.mark.parametrize(
    ("subtotal", "gst", "total", "expected"),
    [
        ("100.00", "10.00", "110.00", True),
        ("100.00", "10.02", "110.02", True),  # within 2 cents
        ("100.00", "10.03", "110.03", False),  # GST 3 cents off 10%
        ("100.00", "10.00", "110.05", False),  # does not add up
        ("100.00", "12.00", "112.00", False),  # adds up, but not 10%
        (None, "10.00", "110.00", True),  # exactly 1/11
        (None, "10.02", "110.00", True),  # within 2 cents of 1/11
        (None, "10.03", "110.00", False),  # more than 1/11
        (None, "5.00", "110.00", True),  # less: GST-free items, a note
        (None, "0.00", "50.00", True),
        (None, None, "110.00", None),
        ("100.00", "10.00", None, None),
    ],
)
def test_gst_arithmetic(subtotal: str | None, gst: str | None, total: str | None, expected: bool | None) -> None:
    result = check_compliance(invoice(subtotal=subtotal, gst=gst, total=total), "tax_invoice")
    assert result["gst_consistent"] is expected


def test_gst_less_than_one_eleventh_is_a_note_not_a_failure() -> None:
    fields = invoice(subtotal=None, gst="5.00", total="110.00",
                     items=[{"description": "Mixed", "quantity": "1", "unit_price": "110.00", "amount": "110.00"}])
    result = check_compliance(fields, "receipt")
    assert result["gst_consistent"] is True
    assert result["verdict"] == "compliant"
    assert any("GST-free" in n for n in result["notes"])


def test_bad_gst_arithmetic_is_review_with_numbers() -> None:
    result = check_compliance(invoice(gst="12.00", total="112.00"), "tax_invoice")
    assert result["verdict"] == "review"
    assert check_names(result)["gst_consistent"] == "fail"
    joined = " ".join(result["recommendations"])
    assert "$12.00" in joined and "10%" in joined


def test_missing_elements_win_over_bad_arithmetic() -> None:
    result = check_compliance(invoice(gst="12.00", total="112.00", date=None), "tax_invoice")
    assert result["verdict"] == "non_compliant"


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"description": "A", "quantity": "1", "unit_price": "60.00", "amount": "60.00"},
          {"description": "B", "quantity": "1", "unit_price": "40.00", "amount": "40.00"}], True),  # = subtotal
        ([{"description": "A", "quantity": "1", "unit_price": "110.00", "amount": "110.00"}], True),  # = total
        ([{"description": "A", "quantity": "2", "unit_price": "50.00", "amount": None}], True),  # qty x price
        ([{"description": "A", "quantity": "1", "unit_price": "60.00", "amount": "60.00"}], False),
        ([{"description": "A", "quantity": None, "unit_price": None, "amount": None}], None),
        ([], None),
    ],
)
def test_totals_consistent(items: list[dict[str, Any]], expected: bool | None) -> None:
    result = check_compliance(invoice(items=items), "tax_invoice")
    assert result["totals_consistent"] is expected


def test_lines_not_adding_up_fail_the_check_but_keep_the_verdict() -> None:
    items = [{"description": "A", "quantity": "1", "unit_price": "60.00", "amount": "60.00"}]
    result = check_compliance(invoice(items=items), "tax_invoice")
    assert result["verdict"] == "compliant"
    assert check_names(result)["totals_consistent"] == "fail"
    assert any("$60.00" in r for r in result["recommendations"])


def test_unknown_is_not_no_rule_unreadable_total_is_review_and_required_unknown() -> None:
    """ATO §5 'Unknown is not no': with no readable total, whether a tax invoice is needed is
    unknown (null), never False (issue I item 2)."""
    result = check_compliance(invoice(total=None, subtotal=None), "tax_invoice")
    assert result["verdict"] == "review"
    assert result["tax_invoice_required"] is None
    assert check_names(result)["total"] == "fail"
    assert any("could not be read" in r for r in result["recommendations"])


def test_bank_statement_is_not_required() -> None:
    fields = empty_fields()
    fields.update(bsb="062-000", account_number="12345678", closing_balance="100.00")
    result = check_compliance(fields, "bank_statement")
    assert result["verdict"] == "not_required"
    assert result["missing_elements"] == []
    assert result["tax_invoice_required"] is False
    assert "not a tax invoice" in " ".join(c["reason"] for c in result["checks"])
    assert result["score"] == 100


def test_date_valid() -> None:
    assert check_compliance(invoice(date=None), "receipt")["date_valid"] is None
    assert check_compliance(invoice(date="15/03/2024"), "receipt")["date_valid"] is True
    assert check_compliance(invoice(date="31/02/2024"), "receipt")["date_valid"] is False


def test_accepts_raw_values_and_junk() -> None:
    raw = invoice(total="$110.00", subtotal="$100", gst="$10", supplier_abn="51 824 753 556", tax_invoice_label="yes")
    assert check_compliance(raw, "tax_invoice")["verdict"] == "compliant"
    assert check_compliance({}, "receipt")["verdict"] == "review"
    assert check_compliance(None, None)["verdict"] == "review"  # type: ignore[arg-type]


def test_score_orders_documents() -> None:
    good = check_compliance(invoice(), "tax_invoice")["score"]
    one = check_compliance(invoice(date=None), "tax_invoice")["score"]
    three = check_compliance(invoice(date=None, supplier_abn=None, tax_invoice_label=None), "tax_invoice")["score"]
    assert good > one > three >= 0


_money = st.one_of(st.none(), st.decimals(min_value=0, max_value=5000, places=2).map(str))


@settings(max_examples=200, deadline=None)
@given(
    subtotal=_money, gst=_money, total=_money, label=st.sampled_from([None, True, False]),
    statement=st.sampled_from([None, True, False]), abn=st.sampled_from([None, VALID_ABN, INVALID_ABN]),
    date=st.sampled_from([None, "15/03/2024"]), name=st.sampled_from([None, "Acme"]),
    buyer=st.sampled_from([None, "Jane"]), n_items=st.integers(0, 3),
    document_type=st.sampled_from(["receipt", "tax_invoice", "fuel_receipt", "bank_statement", "other"]),
)
def test_invariants(subtotal, gst, total, label, statement, abn, date, name, buyer, n_items, document_type) -> None:
    items = [{"description": f"item {i}", "quantity": "1", "unit_price": "1.00", "amount": "1.00"}
             for i in range(n_items)]
    fields = invoice(subtotal=subtotal, gst=gst, total=total, tax_invoice_label=label,
                     gst_included_statement=statement, supplier_abn=abn, date=date, supplier_name=name,
                     buyer_name=buyer, items=items)
    result = check_compliance(fields, document_type)
    assert result["verdict"] in VERDICTS
    assert 0 <= result["score"] <= 100
    assert result["missing_elements"] == [e for e in ELEMENTS if e in result["missing_elements"]]
    assert all(c["status"] in ("pass", "fail", "not_applicable") for c in result["checks"])
    if document_type == "bank_statement":
        assert result["verdict"] == "not_required" and result["missing_elements"] == []
    elif total is not None and float(total) <= 82.5:
        assert result["verdict"] == "not_required"
    if result["verdict"] == "compliant":
        assert result["missing_elements"] == [] and result["abn_valid"] is True
        assert result["gst_consistent"] is not False
    if result["verdict"] == "non_compliant":
        assert result["missing_elements"] or result["abn_valid"] is False
    if result["verdict"] in ("non_compliant", "review", "compliant") and result["missing_elements"]:
        assert result["recommendations"]


def test_agrees_with_the_generators_independent_ground_truth() -> None:
    """The synthetic generator computes expected compliance by separate code; we must agree."""
    generator = pytest.importorskip("llama_vision.samples.generator")
    rng = random.Random(1234)
    checked = 0
    for index in range(300):
        kind = generator.KINDS[index % len(generator.KINDS)]
        truth = generator.make_document(rng, kind).truth()
        fields, _ = normalise_fields(truth["fields"])
        got = check_compliance(fields, truth["document_type"])
        for key, expected in truth["compliance"].items():
            actual = got[key]
            if key == "missing_elements":
                assert actual == expected, (kind, index, truth["fields"], got)
            else:
                assert actual == expected, (key, kind, index, truth["fields"], got)
        checked += 1
    assert checked == 300


_junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                  st.lists(st.one_of(st.text(max_size=10), st.dictionaries(st.text(max_size=8), st.text(max_size=8))),
                           max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["total", "subtotal", "gst", "supplier_abn", "date", "items", "supplier_name",
                                        "tax_invoice_label", "gst_included_statement", "buyer_abn"]), _junk),
       st.one_of(st.none(), st.text(max_size=15)))
def test_never_raises_on_junk(fields: dict, document_type: str | None) -> None:
    result = check_compliance(fields, document_type)  # type: ignore[arg-type]
    assert result["verdict"] in VERDICTS
    assert 0 <= result["score"] <= 100


# -- the named rules check_compliance runs -------------------------------------------------------------


def test_each_named_rule_gives_the_compliance_objects_answer() -> None:
    from llama_vision.compliance import rules
    from llama_vision.compliance.facts import read_facts

    fields = invoice(supplier_abn=INVALID_ABN, gst="12.00", total="112.00", date="31/02/2024",
                     items=[{"description": "A", "quantity": "1", "unit_price": "60.00", "amount": "60.00"}])
    result = check_compliance(fields, "tax_invoice")
    facts = read_facts(fields, "tax_invoice")
    assert rules.abn_rule(facts).ok is result["abn_valid"] is False
    assert rules.gst_rule(facts).ok is result["gst_consistent"] is False
    assert rules.totals_rule(facts).ok is result["totals_consistent"] is False
    assert rules.date_rule(facts).ok is result["date_valid"] is False
    elements = rules.elements_rule(facts)
    assert [name for name in ELEMENTS if name in elements and not elements[name].ok] == result["missing_elements"]
    assert result["missing_elements"] == ["issue_date"]  # an impossible date is no date of issue
    assert rules.verdict_rule(facts, result["missing_elements"], rules.abn_rule(facts), rules.gst_rule(facts)) == (
        result["verdict"], result["summary"])
    assert result["verdict"] == "non_compliant" and "the date of issue, a valid ABN" in result["summary"]

"""Plausible names (issue I item 4) and foreign currency (item 7).

ATO rules checked: a tax invoice must show the seller's identity (a name, not any text that was
read where a name should be); a GST credit is for Australian GST, which a purchase priced in
another currency abroad does not carry.
"""

from __future__ import annotations

import pytest

from llama_vision.compliance import check_compliance
from llama_vision.plausibility import check_names, foreign_currency, name_problem
from tests.test_abn_lookup import invoice


@pytest.mark.parametrize("name", ["Bunnings Warehouse", "Joe's Café", "7-Eleven", "SMITH, JOHN", "H&M",
                                  "Amazon.com.au", "JB Hi-Fi", "Dan Murphy's", "3M Australia", "Harbour Hardware Pty Ltd"])
def test_seller_identity_rule_real_names_are_plausible(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(("text", "why"), [
    (" ".join(["lorem", "ipsum", "dolor", "amet"] * 60), "characters long"),
    ("Fresh bread milk eggs butter cheese apples pears plums grapes kiwi lemons limes", "words"),
    ("www.example.com.au", "web address"), ("https://shop.example/receipt", "web address"),
    ("accounts@example.com", "e-mail"), ("(02) 9876 5432", "phone"), ("Ph: 0412 345 678", "phone"),
    ("123 George St Sydney", "street address"), ("Parramatta NSW 2150", "street address"),
    ("2 x Flat White", "line item"), ("Milk 2L 3.50", "line item"), ("#$%^&*", "letters"),
])
def test_seller_identity_rule_implausible_names_are_refused(text: str, why: str) -> None:
    problem = name_problem(text)
    assert problem is not None and why in problem


def test_seller_identity_rule_an_implausible_supplier_does_not_count_as_named() -> None:
    nonsense = " ".join(["word"] * 250)
    result = check_compliance(invoice(supplier_name=nonsense), "tax_invoice")
    assert "supplier_identity" in result["missing_elements"]
    assert all(nonsense not in r for r in result["recommendations"])
    fields, warnings = check_names(invoice(supplier_name=nonsense, buyer_name="www.x.com"))
    assert fields["supplier_name"] is None and fields["buyer_name"] is None and len(warnings) == 2
    assert fields["total"] == "110.00"


@pytest.mark.parametrize(("text", "code"), [("TOTAL USD 45.00", "USD"), ("Total: 45.00 NZD", "NZD"),
                                            ("Jumlah RM 12.50", "MYR (RM)"), ("Total Rp 150.000", "IDR (Rp)"),
                                            ("Total US$12.00", "USD"), ("€ 9,50", "EUR")])
def test_gst_credit_rule_amounts_in_another_currency_are_found(text: str, code: str) -> None:
    assert foreign_currency(["Coffee", text]) == code


@pytest.mark.parametrize("text", ["TOTAL $45.00", "Total AUD 45.00", "A$12.00", "FORM 12", "RMIT Union 4.50",
                                  "Rpm 3000", "Roast beef 12.50"])
def test_gst_credit_rule_australian_dollars_are_not_flagged(text: str) -> None:
    assert foreign_currency([text]) is None


def test_gst_credit_rule_a_foreign_currency_receipt_gets_no_australian_gst_credit() -> None:
    result = check_compliance(invoice(), "tax_invoice", currency="USD")
    assert result["verdict"] == "non_compliant"
    assert {c["name"]: c["status"] for c in result["checks"]}["currency"] == "fail"
    assert "No Australian GST credit" in result["recommendations"][0]
    assert check_compliance(invoice(), "tax_invoice")["verdict"] == "compliant"

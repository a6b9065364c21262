"""pipeline.reassess: a person's corrections judged by the pipeline's own rules (issue K part 3)."""

from __future__ import annotations

import pytest

from llama_vision import pipeline
from llama_vision.engines import create_engine
from llama_vision.errors import LlamaVisionError
from llama_vision.result import Result
from tests.fakes import fake_settings
from tests.ui_helpers import SAMPLES

NO_ABN = SAMPLES / "no_abn_hardware_receipt.jpg"
VALID_ABN = "51 824 753 556"  # passes the ATO checksum


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return fake_settings(tmp_path_factory.mktemp("reassess"))


@pytest.fixture(scope="module")
def read(settings) -> dict:
    """The bundled receipt without an ABN, as the OCR engine reads it."""
    return pipeline.extract(NO_ABN, engine=create_engine(settings), page=0).to_dict()


def test_adding_the_missing_abn_turns_the_verdict_compliant(read, settings):
    assert read["compliance"]["verdict"] == "non_compliant"
    assert "supplier_abn" in read["compliance"]["missing_elements"]
    corrected = pipeline.reassess(read, {"supplier_abn": VALID_ABN}, settings=settings)
    assert corrected["fields"]["supplier_abn"] == "51824753556"  # settled as the parsers settle it
    assert corrected["compliance"]["verdict"] == "compliant"
    assert corrected["compliance"]["missing_elements"] == []
    assert "missing ABN" not in corrected["review"]["reasons"]
    assert corrected["warnings"][0] == "Corrected by hand: Supplier ABN."
    assert read["compliance"]["verdict"] == "non_compliant"  # the input is not changed


def test_an_abn_that_fails_the_checksum_is_non_compliant(read, settings):
    corrected = pipeline.reassess(read, {"supplier_abn": "51 824 753 557"}, settings=settings)
    assert corrected["compliance"]["abn_valid"] is False
    assert corrected["compliance"]["verdict"] == "non_compliant"
    assert any(w.startswith("supplier_abn:") and "checksum" in w for w in corrected["warnings"])


def test_typed_values_are_normalised_like_an_engines(read, settings):
    corrected = pipeline.reassess(read, {"total": "$12.50", "date": "14 Aug 2023", "payment_method": ""},
                                  settings=settings)
    fields = corrected["fields"]
    assert (fields["total"], fields["date"], fields["payment_method"]) == ("12.50", "14/08/2023", None)
    assert corrected["compliance"]["verdict"] == "not_required"  # $12.50 is under $82.50
    assert pipeline.changed_fields(read, corrected) == ["date", "total", "payment_method"]
    same = pipeline.reassess(read, {"date": "13 Aug 2023"}, settings=settings)  # what it already said
    assert pipeline.changed_fields(read, same) == [] and same == read


def test_an_unreadable_amount_is_null_with_a_warning(read, settings):
    corrected = pipeline.reassess(read, {"total": "about twelve"}, settings=settings)
    assert corrected["fields"]["total"] is None
    assert corrected["compliance"]["verdict"] == "review"  # no readable total
    assert any("total: could not read amount 'about twelve'" in w for w in corrected["warnings"])


def test_no_corrections_change_nothing(read, settings):
    assert pipeline.reassess(read, {}, settings=settings) == read


def test_a_changed_field_loses_the_engines_evidence(read, settings):
    assert "total" in read["evidence"] and "supplier_name" in read["evidence"]
    corrected = pipeline.reassess(read, {"total": "300.00"}, settings=settings)
    assert "total" not in corrected["evidence"]  # the box and confidence described 287.40
    assert corrected["evidence"]["supplier_name"] == read["evidence"]["supplier_name"]


def test_correcting_the_type_to_a_bank_statement(read, settings):
    corrected = pipeline.reassess(read, {}, settings=settings, document_type="bank_statement")
    assert corrected["document_type"] == "bank_statement"
    assert corrected["compliance"]["verdict"] == "not_required"
    assert corrected["warnings"][0] == "Corrected by hand: Document type."


def test_edited_items_are_read_as_item_lines(read, settings):
    corrected = pipeline.reassess(read, {"items": "Hammer | 1 | 30.00 | 30.00"}, settings=settings)
    assert [i["description"] for i in corrected["fields"]["items"]] == ["Hammer"]
    check = {c["name"]: c["status"] for c in corrected["compliance"]["checks"]}
    assert check["totals_consistent"] == "fail"  # 30.00 is not the subtotal any more


def test_refuses_unknown_fields_types_and_failed_results(read, settings):
    with pytest.raises(LlamaVisionError, match="Unknown field 'colour'"):
        pipeline.reassess(read, {"colour": "red"}, settings=settings)
    with pytest.raises(LlamaVisionError, match="Unknown document type"):
        pipeline.reassess(read, {}, settings=settings, document_type="menu")
    failed = Result.failed("x.png", "ocr", "rules", "broken").to_dict()
    with pytest.raises(LlamaVisionError, match="nothing to correct"):
        pipeline.reassess(failed, {"total": "1.00"}, settings=settings)

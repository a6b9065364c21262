"""evaluation.py: ground truth in both key styles, normalised comparison, soft and spurious
rates, compliance agreement, failures, and the printable/JSON reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from llama_vision import pipeline
from llama_vision.errors import DocumentError
from llama_vision.evaluation import (
    Truth, evaluate, find_pairs, letters_and_digits, load_truth, normalise_for_comparison, score_result,
)
from llama_vision.result import Result
from tests.fakes import FakeEngine, fake_settings


def write_pair(folder: Path, stem: str, truth: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / f"{stem}.png"
    Image.new("RGB", (48, 48), "white").save(image)
    (folder / f"{stem}.json").write_text(json.dumps(truth), encoding="utf-8")
    return image


SROIE_TRUTH = {"company": "POPULAR BOOK CO. (M) SDN BHD", "date": "01/03/18",
               "address": "NO 8, JALAN 7/118B, DESA TUN RAZAK 56000 KUALA LUMPUR", "total": "RM49.4"}
OUR_TRUTH = {
    "document_type": "tax_invoice",
    "fields": {"supplier_name": "Acme Hardware Pty Ltd", "supplier_abn": "51824753556", "date": "15/03/2024",
               "buyer_name": None, "subtotal": "100.00", "gst": "10.00", "total": "110.00",
               "tax_invoice_label": True, "gst_included_statement": False, "items": [{"description": "x"}],
               "bsb": None},
    "compliance": {"abn_valid": True, "gst_consistent": True, "tax_invoice_required": True,
                   "missing_elements": ["buyer_identity", "item_description"], "verdict": "non_compliant"},
}
TOP_LEVEL_TRUTH = {"supplier_name": "Corner Cafe", "total": "8.50", "date": "2024-03-02"}

PREDICTIONS = {
    "sroie": Result(file="sroie.png", engine="fake", prompt="key_value", document_type="receipt",
                    fields={"supplier_name": "Popular Book Co. (M) Sdn Bhd.",  # exact after normalisation
                            "supplier_address": "NO 8 JALAN 7/118B DESA TUN RAZAK 56000 KUALA LUMPUR",  # soft only
                            "date": "01/03/2018", "total": "49.40"},
                    timings={"total": 2.0}),
    "ours": Result(file="ours.png", engine="fake", prompt="key_value", document_type="tax_invoice",
                   fields={"supplier_name": "ACME HARDWARE PTY LTD", "supplier_abn": "51 824 753 556",
                           "date": "15/03/2024", "buyer_name": "Bob Smith",  # invented: spurious
                           "subtotal": "100.00", "gst": "11.00",  # wrong
                           "total": "$110.00", "tax_invoice_label": True, "gst_included_statement": None},
                   compliance={"abn_valid": True, "gst_consistent": True, "tax_invoice_required": True,
                               "missing_elements": ["item_description", "buyer_identity"],  # same set
                               "verdict": "non_compliant"},
                   timings={"total": 4.0}),
    "top": Result.failed("top.png", "fake", "key_value", "engine exploded"),
}


@pytest.fixture
def truth_dir(tmp_path) -> Path:
    folder = tmp_path / "truth"
    write_pair(folder, "sroie", SROIE_TRUTH)
    write_pair(folder, "ours", OUR_TRUTH)
    write_pair(folder, "top", TOP_LEVEL_TRUTH)
    Image.new("RGB", (48, 48)).save(folder / "no_truth.png")  # ignored: no .json
    return folder


@pytest.fixture
def engine(tmp_path):
    return FakeEngine(fake_settings(tmp_path))


@pytest.fixture
def scripted(monkeypatch):
    seen: list[str] = []

    def fake(paths, *, engine, prompt_style, concurrency):
        for index in reversed(range(len(paths))):  # finish out of order, like a concurrent run
            seen.append(paths[index].stem)
            yield index, PREDICTIONS[paths[index].stem]

    monkeypatch.setattr(pipeline, "extract_many", fake)
    return seen


def test_load_truth_in_both_styles(truth_dir):
    sroie = load_truth(truth_dir / "sroie.json")
    assert sroie.style == "sroie"
    assert sroie.fields == {"supplier_name": SROIE_TRUTH["company"], "supplier_address": SROIE_TRUTH["address"],
                            "date": "01/03/18", "total": "RM49.4"}
    ours = load_truth(truth_dir / "ours.json")
    assert ours.document_type == "tax_invoice" and ours.compliance["verdict"] == "non_compliant"
    assert ours.fields["buyer_name"] is None and "items" in ours.fields
    top = load_truth(truth_dir / "top.json")
    assert top.fields == TOP_LEVEL_TRUTH and top.compliance is None


def test_bad_truth_and_empty_folders_are_one_line_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DocumentError, match="bad.json"):
        load_truth(tmp_path / "bad.json")
    with pytest.raises(DocumentError, match="No documents with ground truth"):
        find_pairs(tmp_path)
    with pytest.raises(DocumentError, match="not a folder"):
        find_pairs(tmp_path / "missing")


@pytest.mark.parametrize(("field", "a", "b"), [
    ("date", "01/03/18", "01/03/2018"),
    ("date", "2024-03-15", "15 Mar 2024"),
    ("total", "RM49.4", "49.40"),
    ("total", "$1,234.50", "1234.5"),
    ("supplier_name", "  POPULAR  Book Co.  ", "popular book co"),
    ("supplier_abn", "51 824 753 556", "51824753556"),
    ("tax_invoice_label", None, False),
])
def test_normalised_values_compare_equal(field, a, b):
    assert normalise_for_comparison(field, a) == normalise_for_comparison(field, b)


def test_internal_punctuation_still_matters_for_the_headline():
    assert normalise_for_comparison("supplier_name", "Book Co. Ltd") != normalise_for_comparison("supplier_name", "Book Co Ltd")


def test_evaluate_scores_fields_types_and_compliance(truth_dir, engine, scripted):
    report = evaluate(truth_dir, engine=engine, prompt_style="key_value", progress=False)
    assert report.documents == 3 and report.errors == 1
    assert report.truth_styles == {"sroie": 1, "fields": 2}
    f = report.fields
    assert (f["supplier_name"].present, f["supplier_name"].correct) == (3, 2)  # top failed
    assert (f["supplier_address"].correct, f["supplier_address"].soft_correct) == (0, 1)
    assert (f["date"].present, f["date"].correct) == (3, 2)
    assert (f["total"].present, f["total"].correct) == (3, 2)
    assert (f["gst"].present, f["gst"].correct) == (1, 0)
    assert (f["supplier_abn"].correct, f["tax_invoice_label"].correct, f["gst_included_statement"].correct) == (1, 1, 1)
    assert (f["buyer_name"].present, f["buyer_name"].absent, f["buyer_name"].spurious) == (0, 1, 1)
    assert "items" not in f
    assert report.present == 3 + 1 + 3 + 3 + 1 + 1 + 1 + 1 + 1  # name, address, date, total, gst, abn, subtotal, 2 flags
    assert report.correct == 2 + 0 + 2 + 2 + 0 + 1 + 1 + 1 + 1
    assert (report.document_type_present, report.document_type_correct) == (1, 1)
    assert (report.compliance_documents, report.compliance_exact) == (1, 1)  # missing_elements compared as a set
    assert report.mean_seconds == 3.0
    assert [d["file"] for d in report.details] == ["ours.png", "sroie.png", "top.png"]  # input order


def test_compliance_disagreement_is_not_exact(truth_dir, engine, scripted):
    wrong = PREDICTIONS["ours"].model_copy(deep=True)
    wrong.compliance["missing_elements"] = ["buyer_identity"]
    PREDICTIONS_BACKUP = PREDICTIONS["ours"]
    PREDICTIONS["ours"] = wrong
    try:
        report = evaluate(truth_dir, engine=engine, progress=False)
    finally:
        PREDICTIONS["ours"] = PREDICTIONS_BACKUP
    assert report.compliance_exact == 0
    assert report.compliance_keys["missing_elements"] == [0, 1] and report.compliance_keys["abn_valid"] == [1, 1]


def test_report_json_and_table(truth_dir, engine, scripted):
    report = evaluate(truth_dir, engine=engine, progress=False)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["fields"]["total"] == {"present": 3, "correct": 2, "accuracy": 0.6667, "soft_correct": None,
                                       "soft_accuracy": None, "absent": 0, "spurious": 0}
    assert data["fields"]["supplier_address"]["soft_accuracy"] == 1.0
    assert data["compliance"]["exact_rate"] == 1.0 and data["document_type"]["accuracy"] == 1.0
    assert "exact match after normalisation" in data["method"]
    assert "details" not in report.to_dict(details=False)
    table = report.format_table()
    assert "supplier_name" in table and "66.7%" in table and "failed: top.png: engine exploded" in table
    assert "buyer_name" in table  # never present, but invented once: shown
    assert "bsb" in data["fields"] and "bsb" not in table  # neither present nor invented: only in the JSON


def test_limit_takes_the_first_documents(truth_dir, engine, scripted):
    report = evaluate(truth_dir, engine=engine, limit=2, progress=False)
    assert report.documents == 2 and sorted(scripted) == ["ours", "sroie"]


def test_sroie_labels_all_normalise(sroie_dir):
    """Every real SROIE label maps to our fields and its date and total normalise."""
    for truth_file in sorted(sroie_dir.glob("*.json")):
        truth = load_truth(truth_file)
        assert truth.style == "sroie"
        assert normalise_for_comparison("date", truth.fields["date"]), truth_file.name
        assert normalise_for_comparison("total", truth.fields["total"]), truth_file.name


def test_real_pipeline_with_fake_engine(tmp_path):
    for module in ("llama_vision.prompts", "llama_vision.parsing", "llama_vision.compliance"):
        pytest.importorskip(module)
    folder = tmp_path / "truth"
    write_pair(folder, "a", {"fields": {"supplier_name": "Acme Hardware Pty Ltd", "total": "110.00"}})
    engine = FakeEngine(fake_settings(tmp_path), responder=lambda prompt: (
        "SUPPLIER_NAME: Acme Hardware Pty Ltd\nTOTAL: $110.00\nGST: $10.00\n"))
    report = evaluate(folder, engine=engine, prompt_style="key_value", progress=False)
    assert report.documents == 1 and report.errors == 0, report.details
    assert report.fields["total"].correct == 1


def test_letters_digits_is_a_secondary_verdict_beside_the_exact_one():
    truth = Truth(fields={"supplier_name": "POPULAR BOOK CO. (M) SDN BHD", "total": "5.00"}, style="sroie")
    result = Result(file="a.png", engine="ocr", prompt="rules",
                    fields={"supplier_name": "Popular Book Co (M) Sdn. Bhd.", "total": "5.00"})
    scored = score_result(result, truth)["fields"]
    assert scored["supplier_name"]["correct"] is False and scored["supplier_name"]["letters_digits"] is True
    assert "letters_digits" not in scored["total"]  # text fields only
    assert letters_and_digits("Sdn. Bhd. (M) 56000") == "sdnbhdm56000"
    failed = score_result(Result.failed("a.png", "ocr", "rules", "boom"), truth)["fields"]
    assert failed["supplier_name"]["letters_digits"] is False

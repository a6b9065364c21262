"""The ground-truth dataset corrections are saved into (issue K part 3): files, names, no
overwriting, the listing, the setting, and `evaluate` scoring a saved document."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from llama_vision import dataset, pipeline, schema
from llama_vision.config import load_settings
from llama_vision.documents import load_pages
from llama_vision.engines import create_engine
from llama_vision.errors import ConfigError, DatasetError, DocumentExistsError
from llama_vision.evaluation import evaluate, load_truth, score_result
from llama_vision.names import file_stem
from llama_vision.result import Result
from llama_vision.ui.corrections import editable_text
from tests.fakes import FakeEngine, fake_settings
from tests.ui_helpers import SAMPLES

NO_ABN = SAMPLES / "no_abn_hardware_receipt.jpg"
ABN = "51 824 753 556"


def _page() -> Image.Image:
    return Image.new("RGB", (60, 40), (250, 250, 250))


def _fields(**values) -> dict:
    return {"supplier_name": "Cafe Uno", "total": "$12.50", "date": "3 March 2024", **values}


# -- saving ---------------------------------------------------------------------------------------


def test_save_writes_a_png_and_the_evaluate_truth(tmp_path):
    truth_path = dataset.save(tmp_path, _page(), _fields(supplier_abn=ABN), "receipt", source="/uploads/IMG 7.jpg",
                              compliance={"verdict": "not_required", "abn_valid": True, "score": 90, "checks": []},
                              engine="ocr", corrected=["supplier_abn"])
    assert truth_path == tmp_path / "IMG_7.json"
    assert Image.open(tmp_path / "IMG_7.png").size == (60, 40)
    truth = load_truth(truth_path)
    assert truth.style == "fields" and truth.document_type == "receipt"
    assert truth.fields["total"] == "12.50" and truth.fields["date"] == "03/03/2024"
    assert truth.fields["supplier_abn"] == "51824753556"
    assert truth.fields["buyer_name"] is None and set(truth.fields) == set(schema.ALL_FIELDS)
    assert truth.compliance == {"verdict": "not_required", "abn_valid": True}  # no score, no checks
    record = json.loads(truth_path.read_text())
    assert record["correction"]["source"] == "IMG 7.jpg"  # the name only, never the server's folder
    assert record["correction"]["fields"] == ["supplier_abn"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "..\\x", "..", "/etc/passwd"])
def test_a_name_that_leaves_the_folder_is_refused(tmp_path, name):
    folder = tmp_path / "dataset"
    with pytest.raises(DatasetError, match="points into another folder"):
        dataset.save(folder, _page(), _fields(), "receipt", name=name)
    assert not (tmp_path / "escape.json").exists() and not folder.exists()


def test_names_are_sanitised(tmp_path):
    assert dataset.save(tmp_path, _page(), _fields(), "receipt", name="Coles receipt (March)").name == \
        "Coles_receipt_March.json"
    assert dataset.save(tmp_path, _page(), _fields(), "receipt", name="cafe.jpg").name == "cafe.json"
    assert dataset.document_name("\x1b[31mred\u202e") == "31mred"
    assert file_stem("CON") == "_CON" and file_stem(".hidden") == "hidden"
    with pytest.raises(DatasetError, match="no letters or digits"):
        dataset.save(tmp_path, _page(), _fields(), "receipt", name="🙂🙂")


def test_nothing_is_overwritten_without_asking(tmp_path):
    dataset.save(tmp_path, _page(), _fields(total="10.00"), "receipt", name="cafe")
    with pytest.raises(DocumentExistsError, match="Replace the existing one"):
        dataset.save(tmp_path, _page(), _fields(total="99.00"), "receipt", name="cafe")
    assert load_truth(tmp_path / "cafe.json").fields["total"] == "10.00"
    dataset.save(tmp_path, _page(), _fields(total="99.00"), "receipt", name="cafe", overwrite=True)
    assert load_truth(tmp_path / "cafe.json").fields["total"] == "99.00"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cafe.json", "cafe.png"]  # no temporary left


def test_a_same_named_document_of_another_format_counts_and_is_replaced(tmp_path):
    _page().save(tmp_path / "scan.jpg")
    with pytest.raises(DocumentExistsError):
        dataset.save(tmp_path, _page(), _fields(), "receipt", name="scan")
    dataset.save(tmp_path, _page(), _fields(), "receipt", name="scan", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.json", "scan.png"]  # one image per truth


def test_a_link_in_the_folder_is_not_written_through(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    folder = tmp_path / "dataset"
    folder.mkdir()
    os.symlink(outside, folder / "cafe.json")
    with pytest.raises(DatasetError, match="link"):
        dataset.save(folder, _page(), _fields(), "receipt", name="cafe", overwrite=True)
    assert outside.read_text() == "{}"


def test_saving_off_says_how_to_turn_it_on():
    with pytest.raises(DatasetError, match="LLAMA_VISION_DATASET_DIR"):
        dataset.save(None, _page(), _fields(), "receipt", name="cafe")


def test_unknown_document_type_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="Unknown document type"):
        dataset.save(tmp_path, _page(), _fields(), "menu", name="cafe")


# -- listing --------------------------------------------------------------------------------------


def test_list_documents_newest_first(tmp_path):
    assert dataset.list_documents(tmp_path / "not-yet") == [] and dataset.list_documents(tmp_path) == []
    assert dataset.list_documents(None) == []
    dataset.save(tmp_path, _page(), _fields(), "receipt", name="old", compliance={"verdict": "compliant"})
    os.utime(tmp_path / "old.json", (1_000_000_000, 1_000_000_000))
    dataset.save(tmp_path, _page(), _fields(), "tax_invoice", name="new")
    (tmp_path / "orphan.png").write_bytes(b"")  # no truth: not a labelled document
    listed = dataset.list_documents(tmp_path)
    assert [(d.name, d.document_type, d.verdict) for d in listed] == [("new", "tax_invoice", None),
                                                                      ("old", "receipt", "compliant")]


# -- the setting -------------------------------------------------------------------------------------


def test_dataset_dir_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert load_settings(env_file=None).dataset_dir == tmp_path / "data" / "llama_vision" / "dataset"
    assert load_settings(env_file=None, dataset_dir="").dataset_dir == tmp_path / "data" / "llama_vision" / "dataset"
    assert load_settings(env_file=None, dataset_dir="off").dataset_dir is None
    assert load_settings(env_file=None, dataset_dir=str(tmp_path / "mine")).dataset_dir == tmp_path / "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="LLAMA_VISION_DATASET_DIR=.*a file, not a folder"):
        load_settings(env_file=None, dataset_dir=str(tmp_path / "file"))


# -- evaluate scores what was saved -----------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The no-ABN receipt read by OCR, its ABN added by hand, saved: (folder, settings, corrected)."""
    root = tmp_path_factory.mktemp("saved")
    settings = fake_settings(root, dataset_dir=str(root / "dataset"))
    read = pipeline.extract(NO_ABN, engine=create_engine(settings), page=0).to_dict()
    corrected = pipeline.reassess(read, {"supplier_abn": ABN}, settings=settings)
    assert corrected["compliance"]["verdict"] == "compliant" != read["compliance"]["verdict"]
    dataset.save(settings.dataset_dir, load_pages(NO_ABN, settings=settings)[0], corrected["fields"],
                 corrected["document_type"], source=NO_ABN.name, compliance=corrected["compliance"],
                 engine="ocr", corrected=pipeline.changed_fields(read, corrected))
    return settings.dataset_dir, settings, corrected


def test_the_corrected_result_scores_100_percent_against_its_saved_truth(saved):
    folder, _settings, corrected = saved
    scored = score_result(Result.model_validate(corrected), load_truth(folder / "no_abn_hardware_receipt.json"))
    present = {n: f for n, f in scored["fields"].items() if not f["absent"]}
    assert present and all(f["correct"] for f in present.values()), present
    assert not any(f.get("spurious") for f in scored["fields"].values())
    assert scored["compliance"]["exact"] and scored["compliance"]["agreement"]["verdict"]
    assert scored["document_type"]["correct"]


def _answer_with(fields: dict, document_type: str):
    """A prompt-following engine that reads the corrected values (as the table showed them)."""
    text = "\n".join(f"{n.upper()}: {editable_text(n, fields.get(n)) or 'NOT_FOUND'}" for n in schema.ALL_FIELDS)
    return lambda prompt: document_type if prompt.lower().startswith("what kind of document") else text


def test_evaluate_on_the_saved_folder_scores_an_engine_that_reads_the_corrections_100_percent(saved):
    folder, settings, corrected = saved
    engine = FakeEngine(settings, responder=_answer_with(corrected["fields"], corrected["document_type"]))
    report = evaluate(folder, engine=engine, progress=False).to_dict(details=True)
    assert report["documents"] == 1 and report["errors"] == 0
    assert report["accuracy"] == 1.0, report["details"]
    assert report["document_type"]["accuracy"] == 1.0
    assert report["compliance"]["exact_rate"] == 1.0 and report["compliance"]["keys"]["verdict"]["accuracy"] == 1.0


def test_evaluate_with_ocr_scores_the_correction_as_the_truth(saved):
    """OCR reads the page as before: every field agrees except the ABN the page does not print."""
    folder, settings, _corrected = saved
    report = evaluate(folder, engine=create_engine(settings), progress=False).to_dict(details=True)
    fields = report["details"][0]["fields"]
    wrong = {n: (f["expected"], f["got"]) for n, f in fields.items() if not f["absent"] and not f["correct"]}
    assert wrong == {"supplier_abn": ("51824753556", None)}
    assert report["details"][0]["compliance"]["agreement"]["verdict"] is False  # truth compliant, OCR not

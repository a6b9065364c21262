"""The corrections accordion's handlers, without a browser (llama_vision/ui/corrections.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from llama_vision import pipeline
from llama_vision.engines import create_engine
from llama_vision.errors import LlamaVisionError
from llama_vision.evaluation import load_truth
from llama_vision.result import Result
from llama_vision.ui import corrections
from tests.fakes import fake_settings
from tests.ui_helpers import SAMPLES

NO_ABN = SAMPLES / "no_abn_hardware_receipt.jpg"


@pytest.fixture(scope="module")
def read() -> dict:
    settings = fake_settings(SAMPLES)
    return pipeline.extract(NO_ABN, engine=create_engine(settings), page=0, file_name=NO_ABN.name).to_dict()


@pytest.fixture
def settings(tmp_path):
    return fake_settings(tmp_path, dataset_dir=str(tmp_path / "dataset"))


@pytest.fixture
def captured(read) -> dict:
    kept = corrections.capture(read, {"path": str(NO_ABN)}, 1)
    assert kept == {"result": read, "path": str(NO_ABN), "page": 0}
    return kept


def _edit(table: pd.DataFrame, label: str, value: str) -> pd.DataFrame:
    table = table.copy()
    assert label in set(table["Field"]), label
    table.loc[table["Field"] == label, "Value"] = value
    return table


def test_the_table_shows_editable_text_and_reads_back_unchanged(read):
    table = corrections.table_of(read)
    rows = dict(table.values.tolist())
    assert rows["Total"] == "287.40" and rows["Supplier ABN"] == "" and rows['Says "tax invoice"'] == "yes"
    assert rows["Items"].startswith("Wheelbarrow | 2 | 119.00 | 238.00; ")
    assert corrections.corrections_of(table, read) == {}  # untouched: nothing is a correction
    assert corrections.table_of(None).empty and corrections.table_of({"status": "error"}).empty


def test_an_edit_recomputes_the_verdict(read, captured, settings):
    table = _edit(corrections.table_of(read), "Supplier ABN", "51 824 753 556")
    assert corrections.corrections_of(table, read) == {"supplier_abn": "51 824 753 556"}
    corrected = corrections.recheck(settings, captured, table, None)
    assert (read["compliance"]["verdict"], corrected["compliance"]["verdict"]) == ("non_compliant", "compliant")
    assert corrections.note_of(read, corrected) == "Corrected: Supplier ABN. Verdict now: **Compliant**."
    # the API sends {"headers", "data"}: the same rows read the same
    as_api = {"headers": corrections.COLUMNS, "data": table.values.tolist()}
    assert corrections.recheck(settings, captured, as_api, None) == corrected


def test_a_renamed_field_row_is_refused_not_dropped(read, captured, settings):
    table = corrections.table_of(read)
    table.loc[0, "Field"] = "Colour"
    with pytest.raises(LlamaVisionError, match="'Colour' is not a field"):
        corrections.recheck(settings, captured, table, None)


def test_save_asks_before_replacing(read, captured, settings):
    table = _edit(corrections.table_of(read), "Supplier ABN", "51 824 753 556")
    message, ask = corrections.save_document(settings, captured, table, "receipt", "", False)
    assert not ask and "Saved **no_abn_hardware_receipt**" in message and "(1 documents)" in message
    truth = load_truth(settings.dataset_dir / "no_abn_hardware_receipt.json")
    assert truth.fields["supplier_abn"] == "51824753556" and truth.compliance["verdict"] == "compliant"
    again = _edit(table, "Total", "290.00")
    message, ask = corrections.save_document(settings, captured, again, "receipt", "", False)
    assert ask and "already has a document named 'no_abn_hardware_receipt'" in message
    assert load_truth(settings.dataset_dir / "no_abn_hardware_receipt.json").fields["total"] == "287.40"
    message, ask = corrections.save_document(settings, captured, again, "receipt", "", True)
    assert not ask and load_truth(settings.dataset_dir / "no_abn_hardware_receipt.json").fields["total"] == "290.00"
    frame = corrections.dataset_frame(settings.dataset_dir)
    assert frame.values.tolist()[0][:3] == ["no_abn_hardware_receipt", "Receipt", "Needs review"]  # 290 != lines


def test_saving_off_and_nothing_extracted(read, captured, tmp_path):
    off = fake_settings(tmp_path, dataset_dir="off")
    with pytest.raises(LlamaVisionError, match="LLAMA_VISION_DATASET_DIR"):
        corrections.save_document(off, captured, corrections.table_of(read), None, "x", False)
    assert "Saving is off" in corrections.folder_note(None)
    with pytest.raises(LlamaVisionError, match="Extract a document first"):
        corrections.recheck(off, None, corrections.table_of(read), None)
    failed = Result.failed("x.png", "ocr", "rules", "broken").to_dict()
    assert corrections.capture(failed, {"path": "x.png"}, 1) is None
    assert corrections.capture(read, None, 1) is None


def test_the_type_changes_the_rows(read, captured, settings):
    corrected = corrections.recheck(settings, captured, corrections.table_of(read), "fuel_receipt")
    labels = set(corrections.table_of(corrected)["Field"])
    assert {"Litres", "Fuel type"} <= labels

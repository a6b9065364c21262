"""The one schema (llama_vision.schema) and every consumer that must read it: normalisation, the
parser's synonyms, the batch columns, the UI labels, the prompts, evaluation, compliance, and the
lists of document types, prompt styles, engine names and document extensions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

from llama_vision import schema
from llama_vision.fields import empty_fields, normalise_fields, normalise_value
from llama_vision.parsing import canonical_field, parse_output
from llama_vision.prompts import load_prompt_library
from llama_vision.results_table import BOOL_COLUMNS, COLUMNS, NUMBER_TEXT_COLUMNS, TEXT_COLUMNS
from llama_vision.ui import views

REPO = Path(__file__).resolve().parents[1]
NAMES = schema.ALL_FIELDS

# One printed value per kind and what it normalises to.
SAMPLES = {
    "text": ("  Cafe   Roma ", "Cafe Roma"), "money": ("$1,234.5", "1234.50"), "litre_price": ("189.9 c/L", "1.899"),
    "number": ("45.20 L", "45.20"), "date": ("15 Mar 2024", "15/03/2024"), "abn": ("51 824 753 556", "51824753556"),
    "bsb": ("062 000", "062-000"), "bool": ("yes", True),
    "items": ("Coffee | 4.50", [{"description": "Coffee", "quantity": None, "unit_price": None, "amount": "4.50"}]),
}


def test_every_field_is_stated_once_with_a_known_kind_and_document_type() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(schema.FIELDS)
    assert set(schema.KINDS) == set(SAMPLES)
    for field in schema.FIELDS:
        assert field.kind in schema.KINDS, field.name
        assert field.document_types and set(field.document_types) <= set(schema.DOCUMENT_TYPES), field.name
        assert field.label and field.label != field.name, field.name
    assert NAMES == schema.COMMON_FIELDS + schema.FUEL_FIELDS + schema.BANK_FIELDS
    assert schema.FUEL_FIELDS == ("fuel_type", "litres", "price_per_litre")
    assert schema.BANK_FIELDS[0] == "bsb" and "items" in schema.COMMON_FIELDS


@pytest.mark.parametrize("name", NAMES)
def test_every_field_normalises_by_its_kind(name: str) -> None:
    raw, expected = SAMPLES[schema.kind_of(name)]
    assert normalise_value(name, raw) == expected
    fields, warnings = normalise_fields({name: raw})
    assert fields[name] == expected and warnings == []
    assert name in empty_fields()


@pytest.mark.parametrize("name", NAMES)
def test_every_field_reaches_the_parser(name: str) -> None:
    assert canonical_field(name) == name
    assert canonical_field(name.upper()) == name
    assert canonical_field(name.replace("_", " ").title()) == name
    field = next(f for f in schema.FIELDS if f.name == name)
    for synonym in field.synonyms:
        assert canonical_field(synonym) == name, synonym
    if name != "items":
        raw, expected = SAMPLES[field.kind]
        fields, _ = normalise_fields(parse_output(f"{name.upper()}: {raw}", "key_value").fields)
        assert fields[name] == expected


def test_no_synonym_belongs_to_two_fields_or_shadows_a_field_name() -> None:
    owners: dict[str, str] = {}
    for field in schema.FIELDS:
        for synonym in field.synonyms:
            assert synonym not in owners, (synonym, owners.get(synonym), field.name)
            assert synonym not in NAMES, synonym
            owners[synonym] = field.name


@pytest.mark.parametrize("name", NAMES)
def test_every_field_reaches_the_batch_columns_with_its_kind(name: str) -> None:
    assert name in COLUMNS
    kind = schema.kind_of(name)
    if kind == "bool":
        assert name in BOOL_COLUMNS
    elif kind in ("money", "litre_price", "number"):
        assert name in NUMBER_TEXT_COLUMNS  # "12.30" never becomes 12.3
    else:
        assert name in TEXT_COLUMNS


@pytest.mark.parametrize("name", NAMES)
def test_every_field_reaches_the_ui_labels_and_its_document_pages(name: str) -> None:
    field = next(f for f in schema.FIELDS if f.name == name)
    assert views.field_label(name) == field.label
    for document_type in schema.DOCUMENT_TYPES:
        shown = name in views.fields_for(document_type)
        assert shown is (document_type in field.document_types and name != "items"), (name, document_type)
    labels = [views.field_label(n) for n in NAMES]
    assert len(set(labels)) == len(labels)


def test_money_and_abn_are_shown_by_kind() -> None:
    for name in schema.fields_of_kind("money"):
        assert views.show_value(name, "12.30") == "$12.30"
    for name in schema.ABN_FIELDS:
        assert views.show_value(name, "51824753556") == "51 824 753 556"
    assert views.show_value("price_per_litre", "1.899") == "1.899"


def test_a_field_with_a_value_is_shown_even_off_its_document_type() -> None:
    frame = views.fields_frame({"document_type": "receipt", "fields": {"buyer_name": "Jane", "bsb": "062-000"}})
    rows = dict(zip(frame["Field"], frame["Value"]))
    assert rows["Buyer"] == "Jane" and rows["BSB"] == "062-000"
    assert "Buyer ABN" not in rows  # not asked on a receipt and empty


def test_every_field_reaches_the_prompts() -> None:
    library = load_prompt_library()
    for document_type in schema.DOCUMENT_TYPES:
        keys = library.keys_for(document_type)
        assert tuple(keys) == schema.fields_for(document_type)
        for name, key in keys.items():
            assert canonical_field(key) == name


def test_evaluation_compares_only_text_fields_as_text() -> None:
    from llama_vision.evaluation import TEXT_FIELDS

    assert set(TEXT_FIELDS) == schema.fields_of_kind("text") == schema.TEXT_FIELDS


def test_item_keys_and_aliases() -> None:
    assert schema.ITEM_KEYS == ("description", "quantity", "unit_price", "amount")
    assert all(schema.ITEM_ALIASES[key] == key for key in schema.ITEM_KEYS)
    frame = views.items_frame({"fields": {"items": [{"description": "Tea", "amount": "4.00"}]}})
    assert list(frame.columns) == ["Description", "Quantity", "Unit price", "Amount"]
    # A table whose header uses aliases is read by them.
    answer = "ITEMS:\n| Item | Qty | Each | Line total |\n| Tea | 2 | 2.00 | 4.00 |"
    items = normalise_fields(parse_output(answer, "key_value").fields)[0]["items"]
    assert items == [{"description": "Tea", "quantity": "2", "unit_price": "2.00", "amount": "4.00"}]


def test_compliance_elements_and_their_labels_come_from_the_schema() -> None:
    from llama_vision.compliance import ELEMENTS, check_compliance

    assert ELEMENTS == schema.ELEMENTS == (
        "tax_invoice_label", "supplier_identity", "supplier_abn", "issue_date", "item_description",
        "gst_amount", "buyer_identity")
    assert set(schema.ELEMENT_LABELS) == set(schema.ELEMENT_MISSING) == set(ELEMENTS)
    for name in ELEMENTS:
        assert views.check_label(name) == schema.ELEMENT_LABELS[name]
    result = check_compliance({"total": "110.00", "gst": "10.00"}, "tax_invoice")
    html = views.compliance_html({"status": "ok", "compliance": result})
    for name in result["missing_elements"]:
        assert views.esc(schema.ELEMENT_MISSING[name]) in html
        assert schema.ELEMENT_MISSING[name] in result["summary"]


def test_document_types_prompt_styles_and_engines_are_stated_once() -> None:
    from llama_vision import cli, config, engines, pipeline, result

    assert result.DOCUMENT_TYPES is schema.DOCUMENT_TYPES
    assert set(schema.DOCUMENT_LABELS) == set(schema.DOCUMENT_WORDS) == set(schema.DOCUMENT_TYPES)
    assert views.document_label("fuel_receipt") == "Fuel receipt"
    assert pipeline.PROMPT_STYLES is schema.PROMPT_STYLES == ("key_value", "json", "field_specific")
    assert engines.ENGINE_NAMES is schema.ENGINE_NAMES == ("llama", "openai", "ocr")
    assert typing.get_args(config.Settings.model_fields["engine"].annotation) == schema.ENGINE_CHOICES
    parser = cli.build_parser()
    extract = next(a for a in parser._subparsers._group_actions[0].choices["extract"]._actions  # noqa: SLF001
                   if "--engine" in a.option_strings)
    assert tuple(extract.choices) == schema.ENGINE_CHOICES


def test_document_extensions_are_stated_once() -> None:
    from llama_vision import documents
    from llama_vision.ui import common

    assert schema.DOCUMENT_EXTENSIONS == (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".pdf")
    assert documents.DOCUMENT_EXTENSIONS is schema.DOCUMENT_EXTENSIONS
    assert common.FILE_TYPES == list(schema.DOCUMENT_EXTENSIONS)
    assert documents.SUPPORTED_TYPES == "JPEG, PNG, WebP, TIFF, BMP, GIF or PDF"


def test_schema_is_the_bottom_layer_and_imports_nothing_heavy() -> None:
    code = ("import sys, llama_vision.schema; "
            "print([m for m in sys.modules if m.split('.')[0] in ('llama_vision', 'pydantic', 'yaml', 'pandas', "
            "'numpy', 'PIL', 'dateutil', 'stdnum', 'torch', 'gradio')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(out.stdout.replace("'", '"')) == ["llama_vision", "llama_vision.schema"]


# What a contributor adds for a new field: one entry in schema.FIELDS and its prompt text.
_NEW_FIELD = '    Field("due_date", "date", "Due date", _INVOICES, ("payment_due", "date_due")),\n'
_NEW_PROMPT = """  due_date:
    key: DUE_DATE
    describe: the date payment is due, exactly as printed
    question: By what date must this invoice be paid? Copy it exactly as printed.
"""
_ADD_A_FIELD = """
import importlib.util, sys
from pathlib import Path

source = Path("llama_vision/schema.py").read_text()
marker = "    # -- fuel receipts\\n"
assert marker in source
spec = importlib.util.spec_from_loader("llama_vision.schema", loader=None)
module = importlib.util.module_from_spec(spec)
module.__file__ = "llama_vision/schema.py"
sys.modules["llama_vision.schema"] = module
exec(compile(source.replace(marker, NEW_FIELD + marker), "schema.py", "exec"), module.__dict__)

from llama_vision.fields import empty_fields, normalise_fields
from llama_vision.parsing import canonical_field, parse_output
from llama_vision.prompts import load_prompt_library
from llama_vision.results_table import COLUMNS, TEXT_COLUMNS
from llama_vision.evaluation import TEXT_FIELDS
from llama_vision.ui import views

assert "due_date" in empty_fields()
assert canonical_field("PAYMENT_DUE") == "due_date"
fields, warnings = normalise_fields(parse_output("TOTAL: 5.00\\nDATE_DUE: 1 Apr 2024", "key_value").fields)
assert fields["due_date"] == "01/04/2024" and warnings == [], (fields, warnings)
assert "due_date" in COLUMNS and "due_date" in TEXT_COLUMNS
assert "due_date" not in TEXT_FIELDS  # a date compares as a date, not as text
assert views.field_label("due_date") == "Due date"
assert "due_date" in views.fields_for("tax_invoice") and "due_date" not in views.fields_for("receipt")
library = load_prompt_library(sys.argv[1])
assert library.keys_for("tax_invoice")["due_date"] == "DUE_DATE"
assert "\\nDUE_DATE: <" in library.prompt("key_value", "tax_invoice").text
assert "due_date" in library.field_questions("tax_invoice")
print("reached every consumer")
"""


def test_adding_a_field_is_one_schema_entry_plus_prompt_text(tmp_path: Path) -> None:
    import shutil

    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "llama_vision" / "prompts_data", prompts)
    fields_yaml = prompts / "fields.yaml"
    fields_yaml.write_text(fields_yaml.read_text().replace("  fuel_type:\n", _NEW_PROMPT + "  fuel_type:\n", 1))
    code = f"NEW_FIELD = {_NEW_FIELD!r}\n" + textwrap.dedent(_ADD_A_FIELD)
    out = subprocess.run([sys.executable, "-c", code, str(prompts)], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "reached every consumer" in out.stdout

"""The YAML prompt library (llama_vision.prompts): loading, validation, rendering, overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llama_vision import schema
from llama_vision.errors import PromptError
from llama_vision.fields import ALL_FIELDS
from llama_vision.parsing import canonical_field, parse_output
from llama_vision.prompts import REQUIRED_STYLES, Prompt, default_prompts_folder, load_prompt_library
from llama_vision.result import DOCUMENT_TYPES

REPO_PROMPTS = Path(__file__).resolve().parents[1] / "llama_vision" / "prompts_data"


@pytest.fixture
def library():
    return load_prompt_library()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the repository's prompts to break."""
    target = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, target)
    return target


def test_default_folder_is_the_packaged_prompts() -> None:
    assert default_prompts_folder() == REPO_PROMPTS
    assert load_prompt_library(REPO_PROMPTS).styles == load_prompt_library().styles


def test_every_style_and_document_type_renders(library) -> None:
    assert set(REQUIRED_STYLES) <= set(library.styles)
    for style in ("key_value", "json", "fallback"):
        for document_type in DOCUMENT_TYPES:
            prompt = library.prompt(style, document_type)
            assert isinstance(prompt, Prompt)
            assert prompt.key == f"{style}/{document_type}"
            assert "{" + "keys}" not in prompt.text and "{json_keys}" not in prompt.text
            assert "{document}" not in prompt.text
    assert library.prompt("json", "receipt").output_style == "json"
    assert library.prompt("key_value", "receipt").output_style == "key_value"
    assert library.fallback.output_style in ("key_value", "json")
    assert library.classification.output_style == "classification"
    assert library.prompt("field_specific").output_style == "field"


def test_key_value_prompt_lists_keys_the_parser_reads_back(library) -> None:
    for document_type in DOCUMENT_TYPES:
        text = library.prompt("key_value", document_type).text
        assert "NOT_FOUND" in text
        assert "guess" in text.lower()
        for name, key in library.keys_for(document_type).items():
            assert f"\n{key}: <" in text
            assert canonical_field(key) == name
    receipt = library.prompt("key_value", "receipt").text
    assert "TOTAL: <" in receipt and "SUBTOTAL: <" in receipt and "BSB" not in receipt
    bank = library.prompt("key_value", "bank_statement").text
    assert "BSB: <" in bank and "CLOSING_BALANCE: <" in bank and "TAX_INVOICE_LABEL" not in bank
    fuel = library.prompt("key_value", "fuel_receipt").text
    assert "LITRES: <" in fuel and "PRICE_PER_LITRE: <" in fuel
    invoice = library.prompt("key_value", "tax_invoice").text
    assert "BUYER_ABN: <" in invoice and "BUYER_ABN" not in receipt


def test_a_model_that_echoes_the_template_parses(library) -> None:
    """Filling the KEY: lines the prompt asks for gives an answer the parser accepts."""
    text = library.prompt("key_value", "tax_invoice").text
    lines = [line.split(": <")[0] + ": NOT_FOUND" for line in text.splitlines() if ": <" in line]
    outcome = parse_output("\n".join(lines), "key_value")
    assert outcome.ok
    assert set(outcome.fields) == set(library.keys_for("tax_invoice")) - {"items"}


def test_json_prompt_has_a_parseable_skeleton(library) -> None:
    text = library.prompt("json", "receipt").text
    outcome = parse_output(text[text.index("{"): text.rindex("}") + 1], "json")
    assert outcome.ok
    assert {"supplier_name", "total", "gst", "items"} <= set(outcome.fields)


def test_field_questions_one_line_per_field(library) -> None:
    questions = library.field_questions("receipt")
    assert list(questions) == list(library.keys_for("receipt"))
    for name, question in questions.items():
        assert name in ALL_FIELDS
        assert "\n" not in question and "{question}" not in question
        assert "NOT_FOUND" in question and question.endswith("guess.")
    assert "ABN" in questions["supplier_abn"]
    bank = library.field_questions("bank_statement")
    assert "bank" in bank["supplier_name"].lower() and "bsb" in bank
    assert set(library.field_questions()) == set(library.keys_for("other"))


def test_classification_lists_every_label(library) -> None:
    text = library.classification.text
    for label in DOCUMENT_TYPES:
        assert label in text


def test_fallback_reassures_and_keeps_the_format(library) -> None:
    text = library.fallback.text
    assert "not a photo of a person" in text
    assert "NOT_FOUND" in text and "TOTAL: <" in text


def test_unknown_style_or_type_is_a_prompt_error(library) -> None:
    with pytest.raises(PromptError, match="no prompt style 'nope'"):
        library.prompt("nope", "receipt")
    with pytest.raises(PromptError, match="Unknown document type 'menu'"):
        library.prompt("key_value", "menu")


# -- overrides -------------------------------------------------------------------------------------


def test_with_override_returns_an_edited_copy(library) -> None:
    original = library.prompt("key_value", "receipt").text
    edited = library.with_override("key_value", "Just the total please.\n{keys}")
    assert edited is not library
    assert library.prompt("key_value", "receipt").text == original  # the original is untouched
    text = edited.prompt("key_value", "tax_invoice").text
    assert text.startswith("Just the total please.") and "BUYER_ABN: <" in text
    assert edited.prompt("key_value", "receipt").output_style == "key_value"
    assert load_prompt_library().prompt("key_value", "receipt").text == original  # nothing written


def test_with_override_is_literal_text(library) -> None:
    literal = 'Return {"total": "..."} and {unknown} as written.'
    edited = library.with_override("json", literal)
    assert edited.prompt("json", "receipt").text == literal


def test_with_override_one_document_type(library) -> None:
    edited = library.with_override("key_value", "Receipt only {keys}", document_type="receipt")
    assert edited.prompt("key_value", "receipt").text.startswith("Receipt only")
    assert edited.prompt("key_value", "tax_invoice").text == library.prompt("key_value", "tax_invoice").text


def test_with_override_field_questions_as_the_ui_shows_them(library) -> None:
    shown = "\n".join(f"{name}: {q}" for name, q in library.field_questions("receipt").items())
    edited = library.with_override("field_specific", shown.replace("final total amount", "grand total"))
    assert "grand total" in edited.field_questions("receipt")["total"]
    assert edited.field_questions("receipt")["gst"] == library.field_questions("receipt")["gst"]
    template = library.with_override("field_specific", "Short: {question}")
    assert template.field_questions("receipt")["total"].startswith("Short: What is the final total")
    with pytest.raises(PromptError, match="question"):
        library.with_override("field_specific", "Tell me everything.")
    with pytest.raises(PromptError, match="not 'field: question'"):
        library.with_override("field_specific", "total: What?\nthis line is not a field")


def test_with_override_rejects_empty_text(library) -> None:
    with pytest.raises(PromptError, match="empty"):
        library.with_override("key_value", "   ")


# -- validation ----------------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_unknown_key_names_file_and_key(folder: Path) -> None:
    _edit(folder / "json.yaml", "output_style: json", "output_style: json\ntemperature: 0")
    with pytest.raises(PromptError) as error:
        load_prompt_library(folder)
    assert "json.yaml" in str(error.value) and "'temperature'" in str(error.value)


def test_missing_required_key(folder: Path) -> None:
    _edit(folder / "classification.yaml", "output_style: classification\n", "")
    with pytest.raises(PromptError, match=r"classification\.yaml: required key 'output_style' is missing"):
        load_prompt_library(folder)


def test_missing_placeholder(folder: Path) -> None:
    _edit(folder / "key_value.yaml", "  {keys}\n\n  Rules:", "\n  Rules:")
    with pytest.raises(PromptError, match=r"key_value\.yaml: placeholder \{keys\} is missing in text"):
        load_prompt_library(folder)


def test_missing_placeholder_in_a_variant(folder: Path) -> None:
    _edit(folder / "key_value.yaml", "    {keys}\n\n    Rules:\n    - Copy each value exactly as it is printed. Do not calculate, infer or guess anything.\n    - The seller",
          "\n    Rules:\n    - Copy each value exactly as it is printed. Do not calculate, infer or guess anything.\n    - The seller")
    with pytest.raises(PromptError, match=r"key_value\.yaml: placeholder \{keys\} is missing in variants\.tax_invoice"):
        load_prompt_library(folder)


def test_unknown_placeholder(folder: Path) -> None:
    _edit(folder / "fallback.yaml", "business {document}", "business {doc_type}")
    with pytest.raises(PromptError, match=r"fallback\.yaml: unknown placeholder \{doc_type\} in text"):
        load_prompt_library(folder)


def test_bad_output_style(folder: Path) -> None:
    _edit(folder / "json.yaml", "output_style: json", "output_style: xml")
    with pytest.raises(PromptError, match=r"json\.yaml: key 'output_style' is 'xml'"):
        load_prompt_library(folder)


def test_unknown_variant_document_type(folder: Path) -> None:
    _edit(folder / "json.yaml", "  bank_statement: |", "  menu: |")
    with pytest.raises(PromptError, match=r"json\.yaml: unknown document type 'variants\.menu'"):
        load_prompt_library(folder)


def test_missing_file(folder: Path) -> None:
    (folder / "fallback.yaml").unlink()
    with pytest.raises(PromptError, match="fallback.yaml"):
        load_prompt_library(folder)


def test_invalid_yaml_names_the_line(folder: Path) -> None:
    (folder / "json.yaml").write_text("output_style: json\ntext: [unclosed\n")
    with pytest.raises(PromptError, match=r"json\.yaml: not valid YAML at line"):
        load_prompt_library(folder)


def test_fields_file_validation(folder: Path) -> None:
    path = folder / "fields.yaml"
    original = path.read_text()
    path.write_text(original.replace("  litres:\n    key: LITRES", "  litres:\n    colour: red\n    key: LITRES", 1))
    with pytest.raises(PromptError, match=r"fields\.yaml: unknown key 'colour' in fields\.litres"):
        load_prompt_library(folder)
    path.write_text(original.replace("key: SUBTOTAL", "key: TOTAL", 1))
    with pytest.raises(PromptError, match=r"fields\.subtotal\.key 'TOTAL' would be read back as 'total'"):
        load_prompt_library(folder)
    path.write_text(original.replace("  bsb:\n    key: BSB", "  iban:\n    key: BSB", 1))
    with pytest.raises(PromptError, match=r"fields\.yaml: unknown field 'fields\.iban'"):
        load_prompt_library(folder)
    # Every field the schema asks for on a document type needs its prompt text.
    cut = original.index("  bsb:\n"), original.index("  account_number:\n")
    path.write_text(original[:cut[0]] + original[cut[1]:])
    with pytest.raises(PromptError, match=r"fields\.yaml: field 'bsb' \(asked for on a bank_statement\) has no entry"):
        load_prompt_library(folder)
    # The per-type lists live in the schema; a library that still has its own is told so.
    path.write_text(original + "document_types:\n  bank_statement: [supplier_name, iban]\n")
    with pytest.raises(PromptError, match=r"fields\.yaml: key 'document_types' is no longer read") as error:
        load_prompt_library(folder)
    assert "llama_vision/schema.py" in str(error.value)


def test_document_types_ask_for_the_schema_fields(library) -> None:
    for document_type in DOCUMENT_TYPES:
        assert tuple(library.keys_for(document_type)) == schema.fields_for(document_type)
    assert "buyer_abn" not in library.keys_for("receipt") and "bsb" in library.keys_for("bank_statement")


def test_fallback_must_be_parseable(folder: Path) -> None:
    (folder / "fallback.yaml").write_text("output_style: classification\ntext: 'Labels: {labels}'\n")
    with pytest.raises(PromptError, match="fallback.yaml"):
        load_prompt_library(folder)


def test_extra_styles_load_and_edits_are_picked_up(folder: Path) -> None:
    (folder / "short.yaml").write_text("output_style: key_value\ntext: 'Fields:\n\n  {keys}'\n")
    library = load_prompt_library(folder)
    assert "short" in library.styles
    assert library.prompt("short", "receipt").text.startswith("Fields:")
    _edit(folder / "short.yaml", "Fields:", "Values, please:")
    assert load_prompt_library(folder).prompt("short", "receipt").text.startswith("Values, please:")


def test_missing_folder() -> None:
    with pytest.raises(PromptError, match="does not exist"):
        load_prompt_library("/nonexistent/prompts")


def test_a_library_that_is_not_on_disk_is_an_error_with_a_way_out(monkeypatch, tmp_path: Path) -> None:
    # A zipped install yields a Traversable that is not a folder on disk: say so, do not crash later.
    import zipfile

    from llama_vision import prompts

    archive = tmp_path / "llama_vision.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in REPO_PROMPTS.glob("*.yaml"):
            zipped.write(path, f"prompts_data/{path.name}")
    monkeypatch.setattr(prompts.resources, "files", lambda package: zipfile.Path(archive))
    with pytest.raises(PromptError, match="not found in the installed package") as error:
        default_prompts_folder()
    assert "load_prompt_library(folder)" in error.value.hint

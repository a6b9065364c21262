"""The prompt library: YAML files in `prompts_data/`, validated at load, rendered per document type.

Layout of the folder (each file is data a person can edit without touching code):

- `fields.yaml`: for every field, the KEY the model writes, what to write, and the field-specific
  question. Which fields each document type asks for comes from `llama_vision.schema`.
- one file per prompt style (`key_value.yaml`, `json.yaml`, `field_specific.yaml`,
  `classification.yaml`, `fallback.yaml`, and any others you add): `output_style` (key_value |
  json | field | classification), `text`, optional `description` and `variants` (a full text per
  document type: receipt, tax_invoice, fuel_receipt, bank_statement, other).

Placeholders are filled by plain replacement, so literal braces (a JSON example) need no
escaping: {keys} ("KEY: <what to write>" lines), {json_keys} (a JSON skeleton), {document}
("receipt", "tax invoice"...), {question} (field style) and {labels} (classification). Each
output style requires its own ({keys}, {json_keys}, {question}, {labels}); an unknown key, a
missing required key, an unknown or missing placeholder is a PromptError naming the file and the
key. The folder is `llama_vision/prompts_data/`, package data found with importlib.resources (so
an installed wheel carries it); pass `folder` to load_prompt_library to use another.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from llama_vision.errors import PromptError
from llama_vision.prompt_library import (
    ALLOWED_PLACEHOLDERS,
    PLACEHOLDER,
    FieldSpec,
    Prompt,
    PromptEntry,
    PromptLibrary,
)
from llama_vision.schema import ALL_FIELDS, DOCUMENT_TYPES, PROMPT_STYLES, fields_for

__all__ = [
    "OUTPUT_STYLES",
    "REQUIRED_STYLES",
    "FieldSpec",
    "Prompt",
    "PromptEntry",
    "PromptLibrary",
    "default_prompts_folder",
    "load_prompt_library",
]

OUTPUT_STYLES: tuple[str, ...] = ("key_value", "json", "field", "classification")
REQUIRED_STYLES: tuple[str, ...] = (*PROMPT_STYLES, "classification", "fallback")
FIELDS_FILE = "fields.yaml"
PACKAGE_FOLDER = "prompts_data"  # inside the llama_vision package, so the wheel carries it

_ENTRY_KEYS = frozenset({"output_style", "text", "description", "variants"})
_ENTRY_REQUIRED = ("output_style", "text")
_FIELD_KEYS = frozenset({"key", "describe", "question", "describe_for", "question_for"})
_FIELD_REQUIRED = ("key", "describe", "question")
_FIELDS_FILE_KEYS = frozenset({"fields"})
_REQUIRED_PLACEHOLDER = {"key_value": "keys", "json": "json_keys", "field": "question", "classification": "labels"}


# -- loading -------------------------------------------------------------------------------------


def default_prompts_folder() -> Path:
    """The library shipped as package data, `llama_vision/prompts_data/`; raises PromptError if absent."""
    packaged = resources.files("llama_vision").joinpath(PACKAGE_FOLDER)
    # A normal install (wheel, editable or checkout) is a folder on disk; a zipped one is not, and the
    # loader needs real files to notice edits (mtime), so that case is an error with a way out.
    if isinstance(packaged, Path) and (packaged / FIELDS_FILE).is_file():
        return packaged
    raise PromptError(
        f"The prompt library was not found in the installed package (looked for {packaged}/{FIELDS_FILE}).",
        hint="Reinstall llama-vision from a wheel or a checkout (pip install .), "
             "or pass a folder of YAML prompts to load_prompt_library(folder).",
    )


def load_prompt_library(folder: str | Path | None = None) -> PromptLibrary:
    """Load and validate every YAML file in `folder` (default: the packaged `prompts_data/`)."""
    root = Path(folder) if folder is not None else default_prompts_folder()
    if not root.is_dir():
        raise PromptError(f"The prompt folder {root} does not exist.", hint="Pass an existing folder of YAML prompts.")
    files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _load_cached(str(root.resolve()), signature)


@lru_cache(maxsize=16)
def _load_cached(root: str, signature: tuple[tuple[str, int, int], ...]) -> PromptLibrary:
    # Keyed on every file's mtime and size, so an edited YAML is picked up on the next call.
    return _load(Path(root), [Path(root) / name for name, _, _ in signature])


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None)
        raise PromptError(f"{path.name}: not valid YAML{line}{f' ({problem})' if problem else ''}.",
                          hint="Fix the YAML syntax (indentation; quote text that contains ': ').") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PromptError(f"{path.name}: cannot be read ({error}).", hint="Check the file's permissions and encoding.") from None


def _load(root: Path, files: list[Path]) -> PromptLibrary:
    by_name = {p.stem: p for p in files}
    if "fields" not in by_name:
        raise PromptError(f"{root}: {FIELDS_FILE} is missing.",
                          hint=f"Restore it (the packaged copy is llama_vision/{PACKAGE_FOLDER}/{FIELDS_FILE}).")
    specs, document_fields = _load_fields(by_name.pop("fields"))
    missing = [name for name in REQUIRED_STYLES if name not in by_name]
    if missing:
        raise PromptError(f"{root}: prompt file(s) missing: {', '.join(n + '.yaml' for n in missing)}.",
                          hint="Restore them from the repository; every required style needs its file.")
    entries = {name: _load_entry(name, path) for name, path in by_name.items()}
    if entries["fallback"].output_style not in ("key_value", "json"):
        raise PromptError("fallback.yaml: key 'output_style' must be key_value or json.",
                          hint="The fallback answer is parsed like a KEY-VALUE or JSON answer.")
    return PromptLibrary(entries=MappingProxyType(entries), fields=MappingProxyType(specs),
                         document_fields=MappingProxyType(document_fields), folder=root)


def _load_fields(path: Path) -> tuple[dict[str, FieldSpec], dict[str, tuple[str, ...]]]:
    from llama_vision.parsing import canonical_field

    data = _read_yaml(path)
    name = path.name
    if not isinstance(data, dict):
        raise PromptError(f"{name}: expected a mapping with 'fields'.", hint="See the comments at the top of the file.")
    if "document_types" in data:  # older libraries listed them here; the schema is their one home now
        raise PromptError(f"{name}: key 'document_types' is no longer read.",
                          hint="Remove it: which fields each document type asks for is set in llama_vision/schema.py.")
    _check_keys(name, "the file", data, _FIELDS_FILE_KEYS, tuple(_FIELDS_FILE_KEYS))
    raw_fields = data["fields"]
    if not isinstance(raw_fields, dict):
        raise PromptError(f"{name}: key 'fields' must map field names to their key, describe and question.",
                          hint="See the comments at the top of the file.")
    specs: dict[str, FieldSpec] = {}
    for field_name, spec in raw_fields.items():
        where = f"fields.{field_name}"
        if field_name not in ALL_FIELDS:
            raise PromptError(f"{name}: unknown field {where!r}.", hint=f"Fields are: {', '.join(ALL_FIELDS)}.")
        if not isinstance(spec, dict):
            raise PromptError(f"{name}: {where!r} must be a mapping.", hint="Give it key, describe and question.")
        _check_keys(name, where, spec, _FIELD_KEYS, _FIELD_REQUIRED)
        for key in _FIELD_REQUIRED:
            if not isinstance(spec[key], str) or not spec[key].strip():
                raise PromptError(f"{name}: {where}.{key} must be a non-empty string.", hint="Write the text.")
        if canonical_field(spec["key"]) != field_name:
            raise PromptError(f"{name}: {where}.key {spec['key']!r} would be read back as "
                              f"{canonical_field(spec['key'])!r}, not {field_name!r}.",
                              hint="Use the field's own name in capitals or a synonym the parser knows.")
        per_type = {}
        for extra in ("describe_for", "question_for"):
            value = spec.get(extra) or {}
            if not isinstance(value, dict) or any(k not in DOCUMENT_TYPES or not isinstance(v, str) for k, v in value.items()):
                raise PromptError(f"{name}: {where}.{extra} must map document types to text.",
                                  hint=f"Document types are: {', '.join(DOCUMENT_TYPES)}.")
            per_type[extra] = MappingProxyType(dict(value))
        specs[field_name] = FieldSpec(field_name, spec["key"].strip(), spec["describe"].strip(), spec["question"].strip(),
                                      per_type["describe_for"], per_type["question_for"])
    document_fields = {document_type: fields_for(document_type) for document_type in DOCUMENT_TYPES}
    for document_type, asked in document_fields.items():
        for field_name in asked:
            if field_name not in specs:
                raise PromptError(f"{name}: field {field_name!r} (asked for on a {document_type}) has no entry under 'fields'.",
                                  hint=f"Add fields.{field_name} with its key, describe and question.")
    return specs, document_fields


def _check_keys(file: str, where: str, data: dict, allowed: frozenset[str], required: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise PromptError(f"{file}: unknown key {key!r} in {where}.", hint=f"Allowed keys: {', '.join(sorted(allowed))}.")
    for key in required:
        if key not in data:
            raise PromptError(f"{file}: required key {key!r} is missing in {where}.", hint=f"Add {key!r}.")


def _check_placeholders(file: str, where: str, text: str, output_style: str) -> None:
    used = set(PLACEHOLDER.findall(text))
    unknown = sorted(used - ALLOWED_PLACEHOLDERS[output_style])
    if unknown:
        raise PromptError(f"{file}: unknown placeholder {{{unknown[0]}}} in {where}.",
                          hint=f"A {output_style} prompt may use {', '.join('{' + p + '}' for p in sorted(ALLOWED_PLACEHOLDERS[output_style]))}.")
    required = _REQUIRED_PLACEHOLDER[output_style]
    if required not in used:
        raise PromptError(f"{file}: placeholder {{{required}}} is missing in {where}.",
                          hint=f"A {output_style} prompt must contain {{{required}}} where it goes.")


def _load_entry(name: str, path: Path) -> PromptEntry:
    file = path.name
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise PromptError(f"{file}: expected a mapping with output_style and text.", hint="See key_value.yaml for an example.")
    _check_keys(file, "the file", data, _ENTRY_KEYS, _ENTRY_REQUIRED)
    output_style = data["output_style"]
    if output_style not in OUTPUT_STYLES:
        raise PromptError(f"{file}: key 'output_style' is {output_style!r}.", hint=f"Use one of {', '.join(OUTPUT_STYLES)}.")
    text = data["text"]
    if not isinstance(text, str) or not text.strip():
        raise PromptError(f"{file}: key 'text' must be a non-empty string.", hint="Write the prompt under text: |")
    _check_placeholders(file, "text", text, output_style)
    variants = data.get("variants") or {}
    if not isinstance(variants, dict):
        raise PromptError(f"{file}: key 'variants' must map document types to texts.", hint=f"Use {', '.join(DOCUMENT_TYPES)}.")
    for document_type, variant in variants.items():
        where = f"variants.{document_type}"
        if document_type not in DOCUMENT_TYPES:
            raise PromptError(f"{file}: unknown document type {where!r}.", hint=f"Use {', '.join(DOCUMENT_TYPES)}.")
        if not isinstance(variant, str) or not variant.strip():
            raise PromptError(f"{file}: {where} must be a non-empty string.", hint="Write the variant's full text.")
        _check_placeholders(file, where, variant, output_style)
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise PromptError(f"{file}: key 'description' must be a string.", hint="Describe the prompt in one line.")
    return PromptEntry(name=name, output_style=output_style, text=text, description=description.strip(),
                       variants=MappingProxyType(dict(variants)), source=file)

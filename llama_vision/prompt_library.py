"""The prompt library as data: a rendered Prompt, one YAML entry (PromptEntry), a field's spec, and
the PromptLibrary that renders prompts and field questions per document type. Loading and
validating the YAML files lives in `prompts`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from llama_vision.errors import PromptError
from llama_vision.schema import ALL_FIELDS, BOOL_FIELDS, DOCUMENT_TYPES, DOCUMENT_WORDS, ITEM_KEYS

#: Placeholders each output style may use.
ALLOWED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "key_value": frozenset({"keys", "document"}),
    "json": frozenset({"json_keys", "document"}),
    "field": frozenset({"question", "document"}),
    "classification": frozenset({"labels", "document"}),
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_FALLBACK_TYPE = "other"


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: `key` says where it came from ("key_value/receipt")."""

    key: str
    text: str
    output_style: str


@dataclass(frozen=True)
class PromptEntry:
    """One prompt style as loaded from its YAML file (texts not yet rendered)."""

    name: str
    output_style: str
    text: str
    description: str = ""
    variants: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    literal: bool = False  # an override from the UI: placeholders optional, unknown ones left as text
    questions: Mapping[str, str] = field(default_factory=dict)  # field style: full question texts from the UI

    def text_for(self, document_type: str) -> str:
        return self.variants.get(document_type, self.text)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    key: str
    describe: str
    question: str
    describe_for: Mapping[str, str] = field(default_factory=dict)
    question_for: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PromptLibrary:
    """All prompts, validated. Immutable: `with_override` returns an edited copy."""

    entries: Mapping[str, PromptEntry]
    fields: Mapping[str, FieldSpec]
    document_fields: Mapping[str, tuple[str, ...]]
    folder: Path | None = None

    # -- public API ----------------------------------------------------------------------------
    @property
    def styles(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def prompt(self, style: str, document_type: str | None = None) -> Prompt:
        """The rendered prompt of `style` for `document_type` (default: a generic document).

        For the field style the text keeps its {question} placeholder: use `field_questions`.
        """
        entry = self._entry(style)
        document_type = self._document_type(document_type)
        text = self._render(entry, entry.text_for(document_type), document_type)
        return Prompt(key=f"{style}/{document_type}", text=text, output_style=entry.output_style)

    def field_questions(self, document_type: str | None = None, style: str = "field_specific") -> dict[str, str]:
        """{field: the full question sent to the model} for the fields of `document_type`."""
        entry = self._entry(style)
        document_type = self._document_type(document_type)
        template = entry.text_for(document_type)
        questions: dict[str, str] = {}
        for name in self.document_fields[document_type]:
            if name in entry.questions:  # edited in the UI: sent exactly as typed
                questions[name] = entry.questions[name]
                continue
            spec = self.fields[name]
            question = spec.question_for.get(document_type, spec.question)
            # One line per question, so "field: question" lines can show and edit them all.
            questions[name] = " ".join(self._render(entry, template, document_type, question=question).split())
        return questions

    @property
    def classification(self) -> Prompt:
        return self.prompt("classification")

    @property
    def fallback(self) -> Prompt:
        return self.prompt("fallback", _FALLBACK_TYPE)

    def fallback_for(self, document_type: str | None) -> Prompt:
        return self.prompt("fallback", document_type)

    def keys_for(self, document_type: str | None) -> dict[str, str]:
        """{field: KEY} in the order a KEY-VALUE answer lists them."""
        document_type = self._document_type(document_type)
        return {name: self.fields[name].key for name in self.document_fields[document_type]}

    def with_override(self, style: str, text: str, document_type: str | None = None) -> PromptLibrary:
        """A copy whose `style` uses `text` (for UI experiments; no file is written).

        The text is used as given, for every document type (or only `document_type`); known
        placeholders in it are still filled. For the field style, the text is either a template
        with {question} or "field: question" lines, one per field, as the UI shows them.
        """
        entry = self._entry(style)
        if not isinstance(text, str) or not text.strip():
            raise PromptError(f"The edited {style!r} prompt is empty.", hint="Type a prompt or reset it.")
        questions: dict[str, str] = dict(entry.questions)
        new_text = text
        if entry.output_style == "field" and "{question}" not in text:
            parsed = _question_lines(text, style)
            if parsed is not None:
                questions.update(parsed)  # the template stays for the fields not listed
                new_text = entry.text
                document_type = None
            else:
                raise PromptError(
                    f"The edited {style!r} prompt has neither a {{question}} placeholder nor 'field: question' lines.",
                    hint="Keep {question} where each field's question goes, or write one 'field: question' per line.",
                )
        if new_text is entry.text and questions != dict(entry.questions):
            edited = replace(entry, questions=MappingProxyType(questions), source=f"{entry.source} (edited)")
        elif document_type:
            variants = dict(entry.variants)
            variants[self._document_type(document_type)] = new_text
            edited = replace(entry, variants=MappingProxyType(variants), literal=True,
                             questions=MappingProxyType(questions), source=f"{entry.source} (edited)")
        else:
            edited = replace(entry, text=new_text, variants=MappingProxyType({}), literal=True,
                             questions=MappingProxyType(questions), source=f"{entry.source} (edited)")
        entries = dict(self.entries)
        entries[style] = edited
        return replace(self, entries=MappingProxyType(entries))

    # -- rendering -----------------------------------------------------------------------------
    def _entry(self, style: str) -> PromptEntry:
        try:
            return self.entries[style]
        except (KeyError, TypeError):
            raise PromptError(
                f"There is no prompt style {style!r}.", hint=f"Use one of {', '.join(self.entries)}."
            ) from None

    def _document_type(self, document_type: str | None) -> str:
        if not document_type:
            return _FALLBACK_TYPE
        if document_type not in self.document_fields:
            raise PromptError(f"Unknown document type {document_type!r}.", hint=f"Use one of {', '.join(DOCUMENT_TYPES)}.")
        return document_type

    def _render(self, entry: PromptEntry, text: str, document_type: str, question: str = "{question}") -> str:
        values = {
            "document": DOCUMENT_WORDS.get(document_type, "document"),
            "keys": self._key_lines(document_type),
            "json_keys": self._json_skeleton(document_type),
            "labels": ", ".join(DOCUMENT_TYPES),
            "question": question,
        }
        allowed = ALLOWED_PLACEHOLDERS[entry.output_style]
        return PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in allowed else m.group(0), text).strip()

    def _describe(self, name: str, document_type: str) -> str:
        spec = self.fields[name]
        return spec.describe_for.get(document_type, spec.describe)

    def _key_lines(self, document_type: str) -> str:
        lines = []
        for name in self.document_fields[document_type]:
            describe = self._describe(name, document_type)
            if name in BOOL_FIELDS:  # flags are described as the condition; yes/no wording is added here
                describe = f"yes if {describe}, otherwise no"
            lines.append(f"{self.fields[name].key}: <{describe}>")
        return "\n".join(lines)

    def _json_skeleton(self, document_type: str) -> str:
        skeleton: dict[str, Any] = {}
        for name in self.document_fields[document_type]:
            if name == "items":
                skeleton[name] = [{key: f"<{key.replace('_', ' ')}>" for key in ITEM_KEYS}]
            elif name in BOOL_FIELDS:
                skeleton[name] = f"<true if {self._describe(name, document_type)}, otherwise false>"
            else:
                skeleton[name] = f"<{self._describe(name, document_type)}>"
        return json.dumps(skeleton, indent=2, ensure_ascii=False)


def _question_lines(text: str, style: str) -> dict[str, str] | None:
    """Parse "field: question" lines (the UI's view of the field questions)."""
    questions: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, question = line.partition(":")
        name = name.strip()
        if not sep or name not in ALL_FIELDS:
            if questions:
                raise PromptError(f"The edited {style!r} questions have a line that is not 'field: question': {line.strip()[:60]!r}.",
                                  hint=f"Start each line with a field name ({', '.join(ALL_FIELDS[:4])}, ...) and a colon.")
            return None
        if not question.strip():
            raise PromptError(f"The edited {style!r} question for {name!r} is empty.", hint="Write a question or delete the line.")
        questions[name] = question.strip()
    return questions or None

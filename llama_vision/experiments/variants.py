"""The prompts an experiment compares: a library prompt by its style name, or an edited text
built on a style (`PromptLibrary.with_override`, no file written).

What the history stores of a prompt is the text the model is sent, rendered for every document
type (field questions included), and its sha256: an edit to the YAML, to `fields.yaml` or in the
UI changes the hash; the same text under another name keeps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llama_vision.errors import DocumentError, PromptError
from llama_vision.pipeline import RULES_PROMPT
from llama_vision.prompt_sweep import PromptRun
from llama_vision.schema import DOCUMENT_TYPES, PROMPT_STYLES

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.prompts import PromptLibrary

__all__ = ["PromptVariant", "parse_prompt_file", "prompt_runs", "rendered_text", "text_hash"]

RULES_TEXT = "(the engine's own rules: it does not follow prompts)"


@dataclass(frozen=True)
class PromptVariant:
    """One column of an experiment: `name` (shown), the `style` it is read as, and `text` when
    edited (None: the library's own prompt)."""

    name: str
    style: str
    text: str | None = None

    def __post_init__(self) -> None:
        if self.style not in PROMPT_STYLES:
            raise PromptError(f"Unknown prompt style {self.style!r} for prompt {self.name!r}.",
                              hint=f"Use one of {', '.join(PROMPT_STYLES)}.")
        if not self.name.strip():
            raise PromptError("A prompt needs a name.", hint="Name it, e.g. key_value_short.")

    def library(self, base: PromptLibrary) -> PromptLibrary:
        return base.with_override(self.style, self.text) if self.text is not None else base


def parse_prompt_file(spec: str) -> PromptVariant:
    """`NAME=PATH` or `NAME:STYLE=PATH` -> an edited prompt. STYLE defaults to NAME when NAME is a
    style (`key_value=short.txt` edits key_value), else to key_value."""
    head, sep, path = spec.partition("=")
    if not sep or not head.strip() or not path.strip():
        raise DocumentError(f"--prompt-file {spec!r} is not NAME=PATH.", hint="Write e.g. --prompt-file short=short.txt.")
    name, _, style = head.partition(":")
    name = name.strip()
    style = style.strip() or (name if name in PROMPT_STYLES else "key_value")
    file = Path(path.strip()).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(f"Prompt file '{file}' cannot be read ({error}).", hint="Check the path.") from None
    if not text.strip():
        raise DocumentError(f"Prompt file '{file}' is empty.", hint="Write the prompt's text in it.")
    return PromptVariant(name=name, style=style, text=text)


def rendered_text(variant: PromptVariant, library: PromptLibrary) -> str:
    """What the model is sent for each document type (`library` already holds the variant's text)."""
    parts = []
    for document_type in DOCUMENT_TYPES:
        if variant.style == "field_specific":
            questions = library.field_questions(document_type, variant.style)
            body = "\n".join(f"{field}: {question}" for field, question in questions.items())
        else:
            body = library.prompt(variant.style, document_type).text
        parts.append(f"## {document_type}\n{body}")
    return "\n\n".join(parts)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_runs(variants: list[PromptVariant], engine: Engine,
                base: PromptLibrary | None = None) -> tuple[list[PromptRun], list[str]]:
    """(what the sweep runs, the stored text of each). An engine that does not follow prompts gets
    one "rules" column, whatever was asked. Names must be distinct."""
    if not engine.capabilities.follows_prompts:
        return [PromptRun(RULES_PROMPT, "key_value", None)], [RULES_TEXT]
    if not variants:
        raise PromptError("No prompt to run.", hint=f"Choose at least one: {', '.join(PROMPT_STYLES)}, or an edited text.")
    names = [v.name for v in variants]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise PromptError(f"Two prompts are named {repeated[0]!r}.", hint="Give every prompt its own name.")
    if base is None:
        from llama_vision.prompts import load_prompt_library

        base = load_prompt_library()
    runs, texts = [], []
    for variant in variants:
        library = variant.library(base)
        runs.append(PromptRun(variant.name, variant.style, library))
        texts.append(rendered_text(variant, library))
    return runs, texts

"""A fake engine that answers from each generated document's own ground truth, in the format the
prompt asks for (KEY: value lines, JSON, one field's question, the document type), so an experiment's
scores, reuse and diff can be checked without a model. Which document a request is about is found
from its page's pixels, as the pipeline loaded them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_vision.engines.base import Generation, GenerationRequest
from llama_vision.prompts import load_prompt_library
from llama_vision.schema import BOOL_FIELDS, DOCUMENT_TYPES
from tests.fakes import FakeEngine

DROP_DATE = "LEAVE OUT THE DATE ON RECEIPTS."  # an edited prompt with this line: receipts answer without a date


def page_key(image: Any) -> str:
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def _show(name: str, value: Any) -> str:
    if name in BOOL_FIELDS:
        return "yes" if value else "no"
    return str(value)


class TruthfulEngine(FakeEngine):
    """Answers every request from the truth of the document whose page it gets."""

    def __init__(self, settings: Any, folder: Path) -> None:
        from llama_vision.documents import load_pages

        super().__init__(settings)
        self.library = load_prompt_library()
        self.truths: dict[str, dict[str, Any]] = {}
        for truth in sorted(folder.glob("*.json")):
            document = next(p for p in folder.iterdir() if p.stem == truth.stem and p.suffix != ".json")
            self.truths[page_key(load_pages(document, settings=settings)[0])] = json.loads(truth.read_text())
        self.questions = {question: name for kind in DOCUMENT_TYPES
                          for name, question in self.library.field_questions(kind).items()}

    def answer(self, prompt: str, truth: dict[str, Any]) -> str:
        kind, fields = truth["document_type"], truth["fields"]
        if prompt == self.library.classification.text:
            return kind.replace("_", " ")
        if prompt in self.questions:
            value = fields.get(self.questions[prompt])
            return "Not visible" if value is None else _show(self.questions[prompt], value)
        asked = {name: value for name, value in fields.items() if value is not None and name != "items"}
        if DROP_DATE in prompt and kind == "receipt":
            asked.pop("date", None)
        if '"supplier_name"' in prompt:  # the JSON prompt's skeleton
            return json.dumps(asked)
        keys = self.library.keys_for(kind)
        return "\n".join(f"{keys[name]}: {_show(name, value)}" for name, value in asked.items() if name in keys)

    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.batch_sizes.append(len(requests))
        answers = []
        for request in requests:
            self.calls.append((request.prompt, request.image.size))
            text = self.answer(request.prompt, self.truths[page_key(request.image)])
            answers.append(Generation(text=text, prompt_tokens=len(request.prompt.split()),
                                      generated_tokens=len(text.split())))
        return answers

"""One document through several prompt styles, streamed: what the Compare tab and the public
`/compare` endpoint both run, so the two cannot drift apart.

The document is classified once, by the first prompt that reads it; every later prompt is told
that type, so the prompts differ only in how they ask. Each step says "prompt 2 of 3" before its
first token and streams that prompt's answer (with the pipeline's status lines: the fallback
retry, each field question).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.ui.common import run_streaming

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.prompts import PromptLibrary


@dataclass(frozen=True)
class PromptStep:
    """Where a comparison stands: prompt `step` of `steps`, its text so far, its Result once done."""

    step: int
    steps: int
    style: str
    label: str
    text: str
    result: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        done = self.result is not None
        if done and self.step == self.steps:
            return f"Compared {self.steps} prompt{'s' if self.steps > 1 else ''}."
        return f"Prompt {self.step} of {self.steps}: {self.label}{' — done' if done else '…'}"


def compare_steps(
    engine: Engine, path: str, runs: list[tuple[str, str]], *, page: int | None = None,
    libraries: dict[str, PromptLibrary | None] | None = None,
) -> Iterator[PromptStep]:
    """(style, label) runs -> PromptSteps: one with no text as each prompt starts, one per streamed
    update, and one carrying the prompt's Result (as a dict) when it finishes. `page` counts from 0;
    `libraries` gives a style its edited prompt library (None: the default one)."""
    follows = engine.capabilities.follows_prompts
    known_type: str | None = None  # classify once: every prompt then sees the same document type
    for step, (style, label) in enumerate(runs, start=1):
        yield PromptStep(step, len(runs), style, label, "")
        started = time.perf_counter()
        for text, result in run_streaming(
            engine, path, prompt_style=style, page=page, file_name=Path(path).name,
            prompts=(libraries or {}).get(style) if follows else None, document_type=known_type,
        ):
            if result is None:
                yield PromptStep(step, len(runs), style, label, text)
                continue
            if result.status == "ok" and follows:
                known_type = known_type or result.document_type
            data = result.to_dict()
            data.setdefault("timings", {}).setdefault("total", time.perf_counter() - started)
            yield PromptStep(step, len(runs), style, label, data.get("raw_output") or data.get("error") or "", data)

"""Test doubles (after simonw/llm's tests): a prompt-following engine that queues outputs and
records every call, so pipeline, batch and UI logic are tested without a model."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from llama_vision.config import Settings, load_settings
from llama_vision.engines.base import Capabilities, Engine, Generation, GenerationRequest, GenerationStream


def fake_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings that point every folder at tmp_path and ignore the developer's environment."""
    overrides.setdefault("engine", "ocr")
    overrides.setdefault("batch_dir", str(tmp_path))
    overrides.setdefault("abr_guid", "")  # ABN Lookup only where a test turns it on (a loopback fake)
    overrides.setdefault("abr_cache", str(tmp_path / "abn_lookup.sqlite"))
    return load_settings(env_file=None, **overrides)


class FakeEngine(Engine):
    """Queue outputs with `outputs=[...]` (consumed in order; the last one repeats) or a
    callable `responder(prompt) -> str`. Every request lands in `calls` as (prompt, image.size);
    `batch_sizes` has the size of every batch the engine's primitive was given."""

    name = "fake"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=True)

    def __init__(
        self,
        settings: Settings,
        outputs: Iterable[str] = (),
        *,
        responder: Any = None,
        delay: float = 0.0,
        fail_with: BaseException | None = None,
    ) -> None:
        super().__init__(settings)
        self.outputs = list(outputs)
        self.responder = responder
        self.delay = delay
        self.fail_with = fail_with
        self.calls: list[tuple[str, tuple[int, int]]] = []
        self.batch_sizes: list[int] = []
        self.load_count = 0

    def _load(self) -> None:
        self.load_count += 1

    def _next_output(self, prompt: str) -> str:
        if self.responder is not None:
            return self.responder(prompt)
        if not self.outputs:
            return ""
        return self.outputs.pop(0) if len(self.outputs) > 1 else self.outputs[0]

    def _answer(self, request: GenerationRequest) -> Generation:
        self.calls.append((request.prompt, request.image.size))
        if self.fail_with is not None:
            raise self.fail_with
        if self.delay:
            time.sleep(self.delay)
        text = self._next_output(request.prompt)
        tokens = len(text.split())
        cap = request.max_new_tokens or self.settings.max_new_tokens
        return Generation(text=text, seconds=self.delay, prompt_tokens=len(request.prompt.split()),
                          generated_tokens=tokens, truncated=tokens >= cap)

    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.batch_sizes.append(len(requests))
        return [self._answer(request) for request in requests]

    def _stream(self, request: GenerationRequest) -> GenerationStream:
        """The answer word by word; the stream, not the engine, holds the final Generation."""
        generation = self._answer(request)
        return GenerationStream((word + " " for word in generation.text.split(" ")), lambda: generation)

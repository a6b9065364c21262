"""One small interface for every engine (after docling's VLM engine base).

An engine turns (page image, prompt) into text, for one request or a batch, optionally
streaming. The base class owns lazy loading, the load lock and cleanup; engines implement
`_load`, `_generate` and whatever they do better than the defaults (batching, streaming,
field questions). Engines that do not follow prompts (OCR) implement `read_fields` instead and
say so in `capabilities`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings


@dataclass(frozen=True)
class Capabilities:
    follows_prompts: bool
    streams: bool
    batches: bool


@dataclass
class Generation:
    """What an engine said for one (image, prompt)."""

    text: str
    seconds: float = 0.0
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    truncated: bool = False  # stopped by the max_new_tokens cap, not by end-of-turn

    @property
    def tokens_per_second(self) -> float | None:
        if not self.generated_tokens or self.seconds <= 0:
            return None
        return self.generated_tokens / self.seconds


@dataclass
class RuleReading:
    """What a non-prompt engine (OCR + rules) read from one page."""

    text: str
    fields: dict[str, Any]
    document_type: str
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)  # field -> FieldEvidence (page 0, page pixels)


TokenCallback = Callable[[str], None]


class Engine(ABC):
    """Base class. Subclasses set `name` and `capabilities` and implement `_load`/`_generate`."""

    name: str = "base"
    capabilities = Capabilities(follows_prompts=True, streams=False, batches=False)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded = False
        self._load_lock = threading.Lock()
        self.load_error: str | None = None
        self.load_seconds: float | None = None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def initialize(self) -> None:
        """Load once, thread-safe; a failure is remembered in `load_error` and re-raised."""
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded:
                return
            started = time.perf_counter()
            try:
                self._load()
            except Exception as error:
                self.load_error = str(error)
                raise
            self.load_error = None
            self.load_seconds = time.perf_counter() - started
            self._loaded = True

    def unload(self) -> None:
        with self._load_lock:
            if self._loaded:
                self._unload()
            self._loaded = False

    @abstractmethod
    def _load(self) -> None: ...

    def _unload(self) -> None:  # noqa: B027 - an optional hook: most engines have nothing to release
        """Release what `_load` took (GPU memory, clients). Default: nothing to release."""

    # -- generation -----------------------------------------------------------------------
    @abstractmethod
    def _generate(self, image: Image, prompt: str, max_new_tokens: int) -> Generation: ...

    def _cap(self, max_new_tokens: int | None) -> int:
        return max_new_tokens or self.settings.max_new_tokens

    def generate(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> Generation:
        self.initialize()
        return self._generate(image, prompt, self._cap(max_new_tokens))

    def generate_batch(
        self, images: Sequence[Image], prompts: Sequence[str], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        """Default: one by one. Engines that batch (llama) or run concurrently (openai) override."""
        self.initialize()
        return [self._generate(img, p, self._cap(max_new_tokens)) for img, p in zip(images, prompts, strict=True)]

    def stream(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield text pieces as generated. Default: the whole answer at once.

        After the iterator is exhausted, `self.last_generation` holds the full Generation.
        """
        generation = self.generate(image, prompt, max_new_tokens=max_new_tokens)
        self.last_generation = generation
        yield generation.text

    def ask_fields(
        self, image: Image, questions: dict[str, str], *, max_new_tokens: int | None = None
    ) -> dict[str, Generation]:
        """Field-specific mode: one short question per field about the same image.

        Default: a batch of independent generations. The llama engine overrides this to run the
        vision tower once and reuse its cross-attention states for every question.
        """
        names = list(questions)
        answers = self.generate_batch([image] * len(names), [questions[n] for n in names], max_new_tokens=max_new_tokens)
        return dict(zip(names, answers, strict=True))

    def read_fields(self, image: Image) -> RuleReading:
        """Non-prompt engines (OCR) read fields directly. Prompt engines do not implement it."""
        raise NotImplementedError(f"the {self.name} engine follows prompts; use generate()")

    # -- reporting ------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What the header and dashboard show. Engines add device map, memory, servers..."""
        return {
            "engine": self.name,
            "loaded": self._loaded,
            "load_error": self.load_error,
            "load_seconds": self.load_seconds,
            "follows_prompts": self.capabilities.follows_prompts,
            "streams": self.capabilities.streams,
            "batches": self.capabilities.batches,
        }

"""One small interface for every engine (after docling's VLM engine base).

An engine has one primitive: turn a batch of typed requests (page image, prompt, token cap) into
a list of Generations. Single calls, streaming and field questions wrap it. The base class owns
lazy loading, the load lock and cleanup. Nothing about one request lives on the engine: one
engine object serves many users at once, so a stream carries its own final Generation.
Engines that do not follow prompts (OCR) return Generations that already hold the fields they
read, so the pipeline takes one path for every engine.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.result import FieldEvidence


@dataclass(frozen=True)
class Capabilities:
    follows_prompts: bool
    streams: bool
    batches: bool  # one forward pass serves several requests (a local model)
    runs_concurrently: bool = False  # several requests in flight at once (a remote server pool)


@dataclass(frozen=True)
class GenerationRequest:
    """One (image, prompt) to answer; `max_new_tokens=None` means the settings' cap."""

    image: Image
    prompt: str
    max_new_tokens: int | None = None


@dataclass
class Generation:
    """What an engine said for one request."""

    text: str
    seconds: float = 0.0
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    truncated: bool = False  # stopped by the max_new_tokens cap, not by end-of-turn
    # Engines that read fields themselves (OCR + rules) hand them over already parsed.
    fields: dict[str, Any] | None = None
    document_type: str | None = None
    warnings: list[str] = field(default_factory=list)
    # What each field was read from (page boxes, text, confidence), page 0 in page pixels.
    evidence: dict[str, FieldEvidence] | None = None
    # Each generated token's decoded text piece and natural-log probability, in order; the pieces
    # join to `text`. None when the engine or server measures none (parsing/confidence.py reads it).
    token_logprobs: list[tuple[str, float]] | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if not self.generated_tokens or self.seconds <= 0:
            return None
        return self.generated_tokens / self.seconds


class GenerationStream:
    """Iterate for the answer's text pieces; afterwards `generation` holds the whole Generation.

    Each call of `Engine.stream` returns a new object, so two users streaming through one engine
    never see each other's answer.
    """

    def __init__(self, pieces: Iterator[str], finish: Callable[[], Generation]) -> None:
        self._pieces = pieces
        self._finish = finish
        self._generation: Generation | None = None

    def __iter__(self) -> Iterator[str]:
        yield from self._pieces
        self._generation = self._finish()

    @property
    def generation(self) -> Generation:
        if self._generation is None:
            raise RuntimeError("the stream has not finished; iterate it to the end first")
        return self._generation

    @classmethod
    def whole(cls, generation: Generation) -> GenerationStream:
        """A stream that yields the finished answer at once (engines that do not stream)."""
        return cls(iter([generation.text]), lambda: generation)


class Engine(ABC):
    """Base class. Subclasses set `name` and `capabilities` and implement `_load`/`_generate_batch`."""

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

    # -- the one primitive ----------------------------------------------------------------
    @abstractmethod
    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Answer every request, in order. `max_new_tokens` is always filled in here."""

    def _capped(self, request: GenerationRequest) -> GenerationRequest:
        if request.max_new_tokens:
            return request
        return replace(request, max_new_tokens=self.settings.max_new_tokens)

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.initialize()
        if not requests:
            return []
        return self._generate_batch([self._capped(r) for r in requests])

    def generate(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> Generation:
        return self.generate_batch([GenerationRequest(image, prompt, max_new_tokens)])[0]

    def stream(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> GenerationStream:
        """Text pieces as generated, then the whole Generation. Default: all at once."""
        self.initialize()
        request = self._capped(GenerationRequest(image, prompt, max_new_tokens))
        return self._stream(request)

    def _stream(self, request: GenerationRequest) -> GenerationStream:
        """Engines that stream (capabilities.streams) override this."""
        return GenerationStream.whole(self._generate_batch([request])[0])

    def ask_fields(
        self, image: Image, questions: dict[str, str], *, max_new_tokens: int | None = None
    ) -> dict[str, Generation]:
        """Field-specific mode: one short question per field about the same image.

        Default: one batch. The llama engine overrides this to run the vision tower once and reuse
        its cross-attention states for every question.
        """
        names = list(questions)
        answers = self.generate_batch([GenerationRequest(image, questions[n], max_new_tokens) for n in names])
        return dict(zip(names, answers, strict=True))

    def parallel_requests(self) -> int:
        """How many documents a batch should have in flight at once: `api_concurrency` for a
        server pool, else one (engines with their own parallel readers override this)."""
        return max(self.settings.api_concurrency, 1) if self.capabilities.runs_concurrently else 1

    def questions_at_once(self, questions: int) -> int:
        """How many field questions to ask per call, so each answer shows as soon as it exists at
        no extra cost: all for an engine that batches, `api_concurrency` for a server pool, else one."""
        if self.capabilities.batches:
            return max(questions, 1)
        if self.capabilities.runs_concurrently:
            return max(self.settings.api_concurrency, 1)
        return 1

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
            "runs_concurrently": self.capabilities.runs_concurrently,
        }

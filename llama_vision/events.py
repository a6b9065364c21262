"""What `pipeline.extract_events` (and `ask.ask_events`) yield, typed, so a front end never has
to guess whether a string is model text or a progress line.

TokenEvent: a piece of the engine's answer. StatusEvent: a sentence about what the pipeline is
doing now ("retrying with the fallback prompt…", "total: 44.00 (3 of 9)"), with the structured
facts beside the words. ResultEvent: the checked Result, always last. Nothing here knows about
Gradio.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from llama_vision.result import Result

StatusKind = Literal["retry", "fields", "field", "page"]


@dataclass(frozen=True)
class TokenEvent:
    """A piece of the engine's answer, as it was generated."""

    text: str


@dataclass(frozen=True)
class StatusEvent:
    """A progress line for the user, and the facts it states.

    kind: "retry" (the fallback prompt is being tried), "fields" (field questions about to be
    asked), "field" (one field question answered: `field` and `answer`), "page" (a page of a
    multi-page document starts). `step`/`steps` count fields or pages where that applies.
    """

    text: str
    kind: StatusKind
    field: str | None = None
    answer: Any = None
    step: int | None = None
    steps: int | None = None


@dataclass(frozen=True)
class ResultEvent:
    """The document's checked Result; always the last event."""

    result: Result


Event = TokenEvent | StatusEvent | ResultEvent


def drain(steps: Generator[Any, None, Any]) -> Any:
    """Run an event-yielding stage to its end with nobody listening (batched paths): what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value

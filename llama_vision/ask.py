"""Ask a free-form question about a document, like Hugging Face's Llama 3.2 Vision demo: the
page image and the question go to the model as they are, and the answer streams back.

Only engines that follow prompts can answer (a local model or an OpenAI-compatible server); the
OCR engine reads fields with rules and says so plainly. Each question is answered from the page
alone (engines keep no conversation), so one engine serves every user at once. Nothing here
knows about Gradio: the UI (`ui.ask`) and the CLI (`llama-vision ask`) are thin over `ask_events`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_vision import stages
from llama_vision.errors import LlamaVisionError
from llama_vision.events import TokenEvent

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine, Generation

__all__ = ["MAX_QUESTION_CHARS", "Answer", "AnswerEvent", "CannotAnswerError", "ask", "ask_events", "check_can_answer"]

MAX_QUESTION_CHARS = 2000  # a question, not a document: longer text is refused before the model sees it


class CannotAnswerError(LlamaVisionError):
    """The engine cannot answer free-form questions (it does not follow prompts)."""


@dataclass(frozen=True)
class Answer:
    """The model's answer to one question about one page."""

    question: str
    text: str
    engine: str
    file: str
    page: int  # 1-based, the page that was shown to the model
    pages: int  # how many pages the document has
    seconds: float
    generated_tokens: int | None = None
    truncated: bool = False  # the answer hit LLAMA_VISION_MAX_NEW_TOKENS

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AnswerEvent:
    """The whole answer; always the last event of `ask_events`."""

    answer: Answer


def check_can_answer(engine: Engine) -> None:
    """Raise CannotAnswerError, with what to configure, for an engine that cannot take a question."""
    if not engine.capabilities.follows_prompts:
        raise CannotAnswerError(
            f"The {engine.name.upper() if engine.name == 'ocr' else engine.name} engine reads receipts with OCR and fixed rules, so it cannot answer "
            "free-form questions.",
            hint="Configure a language model (LLAMA_VISION_MODEL_PATH or LLAMA_VISION_API_BASE) and restart.",
        )


def _clean_question(question: str | None) -> str:
    text = " ".join(str(question or "").split())
    if not text:
        raise LlamaVisionError("The question is empty.", hint="Type a question about the document, "
                               "for example \"What was bought, and for how much?\".")
    if len(text) > MAX_QUESTION_CHARS:
        raise LlamaVisionError(f"The question is {len(text)} characters long.",
                               hint=f"Ask in at most {MAX_QUESTION_CHARS} characters.")
    return text


def ask_events(
    source: Any, question: str, *, engine: Engine, page: int | None = None, file_name: str | None = None,
) -> Iterator[TokenEvent | AnswerEvent]:
    """TokenEvents as the model answers, then one AnswerEvent.

    `source` is a path, a PIL image or a list of page images; `page` counts from 0 (None: the
    first page; the model sees one page). Raises CannotAnswerError on engines that do not follow
    prompts, and LlamaVisionError (with a fix-it hint) for an empty question or a missing page.
    Closing the iterator early stops the generation.
    """
    check_can_answer(engine)
    text = _clean_question(question)
    job = stages.Job(index=0, label=file_name or stages.label_of(source))
    stages.load(job, source, engine, None)
    pages = len(job.pages)
    index = 0 if page is None else page
    if not 0 <= index < pages:
        raise LlamaVisionError(f"{job.label}: page {index + 1} does not exist.", hint=f"Pick a page from 1 to {pages}.")
    started = time.perf_counter()
    generation: Generation
    if engine.capabilities.streams:
        stream = engine.stream(job.pages[index], text)
        for piece in stream:
            yield TokenEvent(piece)
        generation = stream.generation
    else:
        generation = engine.generate(job.pages[index], text)
        yield TokenEvent(generation.text)
    yield AnswerEvent(Answer(question=text, text=generation.text.strip(), engine=engine.name, file=job.label,
                             page=index + 1, pages=pages, seconds=round(time.perf_counter() - started, 3),
                             generated_tokens=generation.generated_tokens, truncated=generation.truncated))


def ask(source: Any, question: str, *, engine: Engine, page: int | None = None, on_token: Any = None,
        file_name: str | None = None) -> Answer:
    """The answer to `question` about one page of `source` (see `ask_events`); `on_token` gets
    the answer's pieces as they are generated."""
    for event in ask_events(source, question, engine=engine, page=page, file_name=file_name):
        if isinstance(event, AnswerEvent):
            return event.answer
        if on_token is not None:
            on_token(event.text)
    raise AssertionError("ask_events ended without an answer")  # pragma: no cover

"""document -> pages -> classify -> extract -> parse -> normalise -> comply -> Result.

The one path every front end (CLI, UI, batch, evaluation) takes, for every engine: what an engine
can do is read from its `capabilities`, never from its name. Nothing here knows about Gradio.
`extract` never raises for a bad document or a failing engine: it returns a Result with
`status="error"` and the fix-it message, so a batch goes on and the UI shows the reason.

Entry points: `extract` (one document; `on_token` for live text), `extract_events` (the same as
an iterator of typed events, `llama_vision.events`: tokens, status lines, then the Result, for UIs),
`extract_many` (many documents, batched or concurrent as the engine allows), `extract_many_safely`
(the same, unbreakable) and `reassess` (a Result after a person corrected its fields, judged by the
same rules).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from llama_vision import stages
from llama_vision.errors import LlamaVisionError
from llama_vision.events import Event, ResultEvent, StatusEvent, TokenEvent
from llama_vision.grounding import steps as grounding_steps
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS, DOCUMENT_TYPES, PROMPT_STYLES
from llama_vision.stages import Job

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine
    from llama_vision.prompts import PromptLibrary

__all__ = [
    "PROMPT_STYLES",
    "RULES_PROMPT",
    "ResultEvent",
    "StatusEvent",
    "TokenEvent",
    "extract",
    "extract_events",
    "extract_many",
    "extract_many_safely",
    "changed_fields",
    "prompt_name_for",
    "reassess",
]

RULES_PROMPT = "rules"  # what a Result says in `prompt` when the engine does not follow prompts
TokenCallback = Callable[[str], None]


def prompt_name_for(engine: Engine, style: str) -> str:
    """The prompt a Result names: the style, or "rules" for engines that do not follow prompts."""
    return style if engine.capabilities.follows_prompts else RULES_PROMPT


# -- one document -----------------------------------------------------------------------------


def extract(
    source: Any,
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    prompts: PromptLibrary | None = None,
    page: int | None = None,
    on_token: TokenCallback | None = None,
    file_name: str | None = None,
    document_type: str | None = None,
) -> Result:
    """Read one document (a path, a PIL image or a list of page images) into a checked Result.

    `page` picks one page of a PDF (0-based); otherwise every page is read and merged.
    `document_type` skips classification when the caller already knows it. `on_token` gets the
    answer's text pieces as they are generated (an error it raises is the caller's and propagates);
    status lines are for `extract_events`' listeners and are not passed to it.
    """
    events = extract_events(source, engine=engine, prompt_style=prompt_style, prompts=prompts, page=page,
                            file_name=file_name, document_type=document_type, stream=on_token is not None)
    for event in events:
        if isinstance(event, ResultEvent):
            return event.result
        if isinstance(event, TokenEvent):
            on_token(event.text)  # type: ignore[misc] - token events come only with a callback
    raise AssertionError("extract_events ended without a Result")  # pragma: no cover


def extract_events(
    source: Any,
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    prompts: PromptLibrary | None = None,
    page: int | None = None,
    file_name: str | None = None,
    document_type: str | None = None,
    stream: bool = True,
) -> Iterator[Event]:
    """`extract` as events: TokenEvents while the engine answers, StatusEvents for what would
    otherwise be a silent wait (a page starting, the fallback retry, each field question's
    answer), then one ResultEvent.

    Each call has its own answer (engines keep no per-request state), so many users can iterate
    at once through one engine. `stream=False` asks for no tokens or statuses, only the Result.
    Closing the iterator early stops the engine's generation.
    """
    steps = _document(source, engine=engine, prompt_style=prompt_style, prompts=prompts, page=page,
                      file_name=file_name, document_type=document_type, stream=stream)
    try:
        while True:
            try:
                piece = next(steps)
            except StopIteration as done:
                yield ResultEvent(done.value)
                return
            if isinstance(piece, StatusEvent):
                if stream:
                    yield piece
            else:
                yield TokenEvent(piece)
    finally:
        steps.close()


def _document(
    source: Any, *, engine: Engine, prompt_style: str, prompts: PromptLibrary | None, page: int | None,
    file_name: str | None, document_type: str | None, stream: bool,
) -> Generator[str | StatusEvent, None, Result]:
    label = file_name or stages.label_of(source)
    prompt_name = prompt_name_for(engine, prompt_style)
    job: Job | None = None
    try:
        stages.check_style(prompt_style)
        job = Job(index=0, label=label)
        stages.load(job, source, engine, page)
        grounding_steps.start(job, engine)  # the OCR pass for boxes runs while the model answers
        library = _library(engine, prompts)
        stages.classify([job], engine, library, document_type)
        for index, image in enumerate(job.pages):
            if len(job.pages) > 1:
                yield StatusEvent(f"Reading page {index + 1} of {len(job.pages)}…", kind="page", step=index + 1,
                                  steps=len(job.pages))
            fields = yield from stages.read_page(job, engine, library, prompt_style, image, stream)
            grounding_steps.ground_page(job, index, fields)
            job.raw_fields = stages.merge_pages([job.raw_fields, fields])
        return stages.finish(job, engine, prompt_name)
    except LlamaVisionError as error:
        return Result.failed(label, engine.name, prompt_name, error)
    except Exception as error:  # an engine bug must not take the app or the batch down
        return Result.failed(label, engine.name, prompt_name, f"{type(error).__name__}: {error}")
    finally:
        if job is not None:
            grounding_steps.stop(job)


def _library(engine: Engine, prompts: PromptLibrary | None) -> PromptLibrary | None:
    """The prompts to use; engines that do not follow prompts need none."""
    if prompts is not None or not engine.capabilities.follows_prompts:
        return prompts
    return stages.default_prompts()


# -- a person's corrections --------------------------------------------------------------------


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The fields (in the Result's order) whose settled value differs between two Result dicts."""
    old, new = before.get("fields") or {}, after.get("fields") or {}
    return [name for name in ALL_FIELDS if old.get(name) != new.get(name)]


def reassess(result: Mapping[str, Any], corrected: Mapping[str, Any], *, settings: Settings | None = None,
             document_type: str | None = None) -> dict[str, Any]:
    """A Result (as its dict) after a person corrected some of its fields, judged by the same rules.

    `corrected`: field -> what the person typed ("$12.50", "13 Aug 2023", "51 824 753 556"; "" or
    None for "not on the document"; items as a list or "description | qty | unit price | amount"
    lines). Values are settled as an engine's answer is (`stages.settle_fields`) and assessed by
    `stages.assess`, so compliance and review are what the pipeline would say had the engine read
    them. `document_type` corrects the type too. A changed field loses the engine's evidence (it
    described the old reading, not this value) and the warnings about its old value; one warning
    names what was corrected. Returns a new Result dict. Raises LlamaVisionError for a failed
    Result (nothing was read to correct) or an unknown field or document type.
    """
    from llama_vision.config import get_settings

    if result.get("status") == "error":
        raise LlamaVisionError("This document could not be read, so there is nothing to correct.",
                               hint="Fix what the error says and extract it again.")
    original = Result.model_validate(dict(result))
    kind = document_type or original.document_type or "other"
    if kind not in DOCUMENT_TYPES:
        raise LlamaVisionError(f"Unknown document type {kind!r}.", hint=f"Use one of {', '.join(DOCUMENT_TYPES)}.")
    unknown = [str(name) for name in corrected if name not in ALL_FIELDS]
    if unknown:
        raise LlamaVisionError(f"Unknown field {unknown[0]!r}.", hint=f"Use the Result's field names: {', '.join(ALL_FIELDS)}.")
    raw_output = [original.raw_output] if original.raw_output else []
    fields, warnings = stages.settle_fields({**original.fields, **corrected}, raw_output)
    if "items" not in corrected:  # settling again must not re-mark items nobody touched
        fields["items"] = original.fields.get("items") or []
    before = original.to_dict()
    changed = changed_fields(before, {"fields": fields})
    evidence = {name: ev for name, ev in original.evidence.items() if name not in changed}
    texts = [*raw_output, *(v for v in corrected.values() if isinstance(v, str))]
    # an engine that reads with rules (OCR) returns the printed page text as its raw output
    page_text = original.raw_output if original.prompt == RULES_PROMPT else None
    assessment = stages.assess(fields, kind, settings or get_settings(), texts=texts, evidence=evidence,
                               page_text=page_text)
    stale = tuple(f"{n}:" for n in changed) + tuple(f"{n} '" for n in changed)  # fields' and check_names' warnings
    kept = [w for w in original.warnings if not w.startswith(stale)]
    if changed or kind != original.document_type:
        from llama_vision.schema import label_of

        names = [label_of(n) for n in changed] + (["Document type"] if kind != original.document_type else [])
        warnings.insert(0, "Corrected by hand: " + ", ".join(names) + ".")
    updated = original.model_copy(update={
        "document_type": kind, "fields": fields, "compliance": assessment.compliance, "evidence": evidence,
        "review": assessment.review, "warnings": list(dict.fromkeys(warnings + kept + assessment.warnings)),
    })
    return updated.to_dict()


# -- many documents ---------------------------------------------------------------------------


def extract_many(
    sources: Iterable[Any],
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    prompts: PromptLibrary | None = None,
    concurrency: int | None = None,
    batch_size: int = 4,
) -> Iterator[tuple[int, Result]]:
    """Yield (input index, Result) as documents finish.

    An engine that batches (a local model) reads `batch_size` documents per generate; one that
    runs requests concurrently (a server pool, the OCR engine's readers) gets `concurrency`
    documents at once (default: `engine.parallel_requests()`); others go one by one. Order of
    completion may differ from input order: callers sort by index.
    """
    items = list(sources)
    library = _library(engine, prompts)
    capabilities = engine.capabilities
    field_questions = prompt_style == "field_specific" and capabilities.follows_prompts
    if capabilities.batches and not field_questions and batch_size > 1:
        yield from _extract_batched(items, engine, library, prompt_style, batch_size)
        return
    workers = concurrency or engine.parallel_requests()

    def one(i: int) -> tuple[int, Result]:
        return i, extract(items[i], engine=engine, prompt_style=prompt_style, prompts=library)

    if workers <= 1:
        for i in range(len(items)):
            yield one(i)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="extract")
    try:
        futures = [pool.submit(one, i) for i in range(len(items))]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # A caller that stops early (Stop button, Ctrl-C) closes this generator: drop queued work
        # instead of finishing the whole batch behind its back.
        pool.shutdown(wait=False, cancel_futures=True)


def extract_many_safely(
    sources: Iterable[Any], *, engine: Engine, prompt_style: str = "key_value", concurrency: int | None = None
) -> Iterator[tuple[int, Result]]:
    """extract_many, made unbreakable: if it ever raises, the documents it had not yielded yet
    are done one by one, each failure becoming that document's error Result."""
    items = list(sources)
    yielded: set[int] = set()
    stream = extract_many(items, engine=engine, prompt_style=prompt_style, concurrency=concurrency)
    try:
        for index, result in stream:
            yielded.add(index)
            yield index, result
        return
    except Exception as error:  # noqa: BLE001 - the batch must go on
        failure = f"{type(error).__name__}: {error}"
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    for index, source in enumerate(items):
        if index in yielded:
            continue
        try:
            yield index, extract(source, engine=engine, prompt_style=prompt_style)
        except Exception as error:  # noqa: BLE001
            yield index, Result.failed(str(source), engine.name, prompt_name_for(engine, prompt_style),
                                       f"{type(error).__name__}: {error} ({failure})")


def _extract_batched(
    items: list[Any], engine: Engine, library: PromptLibrary | None, style: str, batch_size: int
) -> Iterator[tuple[int, Result]]:
    """Batched generation for a local model: one classify and one extract generate per batch.

    Multi-page documents and failures drop back to the single-document path, so batching never
    changes what a document's Result says.
    """
    prompt_name = prompt_name_for(engine, style)

    def alone(job: Job) -> tuple[int, Result]:
        return job.index, extract(job.pages, engine=engine, prompt_style=style, prompts=library, file_name=job.label)

    for start in range(0, len(items), batch_size):
        ready: list[Job] = []
        for index in range(start, min(start + batch_size, len(items))):
            job = Job(index=index, label=stages.label_of(items[index]))
            try:
                stages.load(job, items[index], engine, None)
            except LlamaVisionError as error:
                yield index, Result.failed(job.label, engine.name, prompt_name, error)
                continue
            if len(job.pages) == 1:
                ready.append(job)
            else:
                yield alone(job)
        if not ready:
            continue
        for job in ready:
            grounding_steps.start(job, engine)  # OCR passes for boxes run while the batch generates
        try:
            generations, share = _generate_together(ready, engine, library, style)
        except Exception:  # out of memory after the engine's own retry, or a bad batch: go one by one
            for job in ready:
                grounding_steps.stop(job)
                yield alone(job)
            continue
        for job, generation in zip(ready, generations, strict=True):
            try:
                yield job.index, stages.complete(job, engine, library, style, prompt_name, generation, share)
            except LlamaVisionError as error:
                yield job.index, Result.failed(job.label, engine.name, prompt_name, error)


def _generate_together(
    jobs: list[Job], engine: Engine, library: PromptLibrary | None, style: str
) -> tuple[list[Any], float]:
    """Classify, then one generate_batch for every job's first page; (generations, seconds each)."""
    from llama_vision.engines.base import GenerationRequest

    stages.classify(jobs, engine, library, None)
    requests = [GenerationRequest(job.pages[0], stages.prompt_for(job, engine, library, style)) for job in jobs]
    started = time.perf_counter()
    generations = engine.generate_batch(requests)
    return generations, (time.perf_counter() - started) / len(jobs)

"""document -> pages -> classify -> extract -> parse -> normalise -> comply -> Result.

The one path every front end (CLI, UI, batch, evaluation) takes. Nothing here knows about
Gradio. `extract` never raises for a bad document or a failing engine: it returns a Result with
`status="error"` and the fix-it message, so a batch goes on and the UI shows the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import LlamaVisionError
from llama_vision.result import Result
from llama_vision.schema import DOCUMENT_TYPES, PROMPT_STYLES

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine, Generation
    from llama_vision.prompts import PromptLibrary

RULES_PROMPT = "rules"  # what a Result says in `prompt` when the engine does not follow prompts
CLASSIFY_TOKENS = 12  # a document type is one or two words; do not pay for more
TokenCallback = Callable[[str], None]


@dataclass
class _Job:
    """One document on its way through the stages (used by single and batched paths)."""

    index: int
    label: str
    pages: list[Any] = field(default_factory=list)
    document_type: str = "other"
    raw_fields: dict[str, Any] = field(default_factory=dict)
    raw_output: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # field -> FieldEvidence, page numbered
    page_text: bool = False  # raw_output is the printed page text (OCR), so conflicts can be read from it
    started: float = field(default_factory=time.perf_counter)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + seconds, 4)

    def add_usage(self, generation: Generation) -> None:
        for key in ("prompt_tokens", "generated_tokens"):
            value = getattr(generation, key)
            if value is not None:
                self.usage[key] = self.usage.get(key, 0) + value
        self.usage["generate_seconds"] = round(self.usage.get("generate_seconds", 0.0) + generation.seconds, 4)


# -- public API -----------------------------------------------------------------------------


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
    `document_type` skips classification when the caller already knows it.
    """
    label = file_name or _label(source)
    prompt_name = prompt_style if engine.capabilities.follows_prompts else RULES_PROMPT
    try:
        _check_style(prompt_style)
        job = _Job(index=0, label=label)
        _load(job, source, engine, page)
        if not engine.capabilities.follows_prompts:
            _read_with_rules(job, engine, on_token)
        else:
            library = prompts or _default_prompts()
            _classify([job], engine, library, document_type)
            _extract_with_model(job, engine, library, prompt_style, on_token)
        return _finish(job, engine, prompt_name)
    except LlamaVisionError as error:
        return Result.failed(label, engine.name, prompt_name, error)
    except Exception as error:  # an engine bug must not take the app or the batch down
        return Result.failed(label, engine.name, prompt_name, f"{type(error).__name__}: {error}")


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

    Remote engines run `concurrency` documents at once (default: settings.api_concurrency);
    an engine that batches (llama) reads `batch_size` documents per generate; others go one by
    one. Order of completion may differ from input order: callers sort by index.
    """
    items = list(sources)
    library = prompts or (_default_prompts() if engine.capabilities.follows_prompts else None)
    workers = concurrency or (engine.settings.api_concurrency if engine.name == "openai" else 1)
    if engine.capabilities.follows_prompts and engine.capabilities.batches and engine.name != "openai" \
            and prompt_style != "field_specific" and batch_size > 1:
        yield from _extract_batched(items, engine, library, prompt_style, batch_size)
        return

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


# -- stages ---------------------------------------------------------------------------------


def _check_style(style: str) -> None:
    if style not in PROMPT_STYLES:
        raise LlamaVisionError(f"Unknown prompt style {style!r}.", hint=f"Use one of {', '.join(PROMPT_STYLES)}.")


def _default_prompts() -> PromptLibrary:
    from llama_vision.prompts import load_prompt_library

    return load_prompt_library()


def _label(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "filename", "") or "<image>"


def _load(job: _Job, source: Any, engine: Engine, page: int | None) -> None:
    started = time.perf_counter()
    if isinstance(source, (str, Path)):
        from llama_vision.documents import load_pages

        pages = load_pages(Path(source), settings=engine.settings)
    elif isinstance(source, (list, tuple)):
        pages = [p.convert("RGB") for p in source]
    else:
        pages = [source.convert("RGB")]
    if page is not None:
        if not 0 <= page < len(pages):
            raise LlamaVisionError(
                f"{job.label}: page {page + 1} does not exist.", hint=f"Pick a page from 1 to {len(pages)}."
            )
        pages = [pages[page]]
    job.pages = pages
    job.add_time("load", time.perf_counter() - started)


def _read_with_rules(job: _Job, engine: Engine, on_token: TokenCallback | None) -> None:
    from llama_vision.review import merge_evidence

    started = time.perf_counter()
    readings = [engine.read_fields(image) for image in job.pages]
    job.add_time("read", time.perf_counter() - started)
    job.document_type = _first_type(r.document_type for r in readings)
    job.raw_fields = _merge_pages([r.fields for r in readings])
    job.evidence = merge_evidence([r.fields for r in readings], [getattr(r, "evidence", None) or {} for r in readings])
    job.raw_output = [r.text for r in readings]
    job.page_text = True
    for reading in readings:
        job.warnings.extend(reading.warnings)
    if on_token:
        on_token("\n\n".join(job.raw_output))


def _classify(jobs: list[_Job], engine: Engine, library: PromptLibrary, known: str | None) -> None:
    from llama_vision.parsing import parse_document_type

    if known:
        if known not in DOCUMENT_TYPES:
            raise LlamaVisionError(f"Unknown document type {known!r}.", hint=f"Use one of {', '.join(DOCUMENT_TYPES)}.")
        for job in jobs:
            job.document_type = known
        return
    started = time.perf_counter()
    prompt = library.classification.text
    generations = engine.generate_batch([j.pages[0] for j in jobs], [prompt] * len(jobs), max_new_tokens=CLASSIFY_TOKENS)
    share = (time.perf_counter() - started) / max(len(jobs), 1)
    for job, generation in zip(jobs, generations, strict=True):
        job.document_type = parse_document_type(generation.text)
        job.add_time("classify", share)


def _extract_with_model(
    job: _Job, engine: Engine, library: PromptLibrary, style: str, on_token: TokenCallback | None
) -> None:
    for image in job.pages:
        if style == "field_specific":
            fields = _ask_fields(job, engine, library, image)
        else:
            generation = _generate(job, engine, image, library.prompt(style, job.document_type).text, on_token)
            fields = _parse_or_retry(job, engine, library, image, generation, style)
        job.raw_fields = _merge_pages([job.raw_fields, fields])


def _generate(job: _Job, engine: Engine, image: Any, prompt: str, on_token: TokenCallback | None) -> Generation:
    started = time.perf_counter()
    if on_token is not None and engine.capabilities.streams:
        for piece in engine.stream(image, prompt):
            on_token(piece)
        generation = engine.last_generation
    else:
        generation = engine.generate(image, prompt)
        if on_token is not None:
            on_token(generation.text)
    job.add_time("generate", time.perf_counter() - started)
    _record_generation(job, generation)
    return generation


def _record_generation(job: _Job, generation: Generation) -> None:
    job.add_usage(generation)
    job.raw_output.append(generation.text)
    if generation.truncated:
        job.warnings.append(
            "The answer hit the token cap and was cut; fields after the cut may be missing "
            "(raise LLAMA_VISION_MAX_NEW_TOKENS)."
        )


def _parse_or_retry(
    job: _Job, engine: Engine, library: PromptLibrary, image: Any, generation: Generation, style: str
) -> dict[str, Any]:
    """Parse the answer; on a refusal or unparseable prose, retry once with the fallback prompt."""
    from llama_vision.parsing import is_refusal, parse_output

    started = time.perf_counter()
    outcome = parse_output(generation.text, style)
    job.add_time("parse", time.perf_counter() - started)
    if outcome.ok and not is_refusal(generation.text):
        return outcome.fields
    why = "refused" if is_refusal(generation.text) else f"gave unparseable output ({outcome.problem})"
    fallback = library.fallback_for(job.document_type)
    retry = engine.generate(image, fallback.text)
    job.add_time("generate", retry.seconds)
    _record_generation(job, retry)
    retried = parse_output(retry.text, fallback.output_style)
    if retried.ok and not is_refusal(retry.text):
        job.warnings.append(f"The model {why}; retried once with the fallback prompt, which worked.")
        return retried.fields
    job.warnings.append(f"The model {why}, and the fallback prompt did not help; fields left empty.")
    return outcome.fields if outcome.ok else {}


def _ask_fields(job: _Job, engine: Engine, library: PromptLibrary, image: Any) -> dict[str, Any]:
    from llama_vision.parsing import parse_field_answer

    questions = library.field_questions(job.document_type)
    started = time.perf_counter()
    answers = engine.ask_fields(image, questions)
    job.add_time("generate", time.perf_counter() - started)
    fields: dict[str, Any] = {}
    for name, generation in answers.items():
        job.add_usage(generation)
        job.raw_output.append(f"{name}: {generation.text}")
        fields[name] = parse_field_answer(name, generation.text)
    return fields


def _finish(job: _Job, engine: Engine, prompt_name: str) -> Result:
    from llama_vision.compliance import check_compliance
    from llama_vision.fields import normalise_fields

    started = time.perf_counter()
    fields, field_warnings = normalise_fields(job.raw_fields)
    job.add_time("normalise", time.perf_counter() - started)
    started = time.perf_counter()
    compliance = check_compliance(fields, job.document_type)
    job.add_time("compliance", time.perf_counter() - started)
    review = _review(job, fields, compliance, engine)
    job.timings["total"] = round(time.perf_counter() - job.started, 4)
    if job.usage.get("generated_tokens") and job.usage.get("generate_seconds"):
        job.usage["tokens_per_second"] = round(job.usage["generated_tokens"] / job.usage["generate_seconds"], 2)
    return Result(
        file=job.label,
        engine=engine.name,
        prompt=prompt_name,
        document_type=job.document_type,
        fields=fields,
        compliance=compliance,
        raw_output="\n\n".join(job.raw_output),
        timings=job.timings,
        warnings=list(dict.fromkeys(job.warnings + field_warnings)),  # one line per distinct problem
        pages=len(job.pages),
        usage=job.usage,
        evidence=job.evidence,
        review=review,
    )



def _review(job: _Job, fields: dict[str, Any], compliance: dict[str, Any] | None, engine: Engine) -> Any:
    from llama_vision.review import review_document

    page_text = "\n".join(job.raw_output) if job.page_text else None
    return review_document(fields, job.evidence, engine.settings.review_threshold, document_type=job.document_type,
                           compliance=compliance, page_text=page_text)

def _extract_batched(
    items: list[Any], engine: Engine, library: PromptLibrary, style: str, batch_size: int
) -> Iterator[tuple[int, Result]]:
    """Batched generation for a local model: one classify and one extract generate per batch.

    Multi-page documents and failures drop back to the single-document path, so batching never
    changes what a document's Result says.
    """
    for start in range(0, len(items), batch_size):
        ready: list[_Job] = []
        for index in range(start, min(start + batch_size, len(items))):
            job = _Job(index=index, label=_label(items[index]))
            try:
                _load(job, items[index], engine, None)
            except LlamaVisionError as error:
                yield index, Result.failed(job.label, engine.name, style, error)
                continue
            if len(job.pages) == 1:
                ready.append(job)
            else:
                yield index, extract(job.pages, engine=engine, prompt_style=style, prompts=library, file_name=job.label)
        if not ready:
            continue
        try:
            _classify(ready, engine, library, None)
            prompts = [library.prompt(style, job.document_type).text for job in ready]
            started = time.perf_counter()
            generations = engine.generate_batch([job.pages[0] for job in ready], prompts)
            share = (time.perf_counter() - started) / len(ready)
        except Exception:  # out of memory after the engine's own retry, or a bad batch: go one by one
            for job in ready:
                yield job.index, extract(job.pages, engine=engine, prompt_style=style, prompts=library, file_name=job.label)
            continue
        for job, generation in zip(ready, generations, strict=True):
            try:
                job.add_time("generate", share)
                _record_generation(job, generation)
                job.raw_fields = _parse_or_retry(job, engine, library, job.pages[0], generation, style)
                yield job.index, _finish(job, engine, style)
            except LlamaVisionError as error:
                yield job.index, Result.failed(job.label, engine.name, style, error)


# -- merging --------------------------------------------------------------------------------


def _first_type(types: Iterable[str]) -> str:
    for document_type in types:
        if document_type and document_type != "other":
            return document_type
    return "other"


def _merge_pages(per_page: list[dict[str, Any]]) -> dict[str, Any]:
    """First page that has a value wins; line items from every page are kept in order."""
    merged: dict[str, Any] = {}
    for fields in per_page:
        for key, value in fields.items():
            if key == "items":
                merged.setdefault("items", [])
                merged["items"] = list(merged["items"]) + list(value or [])
            elif merged.get(key) in (None, "", False) and value not in (None, ""):
                merged[key] = value
    return merged

"""The stages one document goes through on its way to a Result, for `pipeline` to drive:
load -> classify -> generate (streamed or not) -> take or parse the fields -> normalise -> comply.

Generation stages are generators: they yield the answer's text pieces as the engine produces them,
and StatusEvents for what the user would otherwise wait through in silence (the fallback retry,
each field question answered), and return what they built, so the pipeline can hand both to a
caller (an event stream, a callback) without a thread. Nothing here knows about Gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import LlamaVisionError
from llama_vision.events import StatusEvent, drain  # noqa: F401 - stages.drain for the batched paths
from llama_vision.result import FieldEvidence, Result, Review
from llama_vision.schema import DOCUMENT_TYPES, PROMPT_STYLES, label_of as field_label

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine, Generation
    from llama_vision.parsing.confidence import Spelled
    from llama_vision.prompts import PromptLibrary

CLASSIFY_TOKENS = 12  # a document type is one or two words; do not pay for more
Tokens = Generator[str | StatusEvent, None, Any]  # yields text pieces and statuses, returns the stage's product


@dataclass
class Job:
    """One document on its way through the stages (used by single and batched paths)."""

    index: int
    label: str
    pages: list[Any] = field(default_factory=list)
    document_type: str = "other"
    type_settled: bool = False  # given by the caller or classified: readers' guesses do not override it
    raw_fields: dict[str, Any] = field(default_factory=dict)
    raw_output: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    # (fields, evidence) of each page read, in page order (OCR: the engine's own; models: from token
    # probabilities, with boxes from `grounding.steps.ground_page`): `finish` keeps each field's evidence
    # from the first page that gives it, as `merge_pages` keeps its value
    page_readings: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    page_text: bool = False  # raw_output is the printed page text (OCR), so conflicts can be read from it
    # page index -> the OCR pass grounding runs beside generation (a Future of grounding.PageText)
    grounding: dict[int, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + seconds, 4)

    def add_usage(self, generation: Generation) -> None:
        for key in ("prompt_tokens", "generated_tokens"):
            value = getattr(generation, key)
            if value is not None:
                self.usage[key] = self.usage.get(key, 0) + value
        self.usage["generate_seconds"] = round(self.usage.get("generate_seconds", 0.0) + generation.seconds, 4)


def check_style(style: str) -> None:
    if style not in PROMPT_STYLES:
        raise LlamaVisionError(f"Unknown prompt style {style!r}.", hint=f"Use one of {', '.join(PROMPT_STYLES)}.")


def default_prompts() -> PromptLibrary:
    from llama_vision.prompts import load_prompt_library

    return load_prompt_library()


def label_of(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "filename", "") or "<image>"


def load(job: Job, source: Any, engine: Engine, page: int | None) -> None:
    """A path, a PIL image or a list of page images -> `job.pages` (one page when `page` is set)."""
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


def classify(jobs: list[Job], engine: Engine, library: PromptLibrary | None, known: str | None) -> None:
    """The caller's document type, or one short batched question to a prompt-following engine.

    Engines that do not follow prompts are not asked: their Generations say the type themselves.
    """
    from llama_vision.engines.base import GenerationRequest
    from llama_vision.parsing import parse_document_type

    if known:
        if known not in DOCUMENT_TYPES:
            raise LlamaVisionError(f"Unknown document type {known!r}.", hint=f"Use one of {', '.join(DOCUMENT_TYPES)}.")
        for job in jobs:
            job.document_type, job.type_settled = known, True
        return
    if not engine.capabilities.follows_prompts or library is None:
        return
    started = time.perf_counter()
    prompt = library.classification.text
    generations = engine.generate_batch([GenerationRequest(j.pages[0], prompt, CLASSIFY_TOKENS) for j in jobs])
    share = (time.perf_counter() - started) / max(len(jobs), 1)
    for job, generation in zip(jobs, generations, strict=True):
        job.document_type, job.type_settled = parse_document_type(generation.text), True
        job.add_time("classify", share)


def prompt_for(job: Job, engine: Engine, library: PromptLibrary | None, style: str) -> str:
    """The extraction prompt for this document; engines that do not follow prompts get none."""
    if not engine.capabilities.follows_prompts or library is None:
        return ""
    return library.prompt(style, job.document_type).text


def read_page(job: Job, engine: Engine, library: PromptLibrary | None, style: str, image: Any, stream: bool) -> Tokens:
    """One page -> raw fields, yielding the answer's text as it comes when `stream` is set."""
    if style == "field_specific" and engine.capabilities.follows_prompts and library is not None:
        return (yield from ask_fields(job, engine, library, image))
    generation = yield from generate(job, engine, image, prompt_for(job, engine, library, style), stream)
    return (yield from take_fields(job, engine, library, image, generation, style, stream))


def generate(job: Job, engine: Engine, image: Any, prompt: str, stream: bool) -> Tokens:
    """One answer, streamed through the engine's own GenerationStream where it can; timed and recorded."""
    started = time.perf_counter()
    generation = yield from answer(engine, image, prompt, stream)
    job.add_time("generate", time.perf_counter() - started)
    record(job, generation)
    return generation


def answer(engine: Engine, image: Any, prompt: str, stream: bool) -> Tokens:
    """The engine's answer to one prompt, its text yielded as it comes when `stream` is set."""
    if stream and engine.capabilities.streams:
        pieces = engine.stream(image, prompt)
        yield from pieces
        return pieces.generation  # this call's own answer, whoever else uses the engine
    generation = engine.generate(image, prompt)
    if stream:
        yield generation.text
    return generation


def record(job: Job, generation: Generation) -> None:
    job.add_usage(generation)
    job.raw_output.append(generation.text)
    if generation.truncated:
        job.warnings.append(
            "The answer hit the token cap and was cut; fields after the cut may be missing "
            "(raise LLAMA_VISION_MAX_NEW_TOKENS)."
        )


def take_fields(
    job: Job, engine: Engine, library: PromptLibrary | None, image: Any, generation: Generation, style: str,
    stream: bool = False,
) -> Tokens:
    """Fields an engine read itself (OCR + rules) as they are; model text parsed (with one retry)."""
    if generation.fields is None:
        if library is None:
            raise LlamaVisionError(f"The {engine.name} engine returned text without fields and no prompts are loaded.",
                                   hint="Pass prompts= to the pipeline, or use an engine that reads fields itself.")
        return (yield from parse_or_retry(job, engine, library, image, generation, style, stream))
    if generation.document_type and not job.type_settled and job.document_type in ("", "other"):
        job.document_type = generation.document_type
    job.warnings.extend(generation.warnings)
    job.page_readings.append((dict(generation.fields), dict(generation.evidence or {})))
    job.page_text = True
    return dict(generation.fields)


def complete(job: Job, engine: Engine, library: PromptLibrary | None, style: str, prompt_name: str,
             generation: Generation, seconds: float) -> Result:
    """A one-page job whose answer came from a shared generate_batch (`seconds`: its share) -> its Result."""
    job.add_time("generate", seconds)
    record(job, generation)
    job.raw_fields = drain(take_fields(job, engine, library, job.pages[0], generation, style))
    from llama_vision.grounding.steps import ground_page

    ground_page(job, 0, job.raw_fields)
    return finish(job, engine, prompt_name)


def parse_or_retry(
    job: Job, engine: Engine, library: PromptLibrary, image: Any, generation: Generation, style: str,
    stream: bool = False,
) -> Tokens:
    """Parse the answer; on a refusal or unparseable prose, retry once with the fallback prompt
    (said in a "retry" StatusEvent first, then streamed like the first answer). The page's
    evidence comes from the answer the fields were read from."""
    outcome, why = parse_answer(job, generation, style)
    if why is None:
        return keep_reading(job, outcome.fields, generation)
    yield StatusEvent(f"The model {why}: retrying with the fallback prompt…", kind="retry")
    started = time.perf_counter()
    retry = yield from answer(engine, image, library.fallback_for(job.document_type).text, stream)
    return take_retry(job, library, outcome, why, generation, retry, time.perf_counter() - started)


def parse_answer(job: Job, generation: Generation, style: str) -> tuple[Any, str | None]:
    """(the parse outcome, why the answer needs the fallback prompt; None when it is usable)."""
    from llama_vision.parsing import is_refusal, parse_output

    started = time.perf_counter()
    outcome = parse_output(generation.text, style)
    job.add_time("parse", time.perf_counter() - started)
    if outcome.ok and not is_refusal(generation.text):
        return outcome, None
    return outcome, "refused" if is_refusal(generation.text) else f"gave unparseable output ({outcome.problem})"


def take_retry(job: Job, library: PromptLibrary, outcome: Any, why: str, generation: Generation,
               retry: Generation, seconds: float) -> dict[str, Any]:
    """The fallback prompt's answer (`seconds`: what it cost) -> fields, with a warning saying how it went."""
    from llama_vision.parsing import is_refusal, parse_output

    job.add_time("generate", seconds)
    record(job, retry)
    retried = parse_output(retry.text, library.fallback_for(job.document_type).output_style)
    if retried.ok and not is_refusal(retry.text):
        job.warnings.append(f"The model {why}; retried once with the fallback prompt, which worked.")
        return keep_reading(job, retried.fields, retry)
    job.warnings.append(f"The model {why}, and the fallback prompt did not help; fields left empty.")
    return keep_reading(job, outcome.fields if outcome.ok else {}, generation)


def keep_reading(job: Job, fields: dict[str, Any], source: Generation) -> dict[str, Any]:
    """Keep the page's fields with their evidence, read from the answer they came from; returns the fields."""
    from llama_vision.parsing.confidence import answer_confidence

    spelled = answer_confidence(source.text, source.token_logprobs, fields)
    job.page_readings.append((dict(fields), model_evidence(spelled)))
    return fields


def model_evidence(spelled: Mapping[str, Spelled]) -> dict[str, FieldEvidence]:
    """A model engine's evidence for one page: each value's answer text and the confidence of its
    tokens (parsing/confidence.py). `finish` numbers the page; the box stays None until the value
    is found on the page (grounding), never guessed."""
    return {name: FieldEvidence(confidence=found.confidence, source="model", text=found.text)
            for name, found in spelled.items()}


def ask_fields(job: Job, engine: Engine, library: PromptLibrary, image: Any) -> Tokens:
    """One question per field; a "fields" status before the first, a "field" status per answer."""
    from llama_vision.parsing import parse_field_answer
    from llama_vision.parsing.confidence import field_answer_confidence

    questions = library.field_questions(job.document_type)
    names = list(questions)
    chunk = engine.questions_at_once(len(names))
    how = "together" if chunk >= len(names) else ("one by one" if chunk == 1 else f"{chunk} at a time")
    yield StatusEvent(f"Asking {len(names)} field questions {how}…", kind="fields", steps=len(names))
    fields: dict[str, Any] = {}
    spelled: dict[str, Spelled] = {}
    for start in range(0, len(names), chunk):
        started = time.perf_counter()
        answers = engine.ask_fields(image, {name: questions[name] for name in names[start:start + chunk]})
        job.add_time("generate", time.perf_counter() - started)
        for name, generation in answers.items():
            job.add_usage(generation)
            job.raw_output.append(f"{name}: {generation.text}")
            fields[name] = value = parse_field_answer(name, generation.text)
            found = field_answer_confidence(name, generation.text, generation.token_logprobs)
            if found is not None:
                spelled[name] = found
            shown = "not found" if value in (None, "", []) else str(value)
            yield StatusEvent(f"{field_label(name)}: {shown} ({len(fields)} of {len(names)})", kind="field",
                              field=name, answer=value, step=len(fields), steps=len(names))
    job.page_readings.append((dict(fields), model_evidence(spelled)))
    return fields


def settle_fields(raw_fields: dict[str, Any], raw_output: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Raw values -> normalised fields, implausible names dropped, line items' GST status marked
    (from the printed page text in `raw_output`); with the warnings. Idempotent on settled fields."""
    from llama_vision.fields import normalise_fields
    from llama_vision.gst_status import mark_items
    from llama_vision.plausibility import check_names

    fields, field_warnings = normalise_fields(raw_fields)
    fields, name_warnings = check_names(fields)
    fields["items"] = mark_items(fields["items"] or [], "\n".join(raw_output), raw_fields.get("items"))
    return fields, field_warnings + name_warnings


@dataclass
class Assessment:
    """What the rules say about settled fields: the Result's compliance and review, and warnings."""

    compliance: dict[str, Any]
    review: Review
    warnings: list[str]


def assess(fields: dict[str, Any], document_type: str, settings: Settings, *, texts: Sequence[Any],
           evidence: dict[str, Any], page_text: str | None, add_time: Callable[[str, float], None] | None = None,
           ) -> Assessment:
    """ABN Lookup (when on), currency, the ATO rules and the review routing over settled fields.

    The one home of that sequence: `finish` runs it on what an engine read, `pipeline.reassess`
    again on a person's corrections, so a corrected document is judged exactly as a read one.
    `texts`: what the amounts' currency is read from (raw output and raw values); `page_text`:
    the printed page text (OCR), whose conflicts turn the verdict to "review".
    """
    from llama_vision.abn_lookup import lookup_supplier
    from llama_vision.compliance import check_compliance
    from llama_vision.plausibility import foreign_currency
    from llama_vision.review import review_document

    timed = add_time or (lambda _stage, _seconds: None)
    warnings: list[str] = []
    started = time.perf_counter()
    answer = lookup_supplier(settings, fields.get("supplier_abn"))
    if answer is not None:
        timed("abn_lookup", time.perf_counter() - started)
        warnings.extend([answer.warning] if answer.warning else [])
    started = time.perf_counter()
    compliance = check_compliance(fields, document_type, abn_record=answer.record if answer else None,
                                  currency=foreign_currency(texts))
    timed("compliance", time.perf_counter() - started)
    # a page that prints conflicting values turns the compliance verdict to "review" (review.py)
    review = review_document(fields, evidence, settings.review_threshold, document_type=document_type,
                             compliance=compliance, page_text=page_text)
    return Assessment(compliance, review, warnings)


def finish(job: Job, engine: Engine, prompt_name: str) -> Result:
    """Settle the fields, assess them (ABN Lookup, currency, compliance, review) and build the Result."""
    from llama_vision.duplicates import small_grey
    from llama_vision.review import merge_evidence

    started = time.perf_counter()
    fields, field_warnings = settle_fields(job.raw_fields, job.raw_output)
    job.add_time("normalise", time.perf_counter() - started)
    evidence = merge_evidence([f for f, _e in job.page_readings], [e for _f, e in job.page_readings])
    texts = [*job.raw_output, *(v for v in job.raw_fields.values() if isinstance(v, str))]
    page_text = "\n".join(job.raw_output) if job.page_text else None
    assessment = assess(fields, job.document_type, engine.settings, texts=texts, evidence=evidence,
                        page_text=page_text, add_time=job.add_time)
    job.warnings.extend(assessment.warnings)
    job.timings["total"] = round(time.perf_counter() - job.started, 4)
    if job.usage.get("generated_tokens") and job.usage.get("generate_seconds"):
        job.usage["tokens_per_second"] = round(job.usage["generated_tokens"] / job.usage["generate_seconds"], 2)
    result = Result(
        file=job.label,
        engine=engine.name,
        prompt=prompt_name,
        document_type=job.document_type,
        fields=fields,
        compliance=assessment.compliance,
        raw_output="\n\n".join(job.raw_output),
        timings=job.timings,
        warnings=list(dict.fromkeys(job.warnings + field_warnings)),  # one line per distinct problem
        pages=len(job.pages),
        usage=job.usage,
        evidence=evidence,
        review=assessment.review,
    )
    result._first_page = small_grey(job.pages[0]) if job.pages else None  # for batch's duplicate check
    return result


def merge_pages(per_page: Iterable[dict[str, Any]]) -> dict[str, Any]:
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

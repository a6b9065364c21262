"""Many prompts over the same documents: each document's pages are loaded and its type classified
once, then every prompt reads it (`pipeline.extract` per (document, prompt) would do both P times).

`extract_prompts` yields (document index, prompt index, Result) as they finish, in any order:

- an engine that batches (a local model): documents are prepared `batch_size` at a time (one
  batched classify), then the single-page (document, prompt) requests go to `generate_batch`
  `batch_size` at a time, and the answers that need the fallback prompt ask it together too;
  multi-page documents and field questions are read one by one;
- an engine that runs requests concurrently (a server pool): documents are prepared and prompts
  read by `concurrency` workers (default settings.api_concurrency); the engine's own slots still
  cap the requests in flight, and its retries and failover apply to every request;
- otherwise one document after another.

Every Result is what `pipeline.extract` gives for that prompt, except its `load` and `classify`
timings, which are the document's shared ones divided among the prompts (so a Result's `total`
is its fair share of the work). Nothing raises for a bad document: it is an error Result per prompt.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from llama_vision import stages
from llama_vision.errors import LlamaVisionError
from llama_vision.result import Result
from llama_vision.stages import Job

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.prompts import PromptLibrary

__all__ = ["PromptRun", "extract_prompts"]

SHARED_STAGES = ("load", "classify")
Done = tuple[int, int, Result]


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class PromptRun:
    """One prompt to run: `name` is what its Results say in `prompt`; `library` holds its text
    (None for engines that do not follow prompts)."""

    name: str
    style: str
    library: PromptLibrary | None


def extract_prompts(
    sources: Iterable[Any], prompts: Sequence[PromptRun], *, engine: Engine, batch_size: int = 4,
    concurrency: int | None = None, stop: StopFlag | None = None,
) -> Iterator[Done]:
    """Yield (document index, prompt index, Result) for every document x prompt (see the module doc).

    `stop` is checked between units of work: once set, nothing new starts and the iterator ends.
    Closing the iterator early drops the work not yet started.
    """
    items, runs = list(sources), list(prompts)
    if not runs:
        return
    for run in runs:
        stages.check_style(run.style)
    capabilities = engine.capabilities
    if capabilities.batches and batch_size > 1:
        yield from _batched(items, runs, engine, batch_size, stop)
    elif capabilities.runs_concurrently:
        workers = concurrency or engine.settings.api_concurrency
        yield from _pooled(items, runs, engine, max(1, workers), stop)
    else:
        for index, item in enumerate(items):
            if _stopped(stop):
                return
            base = _prepare(index, item, engine, runs[0].library)
            for p, run in enumerate(runs):
                yield index, p, _read(base, engine, run, len(runs))


def _stopped(stop: StopFlag | None) -> bool:
    return stop is not None and stop.is_set()


def _problem(error: BaseException) -> str:
    return str(error) if isinstance(error, LlamaVisionError) else f"{type(error).__name__}: {error}"


def _prepare(index: int, item: Any, engine: Engine, library: PromptLibrary | None) -> Job | Result:
    """Load and classify one document; a failure is the error Result every prompt will report."""
    job = Job(index=index, label=stages.label_of(item))
    try:
        stages.load(job, item, engine, None)
        stages.classify([job], engine, library, None)
    except Exception as error:  # noqa: BLE001 - a bad document or an engine bug must not end the run
        return Result.failed(job.label, engine.name, "", _problem(error))
    return job


def _fork(base: Job, shares: int) -> Job:
    """A copy of a prepared document for one prompt, carrying its share of the shared stages."""
    shared = {k: round(v / shares, 4) for k, v in base.timings.items() if k in SHARED_STAGES}
    return Job(index=base.index, label=base.label, pages=base.pages, document_type=base.document_type,
               type_settled=base.type_settled, timings=shared, started=time.perf_counter() - sum(shared.values()))


def _read(base: Job | Result, engine: Engine, run: PromptRun, shares: int) -> Result:
    """One prompt over a prepared document: every page read, merged, finished into a Result."""
    if isinstance(base, Result):
        return base.model_copy(update={"prompt": run.name})
    job = _fork(base, shares)
    try:
        for image in job.pages:
            fields = stages.drain(stages.read_page(job, engine, run.library, run.style, image, False))
            job.raw_fields = stages.merge_pages([job.raw_fields, fields])
        return stages.finish(job, engine, run.name)
    except Exception as error:  # noqa: BLE001 - one prompt's failure is its own error Result
        return Result.failed(job.label, engine.name, run.name, _problem(error))


# -- a local model: batched generation --------------------------------------------------------


def _batched(items: list[Any], runs: list[PromptRun], engine: Engine, size: int, stop: StopFlag | None) -> Iterator[Done]:
    for start in range(0, len(items), size):
        if _stopped(stop):
            return
        ready: list[Job] = []
        for index in range(start, min(start + size, len(items))):
            job = Job(index=index, label=stages.label_of(items[index]))
            try:
                stages.load(job, items[index], engine, None)
                ready.append(job)
            except Exception as error:  # noqa: BLE001
                failed = Result.failed(job.label, engine.name, "", _problem(error))
                yield from ((index, p, _read(failed, engine, run, len(runs))) for p, run in enumerate(runs))
        yield from _classify_and_read(ready, runs, engine, size, stop)


def _classify_and_read(jobs: list[Job], runs: list[PromptRun], engine: Engine, size: int,
                       stop: StopFlag | None) -> Iterator[Done]:
    prepared: list[Job | Result] = list(jobs)
    try:
        stages.classify(jobs, engine, runs[0].library, None)
    except Exception:  # noqa: BLE001 - out of memory on the batch: each document on its own
        prepared = [_prepare(job.index, job.pages, engine, runs[0].library) for job in jobs]
        for job, again in zip(jobs, prepared, strict=True):
            if isinstance(again, Job):
                again.label, again.timings["load"] = job.label, job.timings.get("load", 0.0)
    together: list[tuple[Job, int]] = []
    for job, base in zip(jobs, prepared, strict=True):
        for p, run in enumerate(runs):
            if isinstance(base, Job) and len(base.pages) == 1 and not _asks_fields(run, engine):
                together.append((base, p))
            else:
                yield job.index, p, _read(base, engine, run, len(runs))
    for start in range(0, len(together), size):
        if _stopped(stop):
            return
        yield from _generate_together(together[start:start + size], runs, engine)


def _asks_fields(run: PromptRun, engine: Engine) -> bool:
    return run.style == "field_specific" and engine.capabilities.follows_prompts and run.library is not None


def _generate_together(chunk: list[tuple[Job, int]], runs: list[PromptRun], engine: Engine) -> Iterator[Done]:
    """One generate_batch for (document, prompt) pairs; a failed batch goes one by one."""
    from llama_vision.engines.base import GenerationRequest

    forks = [_fork(base, len(runs)) for base, _p in chunk]
    try:
        requests = [GenerationRequest(fork.pages[0], stages.prompt_for(fork, engine, runs[p].library, runs[p].style))
                    for fork, (_base, p) in zip(forks, chunk, strict=True)]
        started = time.perf_counter()
        generations = engine.generate_batch(requests)
        share = (time.perf_counter() - started) / len(chunk)
    except Exception:  # noqa: BLE001 - out of memory after the engine's own retry, or a bad batch
        for base, p in chunk:
            yield base.index, p, _read(base, engine, runs[p], len(runs))
        return
    retries: list[tuple[Job, int, Any, str, Any]] = []  # answers that need the fallback prompt, asked together
    for fork, (base, p), generation in zip(forks, chunk, generations, strict=True):
        run = runs[p]
        try:
            fork.add_time("generate", share)
            stages.record(fork, generation)
            if generation.fields is not None or run.library is None:
                fork.raw_fields = stages.drain(stages.take_fields(fork, engine, run.library, fork.pages[0], generation,
                                                                  run.style))
            else:
                outcome, why = stages.parse_answer(fork, generation, run.style)
                if why is not None:
                    retries.append((fork, p, outcome, why, generation))
                    continue
                fork.raw_fields = stages.keep_reading(fork, outcome.fields, generation)
            yield base.index, p, stages.finish(fork, engine, run.name)
        except Exception as error:  # noqa: BLE001
            yield base.index, p, Result.failed(fork.label, engine.name, run.name, _problem(error))
    if retries:
        yield from _retry_together(retries, runs, engine)


def _retry_together(retries: list[tuple[Job, int, Any, str, Any]], runs: list[PromptRun], engine: Engine) -> Iterator[Done]:
    """The fallback prompt for every answer that needed it, in one generate_batch (one by one if that fails)."""
    from llama_vision.engines.base import GenerationRequest

    requests = [GenerationRequest(fork.pages[0], runs[p].library.fallback_for(fork.document_type).text)  # type: ignore[union-attr]
                for fork, p, _o, _w, _g in retries]
    try:
        started = time.perf_counter()
        answers = engine.generate_batch(requests)
        shares = [(time.perf_counter() - started) / len(requests)] * len(requests)
    except Exception:  # noqa: BLE001 - out of memory on the batch: each on its own
        answers, shares = [], []
        for request in requests:
            started = time.perf_counter()
            try:
                answers.append(engine.generate(request.image, request.prompt))
            except Exception as error:  # noqa: BLE001 - this document's error Result, below
                answers.append(error)
            shares.append(time.perf_counter() - started)
    for (fork, p, outcome, why, first), answer, seconds in zip(retries, answers, shares, strict=True):
        run = runs[p]
        try:
            if isinstance(answer, Exception):
                raise answer
            fork.raw_fields = stages.take_retry(fork, run.library, outcome, why, first, answer, seconds)  # type: ignore[arg-type]
            yield fork.index, p, stages.finish(fork, engine, run.name)
        except Exception as error:  # noqa: BLE001
            yield fork.index, p, Result.failed(fork.label, engine.name, run.name, _problem(error))


# -- a server pool: concurrent requests -------------------------------------------------------


def _pooled(items: list[Any], runs: list[PromptRun], engine: Engine, workers: int, stop: StopFlag | None) -> Iterator[Done]:
    """Prepare documents and read prompts on `workers` threads; at most 2 x workers documents are
    open (pages in memory) at once, so a large set does not load every page before reading any."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompt-sweep")
    what: dict[Future[Any], tuple[int, int]] = {}  # future -> (document, prompt or -1 for "prepare")
    left: dict[int, int] = {}  # document -> prompts still to finish
    upcoming = iter(range(len(items)))

    def open_more() -> None:
        while len(left) < 2 * workers and not _stopped(stop):
            index = next(upcoming, None)
            if index is None:
                return
            left[index] = len(runs)
            what[pool.submit(_prepare, index, items[index], engine, runs[0].library)] = (index, -1)

    try:
        open_more()
        while what:
            done, _ = wait(list(what), return_when=FIRST_COMPLETED)
            for future in done:
                index, p = what.pop(future)
                if p < 0:
                    base = future.result()
                    for q, run in enumerate(runs):
                        what[pool.submit(_read, base, engine, run, len(runs))] = (index, q)
                    continue
                left[index] -= 1
                if not left[index]:
                    del left[index]
                yield index, p, future.result()
            if _stopped(stop):
                return
            open_more()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

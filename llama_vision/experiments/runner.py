"""Run P prompts x E engines over a labelled set (`prompt_sweep.extract_prompts`: each document's
pages and classification are reused across prompts), score every Result, report progress, obey a
stop flag and save the run in the history."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from llama_vision.config import public_settings
from llama_vision.experiments.records import DocumentRecord, ExperimentRun, record_of
from llama_vision.experiments.variants import PromptVariant, prompt_runs, text_hash
from llama_vision.prompt_sweep import PromptRun, extract_prompts

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.experiments.dataset import LabelledSet
    from llama_vision.experiments.history import History

__all__ = ["ProgressCallback", "engine_identity", "run_experiment"]

ProgressCallback = Callable[[int, int, DocumentRecord], None]  # (done, total, the record just made)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def engine_identity(engine: Engine) -> dict[str, Any]:
    """What ran: the engine, its model (checkpoint folder or server model name) and quantization."""
    settings = engine.settings
    model = {"llama": settings.model_path, "openai": settings.api_model}.get(engine.name, engine.name)
    quantization = settings.quantization if engine.name == "llama" else None
    return {"name": engine.name, "model": model, "quantization": quantization}


def _server_failures(engine: Engine) -> int | None:
    """Failed attempts the engine's server pool has counted so far (each one retried or failed over)."""
    try:
        wants_refresh = "refresh" in inspect.signature(engine.status).parameters
        status = engine.status(refresh=False) if wants_refresh else engine.status()  # type: ignore[call-arg]
    except Exception:  # noqa: BLE001 - a status call never fails a run
        return None
    servers = status.get("servers")
    return sum(int(s.get("failures") or 0) for s in servers) if isinstance(servers, list) else None


def _plan(variants: list[PromptVariant], engines: Sequence[Engine]) -> list[tuple[Engine, list[PromptRun], list[str]]]:
    plan = []
    for engine in engines:
        runs, texts = prompt_runs(variants, engine)
        plan.append((engine, runs, texts))
    return plan


def run_experiment(
    dataset: LabelledSet,
    variants: list[PromptVariant],
    engines: Sequence[Engine],
    *,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    history: History | None = None,
    batch_size: int = 4,
    concurrency: int | None = None,
) -> ExperimentRun:
    """Every engine x prompt over every document of `dataset`; returns (and saves) the run.

    On an engine that does not follow prompts the run is one "rules" column. `stop` ends the run
    after the work in progress; what finished is kept (the run says `stopped`).
    """
    plan = _plan(variants, engines)
    several = len(engines) > 1
    prompts: list[dict[str, Any]] = []
    for engine, runs, texts in plan:
        by_name = {v.name: v for v in variants}
        for run, text in zip(runs, texts, strict=True):
            variant = by_name.get(run.name)
            prompts.append({"column": f"{engine.name}/{run.name}" if several else run.name, "engine": engine.name,
                            "name": run.name, "style": run.style, "edited": bool(variant and variant.text is not None),
                            "text": text, "sha256": text_hash(text)})
    experiment = ExperimentRun(
        dataset=dataset.path, dataset_hash=dataset.digest, documents=list(dataset.keys), prompts=prompts,
        engines=[engine_identity(e) for e in engines], settings=public_settings(engines[0].settings) if engines else {},
        started=_now(),
    )
    total = sum(len(runs) for _, runs, _ in plan) * len(dataset)
    columns = iter(p["column"] for p in prompts)
    for engine, runs, _ in plan:
        names = [next(columns) for _ in runs]
        if stop is not None and stop.is_set():
            break
        _run_engine(experiment, dataset, engine, runs, names, total, progress, stop, batch_size, concurrency)
    order = {c: i for i, c in enumerate(experiment.columns)}
    position = {k: i for i, k in enumerate(dataset.keys)}
    experiment.records.sort(key=lambda r: (order[r.column], position[r.document]))
    experiment.stopped = len(experiment.records) < total
    experiment.finished = _now()
    if history is not None:
        experiment.id = history.save(experiment)
    return experiment


def _run_engine(experiment: ExperimentRun, dataset: LabelledSet, engine: Engine, runs: list[PromptRun],
                columns: list[str], total: int, progress: ProgressCallback | None, stop: threading.Event | None,
                batch_size: int, concurrency: int | None) -> None:
    before = _server_failures(engine)
    stream = extract_prompts(dataset.documents, runs, engine=engine, batch_size=batch_size,
                             concurrency=concurrency, stop=stop)
    try:
        for index, p, result in stream:
            key = dataset.keys[index]
            record = record_of(result.model_copy(update={"file": key}), dataset.truths[index],
                               column=columns[p], document=key)
            experiment.records.append(record)
            if progress is not None:
                progress(len(experiment.records), total, record)
            if stop is not None and stop.is_set():
                break
    finally:
        stream.close()
    after = _server_failures(engine)
    if before is not None and after is not None:
        experiment.engine_retries = (experiment.engine_retries or 0) + after - before

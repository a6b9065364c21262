"""Grounding's steps in a document's journey (driven by `pipeline` and `stages.complete`).

`start` submits every page's OCR pass when the job has its pages, `ground_page` joins a page's
pass once its fields are parsed and boxes them, `stop` drops passes nobody will join. The job is
`stages.Job` (typed here by what these steps use: this package sits below stages).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine


class GroundedJob(Protocol):
    pages: list[Any]
    grounding: dict[int, Any]  # page index -> Future of the page's PageText
    page_readings: list[tuple[dict[str, Any], dict[str, Any]]]
    warnings: list[str]

    def add_time(self, stage: str, seconds: float) -> None: ...


def start(job: GroundedJob, engine: Engine) -> None:
    """Start the OCR pass of every page on the grounding thread, so it runs while the model answers."""
    from llama_vision.grounding import enabled, submit

    if job.pages and enabled(engine.settings, engine):
        job.grounding = {i: submit(page, engine.settings) for i, page in enumerate(job.pages)}


def stop(job: GroundedJob) -> None:
    """Drop OCR passes that have not started (a document that failed or a stream closed early)."""
    for future in job.grounding.values():
        future.cancel()


def ground_page(job: GroundedJob, page_index: int, fields: dict[str, Any]) -> None:
    """Join the page's OCR pass and put the box of each answered value into the page's evidence,
    keeping what the engine measured (token-probability confidence). Without a pass: nothing."""
    from llama_vision.grounding import ground_fields

    future = job.grounding.pop(page_index, None)
    if future is None:
        return
    while len(job.page_readings) <= page_index:  # the engine gave no evidence for this page
        job.page_readings.append((dict(fields), {}))
    read, evidence = job.page_readings[page_index]
    started = time.perf_counter()
    try:
        page = future.result()
        job.page_readings[page_index] = (read, ground_fields(page, fields, evidence, page_index=page_index))
    except Exception as error:  # noqa: BLE001 - boxes are extra: the answer stands without them
        job.warnings.append(f"Boxes for the answers could not be found (OCR pass failed: {error}).")
    job.add_time("grounding", time.perf_counter() - started)

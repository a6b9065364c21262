"""One batch run of the web app: `batch.run_batch` in a worker thread, its finished documents
handed to the tab's generator in bunches, and the run's life tied to the client's.

- The tab pulls `updates()`: each is every document finished since the last one, at most one
  bunch per `UPDATE_INTERVAL` (a thousand fast documents are not a thousand page updates).
- The run stops after the document in progress when the Stop button is pressed, when Gradio
  closes the tab's generator (the client cancelled or went away), or when nobody has pulled an
  update for `CLIENT_GONE_AFTER` seconds (a generator Gradio abandoned without closing): a batch
  whose client has left must not keep the model busy for hours.
- Each finished document's Result JSON is kept in the run folder (`batch_folder`), beside the CSV,
  for the row detail; the documents stay too, for Resume (`resume=True` carries on in the same
  folder and skips every document already in its CSV) and the detail's page. The manifest says
  when the run ended and how (`done` or `stopped`). One worker per run folder at a time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.ui import batch_folder

if TYPE_CHECKING:
    from llama_vision.batch import BatchSummary
    from llama_vision.engines.base import Engine
    from llama_vision.result import Result

UPDATE_INTERVAL = 0.25  # seconds between live updates of the table
CLIENT_GONE_AFTER = 30.0  # seconds an update may wait unpulled before the client counts as gone

Finished = tuple[int, int, "Result"]  # (done, total, result) from batch.run_batch's progress


class _EitherSet:
    """Set when the session's Stop flag or this run's own flag is: another run of the same
    session clearing its flag must not restart this one."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class BatchRun:
    def __init__(self, inputs: Sequence[Any], *, engine: Engine, work: Path, session_stop: threading.Event,
                 resume: bool = False, prompt_style: str = "key_value") -> None:
        self.inputs = inputs
        self.engine = engine
        self.folder = batch_folder.RunFolder(work)
        self.resume = resume
        self.prompt_style = prompt_style
        self.out_csv, self.out_xlsx = self.folder.out_csv, self.folder.out_xlsx
        self.stop = threading.Event()
        self._stop_any = _EitherSet(self.stop, session_stop)
        self._finished: queue.Queue[Finished | None] = queue.Queue()
        self._outcome: dict[str, Any] = {}
        self._waiting_since: float | None = None  # when an update started waiting to be pulled
        self._thread = threading.Thread(target=self._work, name="batch-run", daemon=True)

    def start(self) -> BatchRun:
        """Start the worker; RunBusy when another worker is running this folder already."""
        if not batch_folder.claim(self.folder.run_id):
            raise RunBusy(self.folder.run_id)
        try:
            self._thread.start()
        except BaseException:
            batch_folder.release(self.folder.run_id)
            raise
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _work(self) -> None:
        from llama_vision import batch

        state = "stopped"
        try:
            report = self._outcome["summary"] = batch.run_batch(
                self.inputs, engine=self.engine, prompt_style=self.prompt_style, out_csv=self.out_csv,
                xlsx=self.out_xlsx, resume=self.resume, results_dir=self.folder.results_dir,
                stop_event=self._stop_any, progress=self._progress,  # type: ignore[arg-type]
            )
            state = "stopped" if report.stopped else "done"
        except BaseException as error:  # handed to the tab, which shows it
            self._outcome["error"] = error
        finally:
            try:
                self.folder.mark(state)
            except (batch_folder.RunGone, OSError):  # a folder without a manifest (tests) or removed
                pass
            batch_folder.release(self.folder.run_id)
            self._finished.put(None)

    def _progress(self, done: int, total: int, result: Result) -> None:
        self._finished.put((done, total, result))
        waiting = self._waiting_since
        if waiting is not None and time.monotonic() - waiting > CLIENT_GONE_AFTER:
            self.stop.set()  # nobody is reading: the client has gone

    def updates(self) -> Iterator[list[Finished]]:
        """Bunches of finished documents until the run ends. Closing this iterator (Gradio does
        when the client cancels or disconnects) stops the run after the current document."""
        last = 0.0
        try:
            while True:
                first = self._finished.get()
                if first is None:
                    return
                bunch = [first]
                ended = self._gather(bunch, last + UPDATE_INTERVAL)
                self._waiting_since = time.monotonic()
                yield bunch
                self._waiting_since = None
                last = time.monotonic()
                if ended:
                    return
        finally:
            self._waiting_since = None
            if self.running:
                self.stop.set()

    def _gather(self, bunch: list[Finished], until: float) -> bool:
        """Add what else finishes before `until` (or is already waiting); True once the run ended."""
        while True:
            remaining = until - time.monotonic()
            try:
                item = self._finished.get(timeout=remaining) if remaining > 0 else self._finished.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            bunch.append(item)

    def summary(self) -> BatchSummary:
        """The run's summary once `updates()` is exhausted; re-raises what the worker raised."""
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["summary"]


class RunBusy(Exception):
    """A worker is running this run folder already (a second Resume while the first goes on)."""

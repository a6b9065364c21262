"""Helpers several tabs share: running the pipeline with live tokens, documents, samples, files.

Still no business logic: `run_streaming` only paces the pipeline's token events for a Gradio
generator, and `in_background` bridges the few callback APIs; the pipeline decides everything.
"""

from __future__ import annotations

import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision import scratch
from llama_vision.schema import DOCUMENT_EXTENSIONS
from llama_vision.ui.state import Sample, bundled_samples

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.result import Result

_DONE = object()
STREAM_INTERVAL = 0.15  # seconds between UI refreshes while tokens arrive
FILE_TYPES = list(DOCUMENT_EXTENSIONS)


def path_of(value: Any) -> str | None:
    """A gr.File value (str path, dict from the API, or None) -> a local path."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value.get("path") or value.get("name")
    if isinstance(value, (list, tuple)):
        return path_of(value[0]) if value else None
    return str(getattr(value, "name", value))


def page_index(page: Any) -> int | None:
    """The UI counts pages from 1; the pipeline from 0. None means every page."""
    if page in (None, "", "all"):
        return None
    try:
        return max(int(float(page)) - 1, 0)
    except (TypeError, ValueError):
        return None


def run_streaming(engine: Engine, path: str, **kwargs: Any) -> Iterator[tuple[str, Result | None]]:
    """pipeline.extract_events as (text so far, None) while tokens arrive (at most every
    STREAM_INTERVAL seconds), then (full text, Result) once. A status line (the fallback retry,
    a field question answered, a page starting) goes into the text on a line of its own and is
    shown at once. Runs in the caller's thread: closing the iterator (the browser went away)
    stops the engine's generation."""
    from llama_vision import pipeline

    text = ""
    last = 0.0
    for event in pipeline.extract_events(path, engine=engine, **kwargs):
        if isinstance(event, pipeline.ResultEvent):
            yield (event.result.raw_output or text), event.result
            return
        if isinstance(event, pipeline.StatusEvent):
            text = f"{text.rstrip()}\n[{event.text}]\n".lstrip("\n")
            last = time.monotonic()
            yield text, None
            continue
        text += event.text
        now = time.monotonic()
        if now - last >= STREAM_INTERVAL:
            last = now
            yield text, None


@dataclass(frozen=True)
class Finished:
    """The last item `in_background` yields: what the work returned."""

    value: Any


def in_background(work: Callable[[Callable[[Any], None]], Any], *, tick: float | None = None) -> Iterator[Any]:
    """Run `work(emit)` in a worker thread and iterate what it reports: each item it passes to
    `emit`, None every `tick` seconds while nothing arrives (when `tick` is set), then
    Finished(its return value). An exception in `work` is raised here.

    The one bridge for calls that report progress by callback (batch.run_batch) or not at all
    (engine.initialize); extraction itself needs none (pipeline.extract_events is an iterator).
    """
    reports: queue.Queue[Any] = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(reports.put)
        except BaseException as error:  # handed to the UI thread, which shows it
            outcome["error"] = error
        finally:
            reports.put(_DONE)

    threading.Thread(target=run, name="ui-background", daemon=True).start()
    while True:
        try:
            item = reports.get(timeout=tick)
        except queue.Empty:
            yield None
            continue
        if item is _DONE:
            break
        yield item
    if "error" in outcome:
        raise outcome["error"]
    yield Finished(outcome.get("value"))


def sample_choices() -> list[str]:
    return [s.label for s in bundled_samples()]


def sample_by_label(label: str | None) -> Sample | None:
    for sample in bundled_samples():
        if sample.label == label:
            return sample
    return None


def truth_for(path: str | None) -> Path | None:
    """Ground truth for a bundled sample (same name + .json), found by file name."""
    if not path:
        return None
    name = Path(path).name
    for sample in bundled_samples():
        if sample.path.name == name and sample.truth is not None:
            return sample.truth
    return None


OUTPUT_ROOT = Path(tempfile.gettempdir()) / "llama_vision_ui"
OUTPUT_MAX_AGE = 6 * 3600  # seconds a download folder is kept; a demo left running must not fill the disk
RUN_PREFIX = "run_"  # run folders are named run_<pid>-<random> (scratch.scratch_dir): whose they are


def output_dir() -> Path:
    """A fresh folder under the system temp dir for files the user downloads (Gradio copies them
    into its own cache when it serves them); stale folders are removed on the way."""
    sweep_outputs()
    return scratch.scratch_dir(RUN_PREFIX, OUTPUT_ROOT)


def sweep_outputs() -> int:
    """Remove run folders of app processes that have ended (a killed app or batch leaves its
    folder behind; several apps may share the temp dir, so a live one's folders stay) and any
    older than OUTPUT_MAX_AGE. Returns how many were removed."""
    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    removed = len(scratch.remove_stale(RUN_PREFIX, OUTPUT_ROOT))
    cutoff = time.time() - OUTPUT_MAX_AGE
    for old in OUTPUT_ROOT.iterdir():
        try:
            if old.is_dir() and not old.is_symlink() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


# A directory part of an absolute path ("/tmp/gradio/5f1c/" in "/tmp/gradio/5f1c/receipt.png"),
# not inside a URL ("http://host/a/") or a relative path ("march/a.png").
_SERVER_DIR = re.compile(r"(?<![\w.:/~-])(?:/[^\s/'\"`<>|]+)+/(?=[^\s/])")


def public_message(text: str) -> str:
    """A message for the user with server folders taken out: only file names stay."""
    return _SERVER_DIR.sub("", text)


def write_result_json(result: Result) -> str:
    stem = Path(result.file).stem or "result"
    target = output_dir() / f"{stem}.result.json"
    target.write_text(result.to_json(indent=2), encoding="utf-8")
    return str(target)


#: Disk quota for everything the app keeps under OUTPUT_ROOT (run folders, staged uploads,
#: extracted ZIPs): safe_zip refuses an archive that would go past it before writing a byte.
OUTPUT_QUOTA_BYTES = 4 * 1024**3
scratch.limit_folder(OUTPUT_ROOT, OUTPUT_QUOTA_BYTES)

"""The waiting line in words: "2 requests ahead of you, about 40 s", from measured durations.

Gradio's own line ("queue: 1/1 | 0.5/77.7s") counts a streaming event's time to its *first*
update and averages every run since start (the first one loads the model), so its wait is far
off. Two fixes, both outside Gradio's code:

- `watch(demo)` times every model-bound event from start to end and keeps the median of the
  last RECENT runs per event as Gradio's estimate, so its own queue line and gradio_client's
  `Status.eta` become realistic too;
- `announce(button, output)` adds an instant, unqueued listener to a model-bound button that
  writes the wait in words into `output` as the request joins the line (the event itself then
  replaces the line when it starts). Nothing is written when nobody is ahead.

Gradio exposes no hook for either, so both wrap attributes of its queue; if a future Gradio
renames them, its own numbers show again and the words are left out.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict, deque
from typing import Any

import gradio as gr

from llama_vision.ui.layout import MODEL_QUEUE

RECENT = 20  # runs kept per event for the median


class QueueWatch:
    """Measured durations of the model-bound events of one Blocks, and the line as it stands."""

    def __init__(self, demo: gr.Blocks, concurrency_id: str = MODEL_QUEUE) -> None:
        self.demo = demo
        self.concurrency_id = concurrency_id
        self.durations: defaultdict[Any, deque[float]] = defaultdict(lambda: deque(maxlen=RECENT))
        self.running: dict[str, tuple[Any, float]] = {}  # event id -> (fn, when it started)

    # -- measuring -----------------------------------------------------------------------------
    def install(self) -> bool:
        queue = getattr(self.demo, "_queue", None)
        process = getattr(queue, "process_events", None)
        if process is None or not hasattr(queue, "process_time_per_fn"):
            return False

        async def timed(events: list[Any], *args: Any, **kwargs: Any) -> Any:
            fn = events[0].fn if events else None
            if fn is None or getattr(fn, "concurrency_id", None) != self.concurrency_id:
                return await process(events, *args, **kwargs)
            started = time.monotonic()
            for event in events:
                self.running[event._id] = (fn, started)
            try:
                return await process(events, *args, **kwargs)
            finally:
                for event in events:
                    self.running.pop(event._id, None)
                self.record(fn, time.monotonic() - started)
                estimate = queue.process_time_per_fn[fn]
                estimate.avg_time = self.typical(fn)  # Gradio's ETA, from whole runs

        queue.process_events = timed
        return True

    def record(self, fn: Any, seconds: float) -> None:
        self.durations[fn].append(seconds)

    def typical(self, fn: Any = None) -> float | None:
        """Median seconds of the recent runs of `fn` (any model event when it has none yet)."""
        runs = list(self.durations.get(fn) or []) if fn is not None else []
        if not runs:
            runs = [s for recent in self.durations.values() for s in recent]
        return statistics.median(runs) if runs else None

    # -- the line ------------------------------------------------------------------------------
    def ahead_of(self, session_hash: str | None) -> tuple[int, float | None]:
        """(requests ahead of this session's next one, seconds until it can start, None if unknown)."""
        queue = getattr(self.demo, "_queue", None)
        line = getattr(queue, "event_queue_per_concurrency_id", {}).get(self.concurrency_id)
        waiting = [e for e in getattr(line, "queue", []) if e.session_hash != session_hash]
        running = list(self.running.values())
        ahead = len(waiting) + len(running)
        if not ahead:
            return 0, 0.0
        slots = max(int(getattr(line, "concurrency_limit", None) or 1), 1)
        now, total = time.monotonic(), 0.0
        for fn, started in running:
            typical = self.typical(fn)
            if typical is None:
                return ahead, None
            total += max(typical - (now - started), 1.0)
        for event in waiting:
            typical = self.typical(event.fn)
            if typical is None:
                return ahead, None
            total += typical
        return ahead, total / slots

    def words(self, session_hash: str | None) -> str | None:
        ahead, seconds = self.ahead_of(session_hash)
        return wait_words(ahead, seconds)


def wait_words(ahead: int, seconds: float | None) -> str | None:
    """"2 requests ahead of you, about 40 s" (None when nobody is ahead)."""
    if ahead <= 0:
        return None
    people = "1 request is" if ahead == 1 else f"{ahead} requests are"
    if seconds is None:
        return f"{people} ahead of you; the wait is not measured yet (this is the first run)."
    if seconds >= 90:
        return f"{people} ahead of you, about {round(seconds / 60)} min."
    return f"{people} ahead of you, about {max(round(seconds / 5) * 5, 5)} s."


def watch(demo: gr.Blocks) -> QueueWatch:
    """Start measuring the model events of `demo` (after `demo.queue(...)`)."""
    watcher = QueueWatch(demo)
    watcher.install()
    demo.queue_watch = watcher  # type: ignore[attr-defined]
    return watcher


def announce(button: Any, output: Any, *, wrap: str = "{}") -> None:
    """On `button`'s click, write the wait in words into `output` at once (unqueued, private).
    `wrap` formats the sentence for the output ("[{}]" in a text box, "*{}*" in Markdown)."""
    from gradio.context import Context

    demo = Context.root_block  # the Blocks being built

    def line(request: gr.Request) -> Any:
        watcher = getattr(demo, "queue_watch", None)
        words = watcher.words(getattr(request, "session_hash", None)) if watcher else None
        return wrap.format(words) if words else gr.skip()

    button.click(line, None, output, queue=False, api_name="queue_line", show_progress="hidden",
                 api_visibility="private")

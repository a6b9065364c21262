"""The waiting line in words (issue J, item 2): "2 requests ahead of you, about 40 s" from the
measured whole-run durations of the model events, and Gradio's own estimate fed the same."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import gradio as gr

from llama_vision.ui.layout import MODEL_QUEUE
from llama_vision.ui.queue_words import QueueWatch, wait_words


def test_the_words():
    assert wait_words(0, 0.0) is None
    assert wait_words(1, 12.0) == "1 request is ahead of you, about 10 s."
    assert wait_words(2, 41.0) == "2 requests are ahead of you, about 40 s."
    assert wait_words(3, 200.0) == "3 requests are ahead of you, about 3 min."
    assert "not measured yet" in wait_words(1, None)


def _app() -> gr.Blocks:
    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(lambda: "x", None, box, concurrency_id=MODEL_QUEUE, concurrency_limit=1)
    demo.queue()
    return demo


def test_whole_runs_are_measured_and_become_gradios_estimate():
    demo = _app()
    watcher = QueueWatch(demo)
    seen = []

    async def slow_run(events, *args):
        seen.append(len(watcher.running))  # counted as running while it runs
        await asyncio.sleep(0.2)

    demo._queue.process_events = slow_run
    assert watcher.install()
    fn = next(iter(demo.fns.values()))
    for _ in range(3):
        asyncio.run(demo._queue.process_events([SimpleNamespace(_id=str(time.time()), fn=fn)], False, 0.0, fn))
    assert seen == [1, 1, 1] and not watcher.running
    assert 0.19 < watcher.typical(fn) < 1.0
    assert demo._queue.process_time_per_fn[fn].avg_time == watcher.typical(fn)  # Gradio's ETA, from whole runs


def test_ahead_of_counts_others_and_estimates_the_wait():
    demo = _app()
    watcher = QueueWatch(demo)
    fn = next(iter(demo.fns.values()))
    for seconds in (18.0, 20.0, 22.0):
        watcher.record(fn, seconds)
    line = SimpleNamespace(queue=[SimpleNamespace(session_hash="other", fn=fn),
                                  SimpleNamespace(session_hash="me", fn=fn)], concurrency_limit=1)
    demo._queue.event_queue_per_concurrency_id[MODEL_QUEUE] = line
    watcher.running["running"] = (fn, time.monotonic() - 5.0)  # 5 s into a ~20 s run
    ahead, seconds = watcher.ahead_of("me")
    assert ahead == 2  # the running one and the other session's; my own request is not ahead of me
    assert 34 < seconds < 36  # ~15 s left of the running one + 20 s for the waiting one
    assert watcher.words("me") == "2 requests are ahead of you, about 35 s."
    watcher.running.clear()
    line.queue = [line.queue[1]]
    assert watcher.words("me") is None  # nobody ahead: nothing to say

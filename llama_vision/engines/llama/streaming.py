"""Token streaming for the llama engine: `generate` runs in a worker thread and feeds a
`TextIteratorStreamer`; the caller iterates a GenerationStream for its text pieces and then
reads that stream's own Generation. Errors in the worker (out-of-memory included) reach the
caller; closing the iteration early stops the generation at the next token instead of letting
it run to the cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Generation, GenerationRequest, GenerationStream
from llama_vision.engines.llama import token_scores

if TYPE_CHECKING:
    from llama_vision.engines.llama.generation import Runner


def _stop_criteria(stop: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_StopWhenAsked()])


def stream_generation(runner: Runner, request: GenerationRequest, lock: AbstractContextManager[Any]) -> GenerationStream:
    """A stream of `request`'s answer; `lock` (the engine's run lock) is held while it is iterated."""
    finished: list[Generation] = []  # this call's own answer, never shared with another stream

    def pieces() -> Iterator[str]:
        with lock:
            if runner.interface == "answer_question":
                finished.append(runner.answer_question(request))
                yield finished[0].text
                return
            yield from _pieces(runner, request, finished)

    return GenerationStream(pieces(), lambda: finished[0])


def _pieces(runner: Runner, request: GenerationRequest, finished: list[Generation]) -> Iterator[str]:
    from transformers import TextIteratorStreamer

    cap = int(request.max_new_tokens or runner.settings.max_new_tokens)
    started = time.perf_counter()
    with runner.guarded("streaming"):
        inputs = runner.encode([request.image], [request.prompt])
    streamer = TextIteratorStreamer(runner.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
    stop = threading.Event()
    outcome: dict[str, Any] = {}
    scores = token_scores.step_recorder()  # this stream's own, read after the worker has finished

    def work() -> None:
        try:
            with runner.torch.inference_mode():
                outcome["output"] = runner.model.generate(
                    **inputs,
                    generation_config=runner.generation_config(cap),
                    streamer=streamer,
                    stopping_criteria=_stop_criteria(stop),
                    logits_processor=scores.processors(),
                )
        except BaseException as error:  # noqa: BLE001 - handed to the consuming thread
            outcome["error"] = error
            streamer.end()  # unblock the consumer

    worker = threading.Thread(target=work, name="llama-stream", daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        stop.set()  # no-op when finished; stops generation when the caller closed us early
        worker.join()
    if "error" in outcome:
        with runner.guarded("streaming"):
            raise outcome["error"]
    width = inputs["input_ids"].shape[1]
    finished.append(runner.finish(
        outcome["output"][0, width:].tolist(), int(inputs["attention_mask"].sum()), cap, time.perf_counter() - started,
        scores,
    ))

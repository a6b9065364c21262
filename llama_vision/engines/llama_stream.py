"""Token streaming for the llama engine: `generate` runs in a worker thread and feeds a
`TextIteratorStreamer`; the caller's iterator yields its text pieces. Errors in the worker
(out-of-memory included) reach the caller; closing the iterator early stops the generation at
the next token instead of letting it run to the cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from llama_vision.engines.llama_loading import is_out_of_memory, release_memory
from llama_vision.errors import EngineOutOfMemoryError

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.engines.llama import LlamaEngine


def _stop_criteria(stop: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_StopWhenAsked()])


def stream_generation(engine: LlamaEngine, image: Image, prompt: str, max_new_tokens: int) -> Iterator[str]:
    """Yield pieces of the answer; afterwards `engine.last_generation` holds the whole Generation.

    The caller holds the engine's run lock for the whole iteration.
    """
    import torch
    from transformers import TextIteratorStreamer

    started = time.perf_counter()
    try:
        inputs = engine._encode([image], [prompt])
    except Exception as error:  # noqa: BLE001 - same OOM contract as generate()
        _raise_if_oom(error)
        raise
    streamer = TextIteratorStreamer(engine.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with torch.inference_mode():
                outcome["output"] = engine.model.generate(
                    **inputs,
                    generation_config=engine.generation_config(max_new_tokens),
                    streamer=streamer,
                    stopping_criteria=_stop_criteria(stop),
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
        _raise_if_oom(outcome["error"])
        raise outcome["error"]
    output = outcome["output"]
    width = inputs["input_ids"].shape[1]
    engine.last_generation = engine._finish(
        output[0, width:].tolist(), int(inputs["attention_mask"].sum()), max_new_tokens, time.perf_counter() - started
    )


def _raise_if_oom(error: BaseException) -> None:
    import torch

    if is_out_of_memory(error, torch):
        release_memory(torch)
        raise EngineOutOfMemoryError(
            "The accelerator ran out of memory while streaming; its cache has been released.",
            hint="Lower LLAMA_VISION_MAX_NEW_TOKENS or LLAMA_VISION_MAX_IMAGE_SIDE, or use 8bit/4bit quantization.",
        ) from error

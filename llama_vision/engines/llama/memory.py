"""Accelerator memory for the llama engine: recognising out-of-memory errors, releasing the cache,
and the one handler every generation path (generate, stream, field questions) runs under.

Only the `torch` module passed in is used; importing this module imports nothing heavy.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from llama_vision.errors import EngineError, EngineOutOfMemoryError

T = TypeVar("T")
Item = TypeVar("Item")

GENERATION_HINT = (
    "Lower LLAMA_VISION_MAX_NEW_TOKENS or LLAMA_VISION_MAX_IMAGE_SIDE, use fewer pages per batch, "
    "or load with LLAMA_VISION_QUANTIZATION=8bit/4bit."
)


def is_out_of_memory(error: BaseException, torch: Any) -> bool:
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_type is not None and isinstance(error, oom_type):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def release_memory(torch: Any) -> None:
    """Give cached accelerator memory back after unload or an out-of-memory error."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        mps.empty_cache()


@contextmanager
def out_of_memory_released(torch: Any, doing: str = "generating") -> Iterator[None]:
    """Turn an out-of-memory error into EngineOutOfMemoryError after releasing the cache.

    The one place this happens: generate, stream and field questions all run under it, so the
    user always gets the same message and the cache is always given back.
    """
    try:
        yield
    except EngineError:
        raise
    except Exception as error:
        if torch is not None and is_out_of_memory(error, torch):
            release_memory(torch)
            raise EngineOutOfMemoryError(
                f"The accelerator ran out of memory while {doing}; its cache has been released.",
                hint=GENERATION_HINT,
            ) from error
        raise


def in_halves_on_out_of_memory(items: list[Item], run: Callable[[list[Item]], list[T]]) -> list[T]:
    """`run(items)`; after an out-of-memory error, once more in two halves (a second one propagates)."""
    try:
        return run(items)
    except EngineOutOfMemoryError:
        if len(items) < 2:
            raise
    half = (len(items) + 1) // 2
    results: list[T] = []
    for start in range(0, len(items), half):
        results.extend(run(items[start : start + half]))
    return results

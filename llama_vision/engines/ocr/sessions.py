"""A small pool of RapidOCR instances, so a batch reads pages on every core.

One RapidOCR instance (its ONNX sessions) reads one page at a time. ONNX Runtime releases the
GIL while it runs and the models are >85% of a page's time (profiled), so N threads with an
instance each were expected to read ~N times the pages. Measured on 2 shared cores they did not
(~1.1x one reader on one core, slower than one reader on both: benchmarks/fig_ocr_batch.py), so
the engine's default is one reader; the pool stays for machines with more cores to try.
Instances are made on demand, up to `size`: one document at a time never loads a second one.
"""

from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class SessionPool:
    """Up to `size` instances from `make()`; `borrow()` lends an idle one or waits for one."""

    def __init__(self, make: Callable[[], Any], size: int) -> None:
        self._make = make
        self.size = max(1, size)
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()  # LIFO: the warmest instance first
        self._made = 0
        self._lock = threading.Lock()

    @property
    def made(self) -> int:
        return self._made

    def add(self) -> Any:
        """Make one instance now (the engine's load does, so a broken install fails at load)."""
        with self._lock:
            self._made += 1
        return self._fill()

    def _fill(self) -> Any:
        """Make the instance already counted in `_made` and put it with the idle ones."""
        try:
            instance = self._make()
        except BaseException:
            with self._lock:
                self._made -= 1
            raise
        self._idle.put(instance)
        return instance

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        try:
            instance = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:  # count it before making it, so racing callers never make too many
                room = self._made < self.size
                self._made += room
            if room:
                self._fill()
            instance = self._idle.get()
        try:
            yield instance
        finally:
            self._idle.put(instance)

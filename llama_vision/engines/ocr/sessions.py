"""The OCR engine's readers: RapidOCR instances (their ONNX sessions), lent one page at a time.

One instance reads one page at a time. Measured on 2 idle cores (benchmarks/fig_ocr_batch.py,
SROIE receipts): an instance on one ONNX thread reads a receipt in ~1.1 s, one on both cores in
~0.65 s (ONNX shares a page's work out imperfectly), and two one-thread instances side by side
read ~2x the pages of one (ONNX Runtime releases the GIL while it runs). So `ReaderPool` lends
a batch one narrow reader per page in flight and a page read alone (the web app's usual case)
the wide reader on every core. Narrow readers are made on demand, up to the pool's size: one
document at a time never loads a second one.
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


class ReaderPool:
    """Narrow readers (`make_narrow`, up to `size`) for pages read side by side, and one wide
    reader (`make_wide`, made by `add` at load) for a page read while no other is."""

    def __init__(self, make_narrow: Callable[[], Any], size: int, make_wide: Callable[[], Any] | None = None) -> None:
        self.narrow = SessionPool(make_narrow, size)
        self._make_wide = make_wide
        self._wide: Any = None
        self._wide_busy = False
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def made(self) -> int:
        return self.narrow.made + (self._wide is not None)

    def add(self) -> Any:
        """The reader made at load (the wide one when there is one), so a broken install fails then."""
        if self._make_wide is None:
            return self.narrow.add()
        self._wide = self._make_wide()
        return self._wide

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        with self._lock:
            alone = self._wide is not None and not self._wide_busy and self._in_flight == 0
            self._in_flight += 1
            self._wide_busy = self._wide_busy or alone
        try:
            if alone:
                yield self._wide
            else:
                with self.narrow.borrow() as reader:
                    yield reader
        finally:
            with self._lock:
                self._in_flight -= 1
                if alone:
                    self._wide_busy = False

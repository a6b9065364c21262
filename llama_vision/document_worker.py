"""Decode and draw documents in a bounded child process, so one hostile file never takes the app down.

`load_in_worker` hands a document's bytes to a long-lived `page_worker` process (Pillow and
pypdfium2 only, started once and reused, so a document costs a pipe round trip, not a Python
start-up) and gets its pages back one at a time as raw RGB. The child has a memory limit
(`LLAMA_VISION_DOCUMENT_MEMORY_MB`: RLIMIT_AS in the child on Linux, its RSS watched from here
elsewhere) and every document a wall-time limit (`LLAMA_VISION_DOCUMENT_SECONDS`). Past either,
or if the child crashes, the child is killed, the caller gets one `DocumentError` naming the
file, and the next document gets a fresh child. Pages from the child are checked against the
pixel budgets before they are trusted.

A few workers serve concurrent callers (the app's users, a batch); a caller waits for a free one.
"""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision import page_budget
from llama_vision.errors import DocumentError
from llama_vision.page_worker import read_frame, widen_pipe, write_frame

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings

__all__ = ["load_in_worker", "shutdown"]

#: Workers at most; each may use up to the memory limit while it draws.
POOL_SIZE = max(2, min(4, os.cpu_count() or 2))
_START_SECONDS = 60.0  # importing Pillow and pdfium from a cold disk
_POLL_SECONDS = 0.1  # how often the child's RSS is checked where RLIMIT_AS is not available
#: A worker that kept this much after a document is replaced (freed memory is not always returned).
_RECYCLE_BYTES = 256 * 1024 * 1024
_MAX_PAGE_BYTES = page_budget.IMAGE_MAX_PIXELS * 3
_ROOT = str(Path(__file__).resolve().parents[1])


class _Gone(Exception):
    """The child stopped answering: `reason` is memory, time, crash or protocol."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class _Worker:
    def __init__(self, memory_mb: int, *, address_space_mb: int | None = None) -> None:
        """`address_space_mb` (default: `memory_mb`) is the child's RLIMIT_AS; where the child
        cannot apply exactly `memory_mb`, this side watches its RSS instead."""
        self.memory_mb = memory_mb
        self.broken = False
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_vision.page_worker", str(address_space_mb or memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        widen_pipe(self.process.stdin.fileno())
        widen_pipe(self.process.stdout.fileno())
        self.frames: queue.Queue[tuple[dict[str, Any], bytearray] | None] = queue.Queue()
        threading.Thread(target=self._read, name="page-worker-reader", daemon=True).start()
        try:
            header, _ = self._next(time.monotonic() + _START_SECONDS, watch=False)
        except _Gone:
            self.kill()
            raise DocumentError(
                "The page worker (a child process that draws documents) did not start.",
                hint="Check that this Python can run `python -m llama_vision.page_worker`.",
            ) from None
        self.limited = header.get("limited_mb") == memory_mb

    def _read(self) -> None:
        try:
            while (frame := read_frame(self.process.stdout, _MAX_PAGE_BYTES)) is not None:
                self.frames.put(frame)
        except (ValueError, OSError):  # out of step or closed: the caller treats it as a crash
            pass
        self.frames.put(None)

    def _next(self, deadline: float, *, watch: bool = True) -> tuple[dict[str, Any], bytearray]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Gone("time")
            try:
                frame = self.frames.get(timeout=min(left, _POLL_SECONDS) if watch and not self.limited else left)
            except queue.Empty:
                if watch and not self.limited and self.rss() > self.memory_mb * 1024 * 1024:
                    raise _Gone("memory") from None
                continue
            if frame is None:
                raise _Gone(self._why_it_died())
            return frame

    def _why_it_died(self) -> str:
        """memory when the child's peak RSS came near its limit (RLIMIT_AS ends in an abort)."""
        peak = 0
        try:
            for _ in range(50):
                pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
                if pid:
                    self.process.returncode = os.waitstatus_to_exitcode(status)
                    peak = usage.ru_maxrss * 1024
                    break
                time.sleep(0.02)
        except (AttributeError, ChildProcessError, OSError):  # no wait4 (Windows) or already reaped
            pass
        return "memory" if peak >= self.memory_mb * 1024 * 1024 // 2 else "crash"

    def rss(self) -> int:
        try:
            import psutil

            return psutil.Process(self.process.pid).memory_info().rss
        except Exception:  # gone, or no psutil: nothing to measure
            return 0

    def kill(self) -> None:
        self.broken = True
        try:
            self.process.kill()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ChildProcessError):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def load(self, data: bytes, name: str, kind: str, settings: Settings) -> list[Image]:
        from PIL import Image

        request = {
            "name": name, "kind": kind, "max_pages": settings.max_pages, "seconds": settings.document_seconds,
            "max_image_pixels": Image.MAX_IMAGE_PIXELS,
        }
        deadline = time.monotonic() + settings.document_seconds
        pages: list[Image] = []
        total = 0
        try:
            try:
                write_frame(self.process.stdin, request, data)
            except OSError:
                raise _Gone(self._why_it_died()) from None
            while True:
                header, payload = self._next(deadline)
                kind_of = header.get("type")
                if kind_of == "page":
                    width, height = _checked_size(header, payload, len(pages), settings.max_pages)
                    total += width * height
                    if total > page_budget.DOCUMENT_MAX_PIXELS * 1.05:
                        raise _Gone("protocol", "pages over the document budget")
                    pages.append(Image.frombytes("RGB", (width, height), payload))
                elif kind_of == "done" and pages:
                    return pages
                elif kind_of == "error":
                    raise DocumentError(str(header.get("message")), hint=header.get("hint"))
                elif kind_of == "memory":
                    raise _Gone("memory")
                elif kind_of == "failed":
                    raise _Gone("failed", str(header.get("detail", "")))
                else:
                    raise _Gone("protocol", f"unexpected {kind_of!r}")
        except _Gone as gone:
            self.kill()
            raise _error(gone, name, kind, settings) from None
        except DocumentError:  # the child said what is wrong with the file and is ready for the next
            raise
        except BaseException:  # interrupted here: frames may still be in flight, so never reuse it
            self.kill()
            raise


def _checked_size(header: dict[str, Any], payload: bytes | bytearray, count: int, max_pages: int) -> tuple[int, int]:
    """A page frame's size, trusted only when it matches its payload and the budgets."""
    width, height = header.get("width"), header.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise _Gone("protocol", "a page without a size")
    if width * height > page_budget.IMAGE_MAX_PIXELS or len(payload) != width * height * 3 or count >= max_pages:
        raise _Gone("protocol", "a page over the budget or of the wrong length")
    return width, height


def _size_text(megabytes: int) -> str:
    return f"{megabytes / 1024:g} GB" if megabytes % 1024 == 0 else f"{megabytes} MB"


def _error(gone: _Gone, name: str, kind: str, settings: Settings) -> DocumentError:
    what, verb = ("PDF", "draw") if kind == "pdf" else ("image", "decode")
    again = "export or print it to a new PDF" if kind == "pdf" else "export it again as JPEG or PNG"
    if gone.reason == "memory":
        return DocumentError(
            f"'{name}': this {what} needs more than {_size_text(settings.document_memory_mb)} to {verb};"
            " it may be malicious or damaged.",
            hint=f"If it is a genuine document, {again}, or raise LLAMA_VISION_DOCUMENT_MEMORY_MB.",
        )
    if gone.reason == "time":
        return DocumentError(
            f"'{name}': this {what} took longer than {settings.document_seconds:g} s to {verb};"
            " it may be malicious or damaged.",
            hint=f"If it is a genuine document, {again}, or raise LLAMA_VISION_DOCUMENT_SECONDS.",
        )
    detail = f" ({gone.detail})" if gone.detail else ""
    return DocumentError(
        f"'{name}': this {what} crashed the program that {verb}s it{detail}; it is probably damaged or malicious.",
        hint=f"If it is a genuine document, {again} and try again.",
    )


class _Pool:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.changed = threading.Condition()
        self.idle: list[_Worker] = []
        self.busy = 0

    def acquire(self, memory_mb: int) -> _Worker:
        with self.changed:
            while True:
                for worker in list(self.idle):
                    if worker.process.poll() is not None:  # ended while idle (killed from outside)
                        self.idle.remove(worker)
                        worker.kill()
                    elif worker.memory_mb == memory_mb:
                        self.idle.remove(worker)
                        self.busy += 1
                        return worker
                if self.busy + len(self.idle) >= POOL_SIZE and self.idle:
                    self.idle.pop(0).kill()  # one with another limit: make room
                if self.busy + len(self.idle) < POOL_SIZE:
                    self.busy += 1
                    break
                self.changed.wait()
        try:
            return _Worker(memory_mb)
        except BaseException:
            self.release(None)
            raise

    def release(self, worker: _Worker | None) -> None:
        keep = worker is not None and not worker.broken and worker.rss() < _RECYCLE_BYTES
        if worker is not None and not keep:
            worker.kill()
        with self.changed:
            self.busy -= 1
            if keep:
                self.idle.append(worker)  # type: ignore[arg-type]
            self.changed.notify()

    def shutdown(self) -> None:
        with self.changed:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.kill()


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> _Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():  # a forked child starts its own
            _POOL = _Pool()
        return _POOL


def load_in_worker(data: bytes, name: str, kind: str, settings: Settings) -> list[Image]:
    """The pages of one document (`kind` from `detect_kind`), drawn in a bounded worker."""
    pool = _pool()
    worker = pool.acquire(settings.document_memory_mb)
    try:
        return worker.load(data, name, kind, settings)
    finally:
        pool.release(worker)


def shutdown() -> None:
    """Stop the idle workers (they stop by themselves when this process exits, too)."""
    if _POOL is not None and _POOL.pid == os.getpid():
        _POOL.shutdown()


atexit.register(shutdown)

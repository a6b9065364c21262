"""The child process that decodes and draws pages (`python -m llama_vision.page_worker MB`).

It imports Pillow and pypdfium2 and nothing heavier (no torch, no gradio), caps its own address
space at what it uses after start-up plus MB (RLIMIT_AS: the kernel refuses the allocation, so a
self-drawing PDF fails within a second instead of eating the machine), then serves requests one
at a time over stdin/stdout until stdin closes.

The frames are a 4-byte length, a JSON header, an 8-byte length and a raw payload. Nothing is
pickled: a child taken over by a malicious file can send only pixels and JSON to the app.
Requests: {"name", "kind", "max_pages", "max_image_pixels", "seconds"} + the file's bytes.
Answers: "ready" once, then per request "page" frames (width, height + RGB bytes) and one of
"done", "error" (a DocumentError's message and hint), "memory" or "failed" (an unexpected error).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")
_ALARM = getattr(signal, "alarm", lambda _seconds: 0)  # Windows has no SIGALRM
_PAYLOAD = struct.Struct(">Q")
#: No header is bigger than this; a longer one means the stream is out of step.
MAX_HEADER_BYTES = 64 * 1024


def write_frame(stream: BinaryIO, header: dict[str, Any], payload: bytes | memoryview = b"") -> None:
    encoded = json.dumps(header).encode("utf-8")
    stream.write(_HEADER.pack(len(encoded)) + encoded + _PAYLOAD.pack(len(payload)))
    if payload:
        stream.write(payload)
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytearray | None:
    """`size` bytes read straight into one buffer (pages are tens of MB: no chunks to join)."""
    buffer = bytearray(size)
    view, done = memoryview(buffer), 0
    while done < size:
        count = stream.readinto(view[done:])  # type: ignore[attr-defined]
        if not count:
            return None
        done += count
    return buffer


def widen_pipe(fd: int) -> None:
    """Linux pipes hold 64 KiB; 1 MiB moves a page in far fewer context switches."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def read_frame(stream: BinaryIO, max_payload: int) -> tuple[dict[str, Any], bytearray] | None:
    """The next frame, or None at the end of the stream. ValueError when the stream is malformed."""
    raw = _read_exactly(stream, _HEADER.size)
    if raw is None:
        return None
    (length,) = _HEADER.unpack(raw)
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"header of {length} bytes")
    encoded = _read_exactly(stream, length)
    raw = _read_exactly(stream, _PAYLOAD.size) if encoded is not None else None
    if raw is None:
        return None
    header = json.loads(encoded)
    (size,) = _PAYLOAD.unpack(raw)
    if not isinstance(header, dict) or size > max_payload:
        raise ValueError(f"frame of {size} bytes")
    payload = _read_exactly(stream, size) if size else bytearray()
    return None if payload is None else (header, payload)


def _limit_memory(extra_mb: int) -> bool:
    """Cap the address space at the current size plus `extra_mb`; False where that is impossible."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            used_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        limit = used_kb * 1024 + extra_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        return True
    except (ImportError, OSError, ValueError, StopIteration):  # not Linux: the parent watches RSS
        return False


def _serve(request: dict[str, Any], data: bytes, out: BinaryIO) -> None:
    from PIL import Image

    from llama_vision import documents
    from llama_vision.errors import DocumentError

    Image.MAX_IMAGE_PIXELS = request["max_image_pixels"]
    try:
        for page in documents.iter_pages(bytes(data), request["name"], request["kind"], max_pages=request["max_pages"]):
            write_frame(out, {"type": "page", "width": page.width, "height": page.height}, page.tobytes())
            del page  # hold one page at a time
        write_frame(out, {"type": "done"})
    except DocumentError as error:
        write_frame(out, {"type": "error", "message": error.message, "hint": error.hint})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Ctrl+C in a terminal reaches the whole process group; the app decides when this child ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints from a library must not break frames
    import pypdfium2  # noqa: F401 - loaded once here, not per document
    from PIL import Image, ImageOps  # noqa: F401

    Image.init()
    limit_mb = int(args[0])
    limited = _limit_memory(limit_mb)
    write_frame(out, {"type": "ready", "limited_mb": limit_mb if limited else None, "pid": os.getpid()})
    while True:
        frame = read_frame(source, max_payload=1 << 34)
        if frame is None:
            return 0
        request, data = frame
        # A backstop should the app die mid-document: SIGALRM's default action ends this process
        # even inside pdfium's C code.
        _ALARM(int(request["seconds"]) + 5)
        try:
            _serve(request, data, out)
        except MemoryError:
            write_frame(out, {"type": "memory"})
            return 3  # the heap may be in a bad state; the app starts a fresh worker
        except Exception as error:  # a bug or an unexpected library error: report, never hang
            write_frame(out, {"type": "failed", "detail": f"{type(error).__name__}: {error}"[:200]})
        finally:
            _ALARM(0)
        del data, frame, request


if __name__ == "__main__":
    sys.exit(main())

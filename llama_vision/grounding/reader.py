"""The OCR pass grounding runs beside a model's generation: one shared reader, one worker thread.

The reader is the OCR engine itself (`engines.ocr.OcrEngine.ocr_boxes` and the rows of
`engines.ocr.layout`), not a second OCR reader. One instance per OCR image size serves every
request: it holds only the ONNX sessions, and its own lock runs one page at a time (concurrent
runs on a few cores only slow each other down). Pages are read on one daemon worker thread, so
the read overlaps the model's generation (torch releases the GIL in its ops; an OpenAI-compatible
server's answer is a network wait).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_vision.config import ocr_runtime_installed

__all__ = ["PageText", "ocr_runtime_installed", "read_page", "shared_reader", "submit"]

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.engines.ocr import OcrEngine
    from llama_vision.engines.ocr.layout import Line

_LOCK = threading.Lock()
_READERS: dict[int, OcrEngine] = {}
_POOL: ThreadPoolExecutor | None = None


@dataclass(frozen=True)
class PageText:
    """One page as the OCR pass read it: rows in OCR pixels, and page pixels per OCR pixel."""

    rows: list[Line]
    scale: float
    width: int
    height: int


def shared_reader(settings: Settings) -> OcrEngine:
    """The process's OCR engine for this OCR image size (built once, loaded on first read)."""
    from llama_vision.engines.ocr import OcrEngine

    with _LOCK:
        reader = _READERS.get(settings.ocr_max_side)
        if reader is None:
            reader = _READERS[settings.ocr_max_side] = OcrEngine(settings)
        return reader


def read_page(image: Image, settings: Settings) -> PageText:
    """The page's rows (pieces with their boxes) from the shared reader."""
    from llama_vision.engines.ocr.layout import group_lines

    reader = shared_reader(settings)
    rows = group_lines(reader.ocr_boxes(image))
    return PageText(rows=rows, scale=reader.ocr_scale(image), width=image.width, height=image.height)


def submit(image: Image, settings: Settings) -> Future[PageText]:
    """Start reading the page on the grounding thread; the future gives its PageText."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            # one worker: the reader runs one page at a time anyway, and pages queue in order
            _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grounding")
        pool = _POOL
    return pool.submit(read_page, image, settings)

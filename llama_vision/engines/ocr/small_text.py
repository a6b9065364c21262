"""Small print: a page whose detected text is tiny is read again from an upscaled copy.

The engine never upscales a page on its way in (`documents.prepare_for_ocr` only shrinks, and
the detector's "max" limit only shrinks), which is right for receipts and full-size scans and
wrong for a whole A4 page photographed or scanned at 700-950 px: its body text is ~8 px tall and
the recogniser reads crops that small badly ("lovice Daor. 030325" for "Invoice Date: 03/03/25").
How small the text is is only known once the detector has run, so the first reading decides:
when the median detected box is shorter than `below` pixels the page is read again from a copy
enlarged `factor` times (Lanczos) and the boxes of that reading are mapped back to the first
reading's pixels, so callers (and the evidence boxes) never see the enlarged copy.

Pure functions on the engine's boxes and images: no state, no runtime needed.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PIL.Image import Image

    from llama_vision.engines.ocr.layout import TextBox

# fewer boxes than this say nothing about the page's print size (a logo, a stamp)
MIN_BOXES = 5


def upscale_factor(boxes: Sequence[TextBox], size: tuple[int, int], *, below: float, factor: float,
                   max_side: int) -> float:
    """How much to enlarge a page read into `boxes` (1.0: keep the reading).

    `below`: the median box height (pixels) under which the print counts as small; `factor`: the
    enlargement, reduced so that the longer side stays within `max_side`.
    """
    if below <= 0 or factor <= 1 or len(boxes) < MIN_BOXES:
        return 1.0
    if median(b.y1 - b.y0 for b in boxes) >= below:
        return 1.0
    fitted = min(factor, max_side / max(1, max(size)))
    return fitted if fitted > 1.05 else 1.0  # a few percent more pixels would not read better


def enlarge(image: Image, factor: float) -> Image:
    """`image` enlarged `factor` times with Lanczos (sharper glyph edges than bilinear)."""
    from PIL import Image as PILImage

    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, PILImage.Resampling.LANCZOS)


def shrink(boxes: Sequence[TextBox], original: tuple[int, int], enlarged: tuple[int, int]) -> list[TextBox]:
    """Boxes read from the `enlarged` copy, in the pixels of the `original` (width, height)."""
    fx, fy = original[0] / enlarged[0], original[1] / enlarged[1]
    return [replace(b, x0=b.x0 * fx, y0=b.y0 * fy, x1=b.x1 * fx, y1=b.y1 * fy, slope=b.slope * fy / fx)
            for b in boxes]

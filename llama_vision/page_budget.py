"""What a page may cost once decoded: pixel budgets per page and per document.

A file's size says nothing about what it costs to draw: a 10 KB PNG can declare 89 megapixels
and a 4 KB PDF twenty pages of 200 x 200 inches. Width x height against Pillow's bomb guard is
not enough, so every page is priced in decoded pixels before the work is done:

- an image over `IMAGE_MAX_PIXELS` is shrunk while it is decoded (JPEG's DCT scaling costs
  nothing) or right after, by an integer box reduction; one too narrow to shrink that far is
  refused before a pixel is decoded;
- a PDF page is rendered at about 200 dpi, its longest side at most `PDF_MAX_SIDE` and its area
  at most `PDF_MAX_PIXELS` (A4 at 300 dpi), so a 14,400 pt page comes out at a reduced scale;
- all pages of one document together stay under `DOCUMENT_MAX_PIXELS`: past it every page is
  drawn smaller by the same factor, and a document that would need pages smaller than
  `MIN_DOCUMENT_FACTOR` of their size is refused (split it).

The pages are what the app holds in memory for a document (RGB, 3-4 bytes a pixel), so these
budgets bound that too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: PDF pages are rendered at this resolution...
PDF_DPI = 200
#: ...but never with a longer side than this (A4 at 300 dpi is 3,508 px)...
PDF_MAX_SIDE = 3508
#: ...nor with more pixels than A4 at 300 dpi.
PDF_MAX_PIXELS = 3508 * 2480
#: An image page is never handed on with more pixels than this (a 40 MP photo is 7,700 x 5,200).
IMAGE_MAX_PIXELS = 40_000_000
#: All pages of one document: 20 A4 pages at 200 dpi (77 MP) still fit at full resolution.
DOCUMENT_MAX_PIXELS = 80_000_000
#: Drawing every page of a document smaller than this fraction of its size makes text unreadable.
MIN_DOCUMENT_FACTOR = 1 / 3


def reduction_factor(width: int, height: int, max_pixels: int = IMAGE_MAX_PIXELS) -> int:
    """The smallest integer f such that the image reduced by f (sides rounded up) fits `max_pixels`."""
    factor = max(1, math.isqrt(max(width * height // max(max_pixels, 1), 1)))
    while -(-width // factor) * -(-height // factor) > max_pixels:
        factor += 1
    return factor


def pdf_scales(
    sizes_pt: Sequence[tuple[float, float]],
    *,
    dpi: float = PDF_DPI,
    max_side: int = PDF_MAX_SIDE,
    page_pixels: int = PDF_MAX_PIXELS,
    document_pixels: int = DOCUMENT_MAX_PIXELS,
) -> list[float] | None:
    """The render scale (pixels per point) of each page, or None when the document cannot fit
    its budget without drawing every page smaller than `MIN_DOCUMENT_FACTOR` of its size."""
    scales, total = [], 0.0
    for width, height in sizes_pt:
        width, height = max(float(width), 1.0), max(float(height), 1.0)
        scale = min(dpi / 72.0, max_side / max(width, height), math.sqrt(page_pixels / (width * height)))
        while math.ceil(width * scale) * math.ceil(height * scale) > page_pixels:  # pdfium rounds up
            scale *= 0.999
        scales.append(scale)
        total += width * height * scale * scale
    if total <= document_pixels:
        return scales
    factor = math.sqrt(document_pixels / total)
    if factor < MIN_DOCUMENT_FACTOR:
        return None
    return [scale * factor for scale in scales]

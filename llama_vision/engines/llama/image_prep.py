"""Page images -> what the Mllama processor should get: the tile-canvas maths and a cheap
reduction of large photos to just above the canvas the processor will pick anyway.

Pure Pillow and arithmetic (no numpy, torch or transformers), so it is tested on its own
against transformers' functions (tests/test_image_prep.py).
"""

from __future__ import annotations

import math
from typing import Any

from PIL import Image

from llama_vision.documents import prepare_for_ocr
from llama_vision.image_modes import to_rgb

#: How far above the processor's own resize target `prepare_for_model` stops shrinking, so the
#: processor still downscales (never upscales) and picks the same tile canvas.
CANVAS_MARGIN = 1.05


def prepare_image(image: Image.Image, max_side: int, processor: Any = None) -> Image.Image:
    """RGB and at most `max_side` px, box-reduced to the processor's canvas when it has tiles.

    With an Mllama processor, a large photo is first box-reduced to just above the processor's own
    resize target, using the processor's tile size and tile count so its tile layout is unchanged.
    """
    tile_size, max_tiles = processor_tiling(processor)
    return prepare_for_model(image, max_side, tile_size=tile_size, max_tiles=max_tiles)


def processor_tiling(processor: Any) -> tuple[int, int]:
    """(tile size, max tiles) of an Mllama processor; (0, 0), meaning no canvas-aware reduction, otherwise."""
    image_processor = getattr(processor, "image_processor", None)
    size = getattr(image_processor, "size", None)
    max_tiles = getattr(image_processor, "max_image_tiles", None)
    height = size.get("height") if isinstance(size, dict) else getattr(size, "height", None)
    if not isinstance(height, int) or not isinstance(max_tiles, int) or height < 1 or max_tiles < 1:
        return 0, 0
    return height, max_tiles


def prepare_for_model(
    image: Image.Image, max_side: int, *, tile_size: int = 560, max_tiles: int = 4
) -> Image.Image:
    """Shrink a large photo cheaply to just above what the Mllama processor will resize it to.

    The processor fits every image onto a canvas of at most `max_tiles` tiles of `tile_size` px
    (`get_optimal_tiled_canvas`). When the image is larger than every canvas, the choice depends
    only on its aspect ratio, so an integer box reduction (`Image.reduce`, one cheap pass) that
    leaves the image at least `CANVAS_MARGIN` times the processor's target size gives the same
    canvas, the same tiles and nearly the same pixels, while the processor's own resampling,
    rescaling and normalising then work on a small image. The canvas of the reduced image is
    checked with the same rule before it is used. Finally the longest side is capped at
    `max_side` (never upscaled), as before.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    image = to_rgb(image, "image")  # transparency on white, as the pages from documents.load_pages
    if tile_size >= 1 and max_tiles >= 1:
        image = reduce_to_canvas(image, tile_size, max_tiles)
    # The same never-upscaling longest-side cap (LANCZOS after a box pass) the OCR pages get.
    return prepare_for_ocr(image, max_side)


def tiled_canvas(width: int, height: int, tile_size: int = 560, max_tiles: int = 4) -> tuple[int, int, float]:
    """(canvas_width, canvas_height, scale): the canvas Mllama's image processor picks for an image.

    A pure-Python copy of transformers' `get_optimal_tiled_canvas` (same candidate order, the same
    float arithmetic, the same ties to the smallest area), so this module needs no numpy or
    transformers; tests compare the two on many sizes. `scale` < 1 means every canvas needs
    downscaling.
    """
    candidates = []
    for rows in range(1, max_tiles + 1):
        for cols in range(1, max_tiles + 1):
            if rows * cols <= max_tiles:
                canvas_h, canvas_w = rows * tile_size, cols * tile_size
                candidates.append((min(canvas_h / height, canvas_w / width), canvas_w, canvas_h))
    upscaling = [c[0] for c in candidates if c[0] >= 1]
    selected = min(upscaling) if upscaling else max(c[0] for c in candidates)
    chosen = [c for c in candidates if c[0] == selected]
    best = min(chosen, key=lambda c: c[1] * c[2])  # min() keeps the first of equal areas, like argmin
    return best[1], best[2], selected


def fit_to_canvas(width: int, height: int, canvas_w: int, canvas_h: int, tile_size: int = 560) -> tuple[int, int]:
    """(width, height) the processor resizes an image to on that canvas (`get_image_size_fit_to_canvas`)."""
    target_w = min(max(width, tile_size), canvas_w)
    target_h = min(max(height, tile_size), canvas_h)
    scale_h, scale_w = target_h / height, target_w / width
    if scale_w < scale_h:
        return target_w, min(math.floor(height * scale_w) or 1, target_h)
    return min(math.floor(width * scale_h) or 1, target_w), target_h


def reduce_to_canvas(image: Image.Image, tile_size: int, max_tiles: int) -> Image.Image:
    """The largest integer box reduction that keeps the processor's canvas (or the image itself)."""
    width, height = image.size
    canvas_w, canvas_h, scale = tiled_canvas(width, height, tile_size, max_tiles)
    if scale >= 1:
        return image  # the processor upscales onto a canvas: nothing to save
    fit_w, fit_h = fit_to_canvas(width, height, canvas_w, canvas_h, tile_size)
    factor = int(min(width / fit_w, height / fit_h) / CANVAS_MARGIN)
    for f in range(factor, 1, -1):
        w, h = -(-width // f), -(-height // f)  # Image.reduce rounds up
        same = tiled_canvas(w, h, tile_size, max_tiles)
        if same[:2] == (canvas_w, canvas_h) and same[2] < 1:
            return image.reduce(f)
    return image

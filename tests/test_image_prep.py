"""The llama engine's image preparation: the tile-canvas maths (checked against transformers)
and the cheap reduction of large photos to just above the processor's canvas."""

from __future__ import annotations

from functools import partial

import pytest
from PIL import Image

from llama_vision.documents import prepare_for_ocr
from llama_vision.engines.llama.image_prep import (
    CANVAS_MARGIN,
    fit_to_canvas,
    prepare_for_model,
    processor_tiling,
    tiled_canvas,
)


# -------------------------------------------------------------------------------------------
# preparing pages for engines
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prepare", [partial(prepare_for_model, max_tiles=0), prepare_for_ocr])
def test_prepare_downscales_to_the_longest_side(prepare):
    image = Image.new("RGB", (4000, 3000), "white")
    small = prepare(image, 2240)
    assert small.size == (2240, 1680)
    assert small.mode == "RGB"


def test_prepare_for_model_stops_just_above_the_processor_canvas():
    # 4000x3000 lands on Mllama's 2x2 canvas (1120 px), resized by the processor to 1120x840;
    # the box reduction by 3 leaves 1334x1000, >= 1.05x that target, on the same canvas.
    image = Image.new("RGB", (4000, 3000), "white")
    small = prepare_for_model(image, 2240)
    assert small.size == (1334, 1000)
    assert tiled_canvas(*small.size)[:2] == tiled_canvas(*image.size)[:2] == (1120, 1120)
    fit = fit_to_canvas(4000, 3000, 1120, 1120)
    assert min(small.width / fit[0], small.height / fit[1]) >= CANVAS_MARGIN


def test_prepare_for_model_leaves_images_the_processor_upscales():
    image = Image.new("RGB", (1000, 1400), "white")  # fits a canvas without downscaling
    assert prepare_for_model(image, 2240).size == (1000, 1400)


def test_tiled_canvas_matches_transformers():
    import random

    mllama = pytest.importorskip("transformers.models.mllama.image_processing_pil_mllama")
    rng = random.Random(7)
    for _ in range(2000):
        width, height = rng.randint(40, 9000), rng.randint(40, 9000)
        for tile, tiles in ((560, 4), (448, 6)):
            canvas_h, canvas_w = mllama.get_optimal_tiled_canvas(
                image_height=height, image_width=width, max_image_tiles=tiles, tile_size=tile
            )
            assert tiled_canvas(width, height, tile, tiles)[:2] == (canvas_w, canvas_h), (width, height)
            fit_h, fit_w = mllama.get_image_size_fit_to_canvas(
                image_height=height, image_width=width, canvas_height=canvas_h, canvas_width=canvas_w, tile_size=tile
            )
            assert fit_to_canvas(width, height, canvas_w, canvas_h, tile) == (fit_w, fit_h)
    for _ in range(40):  # the reduction itself keeps the canvas transformers would pick
        width, height = rng.randint(1200, 6000), rng.randint(1200, 6000)
        small = prepare_for_model(Image.new("RGB", (width, height)), 10_000)
        reduced_h, reduced_w = mllama.get_optimal_tiled_canvas(
            image_height=small.height, image_width=small.width, max_image_tiles=4, tile_size=560
        )
        assert (reduced_w, reduced_h) == tiled_canvas(width, height)[:2], (width, height, small.size)


def test_prepare_for_model_gives_the_processor_the_same_tiles():
    import numpy as np

    mllama = pytest.importorskip("transformers.models.mllama.image_processing_pil_mllama")
    processor = mllama.MllamaImageProcessorPil(
        size={"height": 560, "width": 560}, max_image_tiles=4, resample=2,
        image_mean=[0.48145466, 0.4578275, 0.40821073], image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    rng = np.random.default_rng(0)
    pixels = np.clip(rng.normal(128, 30, (3000, 4000, 3)), 0, 255).astype(np.uint8)
    photo = Image.fromarray(pixels, "RGB")
    for image in (photo, photo.transpose(Image.Transpose.ROTATE_90), photo.crop((0, 0, 4000, 900))):
        full = processor(images=[[image]], return_tensors="pt")
        ours = processor(images=[[prepare_for_model(image, 2240)]], return_tensors="pt")
        assert ours["aspect_ratio_ids"].tolist() == full["aspect_ratio_ids"].tolist()
        assert ours["aspect_ratio_mask"].tolist() == full["aspect_ratio_mask"].tolist()
        assert ours["num_tiles"] == full["num_tiles"]
        assert ours["pixel_values"].shape == full["pixel_values"].shape
        # noise is the worst case for a box filter; a receipt photo differs far less
        assert float((ours["pixel_values"] - full["pixel_values"]).abs().mean()) < 0.1


@pytest.mark.parametrize("prepare", [prepare_for_model, prepare_for_ocr])
def test_prepare_never_upscales(prepare):
    image = Image.new("RGB", (300, 500), "white")
    assert prepare(image, 2240).size == (300, 500)


def test_prepare_keeps_aspect_of_tall_receipts():
    image = Image.new("RGB", (600, 6000), "white")
    assert prepare_for_model(image, 2240).size == (224, 2240)


def test_processor_tiling_reads_the_mllama_image_processor():
    from types import SimpleNamespace

    processor = SimpleNamespace(image_processor=SimpleNamespace(size={"height": 448, "width": 448}, max_image_tiles=6))
    assert processor_tiling(processor) == (448, 6)
    assert processor_tiling(None) == (0, 0)  # no processor (remote code): no canvas-aware reduction


def test_image_prep_imports_no_heavy_packages():
    import subprocess
    import sys

    code = (
        "import sys, llama_vision.engines.llama.image_prep; "
        "assert not {'torch', 'gradio', 'transformers', 'numpy'} & set(sys.modules), sys.modules.keys()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""Figure 4: a 12-megapixel phone photo to model inputs, downscaling first vs the full photo.

Mllama resizes every image onto a canvas of at most 4 tiles of 560 px (2240 px on the long side
at most), so pixels beyond that are resized away by the processor anyway; shrinking the photo
first with `documents.prepare_for_model` (a box reduction then LANCZOS) is far cheaper than
letting the processor resample, rescale and normalise the full 12 MP array. The tile layout must
not change: aspect_ratio_ids and the number of tiles are compared.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import clock_note, figure, interleaved, phone_photo, timing_details

# Llama-3.2-11B-Vision-Instruct preprocessor_config.json (the values that matter for tiling).
REAL_IMAGE_PROCESSOR = {
    "size": {"height": 560, "width": 560},
    "max_image_tiles": 4,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_pad": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 2,
    "rescale_factor": 1 / 255,
}


def image_processor(tile: int = 560) -> Any:
    """The Mllama image processor with the real checkpoint's settings (PIL backend: no torchvision here)."""
    try:
        from transformers.models.mllama.image_processing_pil_mllama import MllamaImageProcessorPil as cls
    except ImportError:  # older transformers: the slow processor is the plain class
        from transformers import MllamaImageProcessor as cls
    return cls(**{**REAL_IMAGE_PROCESSOR, "size": {"height": tile, "width": tile}})


def reduce_to_canvas(image: Any, tile: int = 560, max_tiles: int = 4) -> Any:
    """The alternative measured alongside: an integer box reduction (PIL `reduce`) straight to the
    size the processor will resize to anyway (its own tiled-canvas choice), no resampling filter."""
    from transformers.models.mllama.image_processing_pil_mllama import (
        get_image_size_fit_to_canvas,
        get_optimal_tiled_canvas,
    )

    canvas_h, canvas_w = get_optimal_tiled_canvas(image_height=image.height, image_width=image.width,
                                                  max_image_tiles=max_tiles, tile_size=tile)
    new_h, new_w = get_image_size_fit_to_canvas(image_height=image.height, image_width=image.width,
                                                canvas_height=canvas_h, canvas_width=canvas_w, tile_size=tile)
    factor = max(1, min(image.width // max(new_w, 1), image.height // max(new_h, 1)))
    return image.reduce(factor) if factor > 1 else image


def _from_jpeg(photo: Any, processor: Any, repeats: int) -> dict[str, Any]:
    """The same photo as a phone's JPEG file: full decode + processor vs JPEG draft decoding
    (the decoder skips DCT detail, at 1/2, 1/4 or 1/8 scale) to at least the processor's canvas."""
    import io

    from PIL import Image
    from transformers.models.mllama.image_processing_pil_mllama import (
        get_image_size_fit_to_canvas,
        get_optimal_tiled_canvas,
    )

    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    canvas_h, canvas_w = get_optimal_tiled_canvas(image_height=photo.height, image_width=photo.width,
                                                  max_image_tiles=4, tile_size=560)
    new_h, new_w = get_image_size_fit_to_canvas(image_height=photo.height, image_width=photo.width,
                                                canvas_height=canvas_h, canvas_width=canvas_w, tile_size=560)

    def full() -> Any:
        return processor(images=[[Image.open(io.BytesIO(data)).convert("RGB")]], return_tensors="pt")

    def draft() -> Any:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (new_w, new_h))
        return processor(images=[[image.convert("RGB")]], return_tensors="pt")

    timing = interleaved({"decode_full": full, "decode_draft": draft}, repeats=repeats, warmup=1)
    a, b = timing["decode_full"]["last"], timing["decode_draft"]["last"]
    same = (a["aspect_ratio_ids"].tolist() == b["aspect_ratio_ids"].tolist()
            and int(a["aspect_ratio_mask"].sum()) == int(b["aspect_ratio_mask"].sum()))
    return {
        "what": "JPEG bytes (quality 90) -> model inputs: full decode vs Image.draft to the canvas size",
        "jpeg_mb": round(len(data) / 1e6, 2),
        "full_decode_s": round(timing["decode_full"]["median"], 4),
        "draft_decode_s": round(timing["decode_draft"]["median"], 4),
        "speedup": round(timing["decode_full"]["median"] / timing["decode_draft"]["median"], 3),
        "same_layout": same,
    }


def image_prep(*, quick: bool) -> dict[str, Any]:
    from llama_vision.config import load_settings
    from llama_vision.documents import prepare_for_model

    max_side = load_settings(env_file=None).max_image_side
    repeats = 3 if quick else 7
    photo = phone_photo(0)
    processor = image_processor()

    def downscale_first() -> Any:
        return processor(images=[[prepare_for_model(photo, max_side)]], return_tensors="pt")

    def full_photo() -> Any:
        return processor(images=[[photo]], return_tensors="pt")

    def reduce_first() -> Any:
        return processor(images=[[reduce_to_canvas(photo)]], return_tensors="pt")

    timing = interleaved({"downscale_first": downscale_first, "full_photo": full_photo, "reduce_to_canvas": reduce_first},
                         repeats=repeats, warmup=1)
    files = _from_jpeg(photo, processor, repeats)
    alternative = timing["reduce_to_canvas"]["last"]
    alternative_same = (alternative["aspect_ratio_ids"].tolist() == timing["full_photo"]["last"]["aspect_ratio_ids"].tolist()
                        and int(alternative["aspect_ratio_mask"].sum()) == int(timing["full_photo"]["last"]["aspect_ratio_mask"].sum()))
    prepare_only = interleaved({"prepare": lambda: prepare_for_model(photo, max_side)}, repeats=repeats, warmup=0)
    ours, theirs = timing["downscale_first"]["last"], timing["full_photo"]["last"]
    layout = {
        "aspect_ratio_ids": [ours["aspect_ratio_ids"].tolist(), theirs["aspect_ratio_ids"].tolist()],
        "num_tiles": [int(ours["aspect_ratio_mask"].sum()), int(theirs["aspect_ratio_mask"].sum())],
        "pixel_values_shape": list(ours["pixel_values"].shape),
    }
    same_layout = layout["aspect_ratio_ids"][0] == layout["aspect_ratio_ids"][1] and layout["num_tiles"][0] == layout["num_tiles"][1]
    if not same_layout:
        raise AssertionError(f"tile layout differs after downscaling: {layout}")
    diff = float((ours["pixel_values"].float() - theirs["pixel_values"].float()).abs().mean())
    value, baseline = timing["downscale_first"]["median"], timing["full_photo"]["median"]
    speedup = baseline / value
    return figure(
        "image_prep",
        title="12 MP phone photo -> model inputs: prepare_for_model then processor vs processor on the full photo",
        value=value, baseline=baseline, unit="s per image", goal=">= 5x faster", met=speedup >= 5.0,
        ratio=speedup,
        setup={
            "input": f"synthetic {photo.width}x{photo.height} RGB photo of a receipt (decoded PIL image)",
            "processor": f"{type(processor).__name__} with the real 11B preprocessor settings (560 px tiles, max 4)",
            "max_image_side": max_side,
            "repeats": repeats, "warmup": 1, "statistic": clock_note(),
            "ratio_meaning": "baseline / value (how many times faster)",
        },
        details={**layout, "same_layout": same_layout, "mean_abs_pixel_difference": round(diff, 4),
                 "timing": timing_details(timing),
                 "prepare_for_model_alone_s": round(prepare_only["prepare"]["median"], 4),
                 "alternative_reduce_to_canvas": {
                     "what": "PIL Image.reduce(integer factor) to the processor's own canvas size, then the processor",
                     "seconds": round(timing["reduce_to_canvas"]["median"], 4),
                     "speedup_vs_full_photo": round(baseline / timing["reduce_to_canvas"]["median"], 3),
                     "same_layout": alternative_same,
                 },
                 "from_jpeg_file": files},
    )

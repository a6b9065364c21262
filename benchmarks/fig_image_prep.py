"""Figure 4: a 12-megapixel phone photo to model inputs, downscaling first vs the full photo.

Mllama resizes every image onto a canvas of at most 4 tiles of 560 px, so pixels beyond the
canvas are resized away by the processor anyway. `engines.llama.image_prep.prepare_for_model` box-reduces the
photo by an integer factor (`Image.reduce`, one cheap pass) to just above (>= 1.05x) the size the
processor will resize it to, so the processor picks the same canvas and resamples a small image.
The tile layout must not change: aspect_ratio_ids, the aspect-ratio mask and the number of tiles
are compared, and the pixel values' mean difference is reported.

Two framings are measured: the headline, from the decoded photo (what `prepare_for_model`
changes), and in `details.from_jpeg_file` from the phone's JPEG bytes with the decode counted on
both sides (what a user waits for), plus JPEG draft decoding as the step that would go further.
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


def _same_layout(a: Any, b: Any) -> bool:
    return (a["aspect_ratio_ids"].tolist() == b["aspect_ratio_ids"].tolist()
            and a["aspect_ratio_mask"].tolist() == b["aspect_ratio_mask"].tolist()
            and a["num_tiles"] == b["num_tiles"])


def _from_jpeg(photo: Any, processor: Any, max_side: int, repeats: int) -> dict[str, Any]:
    """The same photo as a phone's JPEG file, decode counted on both sides: full decode + processor vs
    full decode + prepare_for_model + processor (the product path), and JPEG draft decoding (the decoder
    skips DCT detail at 1/2, 1/4 or 1/8 scale) to >= 1.05x the processor's target as the next step."""
    import io

    from PIL import Image

    from llama_vision.engines.llama.image_prep import CANVAS_MARGIN, fit_to_canvas, prepare_for_model, tiled_canvas

    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    canvas_w, canvas_h, _ = tiled_canvas(photo.width, photo.height)
    fit_w, fit_h = fit_to_canvas(photo.width, photo.height, canvas_w, canvas_h)
    draft_size = (int(fit_w * CANVAS_MARGIN) + 1, int(fit_h * CANVAS_MARGIN) + 1)

    def full() -> Any:
        return processor(images=[[Image.open(io.BytesIO(data)).convert("RGB")]], return_tensors="pt")

    def prepared() -> Any:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        return processor(images=[[prepare_for_model(image, max_side)]], return_tensors="pt")

    def draft() -> Any:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", draft_size)
        return processor(images=[[prepare_for_model(image.convert("RGB"), max_side)]], return_tensors="pt")

    timing = interleaved({"decode_full": full, "decode_prepare": prepared, "decode_draft": draft},
                         repeats=repeats, warmup=1)
    base = timing["decode_full"]["median"]
    return {
        "what": "JPEG bytes (quality 90) -> model inputs, decode included on both sides",
        "jpeg_mb": round(len(data) / 1e6, 2),
        "full_decode_then_processor_s": round(base, 4),
        "full_decode_prepare_for_model_then_processor_s": round(timing["decode_prepare"]["median"], 4),
        "speedup_prepare_for_model": round(base / timing["decode_prepare"]["median"], 3),
        "draft_decode_prepare_for_model_then_processor_s": round(timing["decode_draft"]["median"], 4),
        "speedup_with_draft": round(base / timing["decode_draft"]["median"], 3),
        "draft_request": list(draft_size),
        "same_layout": {"prepare_for_model": _same_layout(timing["decode_prepare"]["last"], timing["decode_full"]["last"]),
                        "draft": _same_layout(timing["decode_draft"]["last"], timing["decode_full"]["last"])},
        "timing": timing_details(timing),
    }


def image_prep(*, quick: bool) -> dict[str, Any]:
    from llama_vision.config import load_settings
    from llama_vision.engines.llama.image_prep import fit_to_canvas, prepare_for_model, tiled_canvas

    max_side = load_settings(env_file=None).max_image_side
    repeats = 5 if quick else 9
    photo = phone_photo(0)
    processor = image_processor()

    def downscale_first() -> Any:
        return processor(images=[[prepare_for_model(photo, max_side)]], return_tensors="pt")

    def full_photo() -> Any:
        return processor(images=[[photo]], return_tensors="pt")

    def lanczos_first() -> Any:  # prepare_for_model before it was canvas-aware (LANCZOS to max_side)
        return processor(images=[[prepare_for_model(photo, max_side, max_tiles=0)]], return_tensors="pt")

    timing = interleaved({"downscale_first": downscale_first, "full_photo": full_photo, "previous_lanczos_first": lanczos_first},
                         repeats=repeats, warmup=1)
    ours, theirs = timing["downscale_first"]["last"], timing["full_photo"]["last"]
    layout = {
        "aspect_ratio_ids": [ours["aspect_ratio_ids"].tolist(), theirs["aspect_ratio_ids"].tolist()],
        "num_tiles": [int(ours["aspect_ratio_mask"].sum()), int(theirs["aspect_ratio_mask"].sum())],
        "pixel_values_shape": list(ours["pixel_values"].shape),
    }
    same_layout = _same_layout(ours, theirs)
    if not same_layout:
        raise AssertionError(f"tile layout differs after downscaling: {layout}")
    diff = float((ours["pixel_values"].float() - theirs["pixel_values"].float()).abs().mean())
    if diff > 0.05:
        raise AssertionError(f"pixel values differ by {diff:.4f} on average after downscaling")
    value, baseline = timing["downscale_first"]["median"], timing["full_photo"]["median"]
    speedup = baseline / value

    # Where the remaining time goes: the reduction alone, and the processor on an image already at
    # its target size (its fixed cost: to-array, pad, rescale, normalise, split into tiles).
    prepared = prepare_for_model(photo, max_side)
    canvas_w, canvas_h, _ = tiled_canvas(photo.width, photo.height)
    exact = prepared.resize(fit_to_canvas(photo.width, photo.height, canvas_w, canvas_h))
    parts = interleaved({"prepare_for_model": lambda: prepare_for_model(photo, max_side),
                         "processor_on_prepared": lambda: processor(images=[[prepared]], return_tensors="pt"),
                         "processor_at_target_size": lambda: processor(images=[[exact]], return_tensors="pt")},
                        repeats=repeats, warmup=1)
    parts_s = {name: round(t["median"], 4) for name, t in parts.items()}
    floor = parts_s["processor_at_target_size"]
    files = _from_jpeg(photo, processor, max_side, repeats)
    return figure(
        "image_prep",
        title="12 MP phone photo -> model inputs: prepare_for_model then processor vs processor on the full photo",
        value=value, baseline=baseline, unit="s per image", goal=">= 5x faster", met=speedup >= 5.0,
        ratio=speedup,
        setup={
            "input": f"synthetic {photo.width}x{photo.height} RGB photo of a receipt (decoded PIL image)",
            "processor": f"{type(processor).__name__} with the real 11B preprocessor settings (560 px tiles, max 4)",
            "max_image_side": max_side,
            "prepare_for_model": f"Image.reduce({round(photo.width / prepared.width)}) to {prepared.width}x{prepared.height}, "
                                 f">= 1.05x the processor's target on the same {canvas_w}x{canvas_h} canvas",
            "repeats": repeats, "warmup": 1, "statistic": clock_note(),
            "ratio_meaning": "baseline / value (how many times faster)",
        },
        details={**layout, "same_layout": same_layout, "mean_abs_pixel_difference": round(diff, 4),
                 "timing": timing_details(timing),
                 "previous_prepare_for_model_lanczos": {
                     "what": "prepare_for_model before this change: LANCZOS (reducing_gap 3) to max_image_side, then the processor",
                     "seconds": round(timing["previous_lanczos_first"]["median"], 4),
                     "speedup_vs_full_photo": round(baseline / timing["previous_lanczos_first"]["median"], 3),
                 },
                 "parts_s": parts_s,
                 "ceiling": {
                     "what": "full photo / the processor's fixed cost on an image already at its target size: "
                             "the speedup if preparing the photo were free",
                     "speedup": round(baseline / floor, 2),
                 },
                 "from_jpeg_file": files},
    )

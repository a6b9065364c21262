"""Figure 7: hardware.estimate_footprint() against the real 11B model, counted exactly.

The reference is `MllamaForConditionalGeneration` built from the real Llama-3.2-11B-Vision
configuration on the meta device (no memory, no download): its exact parameter count, and which of
those parameters a bitsandbytes load quantizes (nn.Linear weights outside the skip list
`vision_model`, `multi_modal_projector`, `lm_head`) and which stay in bf16. The quantization
state bytes (8-bit: one fp32 scale per output row; NF4 with double quantization: block absmax
codes and nested scales) are measured by quantizing one real tensor of each shape with
bitsandbytes on the CPU, not taken from a formula.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from benchmarks.common import figure

SKIP_MODULES = ("vision_model", "multi_modal_projector", "lm_head")
PUBLISHED_PARAMETERS = 10_670_220_835  # the model card / safetensors index of Llama-3.2-11B-Vision


def real_config() -> Any:
    """The real 11B MllamaConfig (values embedded in hardware.py, copied from config.json)."""
    from transformers import MllamaConfig

    from llama_vision.hardware import LLAMA_32_11B_VISION_CONFIG

    raw = LLAMA_32_11B_VISION_CONFIG
    text = dict(raw["text_config"])
    scaling = text.pop("rope_scaling", None)
    if scaling:
        text["rope_parameters"] = {**scaling, "rope_theta": text.pop("rope_theta", 500000.0)}
    return MllamaConfig(vision_config=dict(raw["vision_config"]), text_config=text,
                        image_token_index=raw["image_token_index"])


def meta_inventory(config: Any = None) -> dict[str, Any]:
    """Exact counts from the meta-device model: total, quantized Linear weights (by shape), kept in bf16."""
    import torch
    from transformers import MllamaForConditionalGeneration

    with torch.device("meta"):
        model = MllamaForConditionalGeneration(config or real_config())
    total = sum(p.numel() for p in model.parameters())
    shapes: Counter[tuple[int, int]] = Counter()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and not any(skip in name.split(".") for skip in SKIP_MODULES):
            shapes[(module.out_features, module.in_features)] += 1
    quantized = sum(o * i * n for (o, i), n in shapes.items())
    return {"total": total, "quantized": quantized, "kept_bf16": total - quantized, "linear_shapes": shapes}


def quant_state_bytes(shape: tuple[int, int], mode: str) -> tuple[int, int]:
    """(weight bytes, quantization-state bytes) of one weight of `shape`, quantized by bitsandbytes."""
    import bitsandbytes as bnb
    import torch

    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(shape, generator=generator, dtype=torch.float32).to(torch.bfloat16)
    if mode == "8bit":
        quantized, scales, _ = bnb.functional.int8_vectorwise_quant(weight.to(torch.float16))
        return quantized.numel() * quantized.element_size(), scales.numel() * scales.element_size()
    packed, state = bnb.functional.quantize_4bit(weight, blocksize=64, compress_statistics=True, quant_type="nf4")
    extra = 0
    for tensor in (state.absmax, state.code, getattr(state, "offset", None)):
        if isinstance(tensor, torch.Tensor):
            extra += tensor.numel() * tensor.element_size()
    nested = getattr(state, "state2", None)
    if nested is not None:
        for tensor in (nested.absmax, nested.code):
            extra += tensor.numel() * tensor.element_size()
    return packed.numel() * packed.element_size(), extra


def reference_bytes(inventory: dict[str, Any]) -> dict[str, int]:
    """Exact weight bytes per quantization from the meta model and bitsandbytes' own state sizes."""
    result = {"bf16": 2 * inventory["total"]}
    for mode in ("8bit", "4bit"):
        total = 2 * inventory["kept_bf16"]
        for shape, count in inventory["linear_shapes"].items():
            weight, state = quant_state_bytes(shape, mode)
            total += count * (weight + state)
        result[mode] = total
    return result


def footprint(*, quick: bool) -> dict[str, Any]:
    from llama_vision.hardware import estimate_footprint

    inventory = meta_inventory()
    reference = reference_bytes(inventory)
    estimate = estimate_footprint()
    per_mode: dict[str, Any] = {}
    for mode in ("bf16", "8bit", "4bit"):
        entry = estimate[mode]
        est_total = int(entry["total_bytes"])
        est_kept = int(entry["parameters"]) - int(entry["quantized_parameters"])
        per_mode[mode] = {
            "estimate_bytes": est_total,
            "reference_bytes": reference[mode],
            "ratio": round(est_total / reference[mode], 6),
            "estimate_gib": round(est_total / 1024**3, 3),
            "reference_gib": round(reference[mode] / 1024**3, 3),
            "estimate_kept_bf16_parameters": est_kept,
            "reference_kept_bf16_parameters": inventory["total"] if mode == "bf16" else inventory["kept_bf16"],
        }
    within = {mode: abs(v["ratio"] - 1) <= 0.01 for mode, v in per_mode.items()}
    kept_ok = all(v["estimate_kept_bf16_parameters"] == v["reference_kept_bf16_parameters"] for v in per_mode.values())
    bf16 = per_mode["bf16"]
    return figure(
        "footprint",
        title="hardware.estimate_footprint() vs the 11B model built on the meta device",
        value=bf16["estimate_bytes"] / 1024**3, baseline=bf16["reference_bytes"] / 1024**3, unit="GiB (bf16 weights)",
        goal="bf16 within 1%; 8-bit/4-bit within 1% with the bf16-kept modules counted",
        met=all(within.values()) and kept_ok,
        setup={
            "reference": "MllamaForConditionalGeneration(real 11B config) on the meta device; quantized = nn.Linear "
                         f"weights outside {list(SKIP_MODULES)}; quantization state sizes measured with "
                         "bitsandbytes (int8_vectorwise_quant; quantize_4bit nf4, blocksize 64, double quant) "
                         "on one tensor per shape",
            "repeats": 1, "timing": "none (a count, not a time)",
        },
        details={
            "parameters_meta": inventory["total"],
            "parameters_published": PUBLISHED_PARAMETERS,
            "parameters_estimate": int(estimate["bf16"]["parameters"]),
            "quantized_parameters": inventory["quantized"],
            "kept_bf16_parameters": inventory["kept_bf16"],
            "per_quantization": per_mode,
            "within_1_percent": within,
            "kept_bf16_matches": kept_ok,
        },
    )

"""Devices, live memory and the footprint of Llama-3.2-11B-Vision per quantization.

Importing this module is cheap: no torch. GPUs are read through NVML (`nvidia-ml-py`), which
works without CUDA tensors and degrades to "no GPU" when there is no driver; CPU RAM through
psutil. torch is consulted only when the app already imported it (allocator figures, MPS).

Footprints are computed from the model configuration, layer by layer, exactly as transformers
builds `MllamaForConditionalGeneration` (tests check the bf16 count against a meta-device
instantiation), with bitsandbytes' storage rules for 8-bit and 4-bit.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from typing import Any

GIB = 1024**3

# meta-llama/Llama-3.2-11B-Vision-Instruct config.json (the parts that size the weights).
LLAMA_32_11B_VISION_CONFIG: dict[str, Any] = {
    "model_type": "mllama",
    "image_token_index": 128256,
    "text_config": {
        "vocab_size": 128256,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 40,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "cross_attention_layers": [3, 8, 13, 18, 23, 28, 33, 38],
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-05,
        "rope_theta": 500000.0,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "tie_word_embeddings": False,
        "bos_token_id": 128000,
        "eos_token_id": [128001, 128008, 128009],
        "pad_token_id": 128004,
    },
    "vision_config": {
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_global_layers": 8,
        "attention_heads": 16,
        "num_channels": 3,
        "image_size": 560,
        "patch_size": 14,
        "max_num_tiles": 4,
        "vision_output_dim": 7680,
        "intermediate_layers_indices": [3, 7, 15, 23, 30],
        "norm_eps": 1e-05,
        "supported_aspect_ratios": [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]],
    },
}

QUANTIZATIONS = ("bf16", "8bit", "4bit")
# bitsandbytes NF4 defaults: 64 weights per block; double quant stores each block's absmax as
# one byte plus an fp32 scale (and offset) per 256 blocks.
_NF4_BLOCK = 64
_NESTED_BLOCK = 256
# Generation needs room beyond the weights: activations, the KV cache (small: 40 layers x 8 KV
# heads x 128 dims), the vision states (up to 4 x 1601 tokens) and the CUDA context.
RUNTIME_MARGIN_BYTES = int(1.5 * GIB)


# -- footprint ------------------------------------------------------------------------------
def _get(config: Any, key: str, default: Any = None) -> Any:
    if isinstance(config, dict):
        return config.get(key, default)
    return getattr(config, key, default)


def _linear(out_features: int, in_features: int, name: str, bias: bool = False) -> dict[str, int]:
    return {"name": name, "out": out_features, "in": in_features, "bias": out_features if bias else 0}


def parameter_inventory(config: Any = None) -> dict[str, Any]:
    """Parameter counts of MllamaForConditionalGeneration built from `config` (dict or MllamaConfig).

    Returns `{"vision": n, "projector": n, "embeddings": n, "lm_head": n, "text_other": n,
    "text_linear": [(out, in), ...]}`: `text_linear` lists the decoder's nn.Linear weights (the
    ones bitsandbytes quantizes); `text_other` the norms and gates that stay in bf16.
    """
    config = config or LLAMA_32_11B_VISION_CONFIG
    text = _get(config, "text_config")
    vision = _get(config, "vision_config")

    # Vision tower (MllamaVisionModel).
    h = _get(vision, "hidden_size")
    inter = _get(vision, "intermediate_size")
    patch = _get(vision, "patch_size")
    tiles = _get(vision, "max_num_tiles")
    channels = _get(vision, "num_channels", 3)
    patches = (_get(vision, "image_size") // patch) ** 2 + 1
    ratios = len(_get(vision, "supported_aspect_ratios") or [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]])
    ratio_rows = ratios + 1  # id 0 is padding
    encoder_layer = 4 * h * h + (h * inter + inter) + (inter * h + h) + 2 * (2 * h)  # attn, mlp, 2 LayerNorms
    vision_params = (
        channels * patch * patch * h  # patch_embedding (no bias)
        + h  # class_embedding
        + 1 + patches * h + ratio_rows * tiles * patches * h  # gated positional + tile embedding
        + 2 * (ratio_rows * tiles * h + 1)  # pre/post tile positional embeddings with gates
        + 2 * (2 * h)  # layernorm_pre, layernorm_post
        + _get(vision, "num_hidden_layers") * encoder_layer
        + _get(vision, "num_global_layers") * (encoder_layer + 2)  # gated: gate_attn, gate_ffn
    )

    # Projector.
    d = _get(text, "hidden_size")
    projector = _get(vision, "vision_output_dim") * d + d

    # Text decoder (MllamaTextModel) + lm_head.
    vocab = _get(text, "vocab_size")
    heads = _get(text, "num_attention_heads")
    kv = _get(text, "num_key_value_heads")
    head_dim = d // heads
    f = _get(text, "intermediate_size")
    cross = set(_get(text, "cross_attention_layers") or [])
    linear: list[tuple[int, int]] = []
    other = d  # final norm
    for index in range(_get(text, "num_hidden_layers")):
        linear += [(heads * head_dim, d), (kv * head_dim, d), (kv * head_dim, d), (d, heads * head_dim)]
        linear += [(f, d), (f, d), (d, f)]
        other += 2 * d  # input_layernorm, post_attention_layernorm
        if index in cross:
            other += 2 * head_dim + 2  # q_norm, k_norm, attention and MLP gates
    return {
        "vision": vision_params,
        "projector": projector,
        "embeddings": (vocab + 8) * d,  # 8 extra rows: <|image|> and spares beyond the vocabulary
        "lm_head": vocab * d,
        "text_other": other,
        "text_linear": linear,
    }


def nf4_quant_state_bytes(weights: int) -> int:
    """bitsandbytes NF4 + double-quant state of one weight: a uint8 absmax per 64-weight block,
    an fp32 absmax per 256 blocks, the nested code table (256 fp32), the NF4 code (16 fp32) and
    the fp32 offset."""
    blocks = -(-weights // _NF4_BLOCK)
    nested = -(-blocks // _NESTED_BLOCK)
    return blocks + nested * 4 + 256 * 4 + 16 * 4 + 4


def estimate_footprint(config: Any = None) -> dict[str, dict[str, Any]]:
    """Weight memory of the model per quantization: {"bf16"|"8bit"|"4bit": {...bytes...}}.

    8-bit and 4-bit quantize only the text decoder's linear layers; the vision tower, projector,
    lm_head, embeddings, norms and gates stay in bf16 (the engine's skip list). 8-bit adds one
    fp32 scale per output row; 4-bit NF4 with double quantization adds its block scales.
    """
    inventory = parameter_inventory(config)
    linear = inventory["text_linear"]
    linear_params = sum(o * i for o, i in linear)
    kept = inventory["vision"] + inventory["projector"] + inventory["embeddings"] + inventory["lm_head"] + inventory["text_other"]
    total_params = kept + linear_params
    results: dict[str, dict[str, Any]] = {}
    for quantization in QUANTIZATIONS:
        if quantization == "bf16":
            quantized_bytes, overhead = 0, 0
            kept_params = total_params
        elif quantization == "8bit":
            quantized_bytes = linear_params  # int8
            overhead = sum(o for o, _ in linear) * 4  # SCB: fp32 scale per output row
            kept_params = kept
        else:
            quantized_bytes = sum((o * i + 1) // 2 for o, i in linear)  # two 4-bit values per byte
            overhead = sum(nf4_quant_state_bytes(o * i) for o, i in linear)
            kept_params = kept
        weights = quantized_bytes + kept_params * 2
        total = weights + overhead
        results[quantization] = {
            "quantization": quantization,
            "parameters": total_params,
            "quantized_parameters": 0 if quantization == "bf16" else linear_params,
            "weights_bytes": weights,
            "quant_state_bytes": overhead,
            "total_bytes": total,
            "total_gib": round(total / GIB, 2),
            "with_runtime_bytes": total + RUNTIME_MARGIN_BYTES,
        }
    return results


def fit_verdict(footprint_bytes: Any, device_free_bytes: Any = None, cpu_free_bytes: int | None = None) -> str:
    """"fits" | "fits with CPU offload" | "does not fit" for weights plus a runtime margin.

    Accepts numbers, or an `estimate_footprint()` entry and a `detect_devices()` entry (as the
    dashboard passes them). `cpu_free_bytes` defaults to the available RAM (not counted again when
    the device itself is the CPU).
    """
    need = footprint_bytes.get("total_bytes") if isinstance(footprint_bytes, dict) else footprint_bytes
    device_is_cpu = isinstance(device_free_bytes, dict) and device_free_bytes.get("kind") == "cpu"
    free = device_free_bytes.get("free_bytes") if isinstance(device_free_bytes, dict) else device_free_bytes
    if cpu_free_bytes is None:
        cpu_free_bytes = 0 if device_is_cpu else _cpu_memory()["free_bytes"]
    need = int(need or 0) + RUNTIME_MARGIN_BYTES
    free = int(free or 0)
    if need <= free:
        return "fits"
    if need <= free + int(cpu_free_bytes or 0):
        return "fits with CPU offload"
    return "does not fit"


def fit_summary(devices: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Per quantization, the verdict on the best accelerator (or the CPU when there is none)."""
    devices = devices if devices is not None else detect_devices()
    accelerators = [d for d in devices if d.get("kind") != "cpu"]
    cpu = next((d for d in devices if d.get("kind") == "cpu"), None)
    cpu_free = int(cpu["free_bytes"]) if cpu else 0
    footprint = estimate_footprint()
    if accelerators:
        best = max(accelerators, key=lambda d: d.get("free_bytes") or 0)
        return {q: fit_verdict(e["total_bytes"], best.get("free_bytes"), cpu_free) for q, e in footprint.items()}
    return {q: fit_verdict(e["total_bytes"], cpu_free, 0) for q, e in footprint.items()}


# -- devices --------------------------------------------------------------------------------
_nvml_lock = threading.Lock()
_nvml_state: dict[str, Any] = {"tried": False, "ok": False, "error": None}


def _nvml() -> Any:
    """The pynvml module, initialised once; None without the package or a driver."""
    with _nvml_lock:
        if not _nvml_state["tried"]:
            _nvml_state["tried"] = True
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_state.update(ok=True, module=pynvml)
            except Exception as error:  # noqa: BLE001 - no package, no driver, no GPU: all "no NVML"
                _nvml_state["error"] = f"{type(error).__name__}: {error}"
        return _nvml_state.get("module") if _nvml_state["ok"] else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _gpu_devices() -> list[dict[str, Any]]:
    nvml = _nvml()
    if nvml is None:
        return []
    devices = []
    try:
        count = nvml.nvmlDeviceGetCount()
    except Exception:  # noqa: BLE001
        return []
    for index in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                utilisation: float | None = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            except Exception:  # noqa: BLE001 - not supported on some (MIG, vGPU) devices
                utilisation = None
            try:
                major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
                capability: str | None = f"{major}.{minor}"
            except Exception:  # noqa: BLE001
                capability = None
            devices.append({
                "id": f"cuda:{index}", "index": index, "kind": "cuda", "name": _text(nvml.nvmlDeviceGetName(handle)),
                "total_bytes": int(memory.total), "used_bytes": int(memory.used), "free_bytes": int(memory.free),
                "utilisation": utilisation, "compute_capability": capability,
            })
        except Exception:  # noqa: BLE001 - one broken device must not hide the others
            continue
    return devices


def _cpu_memory() -> dict[str, int]:
    import psutil

    memory = psutil.virtual_memory()
    return {"total_bytes": int(memory.total), "used_bytes": int(memory.total - memory.available),
            "free_bytes": int(memory.available)}


def _cpu_device() -> dict[str, Any]:
    import psutil

    memory = _cpu_memory()
    return {"id": "cpu", "index": None, "kind": "cpu", "name": platform.processor() or platform.machine() or "CPU",
            **memory, "utilisation": float(psutil.cpu_percent(interval=None)), "cores": os.cpu_count()}


def _mps_device() -> dict[str, Any] | None:
    """Apple silicon: the GPU shares system RAM (so its memory is the CPU's)."""
    if sys.platform != "darwin" or platform.machine() != "arm64":
        return None
    torch = sys.modules.get("torch")
    if torch is not None and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        return None
    memory = _cpu_memory()
    return {"id": "mps", "index": 0, "kind": "mps", "name": "Apple GPU (unified memory)", **memory, "utilisation": None}


def detect_devices() -> list[dict[str, Any]]:
    """GPUs (NVML), Apple MPS and the CPU: id, kind, name, total/used/free bytes, utilisation %."""
    devices = _gpu_devices()
    mps = _mps_device()
    if mps:
        devices.append(mps)
    devices.append(_cpu_device())
    return devices


def nvml_error() -> str | None:
    """Why NVML is unavailable (no package, no driver), or None when it works or was not tried."""
    _nvml()
    return _nvml_state["error"]


def memory_snapshot() -> dict[str, Any]:
    """One reading for the dashboard timer: per device used/total bytes, process RSS, and the
    torch allocator's allocated/reserved bytes when the app already loaded a model on CUDA."""
    import psutil

    snapshot: dict[str, Any] = {"time": time.time(), "devices": {}}
    for device in _gpu_devices():
        snapshot["devices"][device["id"]] = {"used_bytes": device["used_bytes"], "total_bytes": device["total_bytes"],
                                             "utilisation": device["utilisation"]}
    cpu = _cpu_memory()
    snapshot["devices"]["cpu"] = {"used_bytes": cpu["used_bytes"], "total_bytes": cpu["total_bytes"],
                                  "utilisation": float(psutil.cpu_percent(interval=None))}
    snapshot["process_rss_bytes"] = int(psutil.Process().memory_info().rss)
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                for index in range(torch.cuda.device_count()):
                    entry = snapshot["devices"].setdefault(f"cuda:{index}", {})
                    entry["allocated_bytes"] = int(torch.cuda.memory_allocated(index))
                    entry["reserved_bytes"] = int(torch.cuda.memory_reserved(index))
        except Exception:  # noqa: BLE001 - a reading must never break the dashboard
            pass
    return snapshot


# -- per-process limits -------------------------------------------------------------------------
# bitsandbytes' 8-bit and NF4 kernels run on CUDA; elsewhere the 11B model cannot use them.
CUDA_ONLY_QUANTIZATIONS = frozenset({"8bit", "4bit"})


def quantization_runs_on(quantization: str, device: dict[str, Any]) -> bool:
    """Can this quantization run on this `detect_devices()` entry? 8-bit and NF4 need CUDA."""
    return quantization not in CUDA_ONLY_QUANTIZATIONS or device.get("kind") == "cuda"


def process_memory() -> dict[str, Any]:
    """This app's own process: resident memory (RSS) and CPU use, next to the machine's RAM."""
    import psutil

    process = psutil.Process()
    return {"pid": process.pid, "rss_bytes": int(process.memory_info().rss),
            "machine_total_bytes": _cpu_memory()["total_bytes"],
            "cpu_percent": float(process.cpu_percent(interval=None))}


def apply_gpu_memory_fraction(fraction: float, torch: Any, device: str = "auto") -> list[int]:
    """Cap this process to `fraction` of each CUDA device (LLAMA_VISION_GPU_MEMORY_FRACTION),
    before the model loads, so a small GPU keeps room for the desktop or another program.
    Returns the device indexes capped; nothing happens at 1.0 or without CUDA."""
    if fraction >= 1.0 or device in ("cpu", "mps") or not torch.cuda.is_available():
        return []
    if device.startswith("cuda:"):
        indexes = [int(device.split(":", 1)[1])]
    else:
        indexes = list(range(torch.cuda.device_count()))
    for index in indexes:
        torch.cuda.set_per_process_memory_fraction(float(fraction), index)
    return indexes

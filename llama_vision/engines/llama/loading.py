"""How the llama engine loads a checkpoint: folder checks, device, dtype, device map,
bitsandbytes quantization, TF32, reading the weights, and where they were placed. Kept apart
from `engine.py` so the rules (which are what users tune through settings) can be read and
tested on their own.

Only `torch`/`transformers` objects passed in are used; importing this module imports neither.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import ModelLoadError

if TYPE_CHECKING:
    from llama_vision.config import Settings

# Quantization skips. `llm_int8_skip_modules` *replaces* transformers' default list, so lm_head
# must be named. transformers 5 matches a pattern as a prefix of the full module name or as its
# suffix, and the vision tower's full name is `model.vision_model` (neither the prefix nor the
# suffix of `model.vision_model.transformer.layers.0...`), so the plain `vision_model` name alone
# would silently quantize the vision tower; transformers 4 matched substrings, where both work.
QUANT_SKIP_MODULES = ["vision_model", "model.vision_model", "multi_modal_projector", "lm_head"]

_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}


@dataclass
class LoadPlan:
    """What `_load` will do, decided before any weights are read (and shown in status())."""

    folder: Path
    device: str  # "cuda", "cuda:N", "mps", "cpu"
    dtype: Any  # torch.dtype
    quantization: str
    kwargs: dict[str, Any] = field(default_factory=dict)  # for from_pretrained
    tf32: bool = False
    custom_code: bool = False  # config is not Mllama: remote code path


def check_model_folder(model_path: str, *, trust_remote_code: bool = False) -> tuple[Path, dict[str, Any]]:
    """The checkpoint folder and its config.json, or ModelLoadError saying how to fix it."""
    if not model_path:
        raise ModelLoadError(
            "No model folder is configured for the llama engine.",
            hint="Set LLAMA_VISION_MODEL_PATH to a local Llama-3.2-11B-Vision-Instruct folder "
            "(or run `python -m llama_vision make-tiny-model DIR` for a test model).",
        )
    folder = Path(model_path).expanduser()
    if not folder.is_dir():
        raise ModelLoadError(
            f"Model folder '{folder}' does not exist.",
            hint="Check LLAMA_VISION_MODEL_PATH; weights are never downloaded, so copy the checkpoint "
            "there first (e.g. `huggingface-cli download meta-llama/Llama-3.2-11B-Vision-Instruct --local-dir DIR`).",
        )
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(
            f"'{folder}' has no config.json, so it is not a transformers checkpoint.",
            hint="Point LLAMA_VISION_MODEL_PATH at the folder that holds config.json and *.safetensors.",
        )
    if not any(folder.glob("*.safetensors")):
        if any(folder.glob("*.bin")) or any(folder.glob("*.pt")) or any(folder.glob("*.pth")):
            raise ModelLoadError(
                f"'{folder}' has only pickle weights (.bin/.pt); they can run arbitrary code when loaded.",
                hint="Convert them to safetensors once (load in a trusted session and call "
                "model.save_pretrained(folder, safe_serialization=True)), or download the safetensors files.",
            )
        raise ModelLoadError(
            f"'{folder}' has no *.safetensors weight files.",
            hint="Copy the full checkpoint (config.json, *.safetensors, tokenizer and processor files).",
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"Cannot read '{config_file}': {error}.", hint="Re-copy the checkpoint.") from None
    if config.get("model_type") != "mllama" and not trust_remote_code:
        raise ModelLoadError(
            f"'{folder}' holds a {config.get('model_type') or 'custom'} model, not Mllama (Llama 3.2 Vision).",
            hint="Use a Llama-3.2-Vision checkpoint, or set LLAMA_VISION_TRUST_REMOTE_CODE=true only if you "
            "trust this checkpoint's code (it must expose answer_question(image, question)).",
        )
    return folder, config


def resolve_device(settings: Settings, torch: Any) -> str:
    """auto -> cuda when present, else mps, else cpu; an explicit choice must exist."""
    wanted = settings.device
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if wanted == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if wanted.startswith("cuda"):
        if not cuda:
            raise ModelLoadError(
                f"LLAMA_VISION_DEVICE={wanted} but no CUDA device is visible.",
                hint="Use LLAMA_VISION_DEVICE=auto or cpu, or install a CUDA build of torch and the driver.",
            )
        if ":" in wanted and int(wanted.split(":")[1]) >= torch.cuda.device_count():
            raise ModelLoadError(
                f"LLAMA_VISION_DEVICE={wanted} but only {torch.cuda.device_count()} CUDA device(s) exist.",
                hint="Use cuda:0 ... cuda:N-1, or auto.",
            )
    if wanted == "mps" and not mps:
        raise ModelLoadError("LLAMA_VISION_DEVICE=mps but MPS is not available.", hint="Use auto or cpu.")
    return wanted


def _cuda_index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


def resolve_dtype(settings: Settings, device: str, torch: Any) -> Any:
    """bf16 where supported (Ampere+), fp16 on older GPUs and MPS, fp32 on CPU; or settings.dtype."""
    if settings.dtype != "auto":
        return getattr(torch, _DTYPES[settings.dtype])
    if device.startswith("cuda"):
        major, _ = torch.cuda.get_device_capability(_cuda_index(device))
        return torch.bfloat16 if major >= 8 else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def quantization_config(settings: Settings, dtype: Any, *, offload: bool) -> Any:
    """BitsAndBytesConfig for 8bit/4bit (NF4, double quant), skipping vision, projector and lm_head."""
    if settings.quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    if settings.quantization == "8bit":
        return BitsAndBytesConfig(
            load_in_8bit=True,
            llm_int8_skip_modules=list(QUANT_SKIP_MODULES),
            # Lets device_map="auto" spill layers to the CPU (kept in fp32 there) instead of failing.
            llm_int8_enable_fp32_cpu_offload=offload,
        )
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
        llm_int8_skip_modules=list(QUANT_SKIP_MODULES),
        llm_int8_enable_fp32_cpu_offload=offload,
    )


def plan_load(settings: Settings, torch: Any) -> LoadPlan:
    """Decide device, dtype, device_map, max_memory and quantization for from_pretrained."""
    folder, config = check_model_folder(settings.model_path, trust_remote_code=settings.trust_remote_code)
    device = resolve_device(settings, torch)
    dtype = resolve_dtype(settings, device, torch)
    max_memory = settings.max_memory_map()
    if device == "cuda":
        # All visible GPUs, split by accelerate ("auto" balances across GPUs), spilling to CPU
        # RAM when LLAMA_VISION_MAX_MEMORY or the cards are too small.
        device_map: Any = "auto"
    elif device.startswith("cuda:"):
        device_map = {"": _cuda_index(device)}
    else:
        device_map = {"": device}
    offload = device_map == "auto"
    kwargs: dict[str, Any] = {
        "local_files_only": True,
        "low_cpu_mem_usage": True,
        "use_safetensors": True,
        "trust_remote_code": bool(settings.trust_remote_code),
        "dtype": dtype,
        "device_map": device_map,
    }
    if max_memory and device_map == "auto":
        kwargs["max_memory"] = max_memory
    quant = quantization_config(settings, dtype, offload=offload)
    if quant is not None:
        kwargs["quantization_config"] = quant
    custom = config.get("model_type") != "mllama"
    if not custom:
        kwargs["attn_implementation"] = "sdpa"  # Mllama supports SDPA; flash-attn is not supported
    tf32 = device.startswith("cuda") and torch.cuda.get_device_capability(_cuda_index(device))[0] >= 8
    return LoadPlan(folder=folder, device=device, dtype=dtype, quantization=settings.quantization,
                    kwargs=kwargs, tf32=tf32, custom_code=custom)


def apply_tf32(plan: LoadPlan, torch: Any) -> None:
    """TF32 matmuls only on Ampere or newer (older cards do not have it; results would not change)."""
    if plan.tf32:
        torch.set_float32_matmul_precision("high")  # TF32 for fp32 matmuls (bf16/fp16 ones are unaffected)
        torch.backends.cudnn.allow_tf32 = True


def read_weights(plan: LoadPlan, transformers: Any) -> tuple[Any, Any, str]:
    """(model, processor, interface) from the planned folder; interface is "chat_template",
    "plain" (a base checkpoint without a template) or "answer_question" (remote code)."""
    if plan.custom_code:
        return _read_custom(plan, transformers)
    processor = transformers.AutoProcessor.from_pretrained(
        plan.folder, local_files_only=True, trust_remote_code=plan.kwargs["trust_remote_code"]
    )
    model = transformers.MllamaForConditionalGeneration.from_pretrained(plan.folder, **plan.kwargs)
    model.eval()
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is not None:
        tokenizer.padding_side = "left"  # batched generation continues from the right edge
    interface = "chat_template" if getattr(processor, "chat_template", None) else "plain"
    return model, processor, interface


def _read_custom(plan: LoadPlan, transformers: Any) -> tuple[Any, Any, str]:
    """Remote-code checkpoint exposing `answer_question(image, question)` (TRUST_REMOTE_CODE only)."""
    kwargs = {k: v for k, v in plan.kwargs.items() if k != "attn_implementation"}
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(plan.folder, **kwargs)
    except ValueError:
        model = transformers.AutoModel.from_pretrained(plan.folder, **kwargs)
    if not callable(getattr(model, "answer_question", None)):
        raise ModelLoadError(
            f"The custom model in '{plan.folder}' has no answer_question(image, question) method.",
            hint="Use a Llama 3.2 Vision (Mllama) checkpoint, or a custom one that exposes answer_question.",
        )
    model.eval()
    return model, None, "answer_question"


def placement(model: Any) -> dict[str, str]:
    """Module -> device as accelerate placed it; a model on one device is one entry."""
    device_map = getattr(model, "hf_device_map", None) or {"": str(getattr(model, "device", "cpu"))}
    return {name or "(whole model)": _device_name(placed) for name, placed in device_map.items()}


def device_map_summary(model: Any) -> dict[str, dict[str, int]]:
    """Per device: top-level modules placed there and parameter bytes (meta = offloaded to disk)."""
    summary: dict[str, dict[str, int]] = defaultdict(lambda: {"modules": 0, "parameters": 0, "bytes": 0})
    for placed in placement(model).values():
        summary[placed]["modules"] += 1
    for parameter in model.parameters():
        entry = summary[str(parameter.device)]
        entry["parameters"] += parameter.numel()
        entry["bytes"] += parameter.numel() * parameter.element_size()
    return dict(summary)


def _device_name(placed: Any) -> str:
    if isinstance(placed, int):
        return f"cuda:{placed}"
    return str(placed)

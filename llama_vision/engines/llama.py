"""The llama engine: Llama 3.2 Vision (Mllama) through transformers, on GPU(s), MPS or CPU.

Loading rules (device, dtype, device map, quantization, TF32) live in `llama_loading.py`; the
vision-state reuse for field questions in `llama_fields.py`. This module drives generation:
chat template -> processor -> greedy `generate` (single, batched with left padding, streamed),
with out-of-memory errors turned into `EngineOutOfMemoryError` after releasing the cache.

Traps handled here (ARCHITECTURE.md §6): the image goes first in the user turn and the template
adds `<|begin_of_text|>` itself (so `add_special_tokens=False`); no `repetition_penalty` or logits
processors that index prompt ids (`<|image|>` lies outside the logits); images nested one list
per sample for batches.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from llama_vision.engines.base import Capabilities, Engine, Generation
from llama_vision.engines.llama_loading import (
    LoadPlan,
    apply_tf32,
    device_map_summary,
    is_out_of_memory,
    placement,
    plan_load,
    release_memory,
)
from llama_vision.errors import EngineError, EngineOutOfMemoryError, ModelLoadError
from llama_vision.hardware import apply_gpu_memory_fraction

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings

T = TypeVar("T")

# Sampling and penalty fields a checkpoint's generation_config may carry (the Instruct model ships
# temperature 0.6 / top_p 0.9) that must not reach a greedy, reproducible extraction run;
# repetition_penalty would also index the out-of-vocabulary `<|image|>` id. transformers 5 fills
# every None from the checkpoint's generation_config, so these are explicit neutral values.
_GREEDY_GENERATION_FIELDS = {
    "do_sample": False,
    "num_beams": 1,
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 50,
    "typical_p": 1.0,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
}


def prepare_image(image: Image, max_side: int, processor: Any = None) -> Image:
    """RGB and at most `max_side` px (documents.prepare_for_model does the downscaling).

    With an Mllama processor, a large photo is first box-reduced to just above the processor's own
    resize target, using the processor's tile size and tile count so its tile layout is unchanged.
    """
    from llama_vision.documents import prepare_for_model

    if image.mode != "RGB":
        image = image.convert("RGB")
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


class LlamaEngine(Engine):
    """MllamaForConditionalGeneration + AutoProcessor from LLAMA_VISION_MODEL_PATH."""

    name = "llama"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=True)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.model: Any = None
        self.processor: Any = None
        self.plan: LoadPlan | None = None
        self.interface: str | None = None  # "chat_template" | "answer_question" | "plain"
        self.last_generation: Generation | None = None
        # One generation at a time per model: concurrent generate calls on one GPU only add
        # memory pressure (the UI and batch queue requests anyway).
        self._run_lock = threading.Lock()
        self._torch: Any = None

    # -- loading --------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            import torch
            import transformers
        except ImportError as error:  # pragma: no cover - the venv has them
            raise ModelLoadError(
                f"The llama engine needs torch and transformers ({error}).",
                hint="pip install -r requirements.txt, or use LLAMA_VISION_ENGINE=ocr or openai.",
            ) from None
        self._torch = torch
        plan = plan_load(self.settings, torch)
        apply_tf32(plan, torch)
        apply_gpu_memory_fraction(self.settings.gpu_memory_fraction, torch, self.settings.device)
        self.plan = plan
        try:
            if plan.custom_code:
                self._load_custom(plan, transformers)
            else:
                self._load_mllama(plan, transformers)
        except ModelLoadError:
            self._drop_model()
            raise
        except Exception as error:
            self._drop_model()
            if is_out_of_memory(error, torch):
                raise EngineOutOfMemoryError(
                    f"Out of memory while loading the model on {plan.device}.",
                    hint="Set LLAMA_VISION_QUANTIZATION=8bit or 4bit, or cap LLAMA_VISION_MAX_MEMORY to spill to CPU.",
                ) from error
            raise ModelLoadError(
                f"Could not load the model from '{plan.folder}': {type(error).__name__}: {error}".rstrip(),
                hint="Check that the folder holds a complete Llama 3.2 Vision checkpoint and that "
                "bitsandbytes is installed for 8bit/4bit (or set LLAMA_VISION_QUANTIZATION=none).",
            ) from error

    def _load_mllama(self, plan: LoadPlan, transformers: Any) -> None:
        processor = transformers.AutoProcessor.from_pretrained(
            plan.folder, local_files_only=True, trust_remote_code=plan.kwargs["trust_remote_code"]
        )
        model = transformers.MllamaForConditionalGeneration.from_pretrained(plan.folder, **plan.kwargs)
        model.eval()
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"  # batched generation continues from the right edge
        self.processor, self.model = processor, model
        self.interface = "chat_template" if getattr(processor, "chat_template", None) else "plain"

    def _load_custom(self, plan: LoadPlan, transformers: Any) -> None:
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
        self.model, self.processor, self.interface = model, None, "answer_question"

    def _drop_model(self) -> None:
        self.model = None
        self.processor = None
        if self._torch is not None:
            release_memory(self._torch)

    def _unload(self) -> None:
        with self._run_lock:
            self._drop_model()
            self.interface = None

    # -- inputs ---------------------------------------------------------------------------
    def chat_text(self, prompt: str) -> str:
        """The prompt wrapped in the checkpoint's chat template, image first, no system turn."""
        if self.interface == "chat_template":
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        # Base (non-Instruct) checkpoint: no template; the processor adds begin-of-text after the image.
        return "<|image|>" + prompt

    def _encode(self, images: Sequence[Image], prompts: Sequence[str]) -> Any:
        texts = [self.chat_text(p) for p in prompts]
        prepared = [[prepare_image(img, self.settings.max_image_side, self.processor)] for img in images]  # one list per sample
        inputs = self.processor(
            images=prepared,
            text=texts,
            add_special_tokens=self.interface != "chat_template",
            padding=len(texts) > 1,
            return_tensors="pt",
        )
        return self._to_device(inputs)

    def _to_device(self, inputs: Any) -> Any:
        inputs = inputs.to(self.model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.plan.dtype if self.plan else self.model.dtype)
        return inputs

    def generation_config(self, max_new_tokens: int, *, own_cache: bool = False) -> Any:
        """The checkpoint's generation config made greedy, penalty-free and capped.

        With LLAMA_VISION_COMPILE on an unquantized CUDA model, a static KV cache lets
        transformers compile the decoder step (`own_cache`: the caller passes its own cache).
        """
        config = copy.deepcopy(self.model.generation_config)
        for key, value in _GREEDY_GENERATION_FIELDS.items():
            setattr(config, key, value)
        config.max_new_tokens = max_new_tokens
        plan = self.plan
        static = (self.settings.compile and plan is not None and plan.device.startswith("cuda")
                  and plan.quantization == "none" and not own_cache)
        config.cache_implementation = "static" if static else None
        tokenizer = self.processor.tokenizer
        if config.pad_token_id is None:
            config.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return config

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.processor.tokenizer.eos_token_id is not None:
            ids.add(self.processor.tokenizer.eos_token_id)
        return ids

    def _finish(self, new_tokens: Sequence[int], prompt_tokens: int, max_new_tokens: int, seconds: float) -> Generation:
        """Cut at the first end-of-turn token, decode, and report whether the cap stopped it."""
        eos = self._eos_ids()
        kept: list[int] = []
        stopped = False
        for token in new_tokens:
            kept.append(int(token))
            if int(token) in eos:
                stopped = True
                break
        text = self.processor.tokenizer.decode(kept, skip_special_tokens=True)
        return Generation(
            text=text,
            seconds=seconds,
            prompt_tokens=prompt_tokens,
            generated_tokens=len(kept),
            truncated=not stopped and len(kept) >= max_new_tokens,
        )

    # -- running --------------------------------------------------------------------------
    def _guard(self, action: Callable[[], T]) -> T:
        """Run `action`; on out-of-memory release the cache and raise EngineOutOfMemoryError."""
        try:
            return action()
        except EngineError:
            raise
        except Exception as error:
            if self._torch is not None and is_out_of_memory(error, self._torch):
                release_memory(self._torch)
                raise EngineOutOfMemoryError(
                    "The accelerator ran out of memory while generating; its cache has been released.",
                    hint="Lower LLAMA_VISION_MAX_NEW_TOKENS or LLAMA_VISION_MAX_IMAGE_SIDE, use fewer pages per "
                    "batch, or load with LLAMA_VISION_QUANTIZATION=8bit/4bit.",
                ) from error
            raise

    def _generate(self, image: Image, prompt: str, max_new_tokens: int) -> Generation:
        if self.interface == "answer_question":
            return self._answer_question(image, prompt)
        return self._run_batch([image], [prompt], max_new_tokens)[0]

    def _answer_question(self, image: Image, prompt: str) -> Generation:
        started = time.perf_counter()
        with self._run_lock:
            text = self._guard(lambda: self.model.answer_question(prepare_image(image, self.settings.max_image_side), prompt))
        return Generation(text=str(text), seconds=time.perf_counter() - started)

    def _run_batch(self, images: Sequence[Image], prompts: Sequence[str], max_new_tokens: int) -> list[Generation]:
        torch = self._torch

        def run() -> list[Generation]:
            started = time.perf_counter()
            inputs = self._encode(images, prompts)
            with torch.inference_mode():
                output = self.model.generate(**inputs, generation_config=self.generation_config(max_new_tokens))
            seconds = time.perf_counter() - started
            width = inputs["input_ids"].shape[1]
            prompt_lengths = inputs["attention_mask"].sum(dim=1).tolist()
            return [
                self._finish(row[width:].tolist(), int(prompt_lengths[i]), max_new_tokens, seconds)
                for i, row in enumerate(output)
            ]

        with self._run_lock:
            return self._guard(run)

    def generate_batch(
        self, images: Sequence[Image], prompts: Sequence[str], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        """One batched generate (left padding); on OOM retry once in two halves."""
        self.initialize()
        if len(images) != len(prompts):
            raise ValueError("generate_batch needs one prompt per image")
        if not images:
            return []
        cap = self._cap(max_new_tokens)
        if self.interface == "answer_question":
            return [self._answer_question(i, p) for i, p in zip(images, prompts, strict=True)]
        return self._with_half_batch_retry(
            list(zip(images, prompts, strict=True)),
            lambda chunk: self._run_batch([c[0] for c in chunk], [c[1] for c in chunk], cap),
        )

    def _with_half_batch_retry(self, items: list[Any], run: Callable[[list[Any]], list[T]]) -> list[T]:
        try:
            return run(items)
        except EngineOutOfMemoryError:
            if len(items) < 2:
                raise
        half = (len(items) + 1) // 2
        results: list[T] = []
        for start in range(0, len(items), half):
            results.extend(run(items[start : start + half]))  # a second OOM propagates
        return results

    def stream(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield text pieces as they are generated; then `self.last_generation` holds the whole answer."""
        self.initialize()
        cap = self._cap(max_new_tokens)
        if self.interface == "answer_question":
            generation = self._answer_question(image, prompt)
            self.last_generation = generation
            yield generation.text
            return
        from llama_vision.engines.llama_stream import stream_generation

        with self._run_lock:
            yield from stream_generation(self, image, prompt, cap)

    def ask_fields(
        self, image: Image, questions: dict[str, str], *, max_new_tokens: int | None = None
    ) -> dict[str, Generation]:
        """All field questions about one image: the vision tower runs once, then one batched generate."""
        self.initialize()
        if not questions:
            return {}
        from llama_vision.engines.llama_fields import ask_fields_reusing_vision, can_reuse_vision

        if self.interface == "answer_question" or not can_reuse_vision(self.model):
            return super().ask_fields(image, questions, max_new_tokens=max_new_tokens)

        cap = self._cap(max_new_tokens)
        names = list(questions)
        with self._run_lock:
            answers = ask_fields_reusing_vision(self, image, [questions[n] for n in names], cap)
        return dict(zip(names, answers, strict=True))

    # -- reporting ------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        status = super().status()
        status.update(
            model_path=self.settings.model_path,
            quantization=self.settings.quantization,
            interface=self.interface,
        )
        if self.plan is not None:
            status.update(device=self.plan.device, dtype=str(self.plan.dtype).removeprefix("torch."), tf32=self.plan.tf32)
        model = self.model
        if model is not None:
            summary = device_map_summary(model)
            # device_map: module -> device (as accelerate placed it); memory: parameter bytes per
            # device; device_summary: both per device, with parameter counts.
            status["device_map"] = placement(model)
            status["memory"] = {device: entry["bytes"] for device, entry in summary.items()}
            status["device_summary"] = summary
            try:
                status["footprint_bytes"] = int(model.get_memory_footprint())
            except Exception:  # noqa: BLE001 - reporting must never fail
                status["footprint_bytes"] = None
            status["attn_implementation"] = getattr(model.config, "_attn_implementation", None)
            status["parameters"] = sum(p.numel() for p in model.parameters())
        return status

"""The llama engine: Llama 3.2 Vision (Mllama) through transformers, on GPU(s), MPS or CPU.

This module owns the lifecycle and the run lock; the work is in its neighbours:
`loading` (device, dtype, device map, quantization, TF32, reading the weights), `generation`
(chat template, batched greedy generate, decoding), `streaming` (token streaming),
`vision_reuse` (field questions that run the vision tower once), `image_prep` (the tile-canvas
maths) and `memory` (the one out-of-memory handler).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Capabilities, Engine, Generation, GenerationRequest, GenerationStream
from llama_vision.engines.llama.generation import Runner
from llama_vision.hardware import apply_gpu_memory_fraction
from llama_vision.engines.llama.loading import apply_tf32, device_map_summary, placement, plan_load, read_weights
from llama_vision.engines.llama.memory import is_out_of_memory, release_memory
from llama_vision.errors import EngineOutOfMemoryError, ModelLoadError

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.engines.llama.loading import LoadPlan


class LlamaEngine(Engine):
    """MllamaForConditionalGeneration + AutoProcessor from LLAMA_VISION_MODEL_PATH."""

    name = "llama"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=True)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.runner: Runner | None = None
        self.plan: LoadPlan | None = None
        # One generation at a time per model: concurrent generate calls on one GPU only add
        # memory pressure (the UI and batch queue requests anyway).
        self._run_lock = threading.Lock()
        self._torch: Any = None

    # what the dashboard, tests and benchmarks look at
    @property
    def model(self) -> Any:
        return self.runner.model if self.runner else None

    @property
    def processor(self) -> Any:
        return self.runner.processor if self.runner else None

    @property
    def interface(self) -> str | None:
        return self.runner.interface if self.runner else None

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
            model, processor, interface = read_weights(plan, transformers)
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
        self.runner = Runner(model=model, processor=processor, interface=interface, plan=plan,
                             settings=self.settings, torch=torch)

    def _drop_model(self) -> None:
        self.runner = None
        if self._torch is not None:
            release_memory(self._torch)

    def _unload(self) -> None:
        with self._run_lock:
            self._drop_model()

    def _ready(self) -> Runner:
        if self.runner is None:  # unloaded by another user between initialize() and here
            raise ModelLoadError("The model was unloaded while this request waited.", hint="Load it again and retry.")
        return self.runner

    # -- the interface --------------------------------------------------------------------
    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        with self._run_lock:
            return self._ready().generate_batch(requests)

    def _stream(self, request: GenerationRequest) -> GenerationStream:
        from llama_vision.engines.llama.streaming import stream_generation

        return stream_generation(self._ready(), request, self._run_lock)

    def ask_fields(
        self, image: Image, questions: dict[str, str], *, max_new_tokens: int | None = None
    ) -> dict[str, Generation]:
        """All field questions about one image: the vision tower runs once, then one batched generate."""
        self.initialize()
        if not questions:
            return {}
        from llama_vision.engines.llama import vision_reuse

        runner = self._ready()
        if runner.interface == "answer_question" or not vision_reuse.can_reuse_vision(runner.model):
            return super().ask_fields(image, questions, max_new_tokens=max_new_tokens)
        names = list(questions)
        cap = max_new_tokens or self.settings.max_new_tokens
        with self._run_lock:
            answers = vision_reuse.ask_reusing_vision(runner, image, [questions[n] for n in names], cap)
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

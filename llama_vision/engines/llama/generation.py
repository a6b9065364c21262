"""Generation on a loaded Mllama checkpoint: chat template -> processor -> greedy `generate`,
single or batched with left padding, and the decoding of what came back.

Traps handled here (ARCHITECTURE.md §6): the image goes first in the user turn and the template
adds `<|begin_of_text|>` itself (so `add_special_tokens=False`); no `repetition_penalty` or logits
processors that index prompt ids (`<|image|>` lies outside the logits); images nested one list
per sample for batches.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Generation, GenerationRequest
from llama_vision.engines.llama import token_scores
from llama_vision.engines.llama.image_prep import prepare_image
from llama_vision.engines.llama.memory import in_halves_on_out_of_memory, out_of_memory_released

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.engines.llama.loading import LoadPlan

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


class Runner:
    """A loaded checkpoint and how to drive it. Built once per load; it holds nothing about any one
    request, so concurrent callers only need the engine's run lock around the model itself."""

    def __init__(
        self, *, model: Any, processor: Any, interface: str, plan: LoadPlan, settings: Settings, torch: Any
    ) -> None:
        self.model = model
        self.processor = processor
        self.interface = interface  # "chat_template" | "plain" | "answer_question"
        self.plan = plan
        self.settings = settings
        self.torch = torch

    def guarded(self, doing: str = "generating") -> AbstractContextManager[None]:
        """The engine's one out-of-memory handler (see memory.py)."""
        return out_of_memory_released(self.torch, doing)

    # -- inputs ---------------------------------------------------------------------------
    def chat_text(self, prompt: str) -> str:
        """The prompt wrapped in the checkpoint's chat template, image first, no system turn."""
        if self.interface == "chat_template":
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        # Base (non-Instruct) checkpoint: no template; the processor adds begin-of-text after the image.
        return "<|image|>" + prompt

    def prepare(self, image: Image) -> Image:
        return prepare_image(image, self.settings.max_image_side, self.processor)

    def encode(self, images: Sequence[Image], prompts: Sequence[str]) -> Any:
        texts = [self.chat_text(p) for p in prompts]
        prepared = [[self.prepare(img)] for img in images]  # one list per sample
        inputs = self.processor(
            images=prepared,
            text=texts,
            add_special_tokens=self.interface != "chat_template",
            padding=len(texts) > 1,
            return_tensors="pt",
        )
        return self.to_device(inputs)

    def to_device(self, inputs: Any) -> Any:
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

    # -- outputs --------------------------------------------------------------------------
    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.processor.tokenizer.eos_token_id is not None:
            ids.add(self.processor.tokenizer.eos_token_id)
        return ids

    def finish(self, new_tokens: Sequence[int], prompt_tokens: int, max_new_tokens: int, seconds: float,
               scores: Any = None, row: int = 0) -> Generation:
        """Cut at the first end-of-turn token, decode, and report whether the cap stopped it.
        `scores` is the call's token_scores recorder (row `row` of its batch) when it kept one."""
        eos = self._eos_ids()
        kept: list[int] = []
        stopped = False
        for token in new_tokens:
            kept.append(int(token))
            if int(token) in eos:
                stopped = True
                break
        tokenizer = self.processor.tokenizer
        text = tokenizer.decode(kept, skip_special_tokens=True)
        return Generation(
            text=text,
            seconds=seconds,
            prompt_tokens=prompt_tokens,
            generated_tokens=len(kept),
            truncated=not stopped and len(kept) >= max_new_tokens,
            token_logprobs=token_scores.pair(tokenizer, kept, text, token_scores.row_logprobs(scores, row, kept)),
        )

    def finish_rows(self, output: Any, inputs: Any, max_new_tokens: int, started: float,
                    scores: Any = None) -> list[Generation]:
        """One Generation per row of a batched `generate` output (prompt part cut off)."""
        seconds = time.perf_counter() - started
        width = inputs["input_ids"].shape[1]
        lengths = inputs["attention_mask"].sum(dim=1).tolist()
        return [self.finish(row[width:].tolist(), int(lengths[i]), max_new_tokens, seconds, scores, i)
                for i, row in enumerate(output)]

    # -- running --------------------------------------------------------------------------
    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """One batched generate (left padding) per token cap; on out-of-memory once more in halves."""
        if self.interface == "answer_question":
            return [self.answer_question(r) for r in requests]
        answers: dict[int, Generation] = {}
        by_cap: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            by_cap.setdefault(int(request.max_new_tokens or self.settings.max_new_tokens), []).append(index)
        for cap, indices in by_cap.items():
            chunk = [requests[i] for i in indices]
            done = in_halves_on_out_of_memory(chunk, lambda part, cap=cap: self._run(part, cap))
            answers.update(zip(indices, done, strict=True))
        return [answers[i] for i in range(len(requests))]

    def _run(self, requests: Sequence[GenerationRequest], max_new_tokens: int) -> list[Generation]:
        with self.guarded():
            started = time.perf_counter()
            inputs = self.encode([r.image for r in requests], [r.prompt for r in requests])
            scores = token_scores.step_recorder()
            with self.torch.inference_mode():
                output = self.model.generate(**inputs, generation_config=self.generation_config(max_new_tokens),
                                             logits_processor=scores.processors())
            return self.finish_rows(output, inputs, max_new_tokens, started, scores)

    def answer_question(self, request: GenerationRequest) -> Generation:
        """A remote-code checkpoint's own `answer_question(image, question)`."""
        started = time.perf_counter()
        with self.guarded():
            image = prepare_image(request.image, self.settings.max_image_side)
            text = self.model.answer_question(image, request.prompt)
        return Generation(text=str(text), seconds=time.perf_counter() - started)

"""Field-specific mode with vision-state reuse: many short questions about one page.

The naive way (one generate per question, or a batch with the image repeated) runs the vision
tower (32 + 8 layers over up to 4 x 1601 patches on the 11B model) once per question. Here it
runs once: the projected vision states feed each cross-attention layer's key/value projections
once, the result is put into the generation cache as those layers' cached keys/values for every
row of the batch, and one batched `generate` answers all questions. Mllama's cross-attention
layers read cached vision keys/values when no `cross_attention_states` are passed (which is what
`generate` does after its first step anyway), so the text path is unchanged and the tokens equal
those of separate generates (tests/test_llama_engine.py checks this on the tiny model).

Passing `cross_attention_states` to `generate` directly does not work: it is forwarded at every
step and each step appends the vision keys to the cache again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_vision.engines.llama import token_scores
from llama_vision.engines.llama.memory import in_halves_on_out_of_memory

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.engines.base import Generation
    from llama_vision.engines.llama.generation import Runner


def _parts(model: Any) -> tuple[Any, Any, Any]:
    """(vision_model, multi_modal_projector, text decoder layers) across transformers layouts."""
    core = getattr(model, "model", model)  # transformers >= 4.52: MllamaForConditionalGeneration.model
    vision = getattr(core, "vision_model", None) or model.vision_model
    projector = getattr(core, "multi_modal_projector", None) or model.multi_modal_projector
    language = getattr(core, "language_model", None) or model.language_model
    layers = getattr(language, "layers", None)
    if layers is None:  # older layout: language_model is MllamaForCausalLM
        layers = language.model.layers
    return vision, projector, layers


def _execution_device(module: Any, fallback: Any) -> Any:
    for parameter in module.parameters():
        if parameter.device.type != "meta":  # meta = offloaded; accelerate's hook moves it in
            return parameter.device
    return fallback


def can_reuse_vision(model: Any) -> bool:
    """False when accelerate offloaded the vision tower or a cross-attention layer (weights on
    the meta device, loaded by a hook around the whole block): calling their projections
    directly would miss that hook, so such models take the plain batched path."""
    try:
        vision, projector, layers = _parts(model)
        modules = [vision, projector] + [layers[i].cross_attn for i in model.config.text_config.cross_attention_layers]
    except (AttributeError, IndexError, TypeError):
        return False
    return all(p.device.type != "meta" for module in modules for p in module.parameters())


def vision_states(model: Any, image_inputs: Any) -> Any:
    """Vision tower + projector once: (1, tiles x patches, text hidden) states for one image."""
    vision, projector, _ = _parts(model)
    hidden = model.config.text_config.hidden_size
    output = vision(
        pixel_values=image_inputs["pixel_values"],
        aspect_ratio_ids=image_inputs["aspect_ratio_ids"],
        aspect_ratio_mask=image_inputs["aspect_ratio_mask"],
    )
    states = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
    states = projector(states.to(_execution_device(projector, states.device)))
    return states.reshape(1, -1, hidden)


def prefilled_cross_cache(model: Any, states: Any, batch: int) -> Any:
    """A DynamicCache whose cross-attention layers already hold the image's keys/values."""
    from transformers import DynamicCache

    text_config = model.config.get_text_config(decoder=True)
    _, _, layers = _parts(model)
    cache = DynamicCache(config=text_config)
    expanded = states.expand(batch, -1, -1)
    for index in text_config.cross_attention_layers:
        attention = layers[index].cross_attn
        device = _execution_device(attention, expanded.device)
        source = expanded.to(device)
        # Same projections as MllamaTextCrossAttention.forward when it is given vision states.
        keys = attention.k_proj(source).view(batch, -1, attention.num_key_value_heads, attention.head_dim)
        values = attention.v_proj(source).view(batch, -1, attention.num_key_value_heads, attention.head_dim)
        keys = attention.k_norm(keys.transpose(1, 2))
        cache.update(keys, values.transpose(1, 2), index)
    return cache


def cross_attention_mask(input_ids: Any, image_token_id: int, num_tiles: int, max_tiles: int) -> Any:
    """(batch, seq, 1 image, max_tiles): tokens from `<|image|>` on attend to the real tiles.

    Matches MllamaProcessor's mask for one image per sample (left padding included).
    """
    import torch

    batch, length = input_ids.shape
    mask = torch.zeros((batch, length, 1, max_tiles), dtype=torch.long, device=input_ids.device)
    for row in range(batch):
        positions = (input_ids[row] == image_token_id).nonzero()
        if len(positions):
            mask[row, int(positions[0]) :, 0, :num_tiles] = 1
    return mask


def ask_reusing_vision(
    runner: Runner, image: Image, questions: Sequence[str], max_new_tokens: int
) -> list[Generation]:
    """Answers to `questions` about `image`, in order; on out-of-memory retried once in two halves."""
    started = time.perf_counter()
    with runner.guarded():
        states, tiles = _encode_image(runner, image)
    model, tokenizer = runner.model, runner.processor.tokenizer

    def run(chunk: list[str]) -> list[Generation]:
        with runner.guarded():
            tokens = tokenizer(
                [runner.chat_text(q) for q in chunk],
                add_special_tokens=runner.interface != "chat_template", padding=True, return_tensors="pt",
            ).to(model.device)
            mask = cross_attention_mask(tokens["input_ids"], model.config.image_token_index, tiles,
                                        model.config.vision_config.max_num_tiles)
            scores = token_scores.step_recorder()
            with runner.torch.inference_mode():
                output = model.generate(
                    input_ids=tokens["input_ids"],
                    attention_mask=tokens["attention_mask"],
                    cross_attention_mask=mask,
                    cache=prefilled_cross_cache(model, states, len(chunk)),
                    generation_config=runner.generation_config(max_new_tokens, own_cache=True),
                    logits_processor=scores.processors(),
                )
            # The vision pass is shared by all answers: each answer's seconds include it.
            return runner.finish_rows(output, tokens, max_new_tokens, started, scores)

    return in_halves_on_out_of_memory(list(questions), run)


def _encode_image(runner: Runner, image: Image) -> tuple[Any, int]:
    """(projected vision states, real tile count) of one page."""
    inputs = runner.processor.image_processor(images=[[runner.prepare(image)]], return_tensors="pt")
    inputs = runner.to_device(inputs)
    with runner.torch.inference_mode():
        states = vision_states(runner.model, inputs)
    return states, int(inputs["aspect_ratio_mask"][0, 0].sum())

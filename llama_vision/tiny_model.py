"""Write a small random-weight Mllama checkpoint for tests, demos and benchmarks.

The checkpoint has the *real* architecture (`MllamaForConditionalGeneration`: a tiled vision
encoder with a global encoder, a projector and a text decoder with interleaved cross-attention
layers), a *real* processor (`MllamaProcessor` = Mllama image processor + a fast tokenizer with
the Llama 3 special tokens) and the Llama 3.2 Vision Instruct chat template. Only the sizes and
the weights are fake, so every code path of the llama engine (from_pretrained, chat template,
tiling, cross-attention masks, batching, streaming, quantization) runs without a download.

Like the real model, the `<|image|>` token id equals the text vocabulary size: it lies *outside*
the logits, which is exactly the trap that breaks `repetition_penalty` on the 11B model.

Sizes:
- ``tiny``: ~1M parameters, 112px tiles, answers in well under a second on a CPU (tests).
- ``small``: tens of millions of parameters with the real 560px tiles (benchmarks).

`make-tiny-model DIR` on the command line calls `write_tiny_model`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

Size = Literal["tiny", "small"]

# Llama 3 special tokens in their real order (offsets from the first special id), so the
# relative layout (pad = bos + 4, eot = bos + 9, ...) matches Llama-3.2-11B-Vision-Instruct.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|step_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
)
IMAGE_TOKEN = "<|image|>"
# Specials (named + reserved) between the regular vocabulary and `<|image|>`; the real model has
# 256 (128000..128255) and `<|image|>` = 128256 = text vocab size, outside the logits.
N_SPECIAL = 16

# The chat template shipped with meta-llama/Llama-3.2-11B-Vision-Instruct (chat_template.json):
# no system block when an image is present, `<|image|>` where the image content goes, and the
# begin-of-text token added by the template itself (hence add_special_tokens=False later).
LLAMA32_VISION_CHAT_TEMPLATE = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- Find out if there are any images #}
{% set image_ns = namespace(has_images=false) %}
{%- for message in messages %}
    {%- for content in message['content'] %}
        {%- if content['type'] == 'image' %}
            {%- set image_ns.has_images = true %}
        {%- endif %}
    {%- endfor %}
{%- endfor %}

{#- Error out if there are images and system message #}
{%- if image_ns.has_images and not system_message == "" %}
    {{- raise_exception("Prompting with images is incompatible with system messages.") }}
{%- endif %}

{#- System message if there are no images #}
{%- if not image_ns.has_images %}
    {{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
    {%- if tools is not none %}
        {{- "Environment: ipython\\n" }}
    {%- endif %}
    {{- "Cutting Knowledge Date: December 2023\\n" }}
    {{- "Today Date: " + date_string + "\\n\\n" }}
    {%- if tools is not none and not tools_in_user_message %}
        {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
        {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
        {{- "Do not use variables.\\n\\n" }}
        {%- for t in tools %}
            {{- t | tojson(indent=4) }}
            {{- "\\n\\n" }}
        {%- endfor %}
    {%- endif %}
    {{- system_message }}
    {{- "<|eot_id|>" }}
{%- endif %}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}
        {%- if message['content'] is string %}
            {{- message['content'] }}
        {%- else %}
            {%- for content in message['content'] %}
                {%- if content['type'] == 'image' %}
                    {{- '<|image|>' }}
                {%- elif content['type'] == 'text' %}
                    {{- content['text'] }}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {{- '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

# Architecture sizes. "small" keeps the real 560px tiles (1601 patches per tile) so the vision
# cost and the cross-attention length are representative in benchmarks.
_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {
        "tile": 112,
        "bpe_vocab": 480,
        "vision": {"hidden_size": 32, "num_hidden_layers": 2, "num_global_layers": 1, "attention_heads": 2,
                   "intermediate_size": 64, "intermediate_layers_indices": [0, 1]},
        "text": {"hidden_size": 128, "num_hidden_layers": 5, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "intermediate_size": 256, "cross_attention_layers": [1, 3]},
    },
    "small": {
        "tile": 560,
        "bpe_vocab": 2032,
        # A light vision tower: at 560px x 4 tiles it still sees 6404 tokens, which dominates CPU time.
        "vision": {"hidden_size": 128, "num_hidden_layers": 4, "num_global_layers": 1, "attention_heads": 2,
                   "intermediate_size": 512, "intermediate_layers_indices": [1, 3]},
        "text": {"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 2,
                 "intermediate_size": 1536, "cross_attention_layers": [2, 6]},
    },
}

# Receipt-flavoured text to train the tiny BPE on, so prompts tokenize into word-sized pieces as
# they would with the real tokenizer (token counts, padding and truncation look realistic).
_CORPUS = """
Extract the following fields from this receipt or tax invoice and answer in KEY: VALUE lines.
SUPPLIER_NAME: Woolworths Supermarkets  SUPPLIER_ABN: 88 000 014 675  DATE: 15/03/2024
INVOICE_NUMBER: INV-10023  SUBTOTAL: 45.45  GST: 4.55  TOTAL: 50.00  PAYMENT_METHOD: EFTPOS
What is the total amount? What is the GST amount? What is the ABN of the supplier?
Return a JSON object with the keys supplier_name, supplier_abn, date, total, gst, items.
{"supplier_name": "Bunnings Warehouse", "total": "123.45", "gst": "11.22", "date": "01/07/2023"}
TAX INVOICE  Total includes GST  Unleaded 91  Litres  Price per litre  Diesel  Premium 98
Bank statement  BSB 062-000  Account number 1234 5678  Opening balance  Closing balance
Description Qty Unit price Amount  Coffee 2 4.50 9.00  Milk 1 2.20 2.20  Bread 1 3.80 3.80
Is this document a receipt, a tax invoice, a fuel receipt or a bank statement? Answer in one word.
I'm not able to provide information about this image. The document shows a receipt from a store.
Cash Card Visa Mastercard Amex Change Rounding Thank you for shopping with us! ABN: 51 824 753 556
The quick brown fox jumps over the lazy dog. 0123456789 !"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~
""".strip()


def _build_tokenizer(bpe_vocab: int):
    """A byte-level BPE trained offline on `_CORPUS`, with the Llama 3 special tokens after it.

    The alphabet is restricted to what the corpus contains (printable ASCII, newline): every token
    then decodes to valid text on its own, so streamed pieces always join to the final answer
    even when random weights emit arbitrary tokens.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=bpe_vocab, min_frequency=1, show_progress=False, special_tokens=[])
    tokenizer.train_from_iterator([_CORPUS] * 4, trainer=trainer)
    # Pad the regular vocabulary with unused filler tokens so the specials start at a fixed id.
    missing = bpe_vocab - tokenizer.get_vocab_size()
    if missing > 0:
        tokenizer.add_tokens([f"<|filler_{i}|>" for i in range(missing)])
    reserved = [f"<|reserved_special_token_{i}|>" for i in range(2, 2 + N_SPECIAL - len(SPECIAL_TOKENS))]
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS) + reserved)
    tokenizer.add_special_tokens([IMAGE_TOKEN])
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|finetune_right_pad_id|>",
        padding_side="left",
        model_max_length=131072,
        clean_up_tokenization_spaces=False,
    )
    return fast


def tiny_config(size: Size = "tiny", *, text_vocab: int | None = None) -> Any:
    """The MllamaConfig of the tiny/small checkpoint (text_vocab = ids below `<|image|>`)."""
    from transformers import MllamaConfig

    spec = _SIZES[size]
    vocab = text_vocab or spec["bpe_vocab"] + N_SPECIAL
    bos = spec["bpe_vocab"]
    vision = dict(spec["vision"])
    vision.update(
        image_size=spec["tile"],
        patch_size=14,
        max_num_tiles=4,
        vision_output_dim=vision["hidden_size"] * (1 + len(vision["intermediate_layers_indices"])),
    )
    text = dict(spec["text"])
    text.update(
        vocab_size=vocab,
        max_position_embeddings=32768,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        bos_token_id=bos,
        eos_token_id=[bos + 1, bos + 8, bos + 9],  # end_of_text, eom, eot as in the Instruct model
        pad_token_id=bos + 4,
        tie_word_embeddings=False,
    )
    return MllamaConfig(vision_config=vision, text_config=text, image_token_index=vocab)


def write_tiny_model(folder: str | Path, *, size: Size = "tiny", seed: int = 0) -> Path:
    """Write a random-weight Mllama checkpoint (safetensors) plus processor to `folder`.

    Loads with `MllamaForConditionalGeneration.from_pretrained(folder, local_files_only=True)` and
    `AutoProcessor.from_pretrained(folder, local_files_only=True)`. Deterministic for a given seed.
    """
    if size not in _SIZES:
        raise ValueError(f"size must be one of {sorted(_SIZES)}, not {size!r}")
    import torch
    from transformers import GenerationConfig, MllamaForConditionalGeneration, MllamaProcessor
    from transformers.models.mllama.image_processing_pil_mllama import MllamaImageProcessorPil

    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    spec = _SIZES[size]

    tokenizer = _build_tokenizer(spec["bpe_vocab"])
    config = tiny_config(size)
    image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    if image_id != config.image_token_index or tokenizer.convert_tokens_to_ids("<|begin_of_text|>") != spec["bpe_vocab"]:
        raise RuntimeError("tiny tokenizer and config disagree on special token ids")  # a bug here, not user error

    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = MllamaForConditionalGeneration(config)
        # Real checkpoints have trained, non-zero gates. Random init leaves the cross-attention
        # and tile gates at zero, which would make the image invisible to the text decoder; open
        # them so tests can tell images apart and vision-state reuse is really exercised.
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if name.endswith("gate") or name.endswith("_gate") or ".gate_" in name:
                    parameter.uniform_(0.5, 1.0)
            # Larger logits spread so greedy decoding is not a coin toss between near-equal values
            # (keeps batch-vs-single equality robust to float noise).
            model.lm_head.weight.normal_(0.0, 0.5)
    finally:
        torch.random.set_rng_state(generator_state)

    # The Instruct checkpoint ships sampling defaults (temperature 0.6, top_p 0.9); keep them so
    # the engine's job of forcing greedy decoding is exercised by the tests.
    model.generation_config = GenerationConfig(
        bos_token_id=config.text_config.bos_token_id,
        eos_token_id=config.text_config.eos_token_id,
        pad_token_id=config.text_config.pad_token_id,
        do_sample=True,
        temperature=0.6,
        top_p=0.9,
    )
    model.save_pretrained(folder, safe_serialization=True)

    image_processor = MllamaImageProcessorPil(
        size={"height": spec["tile"], "width": spec["tile"]},
        max_image_tiles=4,
        do_convert_rgb=True,
        do_normalize=True,
        do_pad=True,
        do_rescale=True,
        do_resize=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
        resample=2,
    )
    processor = MllamaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                chat_template=LLAMA32_VISION_CHAT_TEMPLATE)
    processor.save_pretrained(folder)
    (folder / "TINY_MODEL.json").write_text(
        json.dumps({"size": size, "seed": seed, "parameters": sum(p.numel() for p in model.parameters()),
                    "note": "random weights: output is gibberish by design"}, indent=2) + "\n"
    )
    return folder

"""The tiny random-weight Mllama checkpoint: real architecture, processor and chat template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from llama_vision.tiny_model import LLAMA32_VISION_CHAT_TEMPLATE, SPECIAL_TOKENS, tiny_config, write_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


def test_writes_safetensors_only_with_processor_files(tiny_dir: Path) -> None:
    names = {p.name for p in tiny_dir.iterdir()}
    assert "model.safetensors" in names
    assert {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"} <= names
    assert "processor_config.json" in names or "preprocessor_config.json" in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth"))]


def test_config_is_mllama_with_image_token_outside_the_logits(tiny_dir: Path) -> None:
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["model_type"] == "mllama"
    assert config["architectures"] == ["MllamaForConditionalGeneration"]
    text = config["text_config"]
    # Like the 11B model (128256 == vocab_size): the image id has no row in lm_head.
    assert config["image_token_index"] == text["vocab_size"]
    assert text["cross_attention_layers"] and max(text["cross_attention_layers"]) < text["num_hidden_layers"]
    assert config["vision_config"]["num_global_layers"] >= 1


def test_loads_offline_with_real_classes(tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoProcessor, MllamaForConditionalGeneration

    processor = AutoProcessor.from_pretrained(tiny_dir, local_files_only=True)
    model = MllamaForConditionalGeneration.from_pretrained(tiny_dir, local_files_only=True, use_safetensors=True)
    assert type(processor).__name__ == "MllamaProcessor"
    assert "Mllama" in type(processor.image_processor).__name__
    assert processor.image_processor.max_image_tiles == 4
    tokenizer = processor.tokenizer
    for token in SPECIAL_TOKENS + ("<|image|>",):
        assert tokenizer.convert_tokens_to_ids(token) != tokenizer.unk_token_id, token
    assert tokenizer.convert_tokens_to_ids("<|image|>") == model.config.image_token_index
    assert tokenizer.pad_token == "<|finetune_right_pad_id|>"
    assert tokenizer.bos_token == "<|begin_of_text|>"
    assert model.config.text_config.pad_token_id == tokenizer.pad_token_id
    # Trained checkpoints have open gates; zero gates would hide the image from the decoder.
    gates = [p for n, p in model.named_parameters() if n.endswith("cross_attn_attn_gate")]
    assert gates and all(float(g.detach().abs().min()) > 0 for g in gates)


def test_chat_template_is_the_llama32_vision_one(tiny_dir: Path) -> None:
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_dir, local_files_only=True)
    assert processor.chat_template.strip() == LLAMA32_VISION_CHAT_TEMPLATE.strip()
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is the total?"}]}],
        add_generation_prompt=True,
    )
    assert text == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<|image|>What is the total?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    # Without an image the real template adds its dated system block.
    text_only = processor.apply_chat_template([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert "Cutting Knowledge Date: December 2023" in text_only


def test_same_seed_same_weights_other_seed_differs(tiny_dir: Path, tmp_path: Path) -> None:
    again = write_tiny_model(tmp_path / "again", seed=0)
    other = write_tiny_model(tmp_path / "other", seed=1)
    assert (again / "model.safetensors").read_bytes() == (tiny_dir / "model.safetensors").read_bytes()
    assert (other / "model.safetensors").read_bytes() != (tiny_dir / "model.safetensors").read_bytes()


def test_small_size_is_tens_of_millions_with_real_tiles() -> None:
    from llama_vision.hardware import parameter_inventory

    config = tiny_config("small")
    inventory = parameter_inventory(config)
    total = (inventory["vision"] + inventory["projector"] + inventory["embeddings"] + inventory["lm_head"]
             + inventory["text_other"] + sum(o * i for o, i in inventory["text_linear"]))
    assert 10_000_000 <= total <= 100_000_000
    assert config.vision_config.image_size == 560


def test_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size"):
        write_tiny_model(tmp_path, size="huge")  # type: ignore[arg-type]

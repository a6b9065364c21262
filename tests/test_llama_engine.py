"""Tier 3: the real llama engine on the tiny random-weight Mllama (CPU, no downloads).

Real `from_pretrained`, the real chat template, greedy generation single/batched/streamed, the
vision-state reuse of field questions, bitsandbytes 8-bit and 4-bit on the CPU, and the load and
out-of-memory rules with the heavy parts replaced by recorders.
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from PIL import Image, ImageDraw  # noqa: E402

from llama_vision.config import load_settings  # noqa: E402
from llama_vision.engines.base import GenerationRequest  # noqa: E402
from llama_vision.engines.llama import LlamaEngine  # noqa: E402
from llama_vision.engines.llama.loading import QUANT_SKIP_MODULES, plan_load  # noqa: E402
from llama_vision.errors import EngineOutOfMemoryError, ModelLoadError  # noqa: E402
from llama_vision.tiny_model import write_tiny_model  # noqa: E402

CAP = 10


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("llama") / "tiny", seed=0)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    # The team shares 2 cores: a busy machine makes 2 torch threads spin against each other.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def settings_for(model: Path | str, **overrides: Any) -> Any:
    overrides.setdefault("max_new_tokens", CAP)
    return load_settings(env_file=None, engine="llama", model_path=str(model), **overrides)


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[LlamaEngine]:
    engine = LlamaEngine(settings_for(tiny_model))
    engine.initialize()
    yield engine
    engine.unload()


def receipt(width: int = 300, height: int = 500, colour: str = "red") -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, width // 2, height // 5), fill=colour)
    draw.text((20, height // 2), "TAX INVOICE  TOTAL $50.00", fill="black")
    return image


def requests(images: list[Image.Image], prompts: list[str]) -> list[GenerationRequest]:
    return [GenerationRequest(image, prompt) for image, prompt in zip(images, prompts, strict=True)]


def noise(seed: int = 1) -> Image.Image:
    generator = torch.Generator().manual_seed(seed)
    pixels = (torch.rand((400, 400, 3), generator=generator) * 255).to(torch.uint8).numpy()
    return Image.fromarray(pixels, "RGB")


# -- loading --------------------------------------------------------------------------------
def test_loads_the_real_checkpoint(engine: LlamaEngine) -> None:
    assert type(engine.model).__name__ == "MllamaForConditionalGeneration"
    assert type(engine.processor).__name__ == "MllamaProcessor"
    assert engine.interface == "chat_template"
    assert engine.capabilities.follows_prompts and engine.capabilities.streams and engine.capabilities.batches
    status = engine.status()
    assert status["engine"] == "llama" and status["loaded"] is True
    assert status["device"] == "cpu" and status["dtype"] == "float32" and status["quantization"] == "none"
    assert status["attn_implementation"] == "sdpa"
    assert status["device_map"] == {"(whole model)": "cpu"}
    assert status["memory"]["cpu"] == status["device_summary"]["cpu"]["bytes"] > 0
    assert status["footprint_bytes"] >= status["memory"]["cpu"]
    assert status["load_seconds"] > 0
    json.dumps(status)  # the dashboard and CLI serialise it


def test_factory_builds_without_loading(tiny_model: Path) -> None:
    from llama_vision.engines import create_engine

    engine = create_engine(settings_for(tiny_model), name="llama")
    assert isinstance(engine, LlamaEngine) and not engine.is_loaded


def test_missing_folder_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="LLAMA_VISION_MODEL_PATH"):
        LlamaEngine(settings_for(tmp_path / "nowhere")).initialize()
    with pytest.raises(ModelLoadError, match="make-tiny-model"):
        LlamaEngine(settings_for("")).initialize()


def test_pickle_only_folder_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "bin_only"
    folder.mkdir()
    (folder / "config.json").write_text((tiny_model / "config.json").read_text())
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    engine = LlamaEngine(settings_for(folder))
    with pytest.raises(ModelLoadError, match="safetensors") as caught:
        engine.initialize()
    assert "Convert" in str(caught.value)
    assert engine.load_error and not engine.is_loaded


def test_non_mllama_checkpoint_needs_trust_remote_code(tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "moondream1"}))
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="TRUST_REMOTE_CODE"):
        LlamaEngine(settings_for(folder)).initialize()


# -- prompts and generation -----------------------------------------------------------------
def test_chat_template_puts_the_image_before_the_text(engine: LlamaEngine) -> None:
    text = engine.runner.chat_text("What is the total?")
    assert text.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<|image|>What is the total?")
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert "system" not in text  # the template forbids a system turn with images
    inputs = engine.runner.encode([receipt()], ["What is the total?"])
    ids = inputs["input_ids"][0].tolist()
    tokenizer = engine.processor.tokenizer
    bos, image = tokenizer.bos_token_id, engine.model.config.image_token_index
    assert ids[0] == bos and ids.count(bos) == 1  # add_special_tokens=False: no second begin-of-text
    question = tokenizer("What", add_special_tokens=False)["input_ids"][0]
    assert ids.index(image) < ids.index(question)
    assert inputs["cross_attention_mask"][0, ids.index(image):].sum() > 0


def test_base_checkpoint_without_template_gets_a_plain_prompt(
    engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.runner, "interface", "plain")
    assert engine.runner.chat_text("Total?") == "<|image|>Total?"
    ids = engine.runner.encode([receipt()], ["Total?"])["input_ids"][0].tolist()
    tokenizer = engine.processor.tokenizer
    assert ids[:2] == [engine.model.config.image_token_index, tokenizer.bos_token_id]  # processor's base layout
    assert engine.generate(receipt(), "Total?", max_new_tokens=3).generated_tokens <= 3


def test_generate_is_greedy_and_reports_tokens(engine: LlamaEngine) -> None:
    first = engine.generate(receipt(), "What is the total?")
    second = engine.generate(receipt(), "What is the total?")
    assert first.text == second.text and first.text
    assert 0 < first.generated_tokens <= CAP
    assert first.truncated == (first.generated_tokens == CAP)
    expected_prompt = len(engine.runner.encode([receipt()], ["What is the total?"])["input_ids"][0])
    assert first.prompt_tokens == expected_prompt
    assert first.seconds > 0
    short = engine.generate(receipt(), "What is the total?", max_new_tokens=3)
    assert short.generated_tokens <= 3 and first.text.startswith(short.text)


def test_generation_config_overrides_the_checkpoint_sampling(engine: LlamaEngine) -> None:
    assert engine.model.generation_config.do_sample is True  # the tiny model ships 0.6 / 0.9 like the real one
    config = engine.runner.generation_config(7)
    assert config.do_sample is False and config.num_beams == 1 and config.max_new_tokens == 7
    assert config.repetition_penalty == 1.0 and config.no_repeat_ngram_size == 0
    assert config.temperature == 1.0 and config.top_p == 1.0


def test_compile_setting_asks_for_a_static_cache_on_cuda_only(
    engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    runner = engine.runner
    assert runner.generation_config(4).cache_implementation is None
    monkeypatch.setattr(runner, "settings", runner.settings.model_copy(update={"compile": True}))
    assert runner.generation_config(4).cache_implementation is None  # CPU: no compile
    monkeypatch.setattr(runner, "plan", dataclasses.replace(runner.plan, device="cuda"))
    assert runner.generation_config(4).cache_implementation == "static"
    assert runner.generation_config(4, own_cache=True).cache_implementation is None


def test_the_image_reaches_the_decoder(engine: LlamaEngine) -> None:
    a = engine.generate(receipt(colour="red"), "Describe")
    b = engine.generate(noise(), "Describe")
    assert a.text != b.text


def test_batch_equals_single_under_greedy(engine: LlamaEngine) -> None:
    # Different prompt lengths force left padding; different shapes give different tile counts.
    images = [receipt(), receipt(900, 300, "blue"), noise()]
    prompts = ["What is the total?", "ABN?", "Read every line of this receipt and list the items with prices."]
    batch = engine.generate_batch(requests(images, prompts))
    single = [engine.generate(i, p) for i, p in zip(images, prompts)]
    assert [g.text for g in batch] == [g.text for g in single]
    assert [g.generated_tokens for g in batch] == [g.generated_tokens for g in single]
    assert [g.prompt_tokens for g in batch] == [g.prompt_tokens for g in single]
    assert engine.generate_batch([]) == []


def test_batch_with_mixed_token_caps_keeps_each_cap_and_the_order(engine: LlamaEngine) -> None:
    images, prompts = [receipt(), noise(), receipt(colour="blue")], ["Total?", "ABN?", "Date?"]
    mixed = engine.generate_batch([GenerationRequest(i, p, cap) for i, p, cap in zip(images, prompts, (2, CAP, 2))])
    assert [g.text for g in mixed] == [engine.generate(i, p, max_new_tokens=cap).text
                                      for i, p, cap in zip(images, prompts, (2, CAP, 2))]
    assert mixed[0].generated_tokens <= 2 and mixed[2].generated_tokens <= 2


def test_stream_pieces_join_to_the_final_text(engine: LlamaEngine) -> None:
    stream = engine.stream(receipt(), "What is the supplier name?")
    pieces = list(stream)
    final = stream.generation
    assert len(pieces) > 1
    assert "".join(pieces) == final.text
    assert final.text == engine.generate(receipt(), "What is the supplier name?").text
    assert final.generated_tokens and final.prompt_tokens


def test_each_stream_carries_its_own_generation(engine: LlamaEngine) -> None:
    first, second = engine.stream(receipt(), "What is the total?"), engine.stream(noise(), "Describe the picture.")
    first_text, second_text = "".join(second), "".join(first)  # iterated in the other order on purpose
    assert second.generation.text == first_text and first.generation.text == second_text
    assert first.generation.text != second.generation.text
    assert first.generation is not second.generation


def test_closing_a_stream_early_frees_the_engine(engine: LlamaEngine) -> None:
    stream = iter(engine.stream(receipt(), "What is the supplier name?", max_new_tokens=50))
    next(stream)
    stream.close()
    assert engine.generate(receipt(), "ABN?", max_new_tokens=2).generated_tokens <= 2  # lock released


def test_ask_fields_runs_the_vision_tower_once_and_matches_naive(engine: LlamaEngine) -> None:
    questions = {"total": "What is the total?", "abn": "ABN?", "supplier_name": "Who is the supplier on this receipt?"}
    image = receipt(600, 700)
    vision = engine.model.model.vision_model
    calls: list[int] = []
    handle = vision.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        fields = engine.ask_fields(image, questions)
        reused_calls = len(calls)
        naive = {name: engine.generate(image, question) for name, question in questions.items()}
    finally:
        handle.remove()
    assert reused_calls == 1 and len(calls) == 1 + len(questions)
    assert list(fields) == list(questions)
    assert {k: g.text for k, g in fields.items()} == {k: g.text for k, g in naive.items()}
    assert {k: g.generated_tokens for k, g in fields.items()} == {k: g.generated_tokens for k, g in naive.items()}
    assert engine.ask_fields(image, {}) == {}


def test_offloaded_model_falls_back_to_plain_batches(engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_vision.engines.llama import vision_reuse

    assert vision_reuse.can_reuse_vision(engine.model)
    monkeypatch.setattr(vision_reuse, "can_reuse_vision", lambda model: False)
    batches: list[int] = []
    real = engine.generate_batch
    monkeypatch.setattr(engine, "generate_batch", lambda batch: batches.append(len(batch)) or real(batch))
    answers = engine.ask_fields(receipt(), {"total": "What is the total?", "abn": "ABN?"})
    assert batches == [2] and answers["total"].text == engine.generate(receipt(), "What is the total?").text


# -- out of memory --------------------------------------------------------------------------
def _oom() -> Exception:
    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_oom_releases_the_cache_and_raises(engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    emptied: list[int] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(1))

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise _oom()

    monkeypatch.setattr(engine.model, "generate", explode)
    with pytest.raises(EngineOutOfMemoryError, match="cache has been released"):
        engine.generate(receipt(), "What is the total?")
    assert emptied
    emptied.clear()
    with pytest.raises(EngineOutOfMemoryError):
        list(engine.stream(receipt(), "What is the total?"))
    assert emptied


def test_runtime_error_out_of_memory_is_recognised(engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("MPS backend out of memory (MPS allocated: 17 GB)")

    monkeypatch.setattr(engine.model, "generate", explode)
    with pytest.raises(EngineOutOfMemoryError):
        engine.generate(receipt(), "What is the total?")


def test_batch_oom_retries_once_with_half_the_batch(engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    images, prompts = [receipt(), noise(), receipt(colour="green"), noise(3)], ["Total?", "ABN?", "Date?", "GST?"]
    expected = [g.text for g in engine.generate_batch(requests(images, prompts))]
    real = engine.model.generate
    sizes: list[int] = []

    def small_memory(**kwargs: Any) -> Any:
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > 2:
            raise _oom()
        return real(**kwargs)

    monkeypatch.setattr(engine.model, "generate", small_memory)
    assert [g.text for g in engine.generate_batch(requests(images, prompts))] == expected
    assert sizes == [4, 2, 2]
    sizes.clear()

    def no_memory(**kwargs: Any) -> Any:
        sizes.append(kwargs["input_ids"].shape[0])
        raise _oom()

    monkeypatch.setattr(engine.model, "generate", no_memory)
    with pytest.raises(EngineOutOfMemoryError):
        engine.generate_batch(requests(images, prompts))
    assert sizes == [4, 2]  # one retry with half the batch, then give up


def test_unload_drops_the_model_and_releases_memory(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = LlamaEngine(settings_for(tiny_model))
    engine.initialize()
    emptied: list[int] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(1))
    engine.unload()
    assert engine.model is None and not engine.is_loaded and emptied
    assert engine.status()["loaded"] is False


# -- load arguments -------------------------------------------------------------------------
class _Recorded(Exception):
    pass


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def record(cls: Any, folder: Any, **kwargs: Any) -> Any:
        seen.update(kwargs, folder=folder)
        raise _Recorded

    monkeypatch.setattr(transformers.MllamaForConditionalGeneration, "from_pretrained", classmethod(record))
    return seen


def _load_recorded(settings: Any) -> None:
    with pytest.raises(ModelLoadError) as caught:
        LlamaEngine(settings).initialize()
    assert isinstance(caught.value.__cause__, _Recorded)


def test_8bit_arguments_reach_from_pretrained(tiny_model: Path, recorder: dict[str, Any]) -> None:
    _load_recorded(settings_for(tiny_model, quantization="8bit", device="cpu"))
    quant = recorder["quantization_config"]
    assert quant.load_in_8bit and not quant.load_in_4bit
    assert {"vision_model", "multi_modal_projector", "lm_head"} <= set(quant.llm_int8_skip_modules)
    assert recorder["local_files_only"] is True and recorder["use_safetensors"] is True
    assert recorder["low_cpu_mem_usage"] is True and recorder["trust_remote_code"] is False
    assert recorder["dtype"] == torch.float32 and recorder["device_map"] == {"": "cpu"}
    assert recorder["attn_implementation"] == "sdpa"


def test_4bit_arguments_reach_from_pretrained(tiny_model: Path, recorder: dict[str, Any]) -> None:
    _load_recorded(settings_for(tiny_model, quantization="4bit", dtype="bfloat16", device="cpu"))
    quant = recorder["quantization_config"]
    assert quant.load_in_4bit and quant.bnb_4bit_quant_type == "nf4" and quant.bnb_4bit_use_double_quant
    assert quant.bnb_4bit_compute_dtype == torch.bfloat16 and recorder["dtype"] == torch.bfloat16
    assert "lm_head" in quant.llm_int8_skip_modules and "multi_modal_projector" in quant.llm_int8_skip_modules


def _fake_gpus(monkeypatch: pytest.MonkeyPatch, count: int, capability: tuple[int, int]) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)


def test_multi_gpu_device_map_max_memory_and_offload(
    tiny_model: Path, recorder: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_gpus(monkeypatch, 2, (8, 6))
    precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        _load_recorded(settings_for(tiny_model, quantization="8bit", max_memory="0:15GiB,1:15GiB,cpu:30GiB"))
        tf32 = torch.get_float32_matmul_precision() == "high"
    finally:
        torch.set_float32_matmul_precision(precision)
    assert recorder["device_map"] == "auto"
    assert recorder["max_memory"] == {0: "15GiB", 1: "15GiB", "cpu": "30GiB"}
    assert recorder["dtype"] == torch.bfloat16  # Ampere: bf16
    assert recorder["quantization_config"].llm_int8_enable_fp32_cpu_offload is True
    assert tf32  # TF32 on Ampere


def test_pre_ampere_gpu_gets_fp16_and_no_tf32(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpus(monkeypatch, 1, (7, 5))
    plan = plan_load(settings_for(tiny_model, device="cuda:0"), torch)
    assert plan.dtype == torch.float16 and plan.tf32 is False
    assert plan.kwargs["device_map"] == {"": 0} and "max_memory" not in plan.kwargs
    with pytest.raises(ModelLoadError, match="cuda:0"):
        plan_load(settings_for(tiny_model, device="cuda:3"), torch)


def test_cuda_requested_without_cuda_is_explained(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelLoadError, match="no CUDA device"):
        plan_load(settings_for(tiny_model, device="cuda"), torch)


def test_cpu_defaults_and_dtype_setting(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    plan = plan_load(settings_for(tiny_model), torch)
    assert plan.device in ("cpu", "mps") and plan.kwargs.get("quantization_config") is None
    assert plan_load(settings_for(tiny_model, device="cpu", dtype="bfloat16"), torch).dtype == torch.bfloat16
    assert plan_load(settings_for(tiny_model, device="cpu"), torch).dtype == torch.float32


# -- bitsandbytes on the CPU ----------------------------------------------------------------
def _skip_if_bitsandbytes_cannot(error: BaseException, mode: str) -> None:
    frames = "".join(traceback.format_exception(error))
    if "bitsandbytes" in frames:
        pytest.skip(f"bitsandbytes {mode} does not run on this CPU: {type(error).__name__}: {error}")
    raise error


@pytest.mark.parametrize(("mode", "layer_type"), [("8bit", "Linear8bitLt"), ("4bit", "Linear4bit")])
def test_bitsandbytes_quantization_on_cpu(tiny_model: Path, mode: str, layer_type: str) -> None:
    pytest.importorskip("bitsandbytes")
    engine = LlamaEngine(settings_for(tiny_model, quantization=mode, device="cpu"))
    try:
        engine.initialize()
        answer = engine.generate(receipt(), "What is the total?")
        fields = engine.ask_fields(receipt(), {"total": "What is the total?", "abn": "ABN?"})
    except Exception as error:  # noqa: BLE001
        _skip_if_bitsandbytes_cannot(error, mode)
    try:
        model = engine.model
        layers = model.model.language_model.layers
        assert type(layers[0].mlp.down_proj).__name__ == layer_type
        # Skipped modules stay plain nn.Linear: the vision tower, the projector and lm_head.
        assert type(model.model.vision_model.transformer.layers[0].self_attn.q_proj) is torch.nn.Linear
        assert type(model.model.multi_modal_projector) is torch.nn.Linear
        assert type(model.lm_head) is torch.nn.Linear
        assert 0 < answer.generated_tokens <= CAP and answer.text
        assert all(g.text and g.generated_tokens for g in fields.values())
        if mode == "4bit":
            # NF4 dequantizes weights only, so a batch gives the single answer. (LLM.int8 does not
            # promise that: its fp16 outlier columns are chosen over the whole batch.)
            assert fields["total"].text == answer.text
        status = engine.status()
        assert status["quantization"] == mode
        full = sum(p.numel() for p in model.parameters()) * 4
        assert status["footprint_bytes"] < full  # quantized weights are smaller than fp32
    finally:
        engine.unload()


def test_quant_skip_list_covers_transformers_5_names() -> None:
    from transformers.quantizers.quantizers_utils import should_convert_module

    assert not should_convert_module("model.vision_model.transformer.layers.0.self_attn.q_proj", QUANT_SKIP_MODULES)
    assert not should_convert_module("model.multi_modal_projector", QUANT_SKIP_MODULES)
    assert not should_convert_module("lm_head", QUANT_SKIP_MODULES)
    assert should_convert_module("model.language_model.layers.3.cross_attn.q_proj", QUANT_SKIP_MODULES)


# -- custom checkpoints ---------------------------------------------------------------------
class _CustomModel:
    def __init__(self) -> None:
        self.questions: list[str] = []

    def eval(self) -> _CustomModel:
        return self

    def answer_question(self, image: Image.Image, question: str) -> str:
        self.questions.append(question)
        return f"answer to {question} ({image.size[0]}px)"


def test_answer_question_interface_with_trust_remote_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "custom_vqa", "auto_map": {}}))
    (folder / "model.safetensors").write_bytes(b"")
    seen: dict[str, Any] = {}
    custom = _CustomModel()

    def load(cls: Any, path: Any, **kwargs: Any) -> _CustomModel:
        seen.update(kwargs)
        return custom

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", classmethod(load))
    engine = LlamaEngine(settings_for(folder, trust_remote_code=True, device="cpu"))
    answer = engine.generate(receipt(), "Total?")
    assert engine.interface == "answer_question" and seen["trust_remote_code"] is True
    assert answer.text == "answer to Total? (300px)"
    stream = engine.stream(receipt(), "ABN?")
    assert "".join(stream) == stream.generation.text == "answer to ABN? (300px)"
    assert {k: g.text for k, g in engine.ask_fields(receipt(), {"gst": "GST?"}).items()} == {"gst": "answer to GST? (300px)"}


def test_importing_the_engine_does_not_import_torch() -> None:
    code = "import sys, llama_vision.engines.llama, llama_vision.hardware; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False"

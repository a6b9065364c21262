"""hardware: device readings (NVML faked), footprint estimates against real counts, fit verdicts."""

from __future__ import annotations

import types
from typing import Any

import pytest

from llama_vision import hardware

GIB = 1024**3


# -- footprint ------------------------------------------------------------------------------
def test_bf16_estimate_matches_the_meta_device_model_within_1_percent() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.MllamaConfig(**hardware.LLAMA_32_11B_VISION_CONFIG)
    with torch.device("meta"):
        model = transformers.MllamaForConditionalGeneration(config)
    exact = sum(p.numel() for p in model.parameters())
    estimate = hardware.estimate_footprint()["bf16"]
    assert abs(estimate["parameters"] - exact) / exact < 0.01
    assert abs(estimate["total_bytes"] - 2 * exact) / (2 * exact) < 0.01
    # The same function reads a config object, e.g. the tiny model's.
    from llama_vision.tiny_model import tiny_config

    tiny = tiny_config("tiny")
    with torch.device("meta"):
        tiny_count = sum(p.numel() for p in transformers.MllamaForConditionalGeneration(tiny).parameters())
    assert hardware.estimate_footprint(tiny)["bf16"]["parameters"] == tiny_count


def test_quantized_estimates_keep_skipped_modules_in_bf16() -> None:
    estimates = hardware.estimate_footprint()
    inventory = hardware.parameter_inventory()
    bf16, int8, nf4 = estimates["bf16"], estimates["8bit"], estimates["4bit"]
    assert bf16["total_bytes"] > int8["total_bytes"] > nf4["total_bytes"]
    kept = inventory["vision"] + inventory["projector"] + inventory["embeddings"] + inventory["lm_head"]
    quantized = sum(o * i for o, i in inventory["text_linear"])
    assert int8["quantized_parameters"] == quantized == nf4["quantized_parameters"]
    assert int8["weights_bytes"] == quantized + 2 * (kept + inventory["text_other"])
    assert nf4["weights_bytes"] == quantized // 2 + 2 * (kept + inventory["text_other"])
    assert nf4["quant_state_bytes"] > quantized / 64  # one absmax byte per 64 weights, plus scales
    # Known figures for the 11B model: ~21.3 GB bf16, ~12.6 GB 8-bit, ~8.4 GB 4-bit with bf16 vision.
    assert 21.0e9 < bf16["total_bytes"] < 21.7e9
    assert 12.0e9 < int8["total_bytes"] < 13.2e9
    assert 7.8e9 < nf4["total_bytes"] < 9.0e9
    assert nf4["with_runtime_bytes"] > nf4["total_bytes"]


def test_4bit_quant_state_matches_bitsandbytes() -> None:
    torch = pytest.importorskip("torch")
    bnb = pytest.importorskip("bitsandbytes")
    weight = bnb.nn.Params4bit(torch.randn(256, 1024), requires_grad=False, compress_statistics=True, quant_type="nf4")
    state = weight._quantize("cpu").quant_state
    tensors = state.as_dict(packed=True)
    # Serialised tensors: absmax (uint8), nested absmax (fp32), both code maps; the fp32 offset
    # travels inside the packed metadata entry.
    stored = sum(v.numel() * v.element_size() for k, v in tensors.items() if "bitsandbytes" not in k)
    assert stored + 4 == hardware.nf4_quant_state_bytes(256 * 1024)


# -- fit verdicts ---------------------------------------------------------------------------
def test_fit_verdict_thresholds() -> None:
    margin = hardware.RUNTIME_MARGIN_BYTES
    assert hardware.fit_verdict(10 * GIB, 10 * GIB + margin, 0) == "fits"
    assert hardware.fit_verdict(10 * GIB, 10 * GIB, 64 * GIB) == "fits with CPU offload"
    assert hardware.fit_verdict(20 * GIB, 8 * GIB, 4 * GIB) == "does not fit"
    assert hardware.fit_verdict(20 * GIB, None, 0) == "does not fit"


def test_fit_verdict_reads_estimates_and_devices() -> None:
    estimate = hardware.estimate_footprint()["4bit"]
    big_gpu = {"id": "cuda:0", "kind": "cuda", "free_bytes": 80 * GIB}
    small_gpu = {"id": "cuda:0", "kind": "cuda", "free_bytes": 4 * GIB}
    assert hardware.fit_verdict(estimate, big_gpu, 0) == "fits"
    assert hardware.fit_verdict(estimate, small_gpu, 64 * GIB) == "fits with CPU offload"
    # On the CPU itself there is nothing to offload to: RAM is not counted twice.
    cpu = {"id": "cpu", "kind": "cpu", "free_bytes": 4 * GIB}
    assert hardware.fit_verdict(estimate, cpu) == "does not fit"


def test_fit_summary_uses_the_best_gpu() -> None:
    devices = [{"id": "cuda:0", "kind": "cuda", "free_bytes": 12 * GIB},
               {"id": "cuda:1", "kind": "cuda", "free_bytes": 16 * GIB},
               {"id": "cpu", "kind": "cpu", "free_bytes": 2 * GIB}]
    assert hardware.fit_summary(devices) == {"bf16": "does not fit", "8bit": "fits", "4bit": "fits"}


# -- devices --------------------------------------------------------------------------------
def _fake_pynvml(count: int, fail_init: bool = False) -> types.ModuleType:
    module = types.ModuleType("pynvml")

    def init() -> None:
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    memory = types.SimpleNamespace(total=24 * GIB, used=6 * GIB, free=18 * GIB)
    module.nvmlInit = init  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: count  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda index: index  # type: ignore[attr-defined]
    module.nvmlDeviceGetMemoryInfo = lambda handle: memory  # type: ignore[attr-defined]
    module.nvmlDeviceGetUtilizationRates = lambda handle: types.SimpleNamespace(gpu=37)  # type: ignore[attr-defined]
    module.nvmlDeviceGetName = lambda handle: b"NVIDIA L4"  # type: ignore[attr-defined]
    module.nvmlDeviceGetCudaComputeCapability = lambda handle: (8, 9)  # type: ignore[attr-defined]
    return module


@pytest.fixture
def fresh_nvml(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(hardware, "_nvml_state", {"tried": False, "ok": False, "error": None})

    def install(module: types.ModuleType) -> None:
        monkeypatch.setitem(__import__("sys").modules, "pynvml", module)

    return install


def test_detect_devices_lists_gpus_from_nvml_and_the_cpu(fresh_nvml: Any) -> None:
    fresh_nvml(_fake_pynvml(2))
    devices = hardware.detect_devices()
    gpus = [d for d in devices if d["kind"] == "cuda"]
    assert [g["id"] for g in gpus] == ["cuda:0", "cuda:1"]
    assert gpus[0]["name"] == "NVIDIA L4" and gpus[0]["free_bytes"] == 18 * GIB and gpus[0]["utilisation"] == 37.0
    assert gpus[0]["compute_capability"] == "8.9"
    assert devices[-1]["kind"] == "cpu"
    snapshot = hardware.memory_snapshot()
    assert snapshot["devices"]["cuda:1"]["used_bytes"] == 6 * GIB and "cpu" in snapshot["devices"]


def test_no_driver_means_cpu_only(fresh_nvml: Any) -> None:
    fresh_nvml(_fake_pynvml(1, fail_init=True))
    devices = hardware.detect_devices()
    assert [d["kind"] for d in devices if d["kind"] == "cuda"] == []
    cpu = devices[-1]
    assert cpu["id"] == "cpu" and 0 < cpu["free_bytes"] <= cpu["total_bytes"]
    assert "NVML" in (hardware.nvml_error() or "")


def test_memory_snapshot_has_process_and_cpu_readings() -> None:
    snapshot = hardware.memory_snapshot()
    assert snapshot["process_rss_bytes"] > 0 and snapshot["time"] > 0
    assert snapshot["devices"]["cpu"]["total_bytes"] >= snapshot["devices"]["cpu"]["used_bytes"] > 0


def test_8bit_and_nf4_need_cuda_while_bf16_runs_anywhere() -> None:
    cpu, gpu = {"id": "cpu", "kind": "cpu"}, {"id": "cuda:0", "kind": "cuda"}
    assert hardware.quantization_runs_on("bf16", cpu) and hardware.quantization_runs_on("bf16", gpu)
    for quantization in ("8bit", "4bit"):
        assert not hardware.quantization_runs_on(quantization, cpu)
        assert not hardware.quantization_runs_on(quantization, {"id": "mps", "kind": "mps"})
        assert hardware.quantization_runs_on(quantization, gpu)


def test_process_memory_is_this_process_and_smaller_than_the_machine() -> None:
    import os

    reading = hardware.process_memory()
    assert reading["pid"] == os.getpid()
    assert 0 < reading["rss_bytes"] < reading["machine_total_bytes"]


class _RecordingCuda:
    """Stands in for torch.cuda: records the caps the loader asks for (no CUDA on CI)."""

    def __init__(self, available: bool, count: int = 2) -> None:
        self.available, self.count, self.calls = available, count, []

    def is_available(self) -> bool:
        return self.available

    def device_count(self) -> int:
        return self.count

    def set_per_process_memory_fraction(self, fraction: float, index: int) -> None:
        self.calls.append((fraction, index))


@pytest.mark.parametrize(
    ("fraction", "device", "available", "expected"),
    [
        (0.5, "auto", True, [(0.5, 0), (0.5, 1)]),
        (0.25, "cuda:1", True, [(0.25, 1)]),
        (1.0, "auto", True, []),  # the default changes nothing
        (0.5, "cpu", True, []),
        (0.5, "auto", False, []),
    ],
)
def test_gpu_memory_fraction_caps_each_cuda_device_before_loading(fraction, device, available, expected) -> None:
    torch = types.SimpleNamespace(cuda=_RecordingCuda(available))
    capped = hardware.apply_gpu_memory_fraction(fraction, torch, device)
    assert torch.cuda.calls == expected
    assert capped == [index for _, index in expected]


@pytest.mark.gpu
def test_gpu_memory_fraction_really_caps_the_allocator() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    total = torch.cuda.get_device_properties(0).total_memory
    try:
        assert hardware.apply_gpu_memory_fraction(0.2, torch, "cuda:0") == [0]
        with pytest.raises(torch.cuda.OutOfMemoryError):
            torch.empty(int(total * 0.3), dtype=torch.uint8, device="cuda:0")
        small = torch.empty(int(total * 0.1), dtype=torch.uint8, device="cuda:0")
        del small
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, 0)
        torch.cuda.empty_cache()

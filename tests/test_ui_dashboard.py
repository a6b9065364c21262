"""The dashboard's numbers say what they count (issue J, item 9): the estimator's overhead, that
8-bit and NF4 need CUDA, the app's own memory next to the machine's, the GPU memory fraction."""

from __future__ import annotations

import pytest

from llama_vision import hardware
from tests.fakes import FakeEngine, fake_settings

pytest.importorskip("gradio")
from llama_vision.ui import tab_dashboard  # noqa: E402

GIB = 1024**3
GPU = {"id": "cuda:0", "index": 0, "kind": "cuda", "name": "NVIDIA L4", "total_bytes": 24 * GIB,
       "used_bytes": 4 * GIB, "free_bytes": 20 * GIB, "utilisation": 3.0}
CPU = {"id": "cpu", "index": None, "kind": "cpu", "name": "x86_64", "total_bytes": 64 * GIB,
       "used_bytes": 8 * GIB, "free_bytes": 56 * GIB, "utilisation": 10.0}


@pytest.fixture
def devices(monkeypatch):
    monkeypatch.setattr(hardware, "detect_devices", lambda: [dict(GPU), dict(CPU)])
    monkeypatch.setattr(hardware, "_cpu_memory", lambda: {"total_bytes": 64 * GIB, "used_bytes": 8 * GIB,
                                                          "free_bytes": 56 * GIB})


def _by_quantization(frame):
    return {row["Quantization"]: row for row in frame.to_dict("records")}


def test_estimate_is_weights_plus_runtime_and_quantized_rows_need_cuda_off_gpu(devices):
    rows = _by_quantization(tab_dashboard.estimator_frame())
    footprint = hardware.estimate_footprint()
    margin = hardware.RUNTIME_MARGIN_BYTES / GIB
    assert rows["bf16"]["Weights GiB"] == footprint["bf16"]["total_gib"]
    assert rows["bf16"]["Estimated GiB"] == pytest.approx(footprint["bf16"]["total_gib"] + margin, abs=0.01)
    gpu_column = "cuda:0 (20.0 GiB free)"
    cpu_column = "cpu (56.0 GiB free)"
    assert rows["8-bit"][gpu_column] == "fits" and rows["4-bit (NF4)"][gpu_column] == "fits"
    assert rows["bf16"][gpu_column] == "fits with CPU offload"  # 19.9 GiB + 1.5 GiB > 20 GiB free
    assert rows["bf16"][cpu_column] == "fits"
    assert rows["8-bit"][cpu_column] == rows["4-bit (NF4)"][cpu_column] == "needs a CUDA GPU"


def test_the_gpu_memory_fraction_caps_what_the_estimator_counts(devices):
    rows = _by_quantization(tab_dashboard.estimator_frame(0.5))
    column = "cuda:0 (12.0 GiB free)"  # half of 24 GiB, though 20 GiB are free
    assert rows["4-bit (NF4)"][column] == "fits" and rows["8-bit"][column] == "fits with CPU offload"


def test_the_note_says_what_is_counted_and_that_quantization_needs_cuda(tmp_path):
    note = tab_dashboard.estimator_note(fake_settings(tmp_path, gpu_memory_fraction=0.5))
    assert "runtime overhead" in note and "1.5 GiB" in note and "CUDA" in note
    assert "LLAMA_VISION_GPU_MEMORY_FRACTION=0.5" in note
    assert "FRACTION" not in tab_dashboard.estimator_note(fake_settings(tmp_path))


def test_devices_table_has_the_apps_own_memory_next_to_the_machines():
    frame = tab_dashboard.devices_frame()
    app = frame[frame["Device"] == "app"].iloc[0]
    cpu = frame[frame["Device"] == "cpu"].iloc[0]
    assert 0 < app["Used GiB"] <= cpu["Used GiB"] and app["Total GiB"] == cpu["Total GiB"]
    assert "this app" in app["Name"]


def test_model_panel_shows_the_gpu_memory_fraction(tmp_path):
    from llama_vision.ui.state import AppState

    settings = fake_settings(tmp_path, gpu_memory_fraction=0.4)
    state = AppState(settings, FakeEngine(settings))
    rows = dict(tab_dashboard.model_frame(state).values.tolist())
    assert rows["GPU memory fraction"].startswith("0.4 (40% of each GPU")

"""The benchmarks run and report in the agreed JSON shape. Timings are never asserted here: the
numbers belong to docs/performance.md, and a shared CPU makes them swing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIGURE_KEYS = {"name", "title", "status", "value", "baseline", "unit", "ratio", "goal", "met", "setup", "details"}


def _check_figure(record: dict, name: str) -> None:
    assert FIGURE_KEYS <= set(record), sorted(FIGURE_KEYS - set(record))
    assert record["name"] == name
    assert record["status"] in {"measured", "skipped", "error"}
    if record["status"] == "measured":
        assert isinstance(record["value"], (int, float)) and isinstance(record["baseline"], (int, float))
        assert isinstance(record["ratio"], (int, float))
        assert isinstance(record["met"], bool)
        assert record["goal"] and record["setup"]
    else:
        assert record["met"] is None and record["reason"]


def test_entry_point_prints_one_json_object_and_writes_out(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "footprint", "--only", "image_prep", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=280,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout)  # stdout is exactly one JSON object; progress goes to stderr
    assert json.loads(out.read_text()) == report
    assert report["mode"] == "quick"
    assert list(report["figures"]) == ["image_prep", "footprint"]
    for name, record in report["figures"].items():
        _check_figure(record, name)
        assert record["status"] == "measured", record.get("reason")
    footprint = report["figures"]["footprint"]["details"]
    # exact counts, not timings: the meta-device model of the real 11B config
    assert footprint["parameters_meta"] == footprint["parameters_published"] == 10_670_220_835
    assert footprint["kept_bf16_parameters"] + footprint["quantized_parameters"] == footprint["parameters_meta"]
    assert set(footprint["per_quantization"]) == {"bf16", "8bit", "4bit"}
    prep = report["figures"]["image_prep"]["details"]
    assert prep["same_layout"] and prep["num_tiles"][0] == prep["num_tiles"][1]
    summary = report["summary"]
    assert summary["measured"] == 2 and summary["met"] + len(summary["missed"]) == 2


def test_unknown_figure_is_a_usage_error() -> None:
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nonsense"], cwd=REPO,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "unknown figure" in completed.stderr


def test_a_failing_figure_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import fig_footprint, runner

    def broken(*, quick: bool) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(fig_footprint, "footprint", broken)
    report = runner.run(["footprint"], quick=True)
    record = report["figures"]["footprint"]
    _check_figure(record, "footprint")
    assert record["status"] == "error" and "boom" in record["reason"]
    assert report["summary"]["errors"] == ["footprint"]


def test_ocr_figure_skips_without_data(tmp_path: Path) -> None:
    from benchmarks.fig_ocr import ocr

    record = ocr(quick=True, data=tmp_path / "absent")
    _check_figure(record, "ocr")
    assert record["status"] == "skipped" and "absent" in record["reason"]


@pytest.mark.slow
def test_gpu_script_tiny_code_path(tmp_path: Path) -> None:
    """gpu.py --tiny: the same build / generate / field-reuse code as on a GPU, on the tiny config."""
    from benchmarks import gpu

    out = tmp_path / "gpu.json"
    report = gpu.main(["--tiny", "--modes", "bf16", "--new-tokens", "3", "--field-tokens", "2",
                       "--prompt-tokens", "8", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report, default=str))
    bf16 = report["modes"]["bf16"]
    assert "error" not in bf16, bf16.get("error")
    assert bf16["parameters"] > 0 and bf16["weights_bytes"] >= 2 * bf16["parameters"]
    assert bf16["input"]["new_tokens"] == 3 and bf16["prefill_s"] > 0
    assert bf16["field_reuse"]["questions"] == 8
    assert isinstance(bf16["field_reuse"]["same_tokens"], bool)  # bf16 padding rounding may differ: reported only
    assert set(report["figures"]) == {"footprint_bf16", "footprint_8bit", "footprint_4bit",
                                      "decode_bandwidth_bf16", "field_reuse_bf16"}
    for name, record in report["figures"].items():
        _check_figure(record, name)
    assert report["figures"]["footprint_bf16"]["status"] == "skipped"  # no CUDA: memory goals not judged


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["8bit", "4bit"])
def test_gpu_script_quantizes_the_text_decoder_only(mode: str) -> None:
    import torch

    from benchmarks import gpu

    config = gpu.build_config(tiny=True)
    model = gpu.build_model(config, "cpu", torch.bfloat16)
    before = gpu.weight_bytes(model)
    linear_before = sum(isinstance(m, torch.nn.Linear) for m in model.model.language_model.modules())
    replaced = gpu.quantize_(model, mode, torch.bfloat16)
    assert replaced == linear_before
    assert type(model.lm_head) is torch.nn.Linear  # kept in bf16, as the engine's skip list says
    assert all(type(m) is not torch.nn.Linear for m in model.model.language_model.modules())
    assert any(type(m) is torch.nn.Linear for m in model.model.vision_model.modules())
    assert gpu.weight_bytes(model) < before
    inputs = gpu.make_inputs(config, "cpu", torch.bfloat16, batch=1, prompt_tokens=4)
    with torch.inference_mode():
        logits = model(**inputs).logits
    assert logits.shape[:2] == inputs["input_ids"].shape


def test_peak_bandwidth_by_device_name() -> None:
    from benchmarks.gpu import peak_bandwidth

    assert peak_bandwidth("NVIDIA H100 80GB HBM3") == 3.35e12
    assert peak_bandwidth("NVIDIA H200") == 4.8e12
    assert peak_bandwidth("NVIDIA H100 PCIe") == 2.0e12
    assert peak_bandwidth("Some Future GPU") is None


def test_ocr_benchmarks_score_with_evaluate_and_report_the_letters_digits_rate(capsys) -> None:
    from benchmarks.ocr_cache import CachedOcrEngine, print_misses, summarise
    from llama_vision.config import load_settings
    from llama_vision.evaluation import EvaluationReport, Truth
    from llama_vision.result import Result

    report = EvaluationReport(directory="x", engine="ocr", prompt_style="rules")
    truth = Truth(fields={"supplier_name": "POPULAR BOOK CO. (M) SDN BHD", "total": "RM49.40", "buyer_name": None},
                  style="sroie")
    readings = (("Popular Book Co (M) Sdn. Bhd.", "49.40", None), ("POPULAR BOOK CO. (M) SDN BHD", "9.40", "Bob"))
    for name, total, buyer in readings:
        report.add(Result(file=f"{total}.jpg", engine="ocr", prompt="rules",
                          fields={"supplier_name": name, "total": total, "buyer_name": buyer}), truth)
    summary = summarise(report, CachedOcrEngine(load_settings(env_file=None, engine="ocr"), None))
    assert summary["accuracy"] == {"supplier_name": 0.5, "total": 0.5}  # evaluate's exact figures
    assert summary["accuracy_letters_digits"] == {"supplier_name": 1.0}
    assert summary["spurious"] == {"buyer_name": 1} and summary["ocr_seconds_mean"] is None
    print_misses(report)
    misses = capsys.readouterr().err.splitlines()
    assert [line.split()[:2] for line in misses] == [["49.40.jpg", "supplier_name"], ["9.40.jpg", "total"],
                                                     ["9.40.jpg", "buyer_name"]]


def test_cached_ocr_engine_reuses_a_first_reading_when_only_the_small_print_rereading_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rapidocr")
    from PIL import Image, ImageDraw

    from benchmarks.ocr_cache import CachedOcrEngine
    from llama_vision.config import load_settings
    from llama_vision.engines.ocr import OCR_PARAMS

    page = Image.new("RGB", (500, 300), "white")
    for i in range(6):
        ImageDraw.Draw(page).text((20, 20 + 40 * i), f"Item {i} 1{i}.50", fill="black", font_size=11)
    engine = CachedOcrEngine(load_settings(env_file=None, engine="ocr"), tmp_path)
    try:
        monkeypatch.setitem(OCR_PARAMS, "Global.small_text_below", 0)
        first = engine.ocr_boxes(page)
        assert len(engine.ocr_cpu_seconds) == 1 and not engine.reread_cpu_seconds
        monkeypatch.setitem(OCR_PARAMS, "Global.small_text_below", 60)  # now every box counts as small
        again = engine.ocr_boxes(page)
        # the first reading came from disk (no full OCR ran), the re-read of the 2x copy did run
        assert len(engine.ocr_cpu_seconds) == 1 and len(engine.reread_cpu_seconds) == 1
        assert again and again != first
        assert engine.ocr_boxes(page) == again and len(engine.reread_cpu_seconds) == 1  # both from disk now
        assert len(list(tmp_path.rglob("*.json"))) == 2
    finally:
        engine.unload()


def test_cached_ocr_engine_reads_a_page_once_per_downscale(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    from PIL import Image, ImageDraw

    from benchmarks.ocr_cache import CachedOcrEngine
    from llama_vision.config import load_settings

    page = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(page).text((20, 80), "TOTAL 12.50", fill="black", font_size=40)
    engine = CachedOcrEngine(load_settings(env_file=None, engine="ocr"), tmp_path)
    try:
        first, second = engine.ocr_boxes(page), engine.ocr_boxes(page)
        assert first and first == second and len(engine.ocr_cpu_seconds) == 1  # the second came from disk
        assert len(list(tmp_path.rglob("*.json"))) == 1
        smaller = CachedOcrEngine(load_settings(env_file=None, engine="ocr", ocr_max_side=400), tmp_path)
        smaller.ocr_boxes(page)
        assert len(smaller.ocr_cpu_seconds) == 1 and len(list(tmp_path.rglob("*.json"))) == 2
        smaller.unload()
    finally:
        engine.unload()

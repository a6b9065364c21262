"""cli.py: one-line errors and exit codes, JSON output, and the wiring of every subcommand.

Subprocess tests check what a user sees (no traceback, one line on stderr); in-process tests
replace the engine and pipeline so they run fast and test the CLI itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest
from PIL import Image

import llama_vision
from llama_vision import batch, cli, pipeline
from llama_vision.errors import ModelLoadError
from llama_vision.result import Result
from tests.fakes import FakeEngine

REPO = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "llama_vision", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (48, 48), "white").save(path)
    return path


def good_result(file: str, prompt: str = "key_value") -> Result:
    return Result(
        file=file, engine="fake", prompt=prompt, document_type="tax_invoice",
        fields={"supplier_name": "Acme Hardware Pty Ltd", "supplier_abn": "51824753556", "total": "110.00",
                "gst": "10.00", "tax_invoice_label": True,
                "items": [{"description": "Hammer", "quantity": "2", "unit_price": "50.00", "amount": "100.00"}]},
        compliance={"abn_valid": True, "gst_consistent": True, "tax_invoice_required": True,
                    "missing_elements": ["issue_date"], "score": 85, "verdict": "non_compliant",
                    "recommendations": ["Ask the supplier for an invoice that shows the date of issue."]},
        timings={"total": 0.25}, warnings=["low contrast"],
    )


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no developer .env is picked up
    return tmp_path


@pytest.fixture
def fake_engine(monkeypatch):
    engines: list[FakeEngine] = []

    def make(settings):
        engines.append(FakeEngine(settings))
        return engines[-1]

    monkeypatch.setattr(cli, "_engine", make)
    return engines


@pytest.fixture
def fake_extract(monkeypatch, fake_engine):
    """pipeline.extract replaced: a file whose name contains 'bad' fails; tokens are streamed."""
    import llama_vision.pipeline as pipeline

    calls = []

    def extract(source, *, engine, prompt_style, on_token=None, file_name=None, **kwargs):
        calls.append((Path(source), prompt_style, file_name, kwargs.get("page")))
        if on_token:
            on_token("SUPPLIER_NAME: ")
            on_token("Acme")
        if "bad" in Path(source).name:
            return Result.failed(file_name or str(source), "fake", prompt_style, "'bad.png' is a text file, not an image.")
        return good_result(file_name or str(source), prompt_style)

    monkeypatch.setattr(pipeline, "extract", extract)
    return calls


# -- one-line errors -------------------------------------------------------------------------


def test_bad_environment_value_is_one_line_and_exit_2(tmp_path):
    done = run_cli(["extract", "receipt.png"], tmp_path, LLAMA_VISION_DEVICE="gpu")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: LLAMA_VISION_DEVICE='gpu'")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_bad_value_in_dotenv_is_one_line_and_real_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("LLAMA_VISION_QUANTIZATION=3bit\n")
    done = run_cli(["make-samples", str(tmp_path / "s"), "--count", "0"], tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "LLAMA_VISION_QUANTIZATION='3bit'" in done.stderr and "4bit" in done.stderr
    fixed = run_cli(["make-samples", str(tmp_path / "s"), "--count", "0"], tmp_path, LLAMA_VISION_QUANTIZATION="4bit")
    assert "QUANTIZATION" not in fixed.stderr and "--count 0" in fixed.stderr and fixed.returncode == 2


def test_missing_env_file_option_is_an_error(in_tmp, capsys):
    assert cli.main(["--env-file", "nope.env", "hardware"]) == 2
    assert capsys.readouterr().err.startswith("error: Settings file 'nope.env' not found.")


def test_missing_file_is_one_line_and_non_zero(in_tmp, fake_engine, capsys):
    assert cli.main(["extract", "missing.png"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: missing.png: 'missing.png' not found.")


def test_missing_file_in_a_subprocess_has_no_traceback(tmp_path):
    done = run_cli(["extract", "missing.png", "--engine", "ocr"], tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "not found" in done.stderr


def test_usage_errors_exit_2(in_tmp, capsys):
    assert cli.main([]) == 2
    assert cli.main(["extract", "x.png", "--prompt", "poem"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_problem_the_user_can_fix_is_one_line_exit_2(in_tmp, monkeypatch, capsys):
    def broken(settings):
        raise ModelLoadError("No model in '/models/x'.", hint="Run make-tiny-model or set LLAMA_VISION_MODEL_PATH.")

    monkeypatch.setattr(cli, "_engine", broken)
    png(in_tmp / "a.png")
    assert cli.main(["extract", "a.png"]) == 2
    assert capsys.readouterr().err == "error: No model in '/models/x'. Run make-tiny-model or set LLAMA_VISION_MODEL_PATH.\n"


def test_unexpected_exception_is_one_line_unless_debugging(in_tmp, monkeypatch, capsys):
    def boom(settings):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(cli, "_engine", boom)
    png(in_tmp / "a.png")
    assert cli.main(["extract", "a.png"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: kaboom second line" in err and "LLAMA_VISION_DEBUG=1" in err
    monkeypatch.setenv("LLAMA_VISION_DEBUG", "1")
    with pytest.raises(RuntimeError, match="kaboom"):
        cli.main(["extract", "a.png"])


# -- extract ---------------------------------------------------------------------------------


def test_extract_json_prints_one_parseable_object_per_line(in_tmp, fake_extract, capsys):
    png(in_tmp / "a.png"), png(in_tmp / "b c.png")
    assert cli.main(["extract", "a.png", "b c.png", "--json", "--prompt", "json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["file"] for o in objects] == ["a.png", "b c.png"]
    assert all(o["status"] == "ok" and o["prompt"] == "json" for o in objects)
    assert objects[0]["fields"]["supplier_abn"] == "51824753556" and objects[0]["compliance"]["verdict"]


def test_extract_exits_1_when_any_document_failed_and_still_prints_json(in_tmp, fake_extract, capsys):
    png(in_tmp / "a.png"), png(in_tmp / "bad.png")
    assert cli.main(["extract", "a.png", "bad.png", "missing.png", "--json"]) == 1
    captured = capsys.readouterr()
    statuses = [json.loads(line)["status"] for line in captured.out.splitlines()]
    assert statuses == ["ok", "error", "error"]
    assert captured.err.count("\n") == 2  # one line per failed document
    assert [c[0].name for c in fake_extract] == ["a.png", "bad.png"]  # the missing file never reached the pipeline


def test_extract_readable_summary(in_tmp, fake_extract, capsys):
    png(in_tmp / "a.png")
    assert cli.main(["extract", "a.png"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a.png: tax_invoice (fake, key_value, 0.25 s)")
    for text in ("supplier_name", "Acme Hardware Pty Ltd", "verdict: non_compliant (score 85/100)", "missing: issue_date",
                 "* Ask the supplier for an invoice that shows the date of issue.", "2 x Hammer", "warning: low contrast"):
        assert text in out


def test_extract_streams_tokens_to_stderr_when_asked(in_tmp, fake_extract, capsys):
    png(in_tmp / "a.png")
    assert cli.main(["extract", "a.png", "--stream"]) == 0
    assert "SUPPLIER_NAME: Acme" in capsys.readouterr().err
    assert cli.main(["extract", "a.png", "--no-stream"]) == 0
    assert "SUPPLIER_NAME" not in capsys.readouterr().err


def test_extract_page_is_one_based(in_tmp, fake_extract, capsys):
    png(in_tmp / "a.png")
    assert cli.main(["extract", "a.png", "--page", "2", "--json"]) == 0
    assert fake_extract[-1][3] == 1
    assert cli.main(["extract", "a.png", "--page", "0"]) == 2
    assert "Pages are numbered from 1" in capsys.readouterr().err


# -- batch and evaluate ----------------------------------------------------------------------


@pytest.fixture
def scripted_pipeline(monkeypatch):
    def fake(paths, *, engine, prompt_style, concurrency):
        for index, path in enumerate(paths):
            yield index, good_result(str(path), prompt_style)

    monkeypatch.setattr(pipeline, "extract_many", fake)


def test_batch_writes_csv_and_xlsx_and_prints_a_summary(in_tmp, fake_engine, scripted_pipeline, capsys):
    png(in_tmp / "in" / "a.png"), png(in_tmp / "in" / "sub" / "b.png")
    code = cli.main(["batch", "in", "--out", "out/results.csv", "--xlsx", "out/results.xlsx"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = batch.read_rows(in_tmp / "out" / "results.csv")
    assert [r["file"] for r in rows] == ["a.png", "sub/b.png"]
    assert (in_tmp / "out" / "results.xlsx").is_file()
    assert "2 documents processed" in captured.out and "non_compliant 2" in captured.out
    assert "[2/2] sub/b.png: tax_invoice, non_compliant" in captured.err


def test_batch_refuses_an_unsafe_zip_with_one_line(in_tmp, fake_engine, scripted_pipeline, capsys):
    with zipfile.ZipFile(in_tmp / "evil.zip", "w") as zf:
        zf.writestr("../evil.png", b"x")
    assert cli.main(["batch", "evil.zip", "--out", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: 'evil.zip' holds a member whose path escapes")
    assert not (in_tmp.parent / "evil.png").exists()


def test_batch_resume_via_cli(in_tmp, fake_engine, scripted_pipeline, capsys):
    png(in_tmp / "in" / "a.png")
    assert cli.main(["batch", "in", "--out", "out.csv", "--quiet"]) == 0
    png(in_tmp / "in" / "b.png")
    assert cli.main(["batch", "in", "--out", "out.csv", "--resume"]) == 0
    assert "1 documents processed, 1 already done" in capsys.readouterr().out
    assert [r["file"] for r in batch.read_rows(in_tmp / "out.csv")] == ["a.png", "b.png"]
    assert cli.main(["batch", "in", "--out", "out.csv", "--quiet"]) == 0
    assert "starting out.csv afresh (pass --resume" in capsys.readouterr().err


def test_evaluate_json_parses(in_tmp, fake_engine, monkeypatch, capsys):
    png(in_tmp / "truth" / "a.png")
    (in_tmp / "truth" / "a.json").write_text(json.dumps({"company": "ACME HARDWARE PTY LTD", "total": "110.00"}))

    def fake(paths, *, engine, prompt_style, concurrency):
        for index, path in enumerate(paths):
            yield index, good_result(str(path), prompt_style)

    monkeypatch.setattr(pipeline, "extract_many", fake)
    assert cli.main(["evaluate", "truth", "--json", "--limit", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["documents"] == 1 and data["accuracy"] == 1.0 and data["fields"]["supplier_name"]["correct"] == 1
    assert cli.main(["evaluate", "truth"]) == 0
    assert "supplier_name" in capsys.readouterr().out
    assert cli.main(["evaluate", "nowhere"]) == 2
    assert cli.main(["evaluate", "truth", "--limit", "0"]) == 2


# -- hardware and generators -----------------------------------------------------------------


def test_hardware_json_with_a_stand_in_module(in_tmp, monkeypatch, capsys):
    from dataclasses import dataclass

    @dataclass
    class Snapshot:
        rss: int

    device = {"id": "cuda:0", "kind": "cuda", "name": "Test GPU", "total_bytes": 16 * 1024**3, "free_bytes": 15 * 1024**3}
    fake = types.ModuleType("llama_vision.hardware")
    fake.detect_devices = lambda: [device]
    fake.memory_snapshot = lambda: Snapshot(rss=123)
    fake.estimate_footprint = lambda config=None: {
        "bf16": {"total_bytes": 21 * 1024**3, "with_runtime_bytes": 23 * 1024**3},
        "4bit": {"total_bytes": 8 * 1024**3, "with_runtime_bytes": 9 * 1024**3}}
    fake.fit_summary = lambda devices: {"bf16": "fits with CPU offload", "4bit": "fits"}
    monkeypatch.setitem(sys.modules, "llama_vision.hardware", fake)
    monkeypatch.setattr(llama_vision, "hardware", fake, raising=False)
    assert cli.main(["hardware", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["devices"] == [device] and data["memory"] == {"rss": 123}
    assert data["fit"] == {"bf16": "fits with CPU offload", "4bit": "fits"}
    assert data["settings"]["engine"] == "ocr"
    assert cli.main(["hardware"]) == 0
    out = capsys.readouterr().out
    assert "cuda:0   Test GPU" in out and "16.0 GiB total, 15.0 GiB free" in out
    assert "4bit   8.0 GiB (9.0 GiB)" in out and "fits with CPU offload" in out


def test_hardware_json_for_real(tmp_path):
    pytest.importorskip("llama_vision.hardware")
    done = run_cli(["hardware", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"devices", "memory", "footprint", "fit"} <= data.keys()
    assert set(data["fit"]) == set(data["footprint"])
    assert any(d["kind"] == "cpu" for d in data["devices"])


def test_make_tiny_model_and_make_samples_are_wired(in_tmp, monkeypatch, capsys):
    calls = []
    tiny = types.ModuleType("llama_vision.tiny_model")
    tiny.write_tiny_model = lambda folder, *, size="tiny": calls.append(("tiny", Path(folder), size)) or Path(folder)
    generator = types.ModuleType("llama_vision.samples.generator")
    generator.generate_documents = lambda out_dir, count, seed: calls.append(("samples", Path(out_dir), count, seed)) or [
        Path(out_dir) / f"{i}.png" for i in range(count)]
    monkeypatch.setitem(sys.modules, "llama_vision.tiny_model", tiny)
    monkeypatch.setitem(sys.modules, "llama_vision.samples", types.ModuleType("llama_vision.samples"))
    monkeypatch.setitem(sys.modules, "llama_vision.samples.generator", generator)
    monkeypatch.setattr(llama_vision, "tiny_model", tiny, raising=False)
    monkeypatch.setattr(sys.modules["llama_vision.samples"], "generator", generator, raising=False)
    assert cli.main(["make-tiny-model", "model", "--size", "small"]) == 0
    assert cli.main(["make-samples", "docs", "--count", "3", "--seed", "7"]) == 0
    assert calls == [("tiny", Path("model"), "small"), ("samples", Path("docs"), 3, 7)]
    assert "wrote 3 documents" in capsys.readouterr().out


def test_version(in_tmp, capsys):
    assert cli.main(["--version"]) == 0
    assert llama_vision.__version__ in capsys.readouterr().out


# -- ask ------------------------------------------------------------------------------------------


def test_ask_streams_the_answer_to_stdout(in_tmp, monkeypatch, capsys):
    answers: list[FakeEngine] = []

    def make(settings):
        answers.append(FakeEngine(settings, outputs=["Two coffees,\nfor $9.00."]))
        return answers[-1]

    monkeypatch.setattr(cli, "_engine", make)
    receipt = png(in_tmp / "r.png")
    assert cli.main(["ask", str(receipt), "What was bought?"]) == 0
    assert capsys.readouterr().out.strip() == "Two coffees,\nfor $9.00."  # lines stay lines
    assert answers[0].calls[0][0] == "What was bought?"
    assert cli.main(["ask", str(receipt), "What was bought?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["text"] == "Two coffees,\nfor $9.00." and data["page"] == 1 and data["engine"] == "fake"
    assert cli.main(["ask", str(receipt), "What?", "--page", "2"]) == 2
    assert "page 2 does not exist" in capsys.readouterr().err


def test_ask_on_the_ocr_engine_says_it_cannot_in_one_line(in_tmp):
    receipt = png(in_tmp / "r.png")
    done = run_cli(["ask", str(receipt), "What was bought?", "--engine", "ocr"], in_tmp)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot answer free-form questions" in lines[0] and "LLAMA_VISION_MODEL_PATH" in lines[0]

"""Prompt experiments (issue K): scores per prompt x field, page and type reuse, the history and the
diff of two runs, Stop, the openai engine's concurrency limit under 503s, and the CLI."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from llama_vision.experiments import (
    History,
    PromptVariant,
    compare_runs,
    disagreements,
    format_comparison,
    format_table,
    labelled_folders,
    load_labelled_set,
    resolve_folder,
    run_experiment,
)
from llama_vision.errors import DocumentError
from llama_vision.samples.generator import generate_documents
from tests.experiment_helpers import DROP_DATE, TruthfulEngine
from tests.fakes import fake_settings
from tests.openai_helpers import make_engine, servers_fixture  # noqa: F401 - the servers fixture

LIBRARY = [PromptVariant("key_value", "key_value"), PromptVariant("json", "json"),
           PromptVariant("field_specific", "field_specific")]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("labelled")
    generate_documents(folder, 6, 0)
    return folder


def _receipts_with_dates(folder: Path) -> set[str]:
    found = set()
    for truth in folder.glob("*.json"):
        data = json.loads(truth.read_text())
        if data["document_type"] == "receipt" and data["fields"].get("date"):
            found.add(next(p.name for p in folder.iterdir() if p.stem == truth.stem and p.suffix != ".json"))
    return found


def test_three_prompts_then_one_edited_history_and_diff(labelled, tmp_path, monkeypatch):
    from llama_vision import documents

    settings = fake_settings(tmp_path)
    engine = TruthfulEngine(settings, labelled)
    loads: list[str] = []
    real_load = documents.load_pages
    monkeypatch.setattr(documents, "load_pages", lambda path, **kw: loads.append(Path(path).name) or real_load(path, **kw))
    history = History(tmp_path / "history")
    dataset = load_labelled_set(labelled)
    seen: list[int] = []
    first = run_experiment(dataset, LIBRARY, [engine], history=history, progress=lambda d, t, r: seen.append(d))

    assert seen == list(range(1, 19)) and len(first.records) == 18 and not first.stopped
    assert sorted(loads) == sorted(dataset.keys)  # each document's pages loaded once for three prompts
    classifications = [p for p, _ in engine.calls if p == engine.library.classification.text]
    assert len(classifications) == 6  # and classified once
    summary = first.summary()
    for column in ("key_value", "json"):
        assert summary[column]["fields"]["date"]["accuracy"] == 1.0
        assert summary[column]["fields"]["total"]["accuracy"] == 1.0
        assert summary[column]["compliance_documents"] == 6 and summary[column]["failures"] == 0
    assert summary["key_value"]["tokens_per_document"] > 0

    edited_text = engine.library.entries["key_value"].text + "\n" + DROP_DATE
    edited = [PromptVariant("key_value", "key_value", edited_text), *LIBRARY[1:]]
    second = run_experiment(dataset, edited, [engine], history=history)
    runs = history.list_runs()
    assert [r["id"] for r in runs] == [second.id, first.id]

    diff = compare_runs(history.load(first.id), history.load(second.id))
    by_column = {c["a"]: c for c in diff["columns"]}
    receipts = _receipts_with_dates(labelled)
    assert receipts and len(receipts) < 6  # some documents change, not all
    assert by_column["key_value"]["prompt_changed"] is True
    assert set(by_column["key_value"]["changed_documents"]) == receipts
    assert all(fields == ["date"] for fields in by_column["key_value"]["changed_documents"].values())
    assert set(by_column["key_value"]["worse"]["date"]) == receipts and not by_column["key_value"]["better"]
    for column in ("json", "field_specific"):
        assert by_column[column]["prompt_changed"] is False and by_column[column]["changed_documents"] == {}
    assert diff["same_dataset"] is True
    text = format_comparison(diff)
    assert all(name in text for name in receipts)
    # the loaded run gives the same table it gave when it ran
    assert history.load(first.id).summary() == summary
    assert "key_value" in format_table(second) and "compliance verdict" in format_table(second)
    drill = disagreements(second)
    assert {row["document"] for row in drill if row["field"] == "date"} == receipts


def test_stop_keeps_what_finished_and_says_so(labelled, tmp_path):
    engine = TruthfulEngine(fake_settings(tmp_path), labelled)
    stop = threading.Event()

    def progress(done: int, total: int, record) -> None:
        if done == 3:
            stop.set()

    run = run_experiment(load_labelled_set(labelled), LIBRARY[:2], [engine], progress=progress, stop=stop,
                         history=History(tmp_path / "h"), batch_size=1)
    assert run.stopped and len(run.records) == 3
    assert History(tmp_path / "h").load(run.id).stopped


def test_an_engine_without_prompts_is_one_rules_column(labelled, tmp_path):
    from llama_vision.engines.base import Capabilities

    engine = TruthfulEngine(fake_settings(tmp_path), labelled)
    engine.capabilities = Capabilities(follows_prompts=False, streams=False, batches=False)
    engine.answer = lambda prompt, truth: ""  # type: ignore[method-assign]
    run = run_experiment(load_labelled_set(labelled), LIBRARY, [engine])
    assert run.columns == ["rules"] and len(run.records) == 6


def test_folders_stay_inside_the_allowed_roots(labelled, tmp_path):
    settings = fake_settings(tmp_path, batch_dir=str(labelled.parent))
    choices = labelled_folders(settings)
    assert f"batch folder: {labelled.name}" in choices
    assert resolve_folder(settings, f"batch folder: {labelled.name}") == labelled.resolve()
    assert resolve_folder(settings, labelled.name) == labelled.resolve()
    for outside in ("/etc", "../..", f"batch folder: ../{tmp_path.name}"):
        with pytest.raises(DocumentError):
            resolve_folder(settings, outside)
    # the folder "Save as ground truth" writes to is offered too, once the settings have one
    with_dataset = fake_settings(tmp_path, batch_dir="", dataset_dir=str(labelled))
    assert labelled_folders(with_dataset) == ["dataset folder: ."]
    assert resolve_folder(with_dataset, "dataset folder: .") == labelled.resolve()
    with pytest.raises(DocumentError):
        resolve_folder(with_dataset, str(labelled.parent))


def test_openai_keeps_the_concurrency_limit_and_loses_nothing_to_503s(labelled, tmp_path, servers):
    server = servers(1, delay=0.05)[0]
    answers = {"served": 0}

    def responder(prompt: str, images: int, body: dict) -> str:
        answers["served"] += 1
        if answers["served"] % 4 == 0:
            server.fail_next(1, 503)  # now and then the next request is refused
        if "receipt, tax_invoice" in prompt:  # the classification question
            return "receipt"
        return "SUPPLIER: Bunnings Warehouse\nDATE: 15/03/2024\nTOTAL: $44.00\nGST: $4.00"

    server.responder = responder
    engine = make_engine(server, api_concurrency=3)
    run = run_experiment(load_labelled_set(labelled), LIBRARY[:2], [engine])
    assert len(run.records) == 12 and all(r.status == "ok" for r in run.records), \
        [r.error for r in run.records if r.error]
    assert {r.document for r in run.records} == set(load_labelled_set(labelled).keys)
    assert 2 <= server.in_flight.max <= 3
    assert run.engine_retries and run.engine_retries >= 2  # the refused requests were retried


def test_cli_experiment_table_history_and_compare(labelled, tmp_path, monkeypatch, capsys):
    from llama_vision import cli, engines

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLAMA_VISION_EXPERIMENTS_DIR", str(tmp_path / "history"))
    monkeypatch.setattr(engines, "create_engine", lambda settings: TruthfulEngine(settings, labelled))
    edited = tmp_path / "short.txt"
    edited.write_text("Read the {document}.\n{keys}\n" + DROP_DATE)
    assert cli.main(["experiment", str(labelled), "--prompt", "key_value", "--prompt", "json"]) == 0
    out = capsys.readouterr()
    assert "key_value" in out.out and "json" in out.out and "all fields (exact)" in out.out
    assert "[12/12]" in out.err  # progress on stderr
    assert cli.main(["experiment", str(labelled), "--prompt", "json", "--prompt-file", f"key_value={edited}",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["summary"]) == ["json", "key_value"] and data["prompts"][1]["edited"] is True
    assert cli.main(["experiment", "--history"]) == 0
    assert capsys.readouterr().out.count("documents in") == 2
    assert cli.main(["experiment", "--compare", "1", "2"]) == 0
    text = capsys.readouterr().out
    assert "prompt text changed" in text and "worse: date" in text
    assert cli.main(["experiment", "--compare", "1", "9"]) == 2
    assert "no experiment run 9" in capsys.readouterr().err


def test_unparseable_answers_ask_the_fallback_prompt_together(labelled, tmp_path):
    from llama_vision.prompts import load_prompt_library
    from tests.fakes import FakeEngine

    fallbacks = {load_prompt_library().fallback_for(kind).text for kind in ("receipt", "tax_invoice", "fuel_receipt",
                                                                              "bank_statement", "other")}

    def responder(prompt: str) -> str:
        if prompt in fallbacks:
            return "TOTAL: $12.50\nDATE: 02/10/2023"
        return "receipt" if "receipt, tax_invoice" in prompt else "Sorry, the picture is blurry today."

    engine = FakeEngine(fake_settings(tmp_path), responder=responder)
    run = run_experiment(load_labelled_set(labelled), LIBRARY[:2], [engine], batch_size=4)
    assert len(run.records) == 12 and all(r.status == "ok" and r.retries == 1 for r in run.records)
    assert all(r.fields["total"]["got"] == "12.50" for r in run.records)
    # per 4 documents: classify 4, then (document, prompt) answers 4 at a time, each batch's fallback
    # questions together right after it; never one by one
    assert engine.batch_sizes == [4, 4, 4, 4, 4, 2, 4, 4]

"""The Prompt experiments tab's handlers, without a browser: a folder and a ZIP run, the table,
plot, drill-down, past runs and the comparison; folders outside the allowed roots are refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from llama_vision.errors import DocumentError
from llama_vision.samples.generator import generate_documents
from tests.experiment_helpers import DROP_DATE, TruthfulEngine
from tests.fakes import fake_settings


@pytest.fixture(name="state")
def state_fixture(tmp_path):
    from llama_vision.ui.state import AppState

    root = tmp_path / "batches"
    generate_documents(root / "labelled", 6, 0)
    settings = fake_settings(tmp_path, batch_dir=str(root), experiments_dir=str(tmp_path / "history"))
    return AppState(settings, TruthfulEngine(settings, root / "labelled"))


def _last(updates):
    items = list(updates)
    assert len(items) >= 3  # starting, progress, the end
    return items[-1]


def test_folder_run_fills_table_plot_drill_and_history_then_compare(state):
    from llama_vision.ui import tab_experiments as tab
    from llama_vision.ui.tab_compare import prompt_text

    choices = tab.folder_choices(state)
    assert choices == ["batch folder: labelled"]
    progress, summary, table, plot, drill, past = _last(tab.experiment_updates(
        state, choices[0], None, ["key_value", "json"], "", "key_value", prompt_text("key_value"), None, "s1"))
    assert "12 of 12" in progress and "Run 1" in summary
    assert list(table.columns) == ["field", "n", "key_value", "json"]
    assert table.set_index("field").loc["date", "key_value"] == "100.0%"
    assert Path(plot).is_file() and Path(plot).stat().st_size > 1000
    assert drill.empty  # both prompts read the truth: nothing to disagree about
    assert list(past["Run"]) == [1]

    edited = prompt_text("key_value") + "\n" + DROP_DATE
    *_, drill, past = _last(tab.experiment_updates(
        state, "labelled", None, ["key_value"], "short", "key_value", edited, None, "s1"))
    assert list(drill.columns) == ["Document", "Field", "Truth", "key_value", "short"]
    assert set(drill["Field"]) == {"date"} and len(drill) >= 1
    assert list(past["Run"]) == [2, 1]
    diff = tab.compare_markdown(state, 1, 2)
    assert "key_value" in diff and "same prompt text" in diff


def test_zip_upload_runs_and_names_the_upload(state, tmp_path):
    from llama_vision.ui import tab_experiments as tab

    folder = Path(state.settings.batch_dir) / "labelled"
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.iterdir())[:4]:  # two documents with their truth
            zf.write(path, path.name)
    *_, past = _last(tab.experiment_updates(state, None, {"path": str(archive)}, ["json"], "", "key_value", "",
                                            None, "s2"))
    assert past.iloc[0]["Dataset"] == "set.zip" and past.iloc[0]["Documents"] == 2


def test_nothing_outside_the_allowed_folders_and_nothing_to_run(state):
    import gradio as gr

    from llama_vision.ui import tab_experiments as tab

    with pytest.raises(DocumentError):
        list(tab.experiment_updates(state, "/etc", None, ["json"], "", "key_value", "", None, "s3"))
    with pytest.raises(gr.Error):
        list(tab.experiment_updates(state, "labelled", None, [], "", "key_value", "", None, "s3"))


def test_the_tab_is_wired_with_private_events(state):
    from llama_vision.ui import build_app

    demo = build_app(state.settings, state=state)
    names = {fn.api_name: fn for fn in demo.fns.values()}
    assert {"experiment", "experiment_stop", "experiment_compare"} <= set(names)
    assert names["experiment"].concurrency_id == "model"
    assert all(names[n].api_visibility == "private"
               for n in ("experiment", "experiment_stop", "experiment_compare"))

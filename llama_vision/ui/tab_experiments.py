"""Tab — Prompt experiments: prompts over a whole labelled set, with the history of every run.

Pick a labelled folder (inside LLAMA_VISION_BATCH_DIR or LLAMA_VISION_DATASET_DIR) or upload a
ZIP of documents with their `.json` truth, tick library prompts and/or edit one, Run (Stop ends it
after the work in progress). The table (field x prompt accuracy, compliance outcome, latency,
tokens, failures, retries), the plot and the documents where prompts disagree come from
`llama_vision.experiments`; so do the past runs and the comparison of two of them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision.schema import PROMPT_STYLES
from llama_vision.ui.common import Finished, in_background, output_dir, path_of, public_message
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors
from llama_vision.ui.tab_compare import prompt_text
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from llama_vision.experiments import ExperimentRun
    from llama_vision.ui.state import AppState

HISTORY_COLUMNS = ["Run", "Started", "Dataset", "Documents", "Engines", "Accuracy per prompt"]
TICK = 0.5  # seconds between progress refreshes while nothing finishes


def _history(state: AppState) -> Any:
    from llama_vision.experiments import History

    return History.for_settings(state.settings)


def folder_choices(state: AppState) -> list[str]:
    from llama_vision.experiments import labelled_folders

    return labelled_folders(state.settings)


def variants_from(styles: list[str] | None, edited_name: str, edited_style: str, edited_text: str) -> list[Any]:
    """The ticked library prompts, plus the edited text (when it differs from the library's) as its own column."""
    from llama_vision.experiments import PromptVariant

    variants = [PromptVariant(style, style) for style in (styles or [])]
    text = (edited_text or "").strip()
    if text and text != prompt_text(edited_style).strip():
        name = (edited_name or "").strip() or f"{edited_style} (edited)"
        variants.append(PromptVariant(name, edited_style, text))
    if not variants:
        raise gr.Error("Tick at least one prompt, or edit one.", title="Nothing to run")
    return variants


def progress_html(done: int, total: int, note: str = "") -> str:
    return (f'<div id="experiment-progress"><progress value="{done}" max="{max(total, 1)}" style="width:100%;'
            f'height:1.1rem"></progress><div>{done} of {total} (prompt, document) readings {esc(note)}</div></div>')


def table_frame(run: ExperimentRun) -> pd.DataFrame:
    from llama_vision.experiments.report import table_rows

    summary = run.summary()
    if not summary:
        return pd.DataFrame()
    headings, rows = table_rows(summary)
    return pd.DataFrame(rows, columns=headings)


def drill_frame(run: ExperimentRun) -> pd.DataFrame:
    """Documents and fields where the prompts read different values (a right value marked ✓)."""
    from llama_vision.experiments import disagreements

    rows = []
    for row in disagreements(run):
        cells = [row["document"], row["field"], "" if row["expected"] is None else str(row["expected"])]
        for column in run.columns:
            value, right = row["got"][column], row["correct"][column]
            cells.append(("" if value is None else str(value)) + (" ✓" if right else ""))
        rows.append(cells)
    return pd.DataFrame(rows, columns=["Document", "Field", "Truth", *run.columns])


def history_frame(state: AppState) -> pd.DataFrame:
    rows = [[r["id"], r["started"], Path(r["dataset"]).name, r["documents"], ", ".join(r["engines"]),
             ", ".join(f"{c} {a * 100:.1f}%" if a is not None else f"{c} -" for c, a in r["columns"].items())]
            for r in _history(state).list_runs()]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def compare_markdown(state: AppState, run_a: Any, run_b: Any) -> str:
    from llama_vision.experiments import compare_runs, format_comparison

    if run_a in (None, "") or run_b in (None, ""):
        raise gr.Error("Type two run numbers from the list of past runs.", title="Nothing to compare")
    history = _history(state)
    diff = compare_runs(history.load(int(run_a)), history.load(int(run_b)))
    return "```text\n" + public_message(format_comparison(diff)) + "\n```"


def _dataset(state: AppState, folder_choice: str | None, archive: Any, work: Path, limit: Any) -> Any:
    from llama_vision.experiments import load_labelled_set, resolve_folder, unpack_zip

    count = int(limit) if limit not in (None, "", 0) else None
    zip_path = path_of(archive)
    if zip_path:
        dataset = load_labelled_set(unpack_zip(zip_path, state.settings, work), limit=count)
        from dataclasses import replace

        return replace(dataset, path=Path(zip_path).name)  # the upload's name, not the server's folder
    if folder_choice:
        return load_labelled_set(resolve_folder(state.settings, folder_choice), limit=count)
    raise gr.Error("Pick a labelled folder or upload a ZIP of documents with their .json truth.", title="Nothing to run")


def experiment_updates(state: AppState, folder_choice: str | None, archive: Any, styles: list[str] | None,
                       edited_name: str, edited_style: str, edited_text: str, limit: Any,
                       session: str) -> Iterator[tuple[Any, ...]]:
    """The Run event's outputs: progress while it runs, then the table, plot, drill-down and history."""
    from llama_vision.experiments import plot_accuracy, run_experiment

    variants = variants_from(styles, edited_name, edited_style, edited_text)
    work = output_dir()
    try:
        dataset = _dataset(state, folder_choice, archive, work, limit)
        stop = state.stop_flag(session)
        stop.clear()
        history = _history(state)

        def work_fn(emit: Any) -> Any:
            return run_experiment(dataset, variants, [state.engine], history=history, stop=stop,
                                  progress=lambda done, total, record: emit((done, total, record)))

        yield progress_html(0, 0, "starting…"), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        run = None
        try:
            for item in in_background(work_fn, tick=TICK):
                if isinstance(item, Finished):
                    run = item.value
                elif item is not None:
                    done, total, record = item
                    yield progress_html(done, total, f"— {record.column}: {Path(record.document).name}"), \
                        gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        finally:
            if run is None:
                stop.set()  # the client went away: the run must not keep the model busy
        plot = plot_accuracy(run, work / "accuracy.png")
        done = len(run.records)
        total = len(run.documents) * len(run.columns)
        yield (progress_html(done, total, "stopped" if run.stopped else "done"), _summary(run), table_frame(run),
               str(plot), drill_frame(run), history_frame(state))
    finally:
        shutil.rmtree(work / "dataset", ignore_errors=True)


def _summary(run: ExperimentRun) -> str:
    best = max(run.summary().items(), key=lambda kv: kv[1]["accuracy"] or 0, default=None)
    lines = [f"### Run {run.id}: {len(run.documents)} documents, {len(run.columns)} prompt(s)"
             + (" (stopped early)" if run.stopped else "")]
    if best is not None and best[1]["accuracy"] is not None:
        lines.append(f"Most accurate: **{esc(best[0])}** ({best[1]['accuracy'] * 100:.1f}% of fields exactly right)")
    lines.append(f"Dataset hash `{run.dataset_hash[:12]}`; prompts: "
                 + ", ".join(f"{esc(p['column'])} `{p['sha256'][:8]}`" for p in run.prompts))
    return "\n\n".join(lines)


def build(state: AppState) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            folder = gr.Dropdown(folder_choices(state), value=None, allow_custom_value=True,
                                 label="Labelled folder (documents + same-named .json truth)", elem_id="exp-folder")
            archive = gr.File(label="…or a ZIP of one", file_types=[".zip"], elem_id="exp-zip")
            styles = gr.CheckboxGroup(list(PROMPT_STYLES), value=["key_value", "json"], label="Library prompts",
                                      elem_id="exp-styles")
            with gr.Accordion("Edited prompt (an extra column)", open=False):
                edited_style = gr.Dropdown(list(PROMPT_STYLES), value="key_value", label="Read as", elem_id="exp-style")
                edited_name = gr.Textbox(label="Name", placeholder="key_value (edited)", elem_id="exp-name")
                edited_text = gr.Textbox(prompt_text("key_value"), lines=8, label="Prompt text", elem_id="exp-text")
            limit = gr.Number(None, precision=0, minimum=1, label="Only the first N documents", elem_id="exp-limit")
            with gr.Row():
                run = gr.Button("Run experiment", variant="primary", elem_id="exp-run")
                stop = gr.Button("Stop", variant="stop", elem_id="exp-stop")
        with gr.Column(scale=3, min_width=420):
            progress = gr.HTML(progress_html(0, 0), elem_id="exp-progress-box")
            summary = gr.Markdown(elem_id="exp-summary")
            table = gr.Dataframe(label="Accuracy per field per prompt", interactive=False, elem_id="exp-table")
            plot = gr.Image(label="Accuracy per field per prompt", type="filepath", interactive=False, elem_id="exp-plot")
    drill = gr.Dataframe(label="Where the prompts disagree", interactive=False, wrap=True, max_height=420,
                         elem_id="exp-drill")
    with gr.Accordion("Past runs and comparison", open=False):
        past = gr.Dataframe(history_frame(state), label="Past runs", interactive=False, elem_id="exp-history")
        with gr.Row():
            run_a = gr.Number(None, precision=0, label="Run A", elem_id="exp-run-a")
            run_b = gr.Number(None, precision=0, label="Run B", elem_id="exp-run-b")
            compare = gr.Button("Compare", elem_id="exp-compare")
        diff = gr.Markdown(elem_id="exp-diff")

    @reports_errors
    def run_it(folder_choice, archive_file, ticked, name, style, text, count, request: gr.Request):
        session = getattr(request, "session_hash", None) or "api"
        yield from experiment_updates(state, folder_choice, archive_file, ticked, name, style, text, count, session)

    def stop_it(request: gr.Request) -> None:
        state.request_stop(getattr(request, "session_hash", None) or "api")
        gr.Info("Stopping after the work in progress…")

    run.click(run_it, [folder, archive, styles, edited_name, edited_style, edited_text, limit],
              [progress, summary, table, plot, drill, past], api_name="experiment", concurrency_id=MODEL_QUEUE,
              concurrency_limit=state.model_concurrency(), show_progress="minimal", api_visibility="private")
    stop.click(stop_it, None, None, api_name="experiment_stop", concurrency_limit=None, show_progress="hidden",
               api_visibility="private")
    edited_style.change(prompt_text, edited_style, edited_text, api_name="experiment_prompt_text",
                        show_progress="hidden", api_visibility="private")
    folder.focus(lambda: gr.update(choices=folder_choices(state)), None, folder, api_name="experiment_folders",
                 show_progress="hidden", api_visibility="private")
    compare.click(reports_errors(lambda a, b: compare_markdown(state, a, b)), [run_a, run_b], diff,
                  api_name="experiment_compare", show_progress="hidden", api_visibility="private")

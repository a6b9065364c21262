"""Tab 4 — Batch compliance: many files, a ZIP or a server folder -> a table that fills as
documents finish, a summary, a verdict chart, CSV and XLSX downloads, Stop and Resume, and a
detail view of any row.

`llama_vision.batch.run_batch` does the work (crash-safe CSV, XLSX, summary, one Result JSON per
document); `ui.batch_run` runs it in a worker thread tied to the client, in a run folder
(`ui.batch_folder`) that Resume carries on in. While it runs the page gets the verdict tally and
the latest LIVE_ROWS rows (a constant cost per update, however long the batch); the whole table
comes at the end. The table and summary are drawn by `ui.batch_views`, a row's detail by
`ui.batch_detail`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision.ui import batch_detail, batch_folder, evidence_view, tab_single
from llama_vision.ui.batch_run import BatchRun, RunBusy
from llama_vision.ui.batch_views import (  # noqa: F401 - LIVE_ROWS, HEADINGS: the tab's public names
    DATATYPES,
    FILTER_CHOICES,
    HEADINGS,
    LIVE_ROWS,
    VERDICT_COLOURS,
    CHART_LABELS,
    LiveTable,
    files_summary,
    progress_html,
    summary_markdown,
    table,
    verdict_counts,
)
from llama_vision.ui.common import FILE_TYPES, output_dir, path_of, public_message
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors

if TYPE_CHECKING:
    from llama_vision.ui.state import AppState

ROOT_FOLDER = "(the whole batch folder)"
FILES_HEIGHT = 150  # px: the upload box scrolls inside this instead of growing with every file
DETAIL_PAGE_LABEL = "First page, with where each field was read"


def folder_choices(batch_dir: str) -> list[str]:
    """Sub-folders of LLAMA_VISION_BATCH_DIR a user may pick (never anything outside it)."""
    root = Path(batch_dir).expanduser() if batch_dir else None
    if not root or not root.is_dir():
        return []
    folders = [ROOT_FOLDER]
    for current, dirs, _ in os.walk(root):
        # links are not followed (as batch._scan_folder): a linked folder is neither listed nor walked
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (Path(current) / d).is_symlink())
        for name in dirs:
            folders.append((Path(current) / name).relative_to(root).as_posix())
        if len(folders) > 200:
            break
    return folders


def resolve_folder(batch_dir: str, choice: str) -> Path:
    if not batch_dir:  # empty means "uploads only"; Path("").resolve() would be the working directory
        raise gr.Error("No batch folder is set up (LLAMA_VISION_BATCH_DIR is empty): upload documents or a ZIP.",
                       title="Not allowed")
    root = Path(batch_dir).expanduser().resolve()
    target = root if choice in (ROOT_FOLDER, "", None) else (root / choice).resolve()
    if not target.is_relative_to(root) or not target.is_dir():
        raise gr.Error(f"{choice!r} is not a folder inside the batch folder (LLAMA_VISION_BATCH_DIR).",
                       title="Not allowed")  # the server's own path stays on the server
    return target


def stage_uploads(paths: list[str], target: Path) -> list[Path]:
    """Copy uploads (each in its own Gradio temp folder) side by side, so the table's `file`
    column shows plain file names; same-named uploads get a numeric suffix."""
    target.mkdir(parents=True, exist_ok=True)
    staged = []
    for source in paths:
        name = Path(source).name
        destination = target / name
        n = 2
        while destination.exists():
            destination = target / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        shutil.copyfile(source, destination)
        staged.append(destination)
    return staged


def batch_updates(state: AppState, files: Any, folder_choice: str | None, verdict: str,
                  session: str) -> Iterator[tuple[Any, ...]]:
    """The Run button's outputs: a new run folder, then `run_updates`."""
    work = output_dir()
    try:
        inputs = collect_sources(state, files, folder_choice, work)
        run = batch_folder.RunFolder(work)
        run.record_inputs(inputs)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    batch_folder.remember(session, run)  # this session's previous run folder goes
    for note in getattr(inputs, "notes", []):
        gr.Info(public_message(note))
    yield from run_updates(state, run, inputs, verdict, session, resume=False)


def resume_updates(state: AppState, run_id: Any, verdict: str, session: str) -> Iterator[tuple[Any, ...]]:
    """The Resume button's outputs: the run `run_id` carried on in its own folder; the documents
    already in its CSV are kept as they are and not read again."""
    try:
        run = batch_folder.open_run(run_id)
        inputs = run.inputs()
    except batch_folder.RunGone:
        raise gr.Error("There is no batch to resume: its folder is gone (run folders are kept for a few hours and "
                       "until this page's next run). Press Run batch to start again.", title="Nothing to resume") from None
    missing = [p for p in inputs if p not in inputs.rejected and not p.is_file()]
    if missing:
        raise gr.Error(f"The last run's documents are no longer on the server ({len(missing)} missing). "
                       "Upload them again and press Run batch.", title="Cannot resume")
    batch_folder.remember(session, run)
    yield from run_updates(state, run, inputs, verdict, session, resume=True)


def run_updates(state: AppState, run: batch_folder.RunFolder, inputs: Any, verdict: str, session: str, *,
                resume: bool) -> Iterator[tuple[Any, ...]]:
    """"starting", one update per bunch of finished documents (the tally and the latest LIVE_ROWS
    rows), then the summary, downloads and the whole table. The last output is the run's id,
    which the page keeps for Resume and the row detail."""
    from llama_vision import batch

    session_stop = state.stop_flag(session)
    session_stop.clear()
    run.mark("running")  # before the worker starts: a short run may end (and say "done") at once
    try:
        worker = BatchRun(inputs, engine=state.engine, work=run.path, session_stop=session_stop,
                          resume=resume).start()
    except RunBusy:
        raise gr.Error("This batch is still running: wait for it to finish, or press Stop first.",
                       title="Already running") from None
    live = LiveTable(len(inputs))
    skip = gr.skip()
    yield (progress_html(0, live.total, "resuming…" if resume else "starting…"), skip, skip, skip, skip, skip,
           [], run.run_id)
    for bunch in worker.updates():  # O(new rows) per update: only the last LIVE_ROWS are sent
        live.add(bunch)
        yield (progress_html(live.done, live.total, live.note()), skip, live.chart(), skip, skip,
               live.frame(verdict), skip, skip)
    report = worker.summary()
    rows = batch.read_rows(worker.out_csv)  # the durable table is the truth (keys relative to the inputs)
    if resume and not report.processed and not report.stopped:
        gr.Info("Every document of that batch was already done: nothing was read again.")
    yield (
        progress_html(report.processed + report.skipped, report.total, "stopped" if report.stopped else "done"),
        summary_markdown(report.summary, report.stopped, resumed=report.skipped if resume else 0),
        verdict_counts(rows),
        str(worker.out_csv),
        str(worker.out_xlsx) if worker.out_xlsx.is_file() else None,
        table(rows, verdict),
        rows,
        run.run_id,
    )


def collect_sources(state: AppState, files: Any, folder_choice: str | None, work: Path) -> Any:
    """Uploads (copied into the run folder) or a folder inside the batch folder -> batch inputs."""
    from llama_vision import batch

    if files:
        paths = [path_of(f) for f in (files if isinstance(files, list) else [files])]
        sources: Any = stage_uploads([p for p in paths if p], work / "inputs")
    elif folder_choice:
        sources = resolve_folder(state.settings.batch_dir, folder_choice)
    else:
        raise gr.Error("Upload documents or a ZIP, or pick a folder.", title="Nothing to run")
    return batch.collect_inputs(sources, settings=state.settings, work_dir=work / "unzipped")


def open_row(state: AppState, run_id: Any, row_value: Any) -> tuple[Any, ...]:
    """A selected table row -> the detail view's outputs (visible box, heading, page with boxes,
    fields with confidence, compliance and review, and the page's view for field-row clicks)."""
    key = row_value[0] if isinstance(row_value, (list, tuple)) and row_value else None
    if not key:
        return (gr.update(visible=False), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
    try:
        detail = batch_detail.row_detail(run_id, str(key), state.settings)
    except batch_detail.NoDetail as why:
        raise gr.Error(str(why), title="Cannot open this row") from None
    heading = detail.heading + (f"\n\n> {detail.note}" if detail.note else "")
    page = tab_single.evidence_update(detail.view, DETAIL_PAGE_LABEL) if detail.view else gr.update(
        value=None, label=DETAIL_PAGE_LABEL)
    return (gr.update(visible=True), heading, page, detail.fields, detail.verdicts_html, detail.view)


def select_detail_field(view: dict[str, Any] | None, event: gr.SelectData) -> tuple[Any, Any]:
    """A click on a field row of the detail shows only that field's box; again, every box: the
    Single tab's handler, with the detail's label."""
    return tab_single.select_field(view, event, DETAIL_PAGE_LABEL)


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "api"


def _layout(state: AppState) -> dict[str, Any]:
    """Run / Stop / Resume on top; the compact upload box beside the progress, summary and chart;
    the filter, the table and the row detail below."""
    ui: dict[str, Any] = {}
    with gr.Row(elem_id="batch-actions"):
        ui["run"] = gr.Button("Run batch", variant="primary", size="lg", elem_id="batch-run")
        ui["stop"] = gr.Button("Stop", variant="stop", size="lg", elem_id="batch-stop")
        ui["resume"] = gr.Button("Resume last run", variant="secondary", size="lg", elem_id="batch-resume")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            ui["uploads"] = gr.File(label="Documents or a ZIP", file_count="multiple", file_types=FILE_TYPES + [".zip"],
                                    elem_id="batch-files", height=FILES_HEIGHT)
            with gr.Accordion("No files chosen", open=False, elem_id="batch-file-list") as names_box:
                ui["names"] = gr.HTML(elem_id="batch-file-names")
            ui["names_box"] = names_box
            ui["folder"] = gr.Dropdown(folder_choices(state.settings.batch_dir), value=None,
                                       label="…or a folder inside the batch folder", visible=bool(state.settings.batch_dir),
                                       allow_custom_value=True, elem_id="batch-folder")
        with gr.Column(scale=3, min_width=420):
            ui["progress"] = gr.HTML(progress_html(0, 0), elem_id="batch-progress-box")
            ui["summary"] = gr.Markdown(elem_id="batch-summary")
            with gr.Row():
                ui["csv"] = gr.DownloadButton("Download CSV", value=None, elem_id="batch-csv")
                ui["xlsx"] = gr.DownloadButton("Download XLSX", value=None, elem_id="batch-xlsx")
            ui["chart"] = gr.BarPlot(x="verdict", y="documents", color="verdict", color_map=VERDICT_COLOURS,
                                     title="Documents per verdict", height=240, y_lim=[0, None],
                                     sort=list(CHART_LABELS.values()), elem_id="batch-chart")
    ui["filter"] = gr.Dropdown(FILTER_CHOICES, value="all", label="Show", elem_id="batch-filter")
    ui["results"] = gr.Dataframe(headers=HEADINGS, datatype=DATATYPES, label="Results (select a row to open it)",
                                 interactive=False, wrap=True, elem_id="batch-table", elem_classes="lv-table",
                                 max_height=640, show_search="filter")
    with gr.Column(visible=False, elem_id="batch-detail") as detail_box:
        ui["detail_heading"] = gr.Markdown(elem_id="batch-detail-heading")
        with gr.Row(equal_height=False):
            ui["detail_page"] = gr.AnnotatedImage(label=DETAIL_PAGE_LABEL,
                                                  elem_id="batch-detail-page", height=520, min_width=320)
            with gr.Column(min_width=320):
                ui["detail_fields"] = gr.Dataframe(headers=evidence_view.EVIDENCE_COLUMNS, label=tab_single.FIELDS_LABEL,
                                                   interactive=False, wrap=True, elem_classes="lv-table",
                                                   column_widths=["27%", "35%", "19%", "19%"],
                                                   elem_id="batch-detail-fields")
                ui["detail_verdicts"] = gr.HTML(elem_id="batch-detail-verdicts")
    ui["detail_box"] = detail_box
    ui["detail_view"] = gr.State(None)  # the opened row's page view, as the Single tab keeps its own
    ui["rows"] = gr.State([])
    ui["run_id"] = gr.State(None)  # this page's run, for Resume and the row detail
    ui["kept_run"] = gr.BrowserState(None, storage_key="llama_vision_batch_run")  # ... after a reload too
    return ui


def build(state: AppState) -> None:
    ui = _layout(state)
    outputs = [ui["progress"], ui["summary"], ui["chart"], ui["csv"], ui["xlsx"], ui["results"], ui["rows"],
               ui["run_id"]]

    @reports_errors
    def run_batch(files: Any, folder_choice: str | None, verdict: str, request: gr.Request):
        yield from batch_updates(state, files, folder_choice, verdict, _session(request))

    @reports_errors
    def resume_batch(run_id: Any, verdict: str, request: gr.Request):
        yield from resume_updates(state, run_id, verdict, _session(request))

    def stop_batch(request: gr.Request) -> None:
        state.request_stop(_session(request))
        gr.Info("Stopping after the document in progress… (Resume carries on later)")

    def filter_rows(rows: list[dict[str, Any]], verdict: str) -> pd.DataFrame:
        return table(rows or [], verdict)

    def show_files(files: Any) -> tuple[Any, str]:
        label, names = files_summary(files)
        return gr.update(label=label), names

    @reports_errors
    def select_row(page_run: Any, kept_run: Any, event: gr.SelectData) -> tuple[Any, ...]:
        return open_row(state, page_run or kept_run, event.row_value)

    model_event = dict(concurrency_id=MODEL_QUEUE, concurrency_limit=state.model_concurrency(),
                       show_progress="minimal")
    ui["run"].click(run_batch, [ui["uploads"], ui["folder"], ui["filter"]], outputs, api_name="batch_run",
                  **model_event)  # the page's event (private, like every page event); the public /batch is ui.api's
    ui["resume"].click(resume_batch, [ui["kept_run"], ui["filter"]], outputs, api_name="batch_resume", **model_event)
    ui["stop"].click(stop_batch, None, None, api_name="batch_stop", concurrency_limit=None, show_progress="hidden")
    ui["run_id"].change(lambda run_id: run_id, ui["run_id"], ui["kept_run"], api_name="batch_keep_run",
                        api_visibility="private", show_progress="hidden")
    ui["uploads"].change(show_files, ui["uploads"], [ui["names_box"], ui["names"]], api_name="batch_files",
                         api_visibility="private", show_progress="hidden")
    ui["folder"].focus(lambda: gr.update(choices=folder_choices(state.settings.batch_dir)), None, ui["folder"],
                       api_name="batch_folders", show_progress="hidden", api_visibility="private")
    ui["filter"].change(filter_rows, [ui["rows"], ui["filter"]], ui["results"], api_name="batch_filter",
                        show_progress="hidden", api_visibility="private")
    ui["results"].select(select_row, [ui["run_id"], ui["kept_run"]],
                         [ui["detail_box"], ui["detail_heading"], ui["detail_page"], ui["detail_fields"],
                          ui["detail_verdicts"], ui["detail_view"]], api_name="batch_row", api_visibility="private",
                         show_progress="minimal")
    ui["detail_fields"].select(select_detail_field, ui["detail_view"], [ui["detail_page"], ui["detail_view"]],
                               api_name="batch_row_field", api_visibility="private", show_progress="hidden")

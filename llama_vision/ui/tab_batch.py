"""Tab 4 — Batch compliance: many files, a ZIP or a server folder -> a table that fills as
documents finish, a summary, a verdict chart, CSV and XLSX downloads, and a Stop button.

`llama_vision.batch.run_batch` does the work (crash-safe CSV, XLSX, summary); `ui.batch_run` runs
it in a worker thread tied to the client. While it runs the page gets the verdict tally and the
latest LIVE_ROWS rows (a constant cost per update, however long the batch); the whole table comes
at the end.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision.ui import views
from llama_vision.ui.batch_run import BatchRun, remove_scratch
from llama_vision.ui.common import FILE_TYPES, output_dir, path_of, public_message
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from llama_vision.ui.state import AppState

# (table heading, batch.COLUMNS name)
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("File", "file"), ("Type", "document_type"), ("Supplier", "supplier_name"), ("ABN", "supplier_abn"),
    ("Date", "date"), ("Total", "total"), ("GST", "gst"), ("Verdict", "verdict"), ("Score", "score"),
    ("Missing elements", "missing_elements"), ("Error", "error"),
)
HEADINGS = [h for h, _ in TABLE_COLUMNS]
VERDICTS = ("compliant", "non_compliant", "not_required", "review", "error")
FILTER_CHOICES = [("All documents", "all")] + [(views.VERDICT_STYLE[v][0], v) for v in VERDICTS]
# short labels for the chart's axis (the table and summary use views.VERDICT_STYLE's full words)
CHART_LABELS = {"compliant": "Compliant", "non_compliant": "Not compliant", "not_required": "Not required",
                "review": "Review", "error": "Error"}
VERDICT_COLOURS = {"Compliant": "#2e9d5b", "Not compliant": "#d64545", "Not required": "#6b86a8",
                   "Review": "#e0a526", "Error": "#8a1111"}
ROOT_FOLDER = "(the whole batch folder)"
LIVE_ROWS = 50  # rows the table shows while a batch runs (the latest); the whole table comes at the end


def row_verdict(row: dict[str, Any]) -> str:
    return "error" if row.get("status") == "error" else str(row.get("verdict") or "review")


def table(rows: list[dict[str, Any]], verdict: str = "all") -> pd.DataFrame:
    shown = [r for r in rows if verdict in ("all", None, "") or row_verdict(r) == verdict]
    data = []
    for row in shown:
        cells = []
        for _, name in TABLE_COLUMNS:
            value = row.get(name)
            if name == "verdict":
                value = views.VERDICT_STYLE.get(row_verdict(row), (value, ""))[0]
            elif name == "document_type":
                value = views.document_label(value) if value else None
            elif name == "score" and value is not None:
                value = int(value)
            elif name in ("total", "gst", "supplier_abn") and value:
                value = views.show_value(name, value)
            elif name == "missing_elements" and value:
                value = ", ".join(part.replace("_", " ") for part in str(value).split(";"))
            elif name == "error" and value:
                value = public_message(str(value))
            cells.append("" if value is None else value)
        data.append(cells)
    return pd.DataFrame(data, columns=HEADINGS)


def verdict_counts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Documents per verdict, every verdict always present (zero bars too): the chart keeps the
    same categories and colours while the table fills."""
    return counts_frame(Counter(row_verdict(row) for row in rows))


def counts_frame(tally: Counter[str]) -> pd.DataFrame:
    counts = {CHART_LABELS[v]: 0 for v in VERDICTS}
    for verdict, n in tally.items():
        label = CHART_LABELS.get(verdict, verdict)
        counts[label] = counts.get(label, 0) + n
    return pd.DataFrame({"verdict": list(counts), "documents": list(counts.values())})


class LiveTable:
    """What the page shows while a batch runs, kept at a constant cost per update: the verdict
    tally and the latest LIVE_ROWS rows, never the whole (growing) table."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tally: Counter[str] = Counter()
        self.latest: deque[dict[str, Any]] = deque(maxlen=LIVE_ROWS)
        self.last_name = ""

    def add(self, bunch: list[tuple[int, int, Any]]) -> None:
        from llama_vision import batch

        for done, total, result in bunch:
            row = batch.flatten_result(result)
            self.tally[row_verdict(row)] += 1
            self.latest.append(row)
            self.done, self.total = done, total
            self.last_name = Path(str(result.file)).name

    def chart(self) -> pd.DataFrame:
        return counts_frame(self.tally)

    def note(self) -> str:
        more = f" (the table shows the latest {LIVE_ROWS} until the end)" if self.done > LIVE_ROWS else ""
        return f"— {self.last_name}{more}"

    def frame(self, verdict: str = "all") -> pd.DataFrame:
        return table(list(self.latest), verdict)


def progress_html(done: int, total: int, note: str = "") -> str:
    share = done / total if total else 0
    return (f'<div id="batch-progress"><progress value="{done}" max="{max(total, 1)}" '
            f'style="width:100%;height:1.1rem"></progress><div>{done} of {total} documents '
            f"({share:.0%}) {esc(note)}</div></div>")


def summary_markdown(summary: dict[str, Any], stopped: bool = False) -> str:
    verdicts = summary.get("by_verdict") or {}
    lines = [f"### {summary.get('documents', 0)} documents — {summary.get('ok', 0)} read, "
             f"{summary.get('errors', 0)} failed" + (" (stopped early)" if stopped else "")]
    if verdicts:
        lines.append(" · ".join(f"{views.VERDICT_STYLE.get(k, (k,))[0]}: **{v}**" for k, v in verdicts.items()))
    lines.append(f"GST claimable on compliant documents: **${summary.get('gst_claimable', '0.00')}**")
    if summary.get("mean_seconds") is not None:
        lines.append(f"Time per document: **{summary['mean_seconds']:.2f} s** "
                     f"(total {summary.get('total_seconds') or 0:.1f} s)")
    return "\n\n".join(lines)


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
    """The batch event's outputs: "starting", one update per bunch of finished documents (the
    tally and the latest LIVE_ROWS rows), then the summary, downloads and the whole table."""
    from llama_vision import batch

    work = output_dir()
    try:
        inputs = collect_sources(state, files, folder_choice, work)
    except BaseException:
        remove_scratch(work)
        raise
    for note in getattr(inputs, "notes", []):
        gr.Info(public_message(note))
    session_stop = state.stop_flag(session)
    session_stop.clear()
    run = BatchRun(inputs, engine=state.engine, work=work, session_stop=session_stop).start()
    live = LiveTable(len(inputs))
    yield (progress_html(0, live.total, "starting…"), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), [])
    for bunch in run.updates():  # O(new rows) per update: only the last LIVE_ROWS are sent
        live.add(bunch)
        yield (progress_html(live.done, live.total, live.note()), gr.skip(),
               live.chart(), gr.skip(), gr.skip(), live.frame(verdict), gr.skip())
    report = run.summary()
    rows = batch.read_rows(run.out_csv)  # the durable table is the truth (keys relative to the inputs)
    yield (
        progress_html(report.processed + report.skipped, report.total, "stopped" if report.stopped else "done"),
        summary_markdown(report.summary, report.stopped),
        verdict_counts(rows),
        str(run.out_csv),
        str(run.out_xlsx) if run.out_xlsx.is_file() else None,
        table(rows, verdict),
        rows,
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


def build(state: AppState) -> None:
    folders = folder_choices(state.settings.batch_dir)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            uploads = gr.File(label="Documents or a ZIP", file_count="multiple", file_types=FILE_TYPES + [".zip"],
                              elem_id="batch-files")
            folder = gr.Dropdown(folders, value=None, label="…or a folder inside the batch folder",
                                 visible=bool(state.settings.batch_dir), allow_custom_value=True,
                                 elem_id="batch-folder")
            with gr.Row():
                run = gr.Button("Run batch", variant="primary", size="lg", elem_id="batch-run")
                stop = gr.Button("Stop", variant="stop", size="lg", elem_id="batch-stop")
        with gr.Column(scale=3, min_width=420):
            progress = gr.HTML(progress_html(0, 0), elem_id="batch-progress-box")
            summary = gr.Markdown(elem_id="batch-summary")
            chart = gr.BarPlot(x="verdict", y="documents", color="verdict", color_map=VERDICT_COLOURS,
                               title="Documents per verdict", height=240, y_lim=[0, None],
                               sort=list(CHART_LABELS.values()),
                               elem_id="batch-chart")
            with gr.Row():
                csv_button = gr.DownloadButton("Download CSV", value=None, elem_id="batch-csv")
                xlsx_button = gr.DownloadButton("Download XLSX", value=None, elem_id="batch-xlsx")
    verdict_filter = gr.Dropdown(FILTER_CHOICES, value="all", label="Show", elem_id="batch-filter")
    results = gr.Dataframe(headers=HEADINGS, label="Results", interactive=False, wrap=True, elem_id="batch-table",
                           column_widths=["15%", "8%", "13%", "10%", "9%", "7%", "6%", "10%", "5%", "9%", "8%"],
                           elem_classes="lv-table",
                           max_height=640, show_search="filter")
    rows_state = gr.State([])

    @reports_errors
    def run_batch(files: Any, folder_choice: str | None, verdict: str, request: gr.Request):
        yield from batch_updates(state, files, folder_choice, verdict, getattr(request, "session_hash", None) or "api")

    def stop_batch(request: gr.Request) -> None:
        state.request_stop(getattr(request, "session_hash", None) or "api")
        gr.Info("Stopping after the document in progress…")

    def filter_rows(rows: list[dict[str, Any]], verdict: str) -> pd.DataFrame:
        return table(rows or [], verdict)

    run.click(
        run_batch,
        [uploads, folder, verdict_filter],
        [progress, summary, chart, csv_button, xlsx_button, results, rows_state],
        api_name="batch",
        concurrency_id=MODEL_QUEUE,
        concurrency_limit=state.model_concurrency(),
        show_progress="minimal",
    )
    stop.click(stop_batch, None, None, api_name="batch_stop", concurrency_limit=None, show_progress="hidden")
    folder.focus(lambda: gr.update(choices=folder_choices(state.settings.batch_dir)), None, folder,
                 api_name="batch_folders", show_progress="hidden", api_visibility="private")
    verdict_filter.change(filter_rows, [rows_state, verdict_filter], results, api_name="batch_filter",
                          show_progress="hidden", api_visibility="private")

"""Presentation of a batch: the results table (coloured verdict cells), the verdict tally, the
live table, the progress bar, the summary with wall-clock times, and the compact file list.

Pure functions with no Gradio import (tested without a browser); the batch's rows come from
`batch.flatten_result` / `batch.read_rows`, and nothing here decides a verdict.
"""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path
from typing import Any

import pandas as pd

from llama_vision.ui import views
from llama_vision.ui.common import path_of, public_message
from llama_vision.ui.views import esc

# (table heading, batch.COLUMNS name, Dataframe datatype); the verdict next to the file: the first thing read
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("File", "file", "str"), ("Verdict", "verdict", "html"), ("Type", "document_type", "str"),
    ("Supplier", "supplier_name", "str"), ("ABN", "supplier_abn", "str"), ("Date", "date", "str"),
    ("Total", "total", "str"), ("GST", "gst", "str"), ("Review", "review_reasons", "str"), ("Score", "score", "str"),
    ("Missing elements", "missing_elements", "str"), ("Error", "error", "str"),
)
HEADINGS = [h for h, _, _ in TABLE_COLUMNS]
DATATYPES = [d for _, _, d in TABLE_COLUMNS]
VERDICTS = ("compliant", "non_compliant", "not_required", "review", "error")
NEEDS_REVIEW = "needs_review"  # the filter's key for rows the review routing flagged
FILTER_CHOICES = ([("All documents", "all")] + [(views.VERDICT_STYLE[v][0], v) for v in VERDICTS]
                  + [("Needs a look (low confidence or missing)", NEEDS_REVIEW)])
# short labels for the chart's axis (the table and summary use views.VERDICT_STYLE's full words)
CHART_LABELS = {"compliant": "Compliant", "non_compliant": "Not compliant", "not_required": "Not required",
                "review": "Review", "error": "Error"}
VERDICT_COLOURS = {"Compliant": "#2e9d5b", "Not compliant": "#d64545", "Not required": "#6b86a8",
                   "Review": "#e0a526", "Error": "#8a1111"}
# verdict -> the cell's colour class (layout.CSS: each meets WCAG AA with its text colour)
CELL_CLASSES = {"compliant": "lv-ok", "non_compliant": "lv-bad", "not_required": "lv-neutral",
                "review": "lv-warn", "error": "lv-err"}
LIVE_ROWS = 50  # rows the table shows while a batch runs (the latest); the whole table comes at the end
NBSP = "\u00a0"


def row_verdict(row: dict[str, Any]) -> str:
    return "error" if row.get("status") == "error" else str(row.get("verdict") or "review")


def verdict_cell(row: dict[str, Any]) -> str:
    """The Verdict cell: the verdict's words in a coloured chip (the words carry it, not only colour)."""
    verdict = row_verdict(row)
    label = views.VERDICT_STYLE.get(verdict, (verdict, ""))[0]
    css = CELL_CLASSES.get(verdict, "lv-neutral")
    return f'<span class="lv-chip lv-verdict {css}" data-verdict="{esc(verdict)}">{esc(label)}</span>'


def _shown(rows: list[dict[str, Any]], verdict: str | None) -> list[dict[str, Any]]:
    if verdict in ("all", None, ""):
        return list(rows)
    if verdict == NEEDS_REVIEW:
        return [r for r in rows if r.get("needs_review")]
    return [r for r in rows if row_verdict(r) == verdict]


def _cell(name: str, row: dict[str, Any]) -> Any:
    value = row.get(name)
    if name == "verdict":
        return verdict_cell(row)
    if value is None or value == "":
        return ""
    if name == "document_type":
        return views.document_label(value)
    if name == "score":
        return str(int(value))
    if name in ("total", "gst", "supplier_abn", "date"):  # one token: never broken across lines
        return views.show_value(name, value).replace(" ", NBSP)
    if name == "missing_elements":
        return ", ".join(part.replace("_", " ") for part in str(value).split(";"))
    if name == "review_reasons":
        return str(value).replace(" | ", "; ") if row.get("needs_review") else ""
    if name == "error":
        return public_message(str(value))
    return value


def table(rows: list[dict[str, Any]], verdict: str = "all") -> pd.DataFrame:
    data = [[_cell(name, row) for _, name, _ in TABLE_COLUMNS] for row in _shown(rows, verdict)]
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
            f'style="width:100%;height:1.1rem" aria-label="Documents done"></progress><div>{done} of {total} '
            f"documents ({share:.0%}) {esc(note)}</div></div>")


def duration_text(seconds: float) -> str:
    """3.2 -> "3.2 s", 192 -> "3 min 12 s", 7380 -> "2 h 3 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def times_line(summary: dict[str, Any]) -> str | None:
    """"3 min 12 s wall, 0.9 s per document": the wall clock is the time waited; the per-document
    mean is each document's own time (documents run side by side, so their sum can exceed the wall)."""
    wall, mean, work = summary.get("wall_seconds"), summary.get("mean_seconds"), summary.get("total_seconds")
    parts = []
    if wall is not None:
        parts.append(f"**{duration_text(wall)}** wall clock")
    if mean is not None:
        parts.append(f"**{mean:.2f} s** per document")
    if work is not None and wall is not None and work > wall * 1.05:
        parts.append(f"{duration_text(work)} of document time, run side by side")
    return "Time: " + ", ".join(parts) if parts else None


def summary_markdown(summary: dict[str, Any], stopped: bool = False, resumed: int = 0) -> str:
    verdicts = summary.get("by_verdict") or {}
    lines = [f"### {summary.get('documents', 0)} documents — {summary.get('ok', 0)} read, "
             f"{summary.get('errors', 0)} failed" + (" (stopped early: Resume carries on)" if stopped else "")]
    if verdicts:
        lines.append(" · ".join(f"{views.VERDICT_STYLE.get(k, (k,))[0]}: **{v}**" for k, v in verdicts.items()))
    if summary.get("review_summary"):
        lines.append(esc(summary["review_summary"]))
    lines.append(f"GST claimable on compliant documents: **{views.money_text(summary.get('gst_claimable') or '0')}**")
    times = times_line(summary)
    if times:
        lines.append(times + (f" (this run; {resumed} done before the resume)" if resumed else ""))
    return "\n\n".join(lines)


def _size_text(size: int) -> str:
    return f"{size / 1024**2:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


def files_summary(files: Any) -> tuple[str, str]:
    """(accordion label, names list HTML) for the upload box: "20 files, 14.2 MB" and the names,
    so twenty uploads take one line, not a screen."""
    values = files if isinstance(files, list) else ([files] if files else [])
    paths = [p for p in (path_of(f) for f in values) if p]
    if not paths:
        return "No files chosen", ""
    sizes = []
    for path in paths:
        try:
            sizes.append(Path(path).stat().st_size)
        except OSError:
            sizes.append(0)
    label = f"{len(paths)} file{'s' if len(paths) != 1 else ''}, {_size_text(sum(sizes))} — show names"
    items = "".join(f"<li>{esc(Path(p).name)} <span class=\"lv-muted\">{_size_text(s)}</span></li>"
                    for p, s in zip(paths, sizes, strict=True))
    return label, f'<ol class="lv-file-names">{items}</ol>'

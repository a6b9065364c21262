"""Views of a batch's rows: the summary (counts, GST claimable, times), pandas frames for the UI,
and the XLSX workbook."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.result import Result
from llama_vision.results_table import (
    BOOL_COLUMNS,
    COLUMNS,
    FLOAT_COLUMNS,
    NUMBER_TEXT_COLUMNS,
    flatten_result,
    unwritable_error,
)
from llama_vision.schema import fields_of_kind

if TYPE_CHECKING:
    import pandas as pd

#: Amounts shown with two places in the workbook (a litre price keeps its third place).
_MONEY = fields_of_kind("money")


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", "").lstrip("$"))
    except InvalidOperation:
        return None


def _as_float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def summarise(rows: Sequence[dict[str, Any]], *, wall_seconds: float | None = None) -> dict[str, Any]:
    """Counts per verdict and document type, GST claimable on compliant documents, times.

    `gst_claimable` sums `gst` over rows with verdict `compliant` (a valid tax invoice backs the
    credit); `gst_not_required` sums it over `not_required` rows (purchases of $82.50 or less,
    where no tax invoice is needed but a record is). A row marked `duplicate_of` another is counted
    in `duplicates` and left out of both sums, so each document's GST counts once. Money is
    returned as "12.30" strings.

    Times: `mean_seconds` and `total_seconds` are over the rows' own per-document times (their sum
    is the work done, more than the time waited when documents run side by side); `wall_seconds`
    is the run's clock time, when the caller measured one (None from rows alone).
    """
    ok = [r for r in rows if r.get("status") == "ok"]
    originals = [r for r in ok if not r.get("duplicate_of")]  # a duplicate's GST is the original's
    by_verdict = Counter(str(r.get("verdict") or "unknown") for r in ok)
    by_type = Counter(str(r.get("document_type") or "unknown") for r in ok)

    def gst_sum(verdict: str) -> Decimal:
        return sum((_as_decimal(r.get("gst")) or Decimal(0) for r in originals if r.get("verdict") == verdict),
                   Decimal(0))

    seconds = [s for s in (_as_float(r.get("seconds")) for r in rows) if s is not None]
    return {
        "documents": len(rows),
        "ok": len(ok),
        "errors": len(rows) - len(ok),
        "by_verdict": dict(sorted(by_verdict.items())),
        "by_document_type": dict(sorted(by_type.items())),
        "gst_claimable": f"{gst_sum('compliant').quantize(Decimal('0.01'))}",
        "gst_not_required": f"{gst_sum('not_required').quantize(Decimal('0.01'))}",
        "duplicates": len(ok) - len(originals),
        "review_summary": _review_line(ok),
        "mean_seconds": round(statistics.fmean(seconds), 3) if seconds else None,
        "total_seconds": round(sum(seconds), 3) if seconds else None,
        "wall_seconds": round(wall_seconds, 3) if wall_seconds is not None else None,
    }


def _review_line(ok: Sequence[dict[str, Any]]) -> str:
    """"12 of 200 need a look: 7 low-confidence totals, 5 missing ABNs" over the readable documents."""
    from llama_vision.result import Review
    from llama_vision.review import summary
    from llama_vision.results_table import SENTENCE_SEPARATOR

    reviews = [Review(needed=bool(r.get("needs_review")),
                      reasons=str(r.get("review_reasons") or "").split(SENTENCE_SEPARATOR) if r.get("review_reasons") else [])
               for r in ok]
    return summary(reviews)


def results_frame(rows: Sequence[dict[str, Any]] | Sequence[Result]) -> pd.DataFrame:
    """A pandas DataFrame with COLUMNS, from flattened rows or Results (for the UI's table)."""
    import pandas as pd

    flat = [flatten_result(r) if isinstance(r, Result) else r for r in rows]
    frame = pd.DataFrame(flat, columns=list(COLUMNS))
    for name in BOOL_COLUMNS:
        frame[name] = frame[name].astype("boolean")
    for name in FLOAT_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    frame["pages"] = pd.to_numeric(frame["pages"], errors="coerce").astype("Int64")
    return frame


def summary_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The summary as a two-column (metric, value) frame for the UI."""
    import pandas as pd

    return pd.DataFrame(_summary_pairs(summary), columns=["metric", "value"])


def _summary_pairs(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = [
        ("documents", summary.get("documents")), ("ok", summary.get("ok")), ("errors", summary.get("errors")),
    ]
    pairs += [(f"verdict: {k}", v) for k, v in summary.get("by_verdict", {}).items()]
    pairs += [(f"type: {k}", v) for k, v in summary.get("by_document_type", {}).items()]
    pairs += [
        ("GST claimable (compliant)", summary.get("gst_claimable")),
        ("GST on purchases <= $82.50", summary.get("gst_not_required")),
        ("duplicates (GST counted once)", summary.get("duplicates", 0)),
        ("review", summary.get("review_summary")),
        ("mean seconds per document", summary.get("mean_seconds")),
        ("sum of per-document seconds", summary.get("total_seconds")),
        ("wall-clock seconds (last run)", summary.get("wall_seconds")),
    ]
    return pairs


def write_xlsx(rows: Sequence[dict[str, Any]], path: str | Path, *, summary: dict[str, Any] | None = None) -> Path:
    """A Results sheet (typed cells, money as numbers with 2 decimals, filters, frozen header) and
    a Summary sheet. Text is always stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise unwritable_error(path, error) from None
    book = Workbook()
    sheet = book.active
    sheet.title = "Results"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = {name: len(name) for name in COLUMNS}
    for row_number, row in enumerate(rows, start=2):
        values = []
        for name in COLUMNS:
            value = row.get(name)
            if name in NUMBER_TEXT_COLUMNS and value is not None:
                number = _as_decimal(value)
                value = float(number) if number is not None else value
            values.append(value)
        sheet.append(values)
        for column, (name, value) in enumerate(zip(COLUMNS, values, strict=True), start=1):
            cell = sheet.cell(row=row_number, column=column)  # sheet.max_row scans every cell: O(n^2)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
            elif name in _MONEY and isinstance(value, float):
                cell.number_format = "0.00"
            widths[name] = max(widths[name], min(len(str(value)) if value is not None else 0, 60))
    for column, name in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = widths[name] + 2
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions

    summary_sheet = book.create_sheet("Summary")
    summary_sheet.append(["metric", "value"])
    for cell in summary_sheet[1]:
        cell.font = Font(bold=True)
    for metric, value in _summary_pairs(summary if summary is not None else summarise(rows)):
        summary_sheet.append([metric, value])
    summary_sheet.column_dimensions["A"].width = 32
    summary_sheet.column_dimensions["B"].width = 16
    temporary = path.with_name(path.name + ".tmp")
    try:
        book.save(temporary)
        os.replace(temporary, path)  # a crash while saving never leaves a half workbook
    except OSError as error:
        raise unwritable_error(path, error) from None
    return path

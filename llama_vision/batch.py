"""Many documents -> one CSV row each (crash-safe), an XLSX workbook and a summary.

- `collect_inputs` turns a folder, a ZIP or a list of files into document paths.
- `run_batch` runs them through `pipeline.extract_many` and appends each finished document to
  the CSV at once (write, flush, fsync), so a killed run loses at most the documents in flight;
  `resume=True` skips every file already in the CSV, so a rerun finishes the job with no lost and
  no duplicated rows. A bad file is a row with `status=error`, never a crash.
- `COLUMNS` and `flatten_result` are the one definition of the table; the UI reuses them
  (`results_frame`) so the CLI's CSV and the UI's table always agree.

CSV format: UTF-8, one line per document (newlines inside values become spaces, so `wc -l`
counts rows and a torn last line is easy to detect), booleans as `true`/`false`, empty cells
for null. Text cells that a spreadsheet would run as a formula (starting with = + - @ or a tab)
get a leading apostrophe; `read_rows` removes it again (see `_escape`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import DocumentError, LlamaVisionError
from llama_vision.fields import ALL_FIELDS, BOOL_FIELDS, MONEY_FIELDS
from llama_vision.result import Result

if TYPE_CHECKING:
    import pandas as pd

    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine

__all__ = [
    "COLUMNS",
    "BatchSummary",
    "InputList",
    "collect_inputs",
    "flatten_result",
    "input_keys",
    "read_rows",
    "results_frame",
    "run_batch",
    "summarise",
    "write_xlsx",
]

# -- the table ------------------------------------------------------------------------------

META_COLUMNS: tuple[str, ...] = ("file", "engine", "prompt", "status", "error", "document_type")
FIELD_COLUMNS: tuple[str, ...] = ALL_FIELDS  # "items" is JSON text
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required",
    "missing_elements", "recommendations", "verdict", "score",
)
TAIL_COLUMNS: tuple[str, ...] = ("seconds", "pages", "warnings")
COLUMNS: tuple[str, ...] = META_COLUMNS + FIELD_COLUMNS + COMPLIANCE_COLUMNS + TAIL_COLUMNS

COMPLIANCE_BOOLS = frozenset({"abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required"})
BOOL_COLUMNS = frozenset(BOOL_FIELDS) | COMPLIANCE_BOOLS
FLOAT_COLUMNS = frozenset({"score", "seconds"})
INT_COLUMNS = frozenset({"pages"})
#: Decimal strings ("12.30"); kept as text in rows and frames so "12.30" never shows as 12.3.
NUMBER_TEXT_COLUMNS = frozenset(MONEY_FIELDS) | {"litres"}
TEXT_COLUMNS = frozenset(COLUMNS) - BOOL_COLUMNS - FLOAT_COLUMNS - INT_COLUMNS - NUMBER_TEXT_COLUMNS
#: Lists of codes join with ";" (as asked by spreadsheet users); lists of sentences with " | ".
CODE_SEPARATOR = ";"
SENTENCE_SEPARATOR = " | "

_NEWLINES = re.compile(r"[\r\n]+")
_FORMULA = re.compile(r"^'*[=+\-@\t]")
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@\t]")


def _one_line(text: str) -> str:
    return _NEWLINES.sub(" ", text).strip()


def _escape(value: str) -> str:
    """Defuse spreadsheet formulas in untrusted text (an OCR'd supplier name "=HYPERLINK(...)").

    A value is prefixed with "'" when it starts with a formula character, or with apostrophes
    followed by one, so `_unescape` can always restore the original exactly.
    """
    return "'" + value if _FORMULA.match(value) else value


def _unescape(value: str) -> str:
    return value[1:] if _ESCAPED_FORMULA.match(value) else value


def _total_seconds(timings: dict[str, float]) -> float | None:
    if not timings:
        return None
    if "total" in timings:
        return round(float(timings["total"]), 3)
    return round(sum(float(v) for v in timings.values()), 3)


def flatten_result(result: Result) -> dict[str, Any]:
    """One Result -> one table row keyed by COLUMNS (typed: str, bool, float, int or None)."""
    fields = result.fields or {}
    compliance = result.compliance or {}
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        file=result.file, engine=result.engine, prompt=result.prompt, status=result.status,
        error=_one_line(result.error) if result.error else None, document_type=result.document_type,
    )
    for name in FIELD_COLUMNS:
        value = fields.get(name)
        if name == "items":
            row[name] = json.dumps(value, ensure_ascii=False) if value else None
        elif value is None or isinstance(value, bool):
            row[name] = value
        else:
            row[name] = _one_line(str(value))
    for name in COMPLIANCE_BOOLS:
        row[name] = compliance.get(name)
    row["missing_elements"] = CODE_SEPARATOR.join(compliance.get("missing_elements") or []) or None
    row["recommendations"] = SENTENCE_SEPARATOR.join(_one_line(r) for r in compliance.get("recommendations") or []) or None
    row["verdict"] = compliance.get("verdict")
    row["score"] = float(compliance["score"]) if compliance.get("score") is not None else None
    row["seconds"] = _total_seconds(result.timings)
    row["pages"] = result.pages
    row["warnings"] = SENTENCE_SEPARATOR.join(_one_line(w) for w in result.warnings) or None
    return row


def _to_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if name != "seconds" else f"{value:.3f}"
    text = _one_line(str(value))
    return _escape(text) if name in TEXT_COLUMNS else text


def _from_cell(name: str, text: str) -> Any:
    if text == "":
        return None
    if name in BOOL_COLUMNS:
        return {"true": True, "false": False}.get(text.lower())
    if name in FLOAT_COLUMNS:
        try:
            return float(text)
        except ValueError:
            return None
    if name in INT_COLUMNS:
        try:
            return int(text)
        except ValueError:
            return None
    return _unescape(text) if name in TEXT_COLUMNS else text


def _csv_line(row: dict[str, Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_to_cell(c, row.get(c)) for c in COLUMNS])
    return buffer.getvalue()


def _header_line() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(COLUMNS)
    return buffer.getvalue()


def read_rows(csv_path: str | Path) -> list[dict[str, Any]]:
    """The rows of a batch CSV, typed as `flatten_result` makes them (a torn last line is ignored)."""
    path = Path(csv_path)
    if not path.is_file():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    if tuple(header) != COLUMNS:
        raise DocumentError(
            f"'{path}' is not a results file of this version (its columns differ).",
            hint="Pass another --out file, or move this one away and start again.",
        )
    return [
        {name: _from_cell(name, cell) for name, cell in zip(COLUMNS, cells, strict=False)}
        for cells in reader
        if cells
    ]


# -- inputs ---------------------------------------------------------------------------------


class InputList(list):
    """`list[Path]` plus what collecting found on the way (the batch turns `rejected` into rows).

    - `base`: the folder row keys are relative to (the input folder, the extraction folder).
    - `rejected`: path -> message for inputs that must not be read (nested ZIPs, oversized
      archive members); `run_batch` writes them as error rows without calling the engine.
    - `notes`: what was skipped and why (shown by the CLI and the UI).
    """

    def __init__(self, paths: Iterable[Path] = (), *, base: Path | None = None) -> None:
        super().__init__(paths)
        self.base = base
        self.rejected: dict[Path, str] = {}
        self.notes: list[str] = []


NESTED_ZIP_MESSAGE = "nested ZIP archives are not expanded. Unzip it and add its files to the batch."


def _document_extensions() -> tuple[str, ...]:
    from llama_vision.documents import DOCUMENT_EXTENSIONS

    return tuple(DOCUMENT_EXTENSIONS)


def _scan_folder(folder: Path, found: InputList) -> None:
    extensions = _document_extensions()
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part == "__MACOSX" for part in relative.parts):
            continue
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".zip":
            found.append(path)
            found.rejected[path] = f"'{relative.as_posix()}': {NESTED_ZIP_MESSAGE}"
        elif suffix in extensions:
            found.append(path)


def _expand_zip(archive: Path, work_dir: Path, settings: Settings, found: InputList, index: int) -> Path:
    from llama_vision.safe_zip import extract_zip

    # One folder per archive; the index keeps two archives with the same name apart.
    stem = re.sub(r"[^\w.-]+", "_", archive.stem) or "archive"
    target = Path(work_dir) / f"{index:02d}-{stem}"
    extraction = extract_zip(archive, target, extensions=_document_extensions(), max_file_bytes=settings.max_file_bytes)
    for path in extraction.files:
        found.append(path)
        if path.suffix.lower() == ".zip":
            found.rejected[path] = f"'{path.relative_to(target).as_posix()}': {NESTED_ZIP_MESSAGE}"
    for path, size in extraction.oversized:
        found.append(path)
        found.rejected[path] = (
            f"'{path.relative_to(target).as_posix()}' is {size / 1024**2:.1f} MB, over the "
            f"{settings.max_file_mb:g} MB limit. Raise LLAMA_VISION_MAX_FILE_MB or shrink the file."
        )
    found.notes.extend(f"{archive.name}: {note}" for note in extraction.notes)
    return target


def collect_inputs(
    source: str | Path | Sequence[str | Path], *, settings: Settings, work_dir: str | Path
) -> InputList:
    """A folder (recursive, documents only, sorted), a ZIP (safely extracted under `work_dir`),
    or a list of files (kept in order; ZIPs among them are expanded) -> document paths.

    Raises DocumentError for a missing folder or archive, an unsafe archive, or no documents.
    Files named in a list are kept even when missing or unsupported: they become error rows.
    """
    work_dir = Path(work_dir)
    if isinstance(source, (str, Path)):
        source_path = Path(source)
        if source_path.is_dir():
            found = InputList(base=source_path.absolute())
            _scan_folder(source_path, found)
            if not found:
                raise DocumentError(
                    f"No documents in '{source_path}'.",
                    hint=f"Put {', '.join(_document_extensions())} files in it (sub-folders are read too).",
                )
            return found
        if not source_path.exists():
            raise DocumentError(f"File not found: '{source_path}'.", hint="Check the path and the spelling.")
        items: list[Path] = [source_path]
    else:
        items = [Path(p) for p in source]

    found = InputList()
    archives = 0
    for item in items:
        if item.suffix.lower() == ".zip" and item.is_file():
            target = _expand_zip(item, work_dir, settings, found, archives)
            archives += 1
            if len(items) == 1:
                found.base = target.absolute()
        else:
            found.append(item)
    if not found:
        raise DocumentError(
            "No documents to process" + (f" in '{items[0]}'." if len(items) == 1 else "."),
            hint=f"Use {', '.join(_document_extensions())} files.",
        )
    return found


def input_keys(paths: Sequence[Path], base: Path | None = None) -> list[str]:
    """The stable name of each input in the CSV's `file` column, and the resume key.

    Relative (POSIX) to `base`, by default the inputs' deepest common folder, so a ZIP extracted
    into a fresh temporary folder on every run still gives the same keys.
    """
    absolute = [Path(os.path.abspath(p)) for p in paths]
    if base is None and absolute:
        base = Path(os.path.commonpath([str(p.parent) for p in absolute]))
    keys = []
    for path in absolute:
        try:
            keys.append(path.relative_to(base).as_posix() if base else path.as_posix())
        except ValueError:
            keys.append(path.as_posix())
    return keys


# -- running --------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int, Result], None]


@dataclass
class BatchSummary:
    """What `run_batch` did: counts for this run, and `summary` over every row in the CSV."""

    out_csv: Path
    xlsx: Path | None
    total: int  # inputs
    processed: int  # rows written by this run
    skipped: int  # already in the CSV (resume)
    errors: int  # error rows written by this run
    stopped: bool  # the stop event ended the run early
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_csv": str(self.out_csv), "xlsx": str(self.xlsx) if self.xlsx else None, "total": self.total,
            "processed": self.processed, "skipped": self.skipped, "errors": self.errors, "stopped": self.stopped,
            "seconds": round(self.seconds, 3), "summary": self.summary, "notes": self.notes,
        }


class _CsvAppender:
    """Appends one line per row and makes it durable before returning (flush + fsync)."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if resume and path.is_file() and path.stat().st_size:
                _drop_torn_line(path)
            fresh = not (resume and path.is_file() and path.stat().st_size)
            self.handle = open(path, "w" if fresh else "a", encoding="utf-8", newline="")
            if fresh:
                self._write(_header_line())
        except OSError as error:
            raise _unwritable(path, error) from None

    def _write(self, line: str) -> None:
        self.handle.write(line)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def append(self, row: dict[str, Any]) -> None:
        self._write(_csv_line(row))

    def close(self) -> None:
        self.handle.close()


def _unwritable(path: Path, error: OSError) -> LlamaVisionError:
    return LlamaVisionError(f"Cannot write '{path}' ({error.strerror or error}).",
                            hint="Pick another output path, or check the folder's permissions and free space.")


def _drop_torn_line(path: Path) -> None:
    """A run killed mid-write may leave half a line: cut it so the rerun redoes that document."""
    with open(path, "rb+") as handle:
        data = handle.read()
        if not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)
            handle.flush()
            os.fsync(handle.fileno())


def _extract_many(paths: list[Path], *, engine: Engine, prompt_style: str, concurrency: int | None):
    """The pipeline seam (tests replace it to simulate slow or crashing runs)."""
    from llama_vision.pipeline import extract_many

    kwargs = {"concurrency": concurrency} if concurrency else {}
    return extract_many(paths, engine=engine, prompt_style=prompt_style, **kwargs)


def _extract_one(path: Path, *, engine: Engine, prompt_style: str) -> Result:
    from llama_vision.pipeline import extract

    return extract(path, engine=engine, prompt_style=prompt_style)


def _results(
    paths: list[Path], *, engine: Engine, prompt_style: str, concurrency: int | None
) -> Iterator[tuple[int, Result]]:
    """extract_many, made unbreakable: if it ever raises, the documents it had not yielded yet
    are done one by one, each failure becoming that document's error row."""
    yielded: set[int] = set()
    stream = _extract_many(paths, engine=engine, prompt_style=prompt_style, concurrency=concurrency)
    try:
        for index, result in stream:
            yielded.add(index)
            yield index, result
        return
    except Exception as error:  # noqa: BLE001 - the batch must go on
        failure = f"{type(error).__name__}: {error}"
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    for index, path in enumerate(paths):
        if index in yielded:
            continue
        try:
            yield index, _extract_one(path, engine=engine, prompt_style=prompt_style)
        except Exception as error:  # noqa: BLE001
            yield index, Result.failed(str(path), engine.name, prompt_style, f"{type(error).__name__}: {error} ({failure})")


def run_batch(
    inputs: Sequence[str | Path],
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    out_csv: str | Path,
    xlsx: str | Path | None = None,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    stop_event: threading.Event | None = None,
    concurrency: int | None = None,
    base: str | Path | None = None,
) -> BatchSummary:
    """Extract every input, appending each finished document to `out_csv` at once.

    - `resume`: keep the rows already in `out_csv` and skip their files (by the `file` key);
      otherwise `out_csv` is started afresh.
    - `progress(done, total, result)` after each row; `done` counts resumed rows too.
    - `stop_event`: checked after each document; when set, the run stops cleanly (the CSV holds
      every finished document; `--resume` carries on later).
    - `base`: the folder keys are relative to (default: the InputList's, else the common folder).
    - The XLSX (Results + Summary sheets) is written at the end from the whole CSV.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in inputs]
    base_path = Path(base) if base else getattr(inputs, "base", None)
    keys = input_keys(paths, base_path)
    rejected: dict[Path, str] = getattr(inputs, "rejected", {})
    out_csv = Path(out_csv)
    done_keys = {row["file"] for row in read_rows(out_csv)} if resume else set()

    todo: list[tuple[Path, str]] = []
    queued: set[str] = set()
    for path, key in zip(paths, keys, strict=True):
        if key in done_keys or key in queued:
            continue
        queued.add(key)
        todo.append((path, key))
    skipped = len(paths) - len(todo)
    total = len(paths)
    prompt_name = prompt_style if engine.capabilities.follows_prompts else "rules"

    writer = _CsvAppender(out_csv, resume=resume)
    processed = errors = 0
    stopped = False

    def record(result: Result, key: str) -> None:
        nonlocal processed, errors
        result = result.model_copy(update={"file": key})
        writer.append(flatten_result(result))
        processed += 1
        errors += result.status == "error"
        if progress:
            progress(skipped + processed, total, result)

    try:
        runnable: list[tuple[Path, str]] = []
        for path, key in todo:
            if path in rejected:
                if stop_event is not None and stop_event.is_set():
                    stopped = True
                    break
                record(Result.failed(key, engine.name, prompt_name, rejected[path]), key)
            else:
                runnable.append((path, key))
        if runnable and not stopped and not (stop_event is not None and stop_event.is_set()):
            stream = _results([p for p, _ in runnable], engine=engine, prompt_style=prompt_style, concurrency=concurrency)
            try:
                for index, result in stream:
                    record(result, runnable[index][1])
                    if stop_event is not None and stop_event.is_set():
                        stopped = processed < len(todo)
                        break
            finally:
                stream.close()
        elif runnable:
            stopped = True
    finally:
        writer.close()

    rows = read_rows(out_csv)
    summary = summarise(rows)
    xlsx_path = Path(xlsx) if xlsx else None
    if xlsx_path:
        write_xlsx(rows, xlsx_path, summary=summary)
    return BatchSummary(
        out_csv=out_csv, xlsx=xlsx_path, total=total, processed=processed, skipped=skipped, errors=errors,
        stopped=stopped, seconds=time.perf_counter() - started, summary=summary,
        notes=list(getattr(inputs, "notes", [])),
    )


# -- summaries and views --------------------------------------------------------------------


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


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts per verdict and document type, GST claimable on compliant documents, mean seconds.

    `gst_claimable` sums `gst` over rows with verdict `compliant` (a valid tax invoice backs the
    credit); `gst_not_required` sums it over `not_required` rows (purchases of $82.50 or less,
    where no tax invoice is needed but a record is). Money is returned as "12.30" strings.
    """
    ok = [r for r in rows if r.get("status") == "ok"]
    by_verdict = Counter(str(r.get("verdict") or "unknown") for r in ok)
    by_type = Counter(str(r.get("document_type") or "unknown") for r in ok)

    def gst_sum(verdict: str) -> Decimal:
        return sum((_as_decimal(r.get("gst")) or Decimal(0) for r in ok if r.get("verdict") == verdict), Decimal(0))

    seconds = [s for s in (_as_float(r.get("seconds")) for r in rows) if s is not None]
    return {
        "documents": len(rows),
        "ok": len(ok),
        "errors": len(rows) - len(ok),
        "by_verdict": dict(sorted(by_verdict.items())),
        "by_document_type": dict(sorted(by_type.items())),
        "gst_claimable": f"{gst_sum('compliant').quantize(Decimal('0.01'))}",
        "gst_not_required": f"{gst_sum('not_required').quantize(Decimal('0.01'))}",
        "mean_seconds": round(statistics.fmean(seconds), 3) if seconds else None,
        "total_seconds": round(sum(seconds), 3) if seconds else None,
    }


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
        ("mean seconds per document", summary.get("mean_seconds")),
        ("total seconds", summary.get("total_seconds")),
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
        raise _unwritable(path, error) from None
    book = Workbook()
    sheet = book.active
    sheet.title = "Results"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = {name: len(name) for name in COLUMNS}
    for row in rows:
        values = []
        for name in COLUMNS:
            value = row.get(name)
            if name in NUMBER_TEXT_COLUMNS and value is not None:
                number = _as_decimal(value)
                value = float(number) if number is not None else value
            values.append(value)
        sheet.append(values)
        for column, (name, value) in enumerate(zip(COLUMNS, values, strict=True), start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
            elif name in MONEY_FIELDS and isinstance(value, float):
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
        raise _unwritable(path, error) from None
    return path

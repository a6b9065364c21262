"""Many documents -> one CSV row each (crash-safe), an XLSX workbook and a summary.

- `collect_inputs` turns a folder, a ZIP or a list of files into document paths.
- `run_batch` runs them through `pipeline.extract_many` and appends each finished document to
  the CSV at once (write, flush, fsync), so a killed run loses at most the documents in flight;
  `resume=True` skips every file already in the CSV, so a rerun finishes the job with no lost and
  no duplicated rows. A bad file is a row with `status=error`, never a crash.
- `results_dir` keeps each document's whole Result JSON too (`results_store`: evidence, check
  reasons), so a row can be opened again without reading the document twice.
- A document that repeats an earlier one (`duplicates`: same ABN + date + total, same invoice
  number from one supplier, or a near-identical first page) gets `duplicate_of: <file>`, a failed
  `duplicate` check and a recommendation; the summary counts its GST once.
- The table and its CSV codec live in `results_table`, the summary and XLSX in `results_report`;
  both are re-exported here, the batch's public face.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.duplicates import DuplicateFinder, PageFingerprint, mark_duplicate
from llama_vision.errors import DocumentError
from llama_vision.names import escape_name
from llama_vision.pipeline import extract_many_safely, prompt_name_for
from llama_vision.result import Result
from llama_vision.results_report import results_frame, summarise, summary_frame, write_xlsx
from llama_vision.results_store import save_result
from llama_vision.results_table import COLUMNS, CsvAppender, flatten_result, read_rows
from llama_vision.schema import DOCUMENT_EXTENSIONS

if TYPE_CHECKING:
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
    "summary_frame",
    "write_xlsx",
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


LINK_OUT_MESSAGE = (
    "refused: it is a link to a file outside the batch folder, which a batch never reads. "
    "Copy the file into the folder instead."
)


def _skipped_part(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _scan_folder(folder: Path, found: InputList) -> None:
    """Documents under `folder`, sorted. A file whose real path is outside `folder` (a symlink
    to /etc/passwd or to a sibling folder) becomes an error row, decided from the link alone so
    a batch never reveals whether its target exists; symlinked folders are noted, not walked."""
    extensions = DOCUMENT_EXTENSIONS
    root = folder.resolve()
    candidates: list[Path] = []
    for current, dirs, files in os.walk(folder):  # followlinks=False: never walks out of the folder
        here = Path(current)
        for name in sorted(dirs):
            if not _skipped_part(name) and (here / name).is_symlink():
                found.notes.append(f"skipped '{escape_name((here / name).relative_to(folder).as_posix())}/' "
                                   "(a link to a folder; batch folders are read without following links)")
        dirs[:] = [d for d in dirs if not _skipped_part(d) and not (here / d).is_symlink()]
        candidates.extend(here / name for name in files if not _skipped_part(name))
    for path in sorted(candidates, key=lambda p: p.relative_to(folder).as_posix()):
        label = escape_name(path.relative_to(folder).as_posix())
        suffix = path.suffix.lower()
        if suffix != ".zip" and suffix not in extensions:
            continue
        if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(root):
            found.append(path)
            found.rejected[path] = f"'{label}' {LINK_OUT_MESSAGE}"
        elif not path.is_file():  # a FIFO, a device, a dangling link: never opened
            continue
        elif suffix == ".zip":
            found.append(path)
            found.rejected[path] = f"'{label}': {NESTED_ZIP_MESSAGE}"
        else:
            found.append(path)


def _expand_zip(archive: Path, work_dir: Path, settings: Settings, found: InputList, index: int) -> Path:
    from llama_vision.safe_zip import extract_zip

    # One folder per archive; the index keeps two archives with the same name apart.
    stem = re.sub(r"[^\w.-]+", "_", archive.stem) or "archive"
    target = Path(work_dir) / f"{index:02d}-{stem}"
    extraction = extract_zip(archive, target, extensions=DOCUMENT_EXTENSIONS, max_file_bytes=settings.max_file_bytes)
    for path in extraction.files:
        found.append(path)
        if path.suffix.lower() == ".zip":
            found.rejected[path] = f"'{escape_name(path.relative_to(target).as_posix())}': {NESTED_ZIP_MESSAGE}"
    for path, size in extraction.oversized:
        found.append(path)
        found.rejected[path] = (
            f"'{escape_name(path.relative_to(target).as_posix())}' is {size / 1024**2:.1f} MB, over the "
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
                    hint=f"Put {', '.join(DOCUMENT_EXTENSIONS)} files in it (sub-folders are read too).",
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
            hint=f"Use {', '.join(DOCUMENT_EXTENSIONS)} files.",
        )
    return found


def input_keys(paths: Sequence[Path], base: Path | None = None) -> list[str]:
    """The stable name of each input in the CSV's `file` column, and the resume key.

    Relative (POSIX) to `base`, by default the inputs' deepest common folder, so a ZIP extracted
    into a fresh temporary folder on every run still gives the same keys. Escaped by
    `names.escape_name` (a newline is `\\n`, ESC is `\\x1b`): the CSV stores the key as it is,
    so the resume key read back is the same string, and no name can break a line or a terminal.
    """
    absolute = [Path(os.path.abspath(p)) for p in paths]
    if base is None and absolute:
        base = Path(os.path.commonpath([str(p.parent) for p in absolute]))
    keys = []
    for path in absolute:
        try:
            key = path.relative_to(base).as_posix() if base else path.as_posix()
        except ValueError:
            key = path.as_posix()
        keys.append(escape_name(key))
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



def _first_page_fingerprint(result: Result, path: Path, engine: Engine) -> PageFingerprint | None:
    """The perceptual hash of the document's first page as loaded: the page the pipeline kept,
    else (a pipeline that kept none) the file loaded again. None if it cannot be made: duplicates
    by image are then not looked for, the field keys still are."""
    from llama_vision.documents import load_pages
    from llama_vision.duplicates import fingerprint

    try:
        page = result._first_page  # noqa: SLF001 - the pipeline's hand-over, never serialised
        return fingerprint(page if page is not None else load_pages(path, settings=engine.settings)[0])
    except Exception:  # noqa: BLE001 - a hash is a bonus; the batch must go on
        return None


def _finder_knowing(kept_rows: list[dict[str, Any]]) -> DuplicateFinder:
    """A duplicate finder that knows the rows a resumed run keeps: a repeat of one is a duplicate too."""
    duplicates = DuplicateFinder()
    for row in kept_rows:
        if row.get("status") == "ok":
            duplicates.remember(row["file"], row)
    return duplicates


def _not_done(paths: list[Path], keys: list[str], done_keys: set[str]) -> list[tuple[Path, str]]:
    """The (path, key) pairs still to run: not already in the CSV, each key once."""
    todo: list[tuple[Path, str]] = []
    queued: set[str] = set()
    for path, key in zip(paths, keys, strict=True):
        if key in done_keys or key in queued:
            continue
        queued.add(key)
        todo.append((path, key))
    return todo


class _Recorder:
    """Writes each finished document's row at once (after the duplicate check) and counts."""

    def __init__(self, writer: CsvAppender, duplicates: DuplicateFinder, engine: Engine,
                 progress: ProgressCallback | None, skipped: int, total: int, results_dir: Path | None) -> None:
        self.writer, self.duplicates, self.engine, self.results_dir = writer, duplicates, engine, results_dir
        self.progress, self.skipped, self.total = progress, skipped, total
        self.processed = self.errors = 0

    def record(self, result: Result, key: str, path: Path | None = None) -> None:
        checked = result.status == "ok" and path is not None
        page = _first_page_fingerprint(result, path, self.engine) if checked else None
        result = result.model_copy(update={"file": key})
        if checked:
            duplicate = self.duplicates.check(key, result.fields, page)
            if duplicate is not None:
                result = mark_duplicate(result, duplicate)
        if self.results_dir is not None:  # before the row: a row on disk always has its Result
            save_result(self.results_dir, result)
        self.writer.append(flatten_result(result))
        self.processed += 1
        self.errors += result.status == "error"
        if self.progress:
            self.progress(self.skipped + self.processed, self.total, result)


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
    results_dir: str | Path | None = None,
) -> BatchSummary:
    """Extract every input, appending each finished document to `out_csv` at once.

    - `resume`: keep the rows already in `out_csv` and skip their files (by the `file` key);
      otherwise `out_csv` is started afresh.
    - `progress(done, total, result)` after each row; `done` counts resumed rows too.
    - `stop_event`: checked after each document; when set, the run stops cleanly (the CSV holds
      every finished document; `--resume` carries on later).
    - `base`: the folder keys are relative to (default: the InputList's, else the common folder).
    - `results_dir`: also keep each finished document's Result JSON there (`results_store`).
    - The XLSX (Results + Summary sheets) is written at the end from the whole CSV.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in inputs]
    base_path = Path(base) if base else getattr(inputs, "base", None)
    keys = input_keys(paths, base_path)
    rejected: dict[Path, str] = getattr(inputs, "rejected", {})
    out_csv = Path(out_csv)
    kept_rows = read_rows(out_csv) if resume else []
    done_keys = {row["file"] for row in kept_rows}
    duplicates = _finder_knowing(kept_rows)

    todo = _not_done(paths, keys, done_keys)
    skipped = len(paths) - len(todo)
    total = len(paths)
    prompt_name = prompt_name_for(engine, prompt_style)
    recorder = _Recorder(CsvAppender(out_csv, resume=resume), duplicates, engine, progress, skipped, total,
                         Path(results_dir) if results_dir else None)
    stopped = False
    should_stop = lambda: stop_event is not None and stop_event.is_set()  # noqa: E731

    try:
        runnable: list[tuple[Path, str]] = []
        for path, key in todo:
            if path in rejected:
                if should_stop():
                    stopped = True
                    break
                recorder.record(Result.failed(key, engine.name, prompt_name, rejected[path]), key)
            else:
                runnable.append((path, key))
        if runnable and not stopped and not should_stop():
            stream = extract_many_safely([p for p, _ in runnable], engine=engine, prompt_style=prompt_style,
                                         concurrency=concurrency)
            try:
                for index, result in stream:
                    recorder.record(result, runnable[index][1], runnable[index][0])
                    if should_stop():
                        stopped = recorder.processed < len(todo)
                        break
            finally:
                stream.close()
        elif runnable:
            stopped = True
    finally:
        recorder.writer.close()
    return _summary(out_csv, xlsx, recorder, total=total, skipped=skipped, stopped=stopped, started=started,
                    notes=list(getattr(inputs, "notes", [])))


def _summary(out_csv: Path, xlsx: str | Path | None, recorder: _Recorder, *, total: int, skipped: int,
             stopped: bool, started: float, notes: list[str]) -> BatchSummary:
    """The run's summary over the whole CSV (resumed rows too), timed by the wall clock; the XLSX."""
    rows = read_rows(out_csv)
    wall = time.perf_counter() - started
    summary = summarise(rows, wall_seconds=wall)
    xlsx_path = Path(xlsx) if xlsx else None
    if xlsx_path:
        write_xlsx(rows, xlsx_path, summary=summary)
    return BatchSummary(
        out_csv=out_csv, xlsx=xlsx_path, total=total, processed=recorder.processed, skipped=skipped,
        errors=recorder.errors, stopped=stopped, seconds=wall, summary=summary, notes=notes,
    )

"""The batch results table: its columns, one Result -> one row, and the crash-safe CSV codec.

`COLUMNS` and `flatten_result` are the one definition of the table; the CLI's CSV, the XLSX and
the UI's table all come from them, so they always agree.

CSV format: UTF-8, one line per document (newlines inside values become spaces, so `wc -l`
counts rows and a torn last line is easy to detect), booleans as `true`/`false`, empty cells
for null. Other control characters (ESC, tabs, bidi overrides) are written as visible escapes
(`names.printable`), so neither `cat results.csv` nor the XLSX writer meets a raw one. The `file`
column is the batch key (`batch.input_keys`, already escaped) and is stored exactly, leading
spaces included: it is the resume key. Text cells that a spreadsheet would run as a formula
(starting with = + - @ or a tab) get a leading apostrophe; `read_rows` removes it again (see
`_escape`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from llama_vision.errors import DocumentError, LlamaVisionError
from llama_vision.names import json_safe, printable
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS, BOOL_FIELDS, NUMERIC_TEXT_FIELDS

# -- the table ------------------------------------------------------------------------------

META_COLUMNS: tuple[str, ...] = ("file", "engine", "prompt", "status", "error", "document_type")
FIELD_COLUMNS: tuple[str, ...] = ALL_FIELDS  # "items" is JSON text
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required",
    "missing_elements", "recommendations", "verdict", "score", "duplicate_of",
)
REVIEW_COLUMNS: tuple[str, ...] = ("needs_review", "review_reasons")  # Result.review (llama_vision.review)
TAIL_COLUMNS: tuple[str, ...] = ("seconds", "pages", "warnings")
COLUMNS: tuple[str, ...] = META_COLUMNS + FIELD_COLUMNS + COMPLIANCE_COLUMNS + REVIEW_COLUMNS + TAIL_COLUMNS

COMPLIANCE_BOOLS = frozenset({"abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required"})
BOOL_COLUMNS = frozenset(BOOL_FIELDS) | COMPLIANCE_BOOLS | {"needs_review"}
FLOAT_COLUMNS = frozenset({"score", "seconds"})
INT_COLUMNS = frozenset({"pages"})
#: Decimal strings ("12.30"); kept as text in rows and frames so "12.30" never shows as 12.3.
NUMBER_TEXT_COLUMNS = NUMERIC_TEXT_FIELDS
TEXT_COLUMNS = frozenset(COLUMNS) - BOOL_COLUMNS - FLOAT_COLUMNS - INT_COLUMNS - NUMBER_TEXT_COLUMNS
#: Lists of codes join with ";" (as asked by spreadsheet users); lists of sentences with " | ".
CODE_SEPARATOR = ";"
SENTENCE_SEPARATOR = " | "

_NEWLINES = re.compile(r"[\r\n]+")
_FORMULA = re.compile(r"^'*[=+\-@\t]")
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@\t]")


def _one_line(text: str) -> str:
    return printable(_NEWLINES.sub(" ", text).strip())


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
        file=printable(result.file), engine=result.engine, prompt=result.prompt, status=result.status,
        error=_one_line(result.error) if result.error else None, document_type=result.document_type,
    )
    for name in FIELD_COLUMNS:
        value = fields.get(name)
        if name == "items":
            row[name] = json_safe(json.dumps(value, ensure_ascii=False)) if value else None
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
    row["duplicate_of"] = printable(str(compliance["duplicate_of"])) if compliance.get("duplicate_of") else None
    row["needs_review"] = result.review.needed if result.status == "ok" else None
    row["review_reasons"] = SENTENCE_SEPARATOR.join(_one_line(r) for r in result.review.reasons) or None
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
    # the key is kept exactly (stripping " a.png" would break resume); items are JSON already
    text = printable(str(value)) if name in ("file", "items") else _one_line(str(value))
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


class CsvAppender:
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
            raise unwritable_error(path, error) from None

    def _write(self, line: str) -> None:
        self.handle.write(line)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def append(self, row: dict[str, Any]) -> None:
        self._write(_csv_line(row))

    def close(self) -> None:
        self.handle.close()


def unwritable_error(path: Path, error: OSError) -> LlamaVisionError:
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

"""Every experiment, saved: one SQLite file (stdlib sqlite3), `experiments.sqlite`, in
LLAMA_VISION_EXPERIMENTS_DIR or else the user's data folder (`config.data_home()`:
$XDG_DATA_HOME/llama_vision, else ~/.local/share/llama_vision).

A run keeps what it ran (each prompt's rendered text and sha256, engine, model, quantization, the
non-secret settings, the dataset's path and hash) and one row per (column, document) with the
fields it read and their scores. A connection per call: the UI's threads may share one History.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import DocumentError
from llama_vision.experiments.records import DocumentRecord, ExperimentRun

if TYPE_CHECKING:
    from llama_vision.config import Settings

__all__ = ["FILE_NAME", "History", "default_folder"]

FILE_NAME = "experiments.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT, dataset TEXT NOT NULL,
    dataset_hash TEXT NOT NULL, documents TEXT NOT NULL, engines TEXT NOT NULL, settings TEXT NOT NULL,
    stopped INTEGER NOT NULL, engine_retries INTEGER, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    column_name TEXT NOT NULL, engine TEXT NOT NULL, name TEXT NOT NULL, style TEXT NOT NULL,
    edited INTEGER NOT NULL, text TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, position));
CREATE TABLE IF NOT EXISTS records (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, column_name TEXT NOT NULL,
    document TEXT NOT NULL, engine TEXT NOT NULL, prompt TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    document_type TEXT, verdict TEXT, fields TEXT NOT NULL, verdict_correct INTEGER, seconds REAL,
    prompt_tokens INTEGER, generated_tokens INTEGER, retries INTEGER NOT NULL,
    PRIMARY KEY (run_id, column_name, document));
"""
_RECORD_COLUMNS = ("column_name", "document", "engine", "prompt", "status", "error", "document_type", "verdict",
                   "fields", "verdict_correct", "seconds", "prompt_tokens", "generated_tokens", "retries")


def default_folder() -> Path:
    """The app's data folder (`config.data_home`: the folder the dataset lives in too)."""
    from llama_vision.config import data_home

    return data_home()


class History:
    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder).expanduser() if folder else default_folder()
        self.path = self.folder / FILE_NAME

    @classmethod
    def for_settings(cls, settings: Settings) -> History:
        return cls(settings.experiments_dir or None)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as error:
            raise DocumentError(f"The experiment history '{self.path}' cannot be opened ({error}).",
                                hint="Set LLAMA_VISION_EXPERIMENTS_DIR to a folder you can write to.") from None
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(_SCHEMA)
        return connection

    # -- writing -------------------------------------------------------------------------------
    def save(self, run: ExperimentRun) -> int:
        """Store the run with its prompts and records; returns its id."""
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO runs (started, finished, dataset, dataset_hash, documents, engines, settings, stopped,"
                " engine_retries, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.started, run.finished, run.dataset, run.dataset_hash, json.dumps(run.documents),
                 json.dumps(run.engines), json.dumps(run.settings), int(run.stopped), run.engine_retries,
                 json.dumps(run.summary())))
            run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO prompts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, i, p["column"], p["engine"], p["name"], p["style"], int(p["edited"]), p["text"], p["sha256"])
                 for i, p in enumerate(run.prompts)])
            db.executemany(
                f"INSERT INTO records (run_id, {', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join('?' * 15)})",
                [(run_id, r.column, r.document, r.engine, r.prompt, r.status, r.error, r.document_type, r.verdict,
                  json.dumps(r.fields), None if r.verdict_correct is None else int(r.verdict_correct), r.seconds,
                  r.prompt_tokens, r.generated_tokens, r.retries) for r in run.records])
        run.id = run_id
        return run_id

    # -- reading -------------------------------------------------------------------------------
    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs first: id, when, dataset, documents, engines, and each column's accuracy."""
        if not self.path.is_file():
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        runs = []
        for row in rows:
            summary = json.loads(row["summary"])
            runs.append({
                "id": row["id"], "started": row["started"], "dataset": row["dataset"],
                "dataset_hash": row["dataset_hash"], "documents": len(json.loads(row["documents"])),
                "engines": [e["name"] for e in json.loads(row["engines"])], "stopped": bool(row["stopped"]),
                "columns": {column: figures.get("accuracy") for column, figures in summary.items()},
            })
        return runs

    def load(self, run_id: int) -> ExperimentRun:
        """One run with its prompts and records. Raises DocumentError naming the missing id."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
            if row is None:
                raise DocumentError(f"There is no experiment run {run_id} in {self.path}.",
                                    hint="List the runs with: llama-vision experiment --history")
            prompts = db.execute("SELECT * FROM prompts WHERE run_id = ? ORDER BY position", (row["id"],)).fetchall()
            records = db.execute(f"SELECT {', '.join(_RECORD_COLUMNS)} FROM records WHERE run_id = ? ORDER BY rowid",
                                 (row["id"],)).fetchall()
        return ExperimentRun(
            id=row["id"], started=row["started"], finished=row["finished"], dataset=row["dataset"],
            dataset_hash=row["dataset_hash"], documents=json.loads(row["documents"]),
            engines=json.loads(row["engines"]), settings=json.loads(row["settings"]), stopped=bool(row["stopped"]),
            engine_retries=row["engine_retries"],
            prompts=[{"column": p["column_name"], "engine": p["engine"], "name": p["name"], "style": p["style"],
                      "edited": bool(p["edited"]), "text": p["text"], "sha256": p["sha256"]} for p in prompts],
            records=[_record(r) for r in records],
        )


def _record(row: sqlite3.Row) -> DocumentRecord:
    correct = row["verdict_correct"]
    return DocumentRecord(
        column=row["column_name"], engine=row["engine"], prompt=row["prompt"], document=row["document"],
        status=row["status"], error=row["error"], document_type=row["document_type"], verdict=row["verdict"],
        fields=json.loads(row["fields"]), verdict_correct=None if correct is None else bool(correct),
        seconds=row["seconds"], prompt_tokens=row["prompt_tokens"], generated_tokens=row["generated_tokens"],
        retries=row["retries"],
    )

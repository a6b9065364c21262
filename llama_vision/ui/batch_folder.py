"""A batch run's folder on the server, and what lets a run be resumed and its rows opened again.

A run folder (`common.output_dir()`, named `run_<pid>-<random>`) holds:

- `results.csv` / `results.xlsx`: the table (`batch.run_batch`, crash-safe) and its workbook;
- `results/`: each finished document's whole Result JSON (`results_store`), for the row detail;
- `inputs/`, `unzipped/`: the copies of the uploads and the unpacked ZIPs;
- `run.json`: the run's documents (path, key, why refused) and whether it finished.

The documents are kept after the run ends, however it ends: Resume reads them again and the row
detail shows their first page. They go when the same browser session starts its next run, when
the folder is older than `common.OUTPUT_MAX_AGE`, or when the app process has ended (its next
start sweeps them), so one session keeps at most one run's documents.

The page names a run by its folder's name only (`run_id`); `open_run` accepts nothing but a
direct child of `OUTPUT_ROOT` with a manifest, so a name sent by a browser can never reach
another folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_vision.ui import common

MANIFEST = "run.json"
RESULTS = "results"  # one Result JSON per document (results_store)
_RUN_ID = re.compile(r"^" + re.escape(common.RUN_PREFIX) + r"[A-Za-z0-9_-]{1,80}$")
SESSIONS_REMEMBERED = 512  # sessions whose last run folder is remembered (to remove it on the next run)

_active: set[str] = set()  # run ids with a worker running: never resumed twice at once, never removed
_last_run: OrderedDict[str, str] = OrderedDict()  # session -> its latest run id
_lock = threading.Lock()


class RunGone(Exception):
    """The run folder is not there (any more) or was never a run folder."""


@dataclass
class RunFolder:
    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def out_csv(self) -> Path:
        return self.path / "results.csv"

    @property
    def out_xlsx(self) -> Path:
        return self.path / "results.xlsx"

    @property
    def results_dir(self) -> Path:
        return self.path / RESULTS

    def manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RunGone(self.run_id) from error
        if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
            raise RunGone(self.run_id)
        return data

    def _write(self, data: dict[str, Any]) -> None:
        temporary = self.path / (MANIFEST + ".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.path / MANIFEST)

    def record_inputs(self, inputs: Any) -> None:
        """Write the manifest for a run about to start on `inputs` (a `batch.InputList`)."""
        from llama_vision.batch import input_keys

        paths = [Path(p) for p in inputs]
        keys = input_keys(paths, getattr(inputs, "base", None))
        rejected = getattr(inputs, "rejected", {})
        documents = [{"path": str(path.absolute()), "key": key, "rejected": rejected.get(path)}
                     for path, key in zip(paths, keys, strict=True)]
        base = getattr(inputs, "base", None)
        self._write({"documents": documents, "base": str(base) if base else None,
                     "notes": list(getattr(inputs, "notes", [])), "state": "running"})

    def mark(self, state: str) -> None:
        """'running', 'stopped' (Resume carries on) or 'done'."""
        data = self.manifest()
        data["state"] = state
        self._write(data)

    def inputs(self) -> Any:
        """The run's documents again, as `batch.collect_inputs` gave them (same keys, same refusals)."""
        from llama_vision.batch import InputList

        data = self.manifest()
        base = data.get("base")
        found = InputList((Path(d["path"]) for d in data["documents"]), base=Path(base) if base else None)
        found.rejected = {Path(d["path"]): d["rejected"] for d in data["documents"] if d.get("rejected")}
        return found

    def document_path(self, key: str) -> Path | None:
        """The document file behind the row keyed `key` (None if the run has no such row)."""
        for document in self.manifest()["documents"]:
            if document.get("key") == key and not document.get("rejected"):
                return Path(document["path"])
        return None


def open_run(run_id: Any) -> RunFolder:
    """The run folder named `run_id` (what the page remembers); RunGone unless it is one."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise RunGone(str(run_id)[:80])
    path = common.OUTPUT_ROOT / run_id
    if path.is_symlink() or not path.is_dir() or not (path / MANIFEST).is_file():
        raise RunGone(run_id)
    return RunFolder(path)


def is_active(run_id: str) -> bool:
    with _lock:
        return run_id in _active


def claim(run_id: str) -> bool:
    """Mark a run as having a worker; False when one is already running it."""
    with _lock:
        if run_id in _active:
            return False
        _active.add(run_id)
        return True


def release(run_id: str) -> None:
    with _lock:
        _active.discard(run_id)


def remember(session: str, run: RunFolder) -> None:
    """This session's latest run is `run`: its previous run's folder is removed (unless running)."""
    with _lock:
        previous = _last_run.pop(session, None)
        _last_run[session] = run.run_id
        while len(_last_run) > SESSIONS_REMEMBERED:
            _last_run.popitem(last=False)
        busy = previous in _active
    if previous and previous != run.run_id and not busy:
        shutil.rmtree(common.OUTPUT_ROOT / previous, ignore_errors=True)


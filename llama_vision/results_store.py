"""One Result JSON per batch document, kept beside the batch's CSV.

The CSV is the table; it flattens a Result and drops its evidence (boxes, confidence) and its
check reasons. A batch given `results_dir` also keeps each finished document's whole Result
here, so a row can be opened again later (the UI's row detail) without reading the document a
second time. Files are named by a digest of the row's `file` key: any key (sub-folders, spaces,
escaped control characters) maps to one flat, safe name, and the same key on a resumed run finds
the same file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from llama_vision.result import Result


def result_file(folder: str | Path, key: str) -> Path:
    """Where the Result of the document keyed `key` (the CSV's `file` column) is kept."""
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]
    return Path(folder) / f"{digest}.json"


def save_result(folder: str | Path, result: Result) -> Path:
    """Write `result` (its `file` is the batch key) atomically: a killed run leaves no half file."""
    target = result_file(folder, result.file)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(result.to_json(), encoding="utf-8")
    os.replace(temporary, target)
    return target


def load_result(folder: str | Path, key: str) -> dict[str, Any] | None:
    """The saved Result (as its dict) of the document keyed `key`; None when none was kept."""
    path = result_file(folder, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("file") == key else None

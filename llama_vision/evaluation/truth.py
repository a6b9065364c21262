"""Ground truth beside each document: our field keys (as `make-samples` writes them) or SROIE's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_vision.errors import DocumentError
from llama_vision.schema import ALL_FIELDS, DOCUMENT_EXTENSIONS

SROIE_KEYS = {"company": "supplier_name", "address": "supplier_address", "date": "date", "total": "total"}


# -- ground truth ---------------------------------------------------------------------------


@dataclass
class Truth:
    fields: dict[str, Any]  # only the keys the truth speaks about (null = "not on the document")
    document_type: str | None = None
    compliance: dict[str, Any] | None = None
    style: str = "fields"  # "fields" or "sroie"


def load_truth(path: str | Path) -> Truth:
    """Read one ground-truth JSON in either style. Raises DocumentError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentError(f"Ground truth '{path.name}' cannot be read ({error}).", hint="Fix or remove the file.") from None
    if not isinstance(data, dict):
        raise DocumentError(f"Ground truth '{path.name}' is not a JSON object.", hint="Fix or remove the file.")
    if "fields" not in data and ({"company", "address"} & data.keys()):
        fields = {ours: data[theirs] for theirs, ours in SROIE_KEYS.items() if theirs in data}
        return Truth(fields=fields, style="sroie")
    source = data["fields"] if isinstance(data.get("fields"), dict) else data
    fields = {k: v for k, v in source.items() if k in ALL_FIELDS}
    compliance = data.get("compliance") if isinstance(data.get("compliance"), dict) else None
    document_type = data.get("document_type") if isinstance(data.get("document_type"), str) else None
    return Truth(fields=fields, document_type=document_type, compliance=compliance)


def find_pairs(directory: str | Path) -> list[tuple[Path, Path]]:
    """(document, truth) pairs under `directory`, sorted; documents without truth are left out."""
    folder = Path(directory)
    if not folder.is_dir():
        raise DocumentError(f"'{folder}' is not a folder.", hint="Pass a folder of documents with same-named .json files.")
    pairs = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if path.suffix.lower() in DOCUMENT_EXTENSIONS and path.is_file() and not path.name.startswith("."):
            truth = path.with_suffix(".json")
            if truth.is_file():
                pairs.append((path, truth))
    if not pairs:
        raise DocumentError(
            f"No documents with ground truth in '{folder}'.",
            hint="Each document needs a same-named .json next to it (receipt.jpg + receipt.json).",
        )
    return pairs

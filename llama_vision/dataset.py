"""A ground-truth dataset built from corrections: `<name>.png` (the page) + `<name>.json` (its truth).

The JSON is the `evaluate` truth format (evaluation/truth.py reads `document_type`, `fields` and
`compliance`), so `python -m llama_vision evaluate DATASET_DIR` and the experiments read the
folder as they read any labelled set. It holds every field of the Result, settled (a null means
"not on the document"), the compliance keys evaluation compares plus the verdict, and a
`correction` block saying where the reading came from and which fields a person changed.

Safety: a name is turned into a plain file stem (`names.file_stem`); one that names a folder
("../x", "a/b") is refused, never cleaned into something else; both files are checked to resolve
inside the folder and not to be links; nothing is replaced unless `overwrite=True`
(`DocumentExistsError` otherwise). Each file is written to a temporary name and renamed, the
JSON last, so a half-saved document is never read as a labelled one.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llama_vision.errors import DatasetError, DocumentError, DocumentExistsError
from llama_vision.evaluation.truth import find_pairs, load_truth
from llama_vision.fields import normalise_fields
from llama_vision.names import escape_name, file_stem
from llama_vision.schema import DOCUMENT_EXTENSIONS, DOCUMENT_TYPES

__all__ = ["COMPLIANCE_KEYS", "SavedDocument", "document_name", "list_documents", "save", "truth_record"]

#: The compliance keys a truth keeps: evaluation's (abn_valid, gst_consistent,
#: tax_invoice_required, missing_elements), the other two checks and the verdict.
COMPLIANCE_KEYS: tuple[str, ...] = ("abn_valid", "gst_consistent", "totals_consistent", "date_valid",
                                    "tax_invoice_required", "missing_elements", "verdict")
_LOCK = threading.Lock()  # one save at a time per process: the "exists?" check and the write belong together


@dataclass(frozen=True)
class SavedDocument:
    """One labelled document of the dataset, as the list shows it."""

    name: str  # path inside the folder without the extension ("cafe", "march/cafe")
    image: Path
    truth: Path
    document_type: str | None
    verdict: str | None
    saved: datetime


def _need_folder(folder: str | Path | None) -> Path:
    if folder is None:
        raise DatasetError("Saving ground truth is off (LLAMA_VISION_DATASET_DIR=off).",
                           hint="Set LLAMA_VISION_DATASET_DIR to a folder, or leave it empty for the default, "
                                "and restart the app.")
    return Path(folder).expanduser().resolve()


def document_name(name: str | None, source: str | None = None) -> str:
    """The file stem a document is saved under: `name`, or the source file's stem when empty.

    Raises DatasetError for a name that points into another folder and for one with nothing usable.
    """
    text = (name or "").strip()
    if not text:
        text = Path(str(source or "").replace("\\", "/")).stem
    elif "/" in text or "\\" in text or text.strip(". ") == "":
        raise DatasetError(f"The name '{escape_name(text)}' points into another folder.",
                           hint="Use a plain name without '/', '\\' or '..' (e.g. cafe-march).")
    if Path(text).suffix.lower() in (*DOCUMENT_EXTENSIONS, ".json"):  # "cafe.jpg" means the document cafe
        text = Path(text).stem
    stem = file_stem(text)
    if not stem:
        raise DatasetError(f"The name '{escape_name(text)}' has no letters or digits to name a file with.",
                           hint="Type a name such as cafe-march.")
    return stem


def truth_record(fields: Mapping[str, Any], document_type: str, *, compliance: Mapping[str, Any] | None = None,
                 source: str | None = None, engine: str | None = None, corrected: Iterable[str] = ()) -> dict[str, Any]:
    """The truth JSON's content: settled fields, the document type, compliance keys, provenance."""
    if document_type not in DOCUMENT_TYPES:
        raise DatasetError(f"Unknown document type {document_type!r}.", hint=f"Use one of {', '.join(DOCUMENT_TYPES)}.")
    settled, _warnings = normalise_fields(dict(fields))  # idempotent on a Result's fields
    record: dict[str, Any] = {"document_type": document_type, "fields": settled}
    if compliance:
        record["compliance"] = {key: compliance[key] for key in COMPLIANCE_KEYS if key in compliance}
    record["correction"] = {
        "source": Path(str(source)).name if source else None, "engine": engine, "fields": list(corrected),
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return record


def _inside(folder: Path, path: Path) -> Path:
    if path.is_symlink() or path.resolve().parent != folder:
        raise DatasetError(f"'{escape_name(path.name)}' is a link or lies outside the dataset folder.",
                           hint="Choose another name, or remove the link from the folder.")
    return path


def _existing(folder: Path, stem: str) -> list[Path]:
    """The files a new `<stem>` document would clash with: its truth and any same-named document."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    return [p for p in entries if p.stem == stem and (p.suffix.lower() in DOCUMENT_EXTENSIONS or p.suffix == ".json")]


def _write(folder: Path, target: Path, write: Any) -> None:
    """`write(handle)` into a temporary file beside `target`, then rename it over `target`."""
    handle, temporary = tempfile.mkstemp(prefix=".saving-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(folder: str | Path | None, image: Any, fields: Mapping[str, Any], document_type: str, *,
         source: str | None = None, name: str | None = None, compliance: Mapping[str, Any] | None = None,
         engine: str | None = None, corrected: Iterable[str] = (), overwrite: bool = False) -> Path:
    """Write the page `image` (PIL) as `<name>.png` and its truth as `<name>.json`; the JSON's path.

    `name` defaults to the source file's stem. Raises DatasetError (saving off, a bad name, a link)
    and DocumentExistsError when the name is taken, unless `overwrite` (then the old document,
    whatever its image format, is replaced).
    """
    root = _need_folder(folder)
    stem = document_name(name, source)
    record = truth_record(fields, document_type, compliance=compliance, source=source, engine=engine,
                          corrected=corrected)
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"The dataset folder cannot be created ({error.strerror}).",
                           hint="Set LLAMA_VISION_DATASET_DIR to a folder this user may write.") from None
    picture, truth = _inside(root, root / f"{stem}.png"), _inside(root, root / f"{stem}.json")
    with _LOCK:
        clashes = _existing(root, stem)
        if clashes and not overwrite:
            raise DocumentExistsError(f"The dataset already has a document named '{stem}'.",
                                      hint="Tick 'Replace the existing one' and save again, or choose another name.")
        try:
            _write(root, picture, lambda stream: image.convert("RGB").save(stream, "PNG"))
            _write(root, truth, lambda stream: stream.write(text.encode("utf-8")))
        except OSError as error:
            raise DatasetError(f"'{stem}' could not be written ({error.strerror}).",
                               hint="Check the dataset folder's free space and permissions.") from None
        for old in clashes:  # the replaced document in another format would pair with the new truth
            if old not in (picture, truth):
                old.unlink(missing_ok=True)
    return truth


def list_documents(folder: str | Path | None) -> list[SavedDocument]:
    """The dataset's labelled documents (what `evaluate` would score), newest first; [] when empty.

    A truth file that cannot be read is listed with no type or verdict rather than hidden.
    """
    if folder is None:
        return []
    root = Path(folder).expanduser().resolve()
    try:
        pairs = find_pairs(root)
    except DocumentError:  # no folder yet, or nothing labelled in it
        return []
    documents = []
    for image, truth_path in pairs:
        try:
            truth = load_truth(truth_path)
            kind, verdict = truth.document_type, (truth.compliance or {}).get("verdict")
        except DocumentError:
            kind = verdict = None
        saved = datetime.fromtimestamp(truth_path.stat().st_mtime, tz=timezone.utc)
        name = image.relative_to(root).with_suffix("").as_posix()
        documents.append(SavedDocument(name, image, truth_path, kind, verdict if isinstance(verdict, str) else None,
                                       saved))
    return sorted(documents, key=lambda d: (d.saved, d.name), reverse=True)

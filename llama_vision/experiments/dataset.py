"""A labelled set for an experiment: documents with same-named `.json` truth (the `evaluate`
format, SROIE's keys included), its stable names and its hash; where such folders may come from.

A folder is only read when it lies inside an allowed root: LLAMA_VISION_BATCH_DIR and, where the
settings have one, LLAMA_VISION_DATASET_DIR (the folder "Save as ground truth" writes to). A ZIP
is unpacked with `safe_zip` (documents and their `.json` only) into a work folder.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llama_vision.batch import input_keys
from llama_vision.errors import DocumentError
from llama_vision.evaluation import Truth, find_pairs, load_truth
from llama_vision.schema import DOCUMENT_EXTENSIONS

if TYPE_CHECKING:
    from llama_vision.config import Settings

__all__ = ["LabelledSet", "allowed_roots", "labelled_folders", "load_labelled_set", "resolve_folder", "unpack_zip"]

MAX_LISTED = 200  # folders offered in a picker; a deep tree is typed, not scrolled
TRUTH_SUFFIX = ".json"


@dataclass(frozen=True)
class LabelledSet:
    path: str  # as given (shown and stored; never served)
    documents: list[Path]
    keys: list[str]  # names relative to the folder: the same on every run, whatever the folder's location
    truths: list[Truth]
    digest: str  # sha256 over every (name, document bytes' sha256, truth bytes' sha256)

    def __len__(self) -> int:
        return len(self.documents)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_labelled_set(folder: str | Path, *, limit: int | None = None) -> LabelledSet:
    """Every document with truth under `folder` (sorted; the first `limit`). Raises DocumentError."""
    pairs = find_pairs(folder)
    if limit is not None:
        pairs = pairs[: max(limit, 0)]
    if not pairs:
        raise DocumentError(f"No documents with ground truth in '{folder}'.", hint="Use a larger --limit.")
    documents = [document for document, _ in pairs]
    keys = input_keys(documents, Path(folder).absolute())
    digest = hashlib.sha256()
    for key, (document, truth) in zip(keys, pairs, strict=True):
        digest.update(f"{key}\0{_file_hash(document)}\0{_file_hash(truth)}\n".encode())
    truths = [load_truth(truth) for _, truth in pairs]
    return LabelledSet(path=str(folder), documents=documents, keys=keys, truths=truths, digest=digest.hexdigest())


def allowed_roots(settings: Settings) -> dict[str, Path]:
    """{label: folder} an experiment may read: the batch folder and the dataset folder, if set."""
    roots: dict[str, Path] = {}
    for label, value in (("batch folder", settings.batch_dir), ("dataset folder", getattr(settings, "dataset_dir", None))):
        if value:
            roots[label] = Path(value).expanduser().resolve()
    return roots


def resolve_folder(settings: Settings, choice: str) -> Path:
    """A folder the user picked or typed -> its real path, only if it is inside an allowed root.

    Accepts a listed choice ("batch folder: receipts/march"), a path relative to a root, or an
    absolute path. Raises DocumentError that never names the server's folders.
    """
    roots = allowed_roots(settings)
    if not roots:
        raise DocumentError("No folder may be read: LLAMA_VISION_BATCH_DIR (and LLAMA_VISION_DATASET_DIR) are empty.",
                            hint="Upload a ZIP of documents with their .json truth, or set one of the two folders.")
    text = (choice or "").strip()
    label, sep, rest = text.partition(": ")
    if sep and label in roots:
        candidates = [roots[label] / rest]
    elif os.path.isabs(os.path.expanduser(text)):
        candidates = [Path(text).expanduser()]
    else:
        candidates = [root / text for root in roots.values()] if text else []
    for candidate in candidates:
        target = candidate.resolve()
        if target.is_dir() and any(target.is_relative_to(root) for root in roots.values()):
            return target
    raise DocumentError(f"{text!r} is not a folder inside the batch or dataset folder.",
                        hint="Pick one from the list, or type a path inside LLAMA_VISION_BATCH_DIR.")


def _has_pair(folder: Path) -> bool:
    try:
        names = {p.name for p in folder.iterdir() if p.is_file()}
    except OSError:
        return False
    return any(Path(n).suffix.lower() in DOCUMENT_EXTENSIONS and Path(n).stem + TRUTH_SUFFIX in names for n in names)


def labelled_folders(settings: Settings) -> list[str]:
    """Choices for a picker: every folder inside an allowed root that holds a document with its truth
    ("batch folder: sroie-dev"; the root itself is "batch folder: ."). Links are not followed."""
    found: list[str] = []
    for label, root in allowed_roots(settings).items():
        if not root.is_dir():
            continue
        for current, dirs, _files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (Path(current) / d).is_symlink())
            here = Path(current)
            if _has_pair(here):
                found.append(f"{label}: {here.relative_to(root).as_posix()}")
            if len(found) >= MAX_LISTED:
                return found
    return found


def unpack_zip(archive: str | Path, settings: Settings, work_dir: str | Path) -> Path:
    """A ZIP of documents and their truth -> the folder it was safely unpacked into."""
    from llama_vision.safe_zip import extract_zip

    target = Path(work_dir) / "dataset"
    extract_zip(archive, target, extensions=(*DOCUMENT_EXTENSIONS, TRUTH_SUFFIX), max_file_bytes=settings.max_file_bytes)
    return target

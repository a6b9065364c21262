"""Safe extraction of a ZIP of documents for the batch command and tab.

An uploaded archive is untrusted input. Before a single byte is written we refuse the whole
archive (one `DocumentError` naming the archive and the member) when any member

- escapes the target folder: an absolute path, a drive letter, or a `..` component
  (`/`, `\\` and `:` are all treated as separators, whatever the archive's origin);
- is a symbolic link (Unix mode bits in `external_attr`): extracting it could point later
  writes, or the reader, outside the folder;
- would make the archive a ZIP bomb: more than `max_members` entries, documents of more than
  `max_total_bytes` uncompressed in all, one member that expands more than `max_ratio` times
  (images and PDFs are already compressed; 100x means a bomb; every member is checked, with
  a little slack for tiny files), or members that do so together;
- would not fit: the batch's work folder (the target's parent, shared by every archive of one
  batch) may hold `max_batch_bytes` in all, and a disk quota set with
  `scratch.limit_folder` (the app's run folders) covers everything under its root.

The header sizes are claims, so while copying we count the bytes actually produced and stop
as soon as a member exceeds its declared size or the total exceeds the budget. Every error names
the archive and says what is wrong with it (a corrupt member, a bad checksum, a truncated file,
an unsupported compression method), never a bare library message.

Other rules, by design:
- Only documents (`DOCUMENT_EXTENSIONS`) are extracted; other members (README.txt, macOS
  `__MACOSX/` and `._*` resource forks, hidden files) are skipped and listed in `notes`.
- Nested ZIP archives are extracted as files but never expanded: the batch turns each into an
  error row ("nested ZIP archives are not expanded"), so the user sees it in the results.
- A member larger than the per-file cap (`settings.max_file_mb`) is not extracted; it is
  listed in `oversized` and becomes an error row too.
- Names with spaces, unicode and shell characters are kept as they are (they never reach a
  shell). Legacy archives without the UTF-8 flag are decoded as UTF-8 when that works, as
  macOS and Windows tools write UTF-8 without setting the flag.
"""

from __future__ import annotations

import errno
import re
import stat
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from llama_vision import scratch
from llama_vision.errors import DocumentError

#: Defaults sized for "a folder of receipts": generous for real use, far below what hurts a laptop.
MAX_MEMBERS = 5_000
#: What one archive's documents may expand to, and all archives of one batch together.
MAX_TOTAL_BYTES = 1024**3
MAX_BATCH_BYTES = 2 * 1024**3
MAX_RATIO = 100
#: Expansion allowed beyond `max_ratio` times the compressed size: a tiny text file may
#: compress 200x and harm no one, 1 MiB of zeros (1,000x) may not.
_RATIO_SLACK_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
# Extractions under a quota run one at a time, so two cannot both pass the same free space.
_QUOTA_LOCK = threading.Lock()
_DRIVE = re.compile(r"^[A-Za-z]:")
# Errors of the folder being written to, not of the archive.
_DISK_ERRORS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


@dataclass
class ZipExtraction:
    """What `extract_zip` wrote, and what it left out (and why)."""

    folder: Path
    files: list[Path] = field(default_factory=list)  # documents and nested ZIPs, in archive order
    oversized: list[tuple[Path, int]] = field(default_factory=list)  # (would-be path, bytes)
    notes: list[str] = field(default_factory=list)


def _human(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, re-decoded as UTF-8 when the archive did not set the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _safe_parts(archive: str, raw: str) -> tuple[str, ...]:
    """Split a member name into path parts, refusing anything that could escape the folder."""
    unified = raw.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise DocumentError(
            f"'{archive}' holds a member with an absolute path ('{raw}'); refusing to extract it.",
            hint="Re-create the ZIP from inside the folder so every name is relative.",
        )
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if any(p == ".." for p in parts) or any(":" in p or "\x00" in p for p in parts):
        raise DocumentError(
            f"'{archive}' holds a member whose path escapes the folder ('{raw}'); refusing to extract it.",
            hint="Re-create the ZIP without '..' in member names.",
        )
    return parts


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return bool(mode) and stat.S_ISLNK(mode)


def _skippable(parts: tuple[str, ...]) -> bool:
    """macOS resource forks and hidden files or folders are never documents."""
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def extract_zip(
    archive: str | Path,
    target: str | Path,
    *,
    extensions: tuple[str, ...],
    max_file_bytes: int,
    max_members: int = MAX_MEMBERS,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    max_ratio: float = MAX_RATIO,
) -> ZipExtraction:
    """Check the whole archive, then extract its documents under `target`. Raises DocumentError."""
    archive = Path(archive)
    label = archive.name
    target = Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise DocumentError(f"File not found: '{archive}'.", hint="Check the path and the spelling.") from None
    except Exception as error:  # BadZipFile, OSError, NotImplementedError, ValueError...
        raise DocumentError(
            f"'{label}' is not a readable ZIP archive ({_describe(error)}).",
            hint="Re-create the archive and try again.",
        ) from None
    with zf:
        result = ZipExtraction(folder=target)
        plan = _plan(zf, label, target, result, extensions, max_file_bytes, max_members, max_ratio)
        planned = sum(info.file_size for info, _parts in plan)
        quota = scratch.quota_for(target)
        with _QUOTA_LOCK if quota else _NO_LOCK:
            allowed = _room(label, target, planned, max_total_bytes, max_batch_bytes, quota)
            _extract(zf, plan, label, target, allowed, result)
    return result


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _bomb(label: str, what: str) -> DocumentError:
    return DocumentError(
        f"'{label}' looks like a ZIP bomb: {what}; refusing to extract it.",
        hint="Documents compress very little; re-create the archive from the original files.",
    )


def _plan(
    zf: zipfile.ZipFile, label: str, target: Path, result: ZipExtraction, extensions: tuple[str, ...],
    max_file_bytes: int, max_members: int, max_ratio: float,
) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Pass 1: check every member before anything is written; what to extract, in order."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise DocumentError(
            f"'{label}' holds {len(infos):,} entries, more than the {max_members:,} allowed; refusing to extract it.",
            hint="Split the batch into smaller archives or pass a folder.",
        )
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    seen: set[str] = set()
    expanded = packed = 0
    for info in infos:
        raw = _member_name(info)
        parts = _safe_parts(label, raw)
        if _is_symlink(info):
            raise DocumentError(
                f"'{label}' holds a symbolic link ('{raw}'); refusing to extract it.",
                hint="Re-create the ZIP with real files (zip without --symlinks).",
            )
        if info.is_dir() or not parts:
            continue
        if info.flag_bits & 0x1:
            raise DocumentError(
                f"'{label}' is encrypted ('{raw}' needs a password).",
                hint="Re-create the archive without a password.",
            )
        # Every member, whatever its size; and all of them together, so a thousand small
        # members each just under the slack are caught too.
        if info.file_size > max_ratio * info.compress_size + _RATIO_SLACK_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            raise _bomb(label, f"'{raw}' expands {ratio:,.0f} times")
        expanded, packed = expanded + info.file_size, packed + info.compress_size
        if expanded > max_ratio * packed + _CHUNK:
            raise _bomb(label, f"its members expand {expanded / max(packed, 1):,.0f} times together")
        if _skippable(parts):
            continue
        suffix = PurePosixPath(parts[-1]).suffix.lower()
        if suffix not in extensions and suffix != ".zip":
            result.notes.append(f"skipped '{raw}' (not a supported document)")
            continue
        key = "/".join(parts).casefold()
        if key in seen:
            result.notes.append(f"skipped '{raw}' (a second member with the same name)")
            continue
        seen.add(key)
        if info.file_size > max_file_bytes:
            result.oversized.append((target.joinpath(*parts), info.file_size))
            continue
        plan.append((info, parts))
    return plan


def _room(
    label: str, target: Path, planned: int, max_total: int, max_batch: int, quota: tuple[Path, int] | None
) -> int:
    """The bytes this extraction may write: the tightest of the archive, batch and disk limits."""
    if planned > max_total:
        raise DocumentError(
            f"'{label}' would expand to more than {_human(max_total)} ({_human(planned)} of documents);"
            " refusing to extract it.",
            hint="Split it into smaller archives, or unzip it and pass the folder.",
        )
    allowed = max_total
    batch_used = scratch.folder_bytes(target.parent) if target.parent.is_dir() else 0
    if planned > max_batch - batch_used:
        raise DocumentError(
            f"'{label}' would expand to {_human(planned)}, more than the {_human(max(max_batch - batch_used, 0))}"
            f" left of the {_human(max_batch)} one batch may extract; refusing to extract it.",
            hint="Run the archives in separate batches.",
        )
    allowed = min(allowed, max_batch - batch_used)
    if quota is not None:
        root, limit = quota
        left = limit - (scratch.folder_bytes(root) if root.is_dir() else 0)
        if planned > left:
            raise DocumentError(
                f"'{label}' would expand to {_human(planned)}, more than the {_human(max(left, 0))} left of"
                f" the app's {_human(limit)} disk quota for uploads and runs; refusing to extract it.",
                hint="Try again when other runs have finished, or send a smaller archive.",
            )
        allowed = min(allowed, left)
    return allowed


def _extract(
    zf: zipfile.ZipFile, plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], label: str, target: Path,
    allowed: int, result: ZipExtraction,
) -> None:
    """Pass 2: extract, counting real bytes: header sizes are only claims."""
    root = target.resolve()
    written = 0
    for info, parts in plan:
        destination = target.joinpath(*parts)
        if not destination.resolve().is_relative_to(root):  # belt and braces after _safe_parts
            raise DocumentError(f"'{label}': '{info.filename}' escapes the folder; refusing to extract it.")
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            produced = 0
            with zf.open(info) as source, open(destination, "wb") as sink:
                while chunk := source.read(_CHUNK):
                    produced += len(chunk)
                    written += len(chunk)
                    if produced > info.file_size or written > allowed:
                        raise _bomb(label, f"'{info.filename}' produces more data than its header declares")
                    sink.write(chunk)
        except DocumentError:
            destination.unlink(missing_ok=True)
            raise
        except Exception as error:  # zlib.error, BadZipFile (CRC), EOFError, NotImplementedError, OSError...
            destination.unlink(missing_ok=True)
            if isinstance(error, OSError) and error.errno in _DISK_ERRORS:
                raise DocumentError(
                    f"'{label}': member '{info.filename}' cannot be written ({error.strerror}).",
                    hint="Free some disk space (or fix the folder's permissions) and try again.",
                ) from None
            raise DocumentError(
                f"'{label}' is damaged: member '{info.filename}' cannot be extracted ({_describe(error)}).",
                hint="Download or re-create the archive and try again.",
            ) from None
        result.files.append(destination)


def _describe(error: BaseException) -> str:
    """What a zipfile/zlib error means, in words."""
    text = str(error)
    lowered = text.lower()
    if isinstance(error, zlib.error):
        return "its compressed data is corrupt"
    if isinstance(error, EOFError) or "truncated" in lowered or "end of file" in lowered:
        return "the archive is cut short"
    if "crc" in lowered:
        return "its checksum does not match, so the data is corrupt"
    if isinstance(error, NotImplementedError) or "compression method" in lowered:
        return "it uses a compression method that cannot be read here; re-create it with ordinary deflate"
    if "not a zip file" in lowered:
        return "it has no ZIP directory: it is cut short, or not a ZIP at all"
    if "magic number" in lowered or "differ" in lowered or isinstance(error, OSError):
        return "the archive's directory does not match its contents: it is cut short or damaged"
    text = text.strip() or type(error).__name__
    return text if len(text) <= 100 else text[:97] + "..."

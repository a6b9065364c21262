"""Safe extraction of a ZIP of documents for the batch command and tab.

An uploaded archive is untrusted input. Before a single byte is written we refuse the whole
archive (one `DocumentError` naming the archive and the member) when any member

- escapes the target folder: an absolute path, a drive letter, or a `..` component
  (`/`, `\\` and `:` are all treated as separators, whatever the archive's origin);
- is a symbolic link (Unix mode bits in `external_attr`): extracting it could point later
  writes, or the reader, outside the folder;
- would make the archive a ZIP bomb: more than `max_members` entries, more than
  `max_total_bytes` uncompressed in all, or one member that expands more than
  `max_ratio` times (images and PDFs are already compressed; 100x means a bomb).

The header sizes are claims, so while copying we count the bytes actually produced and stop
as soon as a member exceeds its declared size or the total exceeds the budget.

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

import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from llama_vision.errors import DocumentError

#: Defaults sized for "a folder of receipts": generous for real use, far below what hurts a laptop.
MAX_MEMBERS = 5_000
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 100
#: Members this small are not ratio-checked: a tiny text file may compress 200x and harm no one.
_RATIO_FLOOR_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


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
    except (zipfile.BadZipFile, OSError) as error:
        raise DocumentError(
            f"'{label}' is not a readable ZIP archive ({error}).", hint="Re-create the archive and try again."
        ) from None

    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise DocumentError(
                f"'{label}' holds {len(infos):,} entries, more than the {max_members:,} allowed; refusing to extract it.",
                hint="Split the batch into smaller archives or pass a folder.",
            )
        # Pass 1: check everything before writing anything.
        plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        result = ZipExtraction(folder=target)
        total = 0
        seen: set[str] = set()
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
            if (
                info.file_size > _RATIO_FLOOR_BYTES
                and info.file_size > max_ratio * max(info.compress_size, 1)
            ):
                raise DocumentError(
                    f"'{label}' looks like a ZIP bomb: '{raw}' expands {info.file_size / max(info.compress_size, 1):,.0f}"
                    f" times; refusing to extract it.",
                    hint="Documents compress very little; re-create the archive from the original files.",
                )
            total += info.file_size
            if total > max_total_bytes:
                raise DocumentError(
                    f"'{label}' would expand to more than {_human(max_total_bytes)}; refusing to extract it.",
                    hint="Split the batch into smaller archives.",
                )
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

        # Pass 2: extract, counting real bytes: header sizes are only claims.
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
                        if produced > info.file_size or written > max_total_bytes:
                            raise DocumentError(
                                f"'{label}' looks like a ZIP bomb: '{info.filename}' produces more data than its"
                                " header declares; extraction stopped.",
                                hint="Re-create the archive from the original files.",
                            )
                        sink.write(chunk)
            except DocumentError:
                destination.unlink(missing_ok=True)
                raise
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as error:
                destination.unlink(missing_ok=True)
                raise DocumentError(
                    f"'{label}': member '{info.filename}' cannot be extracted ({error}).",
                    hint="The archive is damaged; re-create it and try again.",
                ) from None
            result.files.append(destination)
    return result

"""Scratch folders that cannot fill the disk: owner-stamped names, stale ones removed, quotas.

A batch extracts ZIPs into a temporary folder and the app writes a run folder per request. A
process that is killed (a batch stopped with kill -9, an app that ran out of memory) never
cleans up, so every scratch folder carries its owner's process id in its name
(`PREFIX<pid>-...`); `remove_stale` deletes those whose owner is no longer running, and entry
points call it when they start.

`limit_folder(root, max_bytes)` puts a disk quota on everything under `root` (the app's run
folders); `safe_zip` checks it before it extracts a byte and counts every byte it writes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

__all__ = ["folder_bytes", "limit_folder", "quota_for", "remove_stale", "scratch_dir"]

_QUOTAS: dict[Path, int] = {}
_QUOTAS_LOCK = threading.Lock()


def scratch_dir(prefix: str, parent: str | Path | None = None) -> Path:
    """A new folder `<parent>/<prefix><pid>-<random>` (parent: the system temp folder)."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        import psutil

        return psutil.pid_exists(pid)
    except ImportError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # it exists, owned by someone else
            return True
        return True


def remove_stale(prefix: str, parent: str | Path | None = None) -> list[Path]:
    """Delete the `prefix<pid>-*` folders under `parent` whose process has gone; returns them."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    removed = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        try:
            if match and entry.is_dir() and not entry.is_symlink() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        except OSError:
            continue
    return removed


def folder_bytes(root: str | Path) -> int:
    """Bytes in the files under `root` (symbolic links are not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def limit_folder(root: str | Path, max_bytes: int) -> None:
    """Cap what extraction may leave under `root` at `max_bytes` in all."""
    with _QUOTAS_LOCK:
        _QUOTAS[Path(os.path.abspath(root))] = max_bytes


def quota_for(target: str | Path) -> tuple[Path, int] | None:
    """(root, max_bytes) of the quota that covers `target`, if any."""
    path = Path(os.path.abspath(target))
    with _QUOTAS_LOCK:
        for root, max_bytes in _QUOTAS.items():
            if path == root or root in path.parents:
                return root, max_bytes
    return None

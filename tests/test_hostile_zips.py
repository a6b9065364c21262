"""Issue 10: hostile ZIPs (a 4,095 x 1 MiB-of-zeros bomb, damaged archives) and scratch folders.

Every member and the archive as a whole are ratio-checked, the total is capped per archive, per
batch and by the app's disk quota, nothing is written before the checks pass, and every error
names the archive and says in words what is wrong with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from llama_vision import scratch
from llama_vision.batch import collect_inputs
from llama_vision.config import load_settings
from llama_vision.errors import DocumentError
from llama_vision.safe_zip import extract_zip
from tests import hostile_corpus as hostile
from tests.hostile_corpus import LIMIT_MB, grown_cap, good_png, watched

EXTENSIONS = (".png", ".jpg", ".pdf")


@pytest.fixture()
def settings():
    return load_settings(document_memory_mb=LIMIT_MB, document_seconds=20)


# -- ZIPs ------------------------------------------------------------------------------------
def test_4095_members_of_a_mib_of_zeros_are_refused_before_anything_is_written(tmp_path, settings):
    archive = hostile.zeros_zip(tmp_path / "receipts.zip")
    assert archive.stat().st_size < 8 * 1024**2
    with zipfile.ZipFile(archive) as zf:  # a real archive: zipfile reads it back
        assert len(zf.infolist()) == 4095 and zf.read("receipt-00007.pdf") == bytes(1024 * 1024)
    work = tmp_path / "work"
    cap = grown_cap()
    error, seconds, peak = watched(lambda: collect_inputs(archive, settings=settings, work_dir=work))
    assert isinstance(error, DocumentError), error
    assert "'receipts.zip' looks like a ZIP bomb" in str(error) and "expands" in str(error)
    assert scratch.folder_bytes(work) == 0 if work.exists() else True
    assert seconds < 10 and peak < cap


def test_members_of_exactly_one_mib_are_ratio_checked(tmp_path):
    archive = hostile.zeros_zip(tmp_path / "three.zip", members=3)
    with pytest.raises(DocumentError, match="'three.zip' looks like a ZIP bomb: 'receipt-00000.pdf' expands"):
        extract_zip(archive, tmp_path / "w", extensions=EXTENSIONS, max_file_bytes=10**8)


def test_many_small_members_are_ratio_checked_together(tmp_path):
    archive = hostile.zeros_zip(tmp_path / "small.zip", members=400, member_bytes=60 * 1024)
    with pytest.raises(DocumentError, match="expand .* times together"):
        extract_zip(archive, tmp_path / "w", extensions=EXTENSIONS, max_file_bytes=10**8)


def random_zip(path: Path, members: int, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for index in range(members):
            zf.writestr(f"scan-{index}.png", os.urandom(size))
    return path


def test_total_caps_per_archive_and_per_batch(tmp_path):
    archive = random_zip(tmp_path / "scans.zip", 5, 100_000)
    with pytest.raises(DocumentError, match="'scans.zip' would expand to more than"):
        extract_zip(archive, tmp_path / "w" / "a", extensions=EXTENSIONS, max_file_bytes=10**6, max_total_bytes=400_000)
    work = tmp_path / "batch"
    extract_zip(archive, work / "00-scans", extensions=EXTENSIONS, max_file_bytes=10**6, max_batch_bytes=900_000)
    with pytest.raises(DocumentError, match="'scans.zip' would expand to .* one batch may extract"):
        extract_zip(archive, work / "01-scans", extensions=EXTENSIONS, max_file_bytes=10**6, max_batch_bytes=900_000)
    assert not (work / "01-scans").exists()


def test_disk_quota_for_the_app_folders(tmp_path):
    root = tmp_path / "app"
    (root / "run_1-old").mkdir(parents=True)
    (root / "run_1-old" / "kept.bin").write_bytes(os.urandom(300_000))
    scratch.limit_folder(root, 600_000)
    archive = random_zip(tmp_path / "scans.zip", 4, 100_000)
    with pytest.raises(DocumentError, match="disk quota"):
        extract_zip(archive, root / "run_2-new" / "unzipped" / "00-scans", extensions=EXTENSIONS, max_file_bytes=10**6)
    assert scratch.folder_bytes(root) == 300_000


def test_corrupt_member_names_the_archive_and_the_member(tmp_path, settings):
    good = (tmp_path / "g.png")
    good_png(good)
    archive = hostile.corrupt_member_zip(tmp_path / "broken.zip", good.read_bytes())
    with pytest.raises(DocumentError) as caught:
        collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")
    message = str(caught.value)
    assert message.startswith("'broken.zip' is damaged: member 'bad.png' cannot be extracted"), message
    assert "corrupt" in message and "Error -3" not in message


def test_stale_scratch_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f"run_{dead_pid}-abc").mkdir()
    mine = scratch.scratch_dir("run_", tmp_path)
    (tmp_path / "run_notapid").mkdir()
    removed = scratch.remove_stale("run_", tmp_path)
    assert removed == [tmp_path / f"run_{dead_pid}-abc"]
    assert mine.is_dir() and (tmp_path / "run_notapid").is_dir()


@pytest.mark.parametrize("kind", list(hostile.broken_zips(b"x")))
def test_every_kind_of_damaged_zip_is_named_and_explained(tmp_path, settings, kind):
    data = hostile.broken_zips(os.urandom(3000))[kind]
    archive = tmp_path / "upload.zip"
    archive.write_bytes(data)
    with pytest.raises(DocumentError) as caught:
        collect_inputs(archive, settings=settings, work_dir=tmp_path / "work")
    message = str(caught.value)
    assert message.startswith("'upload.zip' is ") and "\n" not in message, message
    assert any(word in message for word in ("corrupt", "cut short", "damaged", "compression method")), message
    for raw in ("Error -3", "Bad magic", "differ", "Invalid argument", "File is not a zip file", "Bad CRC"):
        assert raw not in message, message

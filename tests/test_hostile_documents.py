"""Issue 10: one hostile file never takes the app down.

The corpus (tests/hostile_corpus.py) is generated here: a self-drawing Form XObject PDF, a
fan-out of nested XObjects, a 2,796,000 x 32 px PNG, twenty 14,400 pt pages, a ZIP of 4,095
members of 1 MiB of zeros and a ZIP with a corrupt member. Each goes through `load_pages` /
`collect_inputs` and the real command line: one clear error (or bounded pages), no crash, well
under 60 s, and this process's resident memory stays under 1.5 GB. The document worker runs
with a small memory limit here (256 MB): these files must never be drawn unguarded.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from PIL import Image

from llama_vision import document_worker, page_budget, scratch
from llama_vision.batch import collect_inputs
from llama_vision.config import load_settings
from llama_vision.documents import load_pages
from llama_vision.errors import DocumentError
from llama_vision.safe_zip import extract_zip
from tests import hostile_corpus as hostile

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 256
RSS_CAP = 1.5 * 1024**3
EXTENSIONS = (".png", ".jpg", ".pdf")


@pytest.fixture()
def settings():
    return load_settings(document_memory_mb=LIMIT_MB, document_seconds=20)


def watched(call: Callable[[], object], pid: int | None = None) -> tuple[object, float, int]:
    """(what `call` returned or raised, seconds, peak RSS of process `pid` (default: this one))."""
    process = psutil.Process(pid or os.getpid())
    peak = [process.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            try:
                peak[0] = max(peak[0], process.memory_info().rss)
            except psutil.Error:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        outcome: object = call()
    except Exception as error:  # noqa: BLE001 - the test inspects it
        outcome = error
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return outcome, seconds, peak[0]


def page_workers(parent: int) -> list[int]:
    """The live page worker processes of process `parent`."""
    found = []
    for child in psutil.Process(parent).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "page_worker" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.Error:  # ended while we looked
            continue
    return found


def good_png(path: Path, text_colour=(0, 0, 0)) -> Path:
    image = Image.new("RGB", (160, 96), "white")
    image.paste(text_colour, (10, 10, 90, 40))
    image.save(path)
    return path


# -- PDFs that cost memory and time ------------------------------------------------------------
@pytest.mark.parametrize("builder", [hostile.self_drawing_pdf, hostile.fan_out_pdf], ids=["self-drawing", "fan-out"])
def test_xobject_bombs_are_one_clear_error(tmp_path, settings, builder):
    data = builder()
    assert len(data) < 4096  # a few KB on disk
    path = tmp_path / "invoice.pdf"
    path.write_bytes(data)
    error, seconds, peak = watched(lambda: load_pages(path, settings=settings))
    assert isinstance(error, DocumentError), error
    message = str(error)
    assert message.startswith("'invoice.pdf': this PDF needs more than 256 MB to draw"), message
    assert "malicious or damaged" in message and "LLAMA_VISION_DOCUMENT_MEMORY_MB" in message
    assert seconds < 30 and peak < RSS_CAP
    # the next document gets a fresh worker
    assert load_pages(good_png(tmp_path / "next.png"), settings=settings)[0].size == (160, 96)


def test_time_limit_is_one_clear_error(tmp_path):
    settings = load_settings(document_memory_mb=512, document_seconds=0.3)
    path = tmp_path / "slow.pdf"
    path.write_bytes(hostile.fan_out_pdf())
    error, seconds, _ = watched(lambda: load_pages(path, settings=settings))
    assert isinstance(error, DocumentError), error
    assert "took longer than 0.3 s to draw" in str(error) and "LLAMA_VISION_DOCUMENT_SECONDS" in str(error)
    assert seconds < 5


def test_twenty_giant_pages_are_drawn_smaller_one_at_a_time(tmp_path, settings):
    path = tmp_path / "posters.pdf"
    path.write_bytes(hostile.giant_pages_pdf(20, 14_400))
    load_pages(good_png(tmp_path / "warm.png"), settings=settings)  # the worker is started
    baseline = psutil.Process().memory_info().rss
    pages, seconds, peak = watched(lambda: load_pages(path, settings=load_settings(document_memory_mb=LIMIT_MB)))
    assert isinstance(pages, list) and len(pages) == 20, pages
    pixels = [p.width * p.height for p in pages]
    assert max(pixels) <= page_budget.PDF_MAX_PIXELS and max(max(p.size) for p in pages) < page_budget.PDF_MAX_SIDE
    assert sum(pixels) <= page_budget.DOCUMENT_MAX_PIXELS * 1.01
    assert seconds < 30 and peak < RSS_CAP
    del pages
    import gc

    gc.collect()
    assert psutil.Process().memory_info().rss < baseline + 150 * 1024**2  # back close to the baseline


def test_one_huge_page_is_rendered_at_a_reduced_scale(tmp_path, settings):
    path = tmp_path / "poster.pdf"
    path.write_bytes(hostile.giant_pages_pdf(1, 14_400))
    (page,) = load_pages(path, settings=settings)
    assert page.width * page.height <= page_budget.PDF_MAX_PIXELS
    assert page.size[0] == page.size[1] > 2800  # square, as large as the area cap allows


def test_a_document_too_large_for_the_budget_at_any_readable_size_is_refused():
    a4 = (595.0, 842.0)
    assert page_budget.pdf_scales([a4] * 20) == [200 / 72] * 20  # 20 A4 pages: full resolution
    scales = page_budget.pdf_scales([a4] * 60)
    assert scales is not None and scales[0] < 200 / 72  # smaller, still readable
    assert page_budget.pdf_scales([a4] * 500) is None


# -- images ----------------------------------------------------------------------------------
def test_wide_png_is_refused_before_it_is_decoded(tmp_path, settings):
    data = hostile.wide_png()
    assert len(data) < 20_000
    path = tmp_path / "strip.png"
    path.write_bytes(data)
    error, seconds, peak = watched(lambda: load_pages(path, settings=settings))
    assert isinstance(error, DocumentError), error
    assert "'strip.png' declares an image too large to decode safely (2796000x32 px" in str(error)
    assert seconds < 5 and peak < RSS_CAP


def test_a_large_photo_is_capped_cheaply_not_refused(tmp_path, settings):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (9000, 6000), (200, 210, 220)).save(path, quality=80)  # 54 MP
    (page,) = load_pages(path, settings=settings)
    assert page.width * page.height <= page_budget.IMAGE_MAX_PIXELS
    assert page.size == (4500, 3000)  # decoded at half size by the JPEG decoder itself
    assert page_budget.reduction_factor(9000, 6000) == 2 and page_budget.reduction_factor(100, 100) == 1


def test_the_app_never_trusts_a_page_frame_that_does_not_add_up():
    with pytest.raises(document_worker._Gone):
        document_worker._checked_size({"width": 10, "height": 10}, b"\0" * 299, 0, 5)
    with pytest.raises(document_worker._Gone):
        document_worker._checked_size({"width": 100_000, "height": 100_000}, b"", 0, 5)
    with pytest.raises(document_worker._Gone):
        document_worker._checked_size({"width": 10, "height": 10}, b"\0" * 300, 5, 5)  # past max_pages
    assert document_worker._checked_size({"width": 10, "height": 10}, b"\0" * 300, 0, 5) == (10, 10)


# -- ZIPs ------------------------------------------------------------------------------------
def test_4095_members_of_a_mib_of_zeros_are_refused_before_anything_is_written(tmp_path, settings):
    archive = hostile.zeros_zip(tmp_path / "receipts.zip")
    assert archive.stat().st_size < 8 * 1024**2
    with zipfile.ZipFile(archive) as zf:  # a real archive: zipfile reads it back
        assert len(zf.infolist()) == 4095 and zf.read("receipt-00007.pdf") == bytes(1024 * 1024)
    work = tmp_path / "work"
    error, seconds, peak = watched(lambda: collect_inputs(archive, settings=settings, work_dir=work))
    assert isinstance(error, DocumentError), error
    assert "'receipts.zip' looks like a ZIP bomb" in str(error) and "expands" in str(error)
    assert scratch.folder_bytes(work) == 0 if work.exists() else True
    assert seconds < 10 and peak < RSS_CAP


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


# -- the command line ------------------------------------------------------------------------
def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""), LLAMA_VISION_ENGINE="ocr",
        LLAMA_VISION_DOCUMENT_MEMORY_MB=str(LIMIT_MB), OMP_NUM_THREADS="1", TMPDIR=str(tmp), PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run the CLI, watching its own resident memory (not the worker's)."""
    process = subprocess.Popen([sys.executable, "-m", "llama_vision", *args], cwd=cwd, env=cli_env(cwd),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, seconds, peak = watched(lambda: process.communicate(timeout=120), pid=process.pid)
    assert isinstance(out, tuple), out
    return subprocess.CompletedProcess(process.args, process.returncode, *out), seconds, peak


def test_cli_extract_of_a_self_drawing_pdf_is_one_line(tmp_path):
    (tmp_path / "invoice.pdf").write_bytes(hostile.self_drawing_pdf())
    done, seconds, peak = run_cli(["extract", "invoice.pdf"], tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'invoice.pdf': this PDF needs more than 256 MB to draw" in lines[0], done.stderr
    assert seconds < 60 and peak < RSS_CAP


def test_cli_batch_of_30_with_one_hostile_document(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(29):
        good_png(folder / f"receipt-{index:02d}.png", text_colour=(index * 8, 0, 0))
    (folder / "receipt-15-hostile.pdf").write_bytes(hostile.fan_out_pdf())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left_behind = tmp_path / f"llama-vision-batch-{int(gone.stdout)}-killed"  # what a kill -9 leaves
    (left_behind / "00-a").mkdir(parents=True)
    done, seconds, peak = run_cli(["batch", "in", "--out", "out.csv"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and seconds < 60 and peak < RSS_CAP
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) == 30
    errors = [r for r in rows if r["status"] == "error"]
    assert [r["file"] for r in errors] == ["receipt-15-hostile.pdf"]
    assert "needs more than 256 MB to draw" in errors[0]["error"]
    # --resume never re-runs a document that already has a row, the hostile one included
    again, _, _ = run_cli(["batch", "in", "--out", "out.csv", "--resume"], tmp_path)
    assert again.returncode == 0 and "0 documents processed, 30 already done" in again.stdout, again.stdout
    assert len(list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))) == 30
    assert not list(tmp_path.glob("llama-vision-batch-*"))  # the batch's scratch folder is gone


# -- the worker ------------------------------------------------------------------------------
def test_where_rlimit_is_unavailable_the_app_watches_the_workers_memory(settings):
    # The child's own cap is far above the limit, so only the parent's RSS watch can stop it at
    # 256 MB: it is killed (SIGKILL), not aborted by a failed allocation (SIGABRT).
    worker = document_worker._Worker(LIMIT_MB, address_space_mb=4 * LIMIT_MB)
    assert not worker.limited
    error, seconds, _ = watched(lambda: worker.load(hostile.fan_out_pdf(), "fan.pdf", "pdf", settings))
    assert isinstance(error, DocumentError) and "needs more than 256 MB to draw" in str(error), error
    assert worker.process.returncode == -9 and seconds < 20


def test_concurrent_loads_share_a_few_workers(tmp_path, settings):
    from concurrent.futures import ThreadPoolExecutor

    paths = [good_png(tmp_path / f"r{i}.png", text_colour=(i * 20, 0, 0)) for i in range(8)]
    hostile_path = tmp_path / "bad.pdf"
    hostile_path.write_bytes(hostile.self_drawing_pdf())

    def load(path: Path) -> object:
        try:
            return load_pages(path, settings=settings)[0].getpixel((20, 20))
        except DocumentError as error:
            return str(error)

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(load, [*paths[:4], hostile_path, *paths[4:]]))
    assert outcomes[:4] + outcomes[5:] == [(i * 20, 0, 0) for i in range(8)]
    assert "needs more than 256 MB" in outcomes[4]
    assert len(page_workers(os.getpid())) <= document_worker.POOL_SIZE


def test_a_worker_killed_while_idle_is_replaced_not_blamed_on_the_next_document(tmp_path, settings):
    path = good_png(tmp_path / "fine.png")
    load_pages(path, settings=settings)
    for pid in page_workers(os.getpid()):
        psutil.Process(pid).kill()
        psutil.Process(pid).wait(5)
    assert load_pages(path, settings=settings)[0].size == (160, 96)


# -- the running app -------------------------------------------------------------------------
@pytest.mark.slow
def test_the_app_refuses_hostile_uploads_and_keeps_serving(tmp_path):
    pytest.importorskip("gradio_client")
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    from tests.ui_helpers import launch_app

    app = launch_app("hostile", tmp_path / "ui", LLAMA_VISION_DOCUMENT_MEMORY_MB=str(LIMIT_MB))
    client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
    files = {"invoice.pdf": hostile.self_drawing_pdf(), "fan.pdf": hostile.fan_out_pdf(), "strip.png": hostile.wide_png()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    good = good_png(tmp_path / "good.png")

    def extract(path: Path) -> str:
        try:
            *_, result, _download = Client(app.url, verbose=False).predict(
                handle_file(str(path)), 1, "key_value", api_name="/extract")
            return result["status"]
        except Exception as error:  # noqa: BLE001 - the message is what we check
            return str(error)

    def all_uploads() -> list[str]:
        with ThreadPoolExecutor(4) as pool:  # another user's good document while the bad ones draw
            bad = [pool.submit(extract, tmp_path / name) for name in files]
            fine = pool.submit(extract, good)
            return [f.result() for f in bad] + [fine.result()]

    outcome, seconds, peak = watched(all_uploads, pid=app.process.pid)
    assert isinstance(outcome, list), outcome
    assert "'invoice.pdf': this PDF needs more than 256 MB to draw" in outcome[0], outcome
    assert "'fan.pdf': this PDF needs more than 256 MB to draw" in outcome[1], outcome
    assert "'strip.png' declares an image too large to decode safely" in outcome[2], outcome
    assert outcome[3] == "ok" and seconds < 60 and peak < RSS_CAP
    zeros = hostile.zeros_zip(tmp_path / "receipts.zip")
    with pytest.raises(Exception, match="looks like a ZIP bomb"):
        client.predict([handle_file(str(zeros))], None, "all", api_name="/batch")
    assert app.process.poll() is None and extract(good) == "ok"


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


@pytest.mark.parametrize("mode", ["1", "P", "I;16", "RGBA", "L"])
def test_an_image_over_the_page_budget_is_shrunk_in_any_mode(tmp_path, mode):
    path = tmp_path / "scan.png"
    Image.new(mode, (8200, 5000)).save(path)  # 41 MP: just over the budget, a lossless scan
    (page,) = load_pages(path, settings=load_settings(document_memory_mb=512))
    assert page.mode == "RGB" and page.size == (4100, 2500)


def test_running_out_of_memory_while_decoding_is_the_memory_error_not_a_corrupt_file(tmp_path):
    path = tmp_path / "scan.png"
    Image.new("P", (8200, 5000)).save(path)  # to RGB needs 164 MB more than the 64 MB allowed
    with pytest.raises(DocumentError, match="'scan.png': this image needs more than 64 MB to decode"):
        load_pages(path, settings=load_settings(document_memory_mb=64))


def test_a_killed_batch_leaves_no_worker_behind_and_resume_finishes_it(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(29):
        good_png(folder / f"receipt-{index:02d}.png", text_colour=(index * 8, 0, 0))
    (folder / "receipt-03-hostile.pdf").write_bytes(hostile.self_drawing_pdf())
    env = {**cli_env(tmp_path), "LLAMA_VISION_DOCUMENT_SECONDS": "5"}
    process = subprocess.Popen([sys.executable, "-m", "llama_vision", "batch", "in", "--out", "out.csv"],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out_csv, workers = tmp_path / "out.csv", set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        workers |= set(page_workers(process.pid))
        if out_csv.is_file() and len(out_csv.read_text(encoding="utf-8").splitlines()) > 6:
            break
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    assert workers, "the batch never started a page worker"
    gone, alive = psutil.wait_procs([psutil.Process(pid) for pid in workers if psutil.pid_exists(pid)], timeout=15)
    assert not alive, f"page workers outlived the killed batch: {alive}"
    done, _, _ = run_cli(["batch", "in", "--out", "out.csv", "--resume"], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == 30 and len({r["file"] for r in rows}) == 30
    assert [r["file"] for r in rows if r["status"] == "error"] == ["receipt-03-hostile.pdf"]

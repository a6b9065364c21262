"""Issue 10: one hostile file never takes the app down (documents: PDFs, images, the worker).

The corpus (tests/hostile_corpus.py) is generated here: a self-drawing Form XObject PDF, a
fan-out of nested XObjects, a 2,796,000 x 32 px PNG and twenty 14,400 pt pages. Each goes
through `load_pages`: one clear error (or bounded pages), no crash, well under 60 s, and this
process's resident memory stays under 1.5 GB. The document worker runs with a small memory
limit here (256 MB): these files must never be drawn unguarded.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from PIL import Image

from llama_vision import document_worker, page_budget
from llama_vision.config import load_settings
from llama_vision.documents import load_pages
from llama_vision.errors import DocumentError
from tests import hostile_corpus as hostile
from tests.hostile_corpus import LIMIT_MB, grown_cap, good_png, page_workers, watched


@pytest.fixture()
def settings():
    return load_settings(document_memory_mb=LIMIT_MB, document_seconds=20)


# -- PDFs that cost memory and time ------------------------------------------------------------
@pytest.mark.parametrize("builder", [hostile.self_drawing_pdf, hostile.fan_out_pdf], ids=["self-drawing", "fan-out"])
def test_xobject_bombs_are_one_clear_error(tmp_path, settings, builder):
    data = builder()
    assert len(data) < 4096  # a few KB on disk
    path = tmp_path / "invoice.pdf"
    path.write_bytes(data)
    cap = grown_cap()
    error, seconds, peak = watched(lambda: load_pages(path, settings=settings))
    assert isinstance(error, DocumentError), error
    message = str(error)
    assert message.startswith("'invoice.pdf': this PDF needs more than 256 MB to draw"), message
    assert "malicious or damaged" in message and "LLAMA_VISION_DOCUMENT_MEMORY_MB" in message
    assert seconds < 30 and peak < cap
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
    cap = grown_cap()
    pages, seconds, peak = watched(lambda: load_pages(path, settings=load_settings(document_memory_mb=LIMIT_MB)))
    assert isinstance(pages, list) and len(pages) == 20, pages
    pixels = [p.width * p.height for p in pages]
    assert max(pixels) <= page_budget.PDF_MAX_PIXELS and max(max(p.size) for p in pages) < page_budget.PDF_MAX_SIDE
    assert sum(pixels) <= page_budget.DOCUMENT_MAX_PIXELS * 1.01
    assert seconds < 30 and peak < cap
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
    cap = grown_cap()
    error, seconds, peak = watched(lambda: load_pages(path, settings=settings))
    assert isinstance(error, DocumentError), error
    assert "'strip.png' declares an image too large to decode safely (2796000x32 px" in str(error)
    assert seconds < 5 and peak < cap


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


@pytest.mark.parametrize(("variable", "value"), [
    ("LLAMA_VISION_DOCUMENT_MEMORY_MB", "10"), ("LLAMA_VISION_DOCUMENT_MEMORY_MB", "lots"),
    ("LLAMA_VISION_DOCUMENT_SECONDS", "0"), ("LLAMA_VISION_DOCUMENT_SECONDS", "-5"),
])
def test_the_limits_are_validated_at_start_up(monkeypatch, variable, value):
    from llama_vision.errors import ConfigError

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable}="):
        load_settings()


def test_the_limits_default_to_a_gigabyte_and_thirty_seconds():
    defaults = load_settings()
    assert (defaults.document_memory_mb, defaults.document_seconds) == (1024, 30.0)
    assert document_worker._size_text(1024) == "1 GB" and document_worker._size_text(300) == "300 MB"

"""The real OCR engine (RapidOCR, bundled ONNX models): offline load, a rendered receipt, SROIE.

CPU heavy: one engine is shared by the module, and the SROIE check reads only a handful of scans.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from llama_vision.config import load_settings
from llama_vision.engines import create_engine
from llama_vision.engines.base import Generation
from llama_vision.engines.ocr import BUNDLED_MODELS, OcrEngine, bundled_model_paths

pytest.importorskip("rapidocr")

SROIE = Path(__file__).parents[1] / ".." / "shared" / "data" / "sroie-dev"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    built = OcrEngine(load_settings(engine="ocr"))
    yield built
    built.unload()


def _receipt() -> Image.Image:
    image = Image.new("RGB", (700, 520), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 30) if FONT.is_file() else ImageFont.load_default(size=30)
    rows = [("Corner Deli", None), ("TAX INVOICE", None), ("Date: 15/03/2024", None),
            ("Flat White", "4.50"), ("Banana Bread", "6.00"), ("GST 10%", "0.95"), ("TOTAL", "$10.50")]
    for i, (left, right) in enumerate(rows):
        y = 30 + i * 65
        draw.text((40, y), left, fill="black", font=font)
        if right:
            draw.text((520, y), right, fill="black", font=font)
    return image


def test_factory_builds_the_ocr_engine_with_its_capabilities() -> None:
    engine = create_engine(load_settings(engine="ocr"))
    assert isinstance(engine, OcrEngine) and engine.name == "ocr"
    assert (engine.capabilities.follows_prompts, engine.capabilities.streams, engine.capabilities.batches) == (
        False, False, False)
    assert not engine.is_loaded  # building is free; loading waits for the first page


def test_models_come_from_the_wheel() -> None:
    paths = bundled_model_paths()
    assert {p.name for p in paths.values()} == set(BUNDLED_MODELS.values())
    assert all(p.stat().st_size > 100_000 for p in paths.values())


def test_loading_and_reading_never_touch_the_network(engine: OcrEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the OCR engine tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    engine.unload()
    engine.initialize()
    assert engine.is_loaded and engine.load_error is None


def test_reads_total_and_date_from_a_rendered_receipt(engine: OcrEngine) -> None:
    reading = engine.generate(_receipt(), "")
    assert isinstance(reading, Generation) and reading.fields is not None
    assert reading.fields["total"] == "10.50"
    assert reading.fields["date"] == "15/03/2024"
    assert reading.fields["gst"] == "0.95"
    assert reading.fields["tax_invoice_label"] is True
    assert reading.document_type == "tax_invoice"
    assert "Corner Deli" in reading.text and reading.seconds > 0


def test_generate_returns_the_ocr_text_whatever_the_prompt(engine: OcrEngine) -> None:
    generation = engine.generate(_receipt(), "Ignore this prompt and write a poem")
    assert "TOTAL" in generation.text.upper() and "poem" not in generation.text


def test_status_reports_the_runtime(engine: OcrEngine) -> None:
    engine.initialize()
    status = engine.status()
    assert status["engine"] == "ocr" and status["follows_prompts"] is False
    assert "rapidocr" in status["runtime"] and "onnxruntime" in status["runtime"]


def test_sroie_handful_meets_loose_lower_bounds(engine: OcrEngine) -> None:
    if not SROIE.is_dir():
        pytest.skip("../shared/data/sroie-dev is absent")
    from llama_vision.evaluation import evaluate

    # about 1.5 CPU-s each; the full set is benchmarks/ocr_sroie.py. Scored as `evaluate` scores:
    # date and total exactly, company and address on their letters and digits (the SROIE habit).
    report = evaluate(SROIE, engine=engine, limit=4, progress=False)
    verdict = {"total": "correct", "date": "correct", "supplier_name": "letters_digits",
               "supplier_address": "letters_digits"}
    rate = {name: sum(bool(d["fields"][name][key]) for d in report.details) / len(report.details)
            for name, key in verdict.items()}
    assert report.documents == 4 and report.errors == 0
    assert rate["total"] >= 0.75, rate
    assert rate["date"] >= 0.75, rate
    assert rate["supplier_name"] >= 0.5, rate
    assert rate["supplier_address"] >= 0.5, rate


def test_runs_with_the_fast_receipt_settings(engine: OcrEngine) -> None:
    """Issue D: no detector upscaling, no 180-degree classifier, ONNX threads that sleep when idle."""
    engine.initialize()
    ocr = engine._ocr
    assert ocr.cfg.Det.limit_type == "max" and ocr.cfg.Det.limit_side_len <= 1024
    assert ocr.use_cls is False and ocr.text_cls is None  # never loaded
    assert list(ocr.cfg.Rec.rec_img_shape) == [3, 48, 160]
    for step in (ocr.text_det, ocr.text_rec):
        options = step.session.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert 1 <= options.intra_op_num_threads <= 4


def test_widen_box_stretches_a_line_along_its_baseline_and_stays_inside_the_page() -> None:
    from llama_vision.engines.ocr.engine import widen_box

    box = [[100, 50], [300, 50], [300, 70], [100, 70]]  # 20 px tall
    wide = widen_box(box, 0.5, 1000, 1000).tolist()
    assert wide == [[90, 50], [310, 50], [310, 70], [90, 70]]  # 10 px (half a height) each end
    assert widen_box(box, 0.5, 305, 1000)[:, 0].max() == 304  # clipped to the page
    assert widen_box(box, 0.0, 1000, 1000).tolist() == box  # off: the detector's own box


def test_the_reader_pool_never_makes_more_readers_than_its_size() -> None:
    import threading
    import time

    from llama_vision.engines.ocr.sessions import SessionPool

    made: list[int] = []
    in_use = {"now": 0, "most": 0}
    guard = threading.Lock()

    def make() -> int:
        time.sleep(0.02)  # a slow load widens the race between callers that find no idle reader
        made.append(len(made))
        return made[-1]

    pool = SessionPool(make, 2)

    def read() -> None:
        with pool.borrow():
            with guard:
                in_use["now"] += 1
                in_use["most"] = max(in_use["most"], in_use["now"])
            time.sleep(0.01)
            with guard:
                in_use["now"] -= 1

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == pool.made == 2 and in_use["most"] == 2


def test_a_failed_reader_load_frees_its_place_in_the_pool() -> None:
    from llama_vision.engines.ocr.sessions import SessionPool

    calls = {"n": 0}

    def make() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("model file unreadable")
        return "reader"

    pool = SessionPool(make, 1)
    with pytest.raises(OSError):
        pool.add()
    with pool.borrow() as reader:  # the failed load did not use up the one place
        assert reader == "reader" and pool.made == 1


def test_ocr_workers_share_out_the_cores_and_set_the_batch_width() -> None:
    from llama_vision.engines.ocr.engine import ort_threads, usable_cores

    two = OcrEngine(load_settings(env_file=None, engine="ocr", ocr_workers=2))
    auto = OcrEngine(load_settings(env_file=None, engine="ocr", ocr_workers=0))
    assert two.parallel_requests() == 2 and auto.parallel_requests() == usable_cores()
    assert ort_threads(1) == usable_cores() and ort_threads(usable_cores()) == 1 and ort_threads(64) == 1
    from llama_vision.errors import ConfigError

    with pytest.raises(ConfigError, match="LLAMA_VISION_OCR_WORKERS=-1"):
        load_settings(env_file=None, ocr_workers=-1)


def test_two_readers_at_once_read_what_one_reads_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from llama_vision.engines.ocr.engine import usable_cores

    pages = [_receipt(), _receipt().rotate(0, expand=True).resize((600, 446))]
    engine = OcrEngine(load_settings(env_file=None, engine="ocr", ocr_workers=2))
    try:
        alone = [[b.text for b in engine.ocr_boxes(page)] for page in pages]
        with ThreadPoolExecutor(2) as pool:
            together = list(pool.map(lambda page: [b.text for b in engine.ocr_boxes(page)], pages * 2))
        assert together == alone * 2 and any("TOTAL" in t for t in alone[0])
        status = engine.status()
        options = engine._ocr.text_rec.session.session.get_session_options()
        assert options.intra_op_num_threads == status["threads"] == usable_cores()  # read alone: every core
        assert status["threads_side_by_side"] == max(1, usable_cores() // 2)
        # side by side the pages went to narrow readers (at most two), made on demand
        wide = usable_cores() > 1
        assert engine._pool is not None and wide + 1 <= engine._pool.made <= wide + 2
    finally:
        engine.unload()


def test_a_page_read_alone_gets_the_wide_reader_and_pages_side_by_side_the_narrow_ones() -> None:
    import threading

    from llama_vision.engines.ocr.sessions import ReaderPool

    pool = ReaderPool(lambda: "narrow", 2, lambda: "wide")
    assert pool.add() == "wide" and pool.made == 1
    with pool.borrow() as first:
        assert first == "wide"
        with pool.borrow() as second, pool.borrow() as third:  # two more while the first is read
            assert second == third == "narrow" and pool.made == 3
    with pool.borrow() as again:  # alone again: the wide reader is free
        assert again == "wide"
    started, release, seen = threading.Barrier(3), threading.Event(), []

    def read() -> None:
        with pool.borrow() as reader:
            seen.append(reader)
            started.wait()
            release.wait()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    started.wait()
    release.set()
    for thread in threads:
        thread.join()
    assert sorted(seen) == ["narrow", "wide"]  # never two pages on the wide reader at once
    single = ReaderPool(lambda: "only", 1)  # one reader on every core: no second, wide one
    assert single.add() == "only" and single.made == 1

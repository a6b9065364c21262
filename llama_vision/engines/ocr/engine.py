"""The embedded OCR engine: RapidOCR (ONNX models bundled in the wheel) + rules.

The default when no model is configured, so the whole app works offline on a laptop. It does
not follow prompts: each page it is given is read into text boxes, grouped into rows
(`layout`) and the canonical fields are filled with rules (`rules`). Its Generations carry
those fields (and the OCR text, so prompt-comparison screens have something to show).

Offline by construction: the detection, direction and recognition models are passed to
RapidOCR by explicit path from the wheel's own `models/` folder. Given a `model_path`,
RapidOCR never consults its download table; without it, rapidocr 3.x would fetch any model
that is not already on disk. The recognition model carries its character dictionary inside the
ONNX file, so no dictionary is fetched either.

Speed (issue D, figure 6): RapidOCR's defaults are tuned for small photos, not tall receipts.
`OCR_PARAMS` below cut the CPU time of the OCR call per SROIE receipt from about 4.0 s to about
1.4 s with the four-field accuracy unchanged or better (benchmarks/ocr_sroie.py): the detector no
longer upscales (limit_type "min" 736 blew a 556x1600 receipt up to 736x2118; "max" 800 runs it
at 278x800 instead; the boxes it finds are still cropped from the full image for recognition),
the 0/180-degree line classifier is skipped (scans and renders are upright), recognition pads
short lines to 160 px instead of 320 px, and ONNX Runtime runs without busy-waiting threads
(spinning burnt ~10% extra CPU on a shared machine). Issue H: a batch reads one page per usable
core at once (LLAMA_VISION_OCR_WORKERS, default 0: one per core), each on a reader with its share
of the cores, while a page read alone gets a reader on all of them (`sessions.ReaderPool`):
measured on 2 idle cores, 2.05x the pages of one reader on one core, 1.2x one reader on both.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Capabilities, Engine, Generation
from llama_vision.engines.ocr.sessions import ReaderPool
from llama_vision.errors import ModelLoadError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PIL.Image import Image

    from llama_vision.config import Settings
    from llama_vision.engines.base import GenerationRequest
    from llama_vision.engines.ocr.layout import TextBox

# The models shipped in the rapidocr 3.x wheel (PP-OCRv6 small det/rec, PP-OCR mobile cls).
BUNDLED_MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}


# RapidOCR settings that change what the engine reads (part of the OCR cache key in benchmarks).
# Measured on the 40 SROIE dev scans at ocr_max_side=1600; each kept only with accuracy unchanged.
OCR_PARAMS: dict[str, Any] = {
    "Global.use_cls": False,  # upright pages: the 180-degree classifier cost ~5% and no field needed it
    "Det.limit_type": "max",  # shrink to the limit, never upscale ("min" upscaled receipts ~1.8x)
    "Det.limit_side_len": 800,  # 1024 scored the same; 640 lost a company and two totals
    "Rec.rec_img_shape": [3, 48, 160],  # lines padded to >= 160 px wide, not 320 (median line ~190)
    # small print (`small_text`): a page whose median detected box is under this many pixels tall
    # is read again from a copy enlarged this many times (at most ocr_max_side on its long side).
    # Off (0): measured on the generator's low-resolution A4 pages (17 of 320 family pages under
    # 23 px, no SROIE receipt), 2x Lanczos, bicubic or bilinear, 1.5x, and 2x with detection at
    # 1600 px each fixed about as many fields as they broke (28 -> 28-29 misses on seeds 0/7/31;
    # "$931.38" still read "5931.38"), and with this branch's rules it is worse (23 -> 26 misses:
    # "$" read as "5" more often): the recogniser lacks the detail, not the pixels. On, it
    # costs those pages 1.36 CPU-s more each (1.29 s first reading). Try it on other documents
    # with --ocr-param Global.small_text_below=23.
    "Global.small_text_below": 0,
    "Global.small_text_upscale": 2.0,
}
# keys of OCR_PARAMS the engine applies itself (absent: off). "Rec.side_pad" widens each line's
# recognition crop by that many text heights at both ends (`widen_box`). Measured on sroie-train
# (benchmarks/ocr_sroie.py --ocr-param Rec.side_pad=0.3): total 95.6 -> 96.9 but supplier 85.6 ->
# 83.1 and address 64.8 -> 63.5, so it stays off; Det.unclip_ratio=2.0 (wider boxes all round)
# cost address 5 points. Both are there to try on other documents.
OWN_PARAMS = frozenset({"Rec.side_pad", "Global.small_text_below", "Global.small_text_upscale"})


def usable_cores() -> int:
    """The cores this process may use, at most 4 (these small models scale no further)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def ocr_workers(settings: Settings) -> int:
    """Pages read at once: LLAMA_VISION_OCR_WORKERS, or 0 for one per usable core."""
    return settings.ocr_workers or usable_cores()


def ort_threads(workers: int = 1) -> int:
    """Intra-op threads per reader: the usable cores shared out between `workers` readers."""
    return max(1, usable_cores() // max(1, workers))


def bundled_model_paths() -> dict[str, Path]:
    """The wheel's own model files; raises ModelLoadError naming what is missing."""
    try:
        import rapidocr
    except ImportError as error:
        raise ModelLoadError(
            "The OCR engine needs the 'rapidocr' and 'onnxruntime' packages.",
            hint="Install them with: pip install 'rapidocr>=3.4' onnxruntime",
        ) from error
    folder = Path(rapidocr.__file__).parent / "models"
    paths = {task: folder / name for task, name in BUNDLED_MODELS.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise ModelLoadError(
            f"The rapidocr wheel in {folder} lacks its bundled OCR models ({', '.join(missing)}).",
            hint="Reinstall it: pip install --force-reinstall 'rapidocr>=3.4' (the app never downloads models).",
        )
    return paths


class OcrEngine(Engine):
    """RapidOCR + rules: every Generation holds the OCR text and the fields the rules read."""

    name = "ocr"
    capabilities = Capabilities(follows_prompts=False, streams=False, batches=False)
    calibrated = True  # map the rules' raw confidences through the shipped fit (False: fitting it)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._ocr: Any = None  # the reader made at load (what status and tests look at)
        # one RapidOCR instance per page being read: `ocr_workers` of them at most, each on its
        # share of the cores (more pages at once than that only wait), and one on all cores for a
        # page read alone
        self._pool: ReaderPool | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def _load(self) -> None:
        workers, paths = ocr_workers(self.settings), bundled_model_paths()
        narrow = functools.partial(_new_reader, paths, ort_threads(workers))
        wide = functools.partial(_new_reader, paths, ort_threads(1)) if ort_threads(workers) < ort_threads(1) else None
        pool = ReaderPool(narrow, workers, wide)
        self._ocr = pool.add()  # one now, so a broken install fails at load; the others on demand
        self._pool = pool

    def parallel_requests(self) -> int:
        """A batch keeps one page per reader in flight (see `sessions`)."""
        return ocr_workers(self.settings)

    def _unload(self) -> None:
        self._ocr = self._pool = None

    # -- reading ---------------------------------------------------------------------------
    def ocr_boxes(self, image: Image) -> list[TextBox]:
        """The page's text boxes, in the coordinates of the downscaled image (see `ocr_scale`)."""
        from llama_vision.documents import prepare_for_ocr

        prepared = prepare_for_ocr(image, self.settings.ocr_max_side)
        return self.reread_small_text(prepared, self.read_pixels(prepared))

    def read_pixels(self, image: Image) -> list[TextBox]:
        """One RapidOCR reading of `image` as given, on a reader borrowed from the pool."""
        import numpy as np

        from llama_vision.engines.ocr.layout import boxes_from_rapidocr

        self.initialize()
        pool = self._pool
        assert pool is not None  # initialize() loaded it
        with pool.borrow() as ocr:
            output = ocr(np.asarray(image))
        return boxes_from_rapidocr(output.boxes, output.txts, output.scores)

    def reread_small_text(self, image: Image, boxes: list[TextBox]) -> list[TextBox]:
        """`boxes` (read from `image`), or, when their print is small, the reading of an enlarged
        copy in `image`'s pixels (see `small_text`)."""
        from llama_vision.engines.ocr import small_text

        factor = small_text.upscale_factor(
            boxes, image.size, below=float(OCR_PARAMS.get("Global.small_text_below", 0)),
            factor=float(OCR_PARAMS.get("Global.small_text_upscale", 1.0)), max_side=self.settings.ocr_max_side)
        if factor == 1.0:
            return boxes
        larger = small_text.enlarge(image, factor)
        return small_text.shrink(self.read_pixels(larger), image.size, larger.size)

    def ocr_scale(self, image: Image) -> float:
        """Page pixels per OCR pixel: `prepare_for_ocr` shrinks the longest side to ocr_max_side."""
        longest = max(image.size)
        target = self.settings.ocr_max_side
        if longest <= target:
            return 1.0
        return image.width / max(1, round(image.width * target / longest))

    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Each page read, whatever the prompt: this engine does not follow prompts."""
        return [self._read(request.image) for request in requests]

    def _read(self, image: Image) -> Generation:
        from llama_vision.engines.ocr.rules import read_boxes

        started = time.perf_counter()
        boxes, scale = self.ocr_boxes(image), self.ocr_scale(image)
        reading = read_boxes(boxes)
        fits = _calibration() if self.calibrated else {}
        evidence = {name: _rescaled(item, scale, image.width, image.height, fits.get(name))
                    for name, item in reading.evidence.items()}
        warnings = list(reading.warnings)
        if boxes and sum(b.score for b in boxes) / len(boxes) < 0.75:
            warnings.append("OCR confidence is low (blurred, skewed or small print); check the fields.")
        return Generation(text=reading.text, seconds=time.perf_counter() - started, fields=reading.fields,
                          document_type=reading.document_type, warnings=warnings, evidence=evidence)

    # -- reporting -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        info = super().status()
        info.update(runtime=_runtime_versions(), ocr_max_side=self.settings.ocr_max_side,
                    models=list(BUNDLED_MODELS.values()), workers=ocr_workers(self.settings),
                    threads=ort_threads(1), threads_side_by_side=ort_threads(ocr_workers(self.settings)))
        return info


CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@functools.lru_cache(maxsize=1)
def _calibration() -> dict[str, Any]:
    """field -> the shipped ConfidenceMap (fitted by scripts/fit_calibration.py)."""
    from llama_vision.confidence_map import load_maps

    return load_maps(CALIBRATION_FILE)


def _rescaled(item: Any, scale: float, width: int, height: int, fit: Any = None) -> Any:
    """Evidence with its box in pixels of the page as loaded (OCR ran on a downscaled copy) and its
    confidence through the field's calibration, when one ships."""
    update: dict[str, Any] = {}
    if fit is not None and item.confidence is not None:
        update["confidence"] = round(fit(item.confidence), 4)
    if item.box is not None:
        x0, y0, x1, y1 = item.box
        box = [max(0.0, x0 * scale), max(0.0, y0 * scale), min(float(width), x1 * scale), min(float(height), y1 * scale)]
        update["box"] = [round(v, 1) for v in box]
    return item.model_copy(update=update)


def _new_reader(paths: dict[str, Path], threads: int) -> Any:
    """One RapidOCR instance on the wheel's models with the engine's settings and `threads`
    intra-op threads; raises ModelLoadError saying what to do."""
    from rapidocr import RapidOCR

    params: dict[str, Any] = {
        "Global.log_level": "error",  # an empty page is a normal result, not a warning
        "Det.model_path": str(paths["Det"]),
        "Cls.model_path": str(paths["Cls"]),
        "Rec.model_path": str(paths["Rec"]),
        **{key: value for key, value in OCR_PARAMS.items() if key not in OWN_PARAMS},
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    try:
        ocr = RapidOCR(params=params)
        _quiet_sessions(ocr, paths, threads)
        _pad_crops(ocr, float(OCR_PARAMS.get("Rec.side_pad", 0.0)))
    except Exception as error:  # onnxruntime or config problems: say what to do
        raise ModelLoadError(
            f"RapidOCR could not start: {error}",
            hint="Check that onnxruntime is installed for this Python (pip install onnxruntime).",
        ) from error
    return ocr


def _quiet_sessions(ocr: Any, paths: dict[str, Path], threads: int) -> None:
    """Give RapidOCR's detection and recognition steps ONNX sessions whose idle threads sleep.

    rapidocr 3.x builds its sessions with ONNX Runtime's default thread spinning, which keeps
    the worker threads busy-waiting between operators: about 10% more CPU per receipt and
    cores taken from whatever else runs on the machine. rapidocr has no option for it, so the
    sessions are rebuilt with the same options plus allow_spinning=0 and swapped in. If a future
    rapidocr moves these attributes, its own sessions are kept (slower, still correct).
    """
    import onnxruntime as ort

    loaders = {"Det": getattr(ocr, "_load_det_model", None), "Rec": getattr(ocr, "_load_rec_model", None)}
    for task, load in loaders.items():
        wrapper = getattr(load(), "session", None) if load is not None else None
        if wrapper is None or not isinstance(getattr(wrapper, "session", None), ort.InferenceSession):
            continue
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.enable_cpu_mem_arena = False  # rapidocr's default; the arena measured no faster
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        wrapper.session = ort.InferenceSession(str(paths[task]), sess_options=options,
                                               providers=["CPUExecutionProvider"])


def widen_box(points: Any, pad: float, width: int, height: int) -> Any:
    """A detected line's quadrilateral (TL, TR, BR, BL) stretched along its own baseline by `pad`
    text heights at each end, kept inside the image.

    The detector's boxes hug the ink; on small print the last glyph of a right-aligned amount
    often sits on the box edge and the recogniser drops it ("TOTAL 201.6" for 201.68).
    """
    import numpy as np

    box = np.array(points, dtype=np.float32).reshape(4, 2)
    along = box[1] - box[0]
    length = float(np.linalg.norm(along))
    if pad <= 0 or length < 1:
        return box
    text_height = float(np.linalg.norm(box[3] - box[0]))
    step = along / length * pad * text_height
    box[[0, 3]] -= step
    box[[1, 2]] += step
    box[:, 0] = np.clip(box[:, 0], 0, width - 1)
    box[:, 1] = np.clip(box[:, 1], 0, height - 1)
    return box


def _pad_crops(ocr: Any, pad: float) -> None:
    """Have RapidOCR crop each line for recognition from a widened box (`widen_box`).

    Only the crops change: the boxes it returns (and the evidence drawn from them) are the
    detector's own. rapidocr has no option for it; if a future version moves `crop_text_regions`,
    its own crops are kept (less margin, still correct).
    """
    original = getattr(ocr, "crop_text_regions", None)
    if pad <= 0 or original is None:
        return

    def crop_text_regions(img: Any, det_boxes: Any) -> Any:
        import numpy as np

        height, width = img.shape[:2]
        return original(img, np.array([widen_box(b, pad, width, height) for b in det_boxes]))

    ocr.crop_text_regions = crop_text_regions


def _runtime_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("rapidocr", "onnxruntime"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} missing")
    return ", ".join(parts)

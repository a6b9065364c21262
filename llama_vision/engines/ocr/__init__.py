"""The embedded OCR engine: RapidOCR reads the page, rules turn its lines into fields.

    engine.py      OcrEngine: bundled ONNX models, RapidOCR settings, text boxes
    sessions.py    the pool of RapidOCR readers a batch reads pages with at once
    small_text.py  when and how a page of small print is read again from an enlarged copy
    layout.py      text boxes -> reading-order lines
    vocabulary.py  the labels and words the rules look for
    rules/         lines -> the canonical fields and the document type

Dates, money and ABNs are read by `llama_vision.fields` (one reader for every engine).
"""

from llama_vision.engines.ocr.engine import BUNDLED_MODELS, OCR_PARAMS, OcrEngine, bundled_model_paths, ocr_workers, ort_threads

__all__ = ["BUNDLED_MODELS", "OCR_PARAMS", "OcrEngine", "bundled_model_paths", "ocr_workers", "ort_threads"]

"""Rules that turn OCR lines into the canonical fields and a document type (pure functions)."""

from llama_vision.engines.ocr.rules.reading import Reading, extract_fields, read_boxes

__all__ = ["Reading", "extract_fields", "read_boxes"]

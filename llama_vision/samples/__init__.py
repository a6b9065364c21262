"""Synthetic Australian test documents with ground truth, and the small bundled samples.

`generate_documents(out_dir, count, seed)` writes a corpus; `bundled_samples()` lists the image
files shipped in `bundled/` (each with a same-named .json ground truth).
"""

from __future__ import annotations

from pathlib import Path

from llama_vision.schema import DOCUMENT_EXTENSIONS

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def bundled_samples() -> list[Path]:
    """The bundled sample documents (images), sorted by name; each has a same-named .json."""
    if not BUNDLED_DIR.is_dir():
        return []
    return sorted(p for p in BUNDLED_DIR.iterdir() if p.suffix.lower() in DOCUMENT_EXTENSIONS)


def generate_documents(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - thin lazy wrapper
    """See `llama_vision.samples.generator.generate_documents` (imported lazily: it needs fonts)."""
    from llama_vision.samples.generator import generate_documents as _generate

    return _generate(*args, **kwargs)

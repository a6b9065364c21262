"""Boxes for a model engine's answers (issue G, ARCHITECTURE.md section 9).

A vision model answers with text, not positions. Grounding reads the same page with the OCR
engine while the model generates (`reader`), then finds each answered value among the OCR rows
(`match`): the field's evidence gets the box of the printed value, the page and the OCR row's
text. A value the page does not print gets no box. Confidence is not touched here: it comes from
the model's token probabilities, where the engine measures them.

    LLAMA_VISION_GROUNDING=auto   on for model engines when the OCR runtime is installed
                          on     always for model engines (start-up fails without the runtime)
                          off    never
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llama_vision.engines.ocr.locate import box_of, locate
from llama_vision.grounding.reader import PageText, ocr_runtime_installed, read_page, shared_reader, submit
from llama_vision.result import FieldEvidence

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine

__all__ = ["PageText", "enabled", "ground_fields", "ocr_runtime_installed", "read_page", "shared_reader", "submit"]


def enabled(settings: Settings, engine: Engine) -> bool:
    """Whether this engine's answers get boxes: model engines only (the OCR engine's own
    evidence already has them), by LLAMA_VISION_GROUNDING."""
    if not engine.capabilities.follows_prompts or settings.grounding == "off":
        return False
    return settings.grounding == "on" or ocr_runtime_installed()


def ground_fields(page: PageText, fields: Mapping[str, Any], evidence: Mapping[str, FieldEvidence] | None = None,
                  *, page_index: int = 0) -> dict[str, FieldEvidence]:
    """`evidence` with a box, page and OCR text for every field whose value is printed on the page.

    A field's existing evidence (a confidence from token probabilities) is kept and completed;
    a field found with none gets evidence of its own, with confidence null (nothing measured it).
    """
    out = dict(evidence or {})
    for name, value in fields.items():
        match = locate(page.rows, name, value)
        box = box_of(page.rows, match) if match else None
        if match is None or box is None:
            continue
        found = {"box": _to_page(box, page), "page": page_index,
                 "text": "\n".join(page.rows[i].text for i in match.rows)}
        old = out.get(name)
        out[name] = old.model_copy(update=found) if old else FieldEvidence(source="model", **found)
    return out


def _to_page(box: list[float], page: PageText) -> list[float]:
    """OCR pixels -> pixels of the page as loaded, inside the page."""
    x0, y0, x1, y1 = (v * page.scale for v in box)
    return [round(max(0.0, x0), 1), round(max(0.0, y0), 1), round(min(float(page.width), x1), 1),
            round(min(float(page.height), y1), 1)]

"""Layout families drawn from real Australian documents, for a harder generator.

Each family is a layout seen in the wild (a centred thermal receipt, a supermarket receipt with
GST-free markers, a fuel docket, a café docket with cash rounding, a two-column invoice header
with bill-to/ship-to blocks, a bordered-table invoice, a tradie's whole-dollar invoice, a bank
statement), with varied fonts, sizes and columns and photo effects (perspective, shadow,
crumple, thermal fade, low resolution, JPEG). The renderer records the pixel box of every
field's value in the final image, so the truth carries `boxes` (and the printed `box_text`).

The truth is computed from what was printed by `samples.truth` (independent of
llama_vision.compliance), exactly as for the original kinds, whose output does not change.
"""

from __future__ import annotations

import random
from typing import Any
from collections.abc import Callable

from PIL import Image

from llama_vision.samples.document import choose
from llama_vision.samples.families.invoices import invoice_bordered, invoice_two_column, tradie_whole_dollars
from llama_vision.samples.families.layout import render_page
from llama_vision.samples.families.model import FamilyDocument
from llama_vision.samples.families.photo import choose_family_style, clean_style, photograph
from llama_vision.samples.families.receipts import cafe_rounding, fuel_docket, supermarket_gst, thermal_centred
from llama_vision.samples.families.statement import bank_statement_columns

__all__ = ["FAMILIES", "FamilyDocument", "clean_style", "make_family_document", "render_family"]

# name: (builder, the original kind whose odds the compliance choices use, printed on a sheet, thermal paper)
_TABLE: dict[str, tuple[Callable[..., FamilyDocument], str, bool, bool]] = {
    "thermal_centred": (thermal_centred, "hardware", False, True),
    "supermarket_gst": (supermarket_gst, "supermarket", False, True),
    "fuel_docket": (fuel_docket, "fuel", False, True),
    "cafe_rounding": (cafe_rounding, "cafe", False, True),
    "invoice_two_column": (invoice_two_column, "invoice", True, False),
    "invoice_bordered": (invoice_bordered, "invoice", True, False),
    "tradie_whole_dollars": (tradie_whole_dollars, "invoice", True, False),
    "bank_statement_columns": (bank_statement_columns, "invoice", True, False),
}
FAMILIES: tuple[str, ...] = tuple(_TABLE)


def make_family_document(rng: random.Random, family: str, **overrides: Any) -> FamilyDocument:
    """One document of `family` (its content, truth fields and style); overrides force `Choices`."""
    if family not in _TABLE:
        raise ValueError(f"unknown family {family!r}; use one of {', '.join(FAMILIES)} (or 'all')")
    builder, odds, sheet, thermal = _TABLE[family]
    choices = choose(rng, odds, overrides)
    if family == "bank_statement_columns":
        choices.abn = "none" if choices.abn == "none" else "valid"  # banks print a real ABN or none
    doc = builder(rng, choices)
    doc.style = choose_family_style(rng, sheet=sheet, thermal=thermal)
    return doc


def render_family(doc: FamilyDocument, rng: random.Random, *, long_side: int | None = None,
                  clean: bool = False) -> tuple[Image.Image, dict[str, list[int]], dict[str, str]]:
    """The final image, each field's box in its pixels, and the text printed in each box.

    `clean` draws a straight, effect-free scan of the same content (tests read the boxes back).
    """
    if clean:
        doc.style = clean_style(doc.style)
    page, boxes, texts = render_page(doc.ops, doc.style)
    image, boxes = photograph(page, boxes, rng, doc.style, long_side or doc.style["long_side"])
    return image, boxes, texts

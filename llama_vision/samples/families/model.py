"""A family document: the shared document model plus the page as layout operations, the family's
name, and the truth with the field boxes the renderer recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llama_vision.samples.document import Document
from llama_vision.samples.truth import ALL_FIELDS, expected_compliance

__all__ = ["FamilyDocument", "tag"]


def tag(text: str, name: str | None) -> tuple[str, str | None]:
    """One printed piece; `name` is the field whose value it is (its box goes into the truth)."""
    return (text, name)


@dataclass
class FamilyDocument(Document):
    family: str = ""
    doc_type: str = "receipt"
    ops: list[tuple] = field(default_factory=list)
    item_status: bool = False  # write each item's gst_status (taxable | gst_free) into the truth

    @property
    def document_type(self) -> str:
        return self.doc_type

    def truth(self, *, seed: int | None = None, index: int | None = None, boxes: dict[str, list[int]] | None = None,
              box_text: dict[str, str] | None = None) -> dict[str, Any]:
        fields = {name: self.fields.get(name) for name in ALL_FIELDS}
        fields["items"] = [item.truth() for item in self.items]
        if self.item_status:
            for entry, item in zip(fields["items"], self.items):
                entry["gst_status"] = "gst_free" if item.gst_free else "taxable"
        effects = sorted(name for name, on in self.style.get("effects", {}).items() if on)
        if self.style.get("photo"):
            effects.insert(0, "photo")
        return {
            "document_type": self.document_type,
            "fields": fields,
            "compliance": expected_compliance(fields, self.document_type),
            "boxes": dict(boxes or {}),
            "box_text": dict(box_text or {}),
            "generator": {"kind": self.family, "family": self.family, "seed": seed, "index": index,
                          "notes": list(self.notes), "face": self.style.get("face"), "effects": effects},
        }

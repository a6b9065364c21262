"""The Result contract of ARCHITECTURE.md §2, shared by the CLI, the UI, batch and evaluation."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from llama_vision.schema import DOCUMENT_TYPES, DocumentType  # noqa: F401 - re-exported: public imports use them


class FieldEvidence(BaseModel):
    """Where a field's value came from and how sure the engine is (ARCHITECTURE.md section 9).

    `confidence` is measured (recogniser scores, token probabilities), never a constant, and is
    null when the engine gives nothing to measure. `box` is [x0, y0, x1, y1] in pixels of page
    `page` as loaded (EXIF-rotated); it is null unless the text was found on the page."""

    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    page: int | None = None
    box: list[float] | None = None
    text: str | None = None
    source: Literal["ocr", "model", "rule"] = "ocr"


class Review(BaseModel):
    """Whether a person should look at this document before trusting it, and why."""

    needed: bool = False
    fields: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class Result(BaseModel):
    file: str
    engine: str
    prompt: str
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    document_type: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    compliance: dict[str, Any] | None = None
    raw_output: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    pages: int | None = None
    usage: dict[str, Any] = Field(default_factory=dict)  # prompt/generated tokens, tokens/s
    evidence: dict[str, FieldEvidence] = Field(default_factory=dict)
    review: Review = Field(default_factory=Review)
    # The first page as loaded (grey, at most 800 px) for batch's duplicate check; never serialised.
    _first_page: Any = PrivateAttr(default=None)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def failed(cls, file: str, engine: str, prompt: str, error: BaseException | str) -> Result:
        return cls(file=file, engine=engine, prompt=prompt, status="error", error=str(error))

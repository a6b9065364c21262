"""The Result contract of ARCHITECTURE.md §2, shared by the CLI, the UI, batch and evaluation."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from llama_vision.schema import DOCUMENT_TYPES, DocumentType  # noqa: F401 - re-exported: public imports use them


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

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def failed(cls, file: str, engine: str, prompt: str, error: BaseException | str) -> Result:
        return cls(file=file, engine=engine, prompt=prompt, status="error", error=str(error))

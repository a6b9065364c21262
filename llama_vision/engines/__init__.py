"""Engine factory. Imports torch, transformers, openai or the OCR runtime only for the engine
that is chosen, so `import llama_vision` and the OCR-only app stay light."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_vision.engines.base import Capabilities, Engine, Generation
from llama_vision.errors import ConfigError
from llama_vision.schema import ENGINE_CHOICES, ENGINE_NAMES

if TYPE_CHECKING:
    from llama_vision.config import Settings

__all__ = ["Capabilities", "Engine", "Generation", "create_engine", "ENGINE_NAMES"]


def create_engine(settings: Settings, *, name: str | None = None) -> Engine:
    """Build (not load) the engine `name`, or the one Settings resolve to."""
    chosen = (name or settings.resolved_engine()).lower()
    if chosen == "auto":
        chosen = settings.resolved_engine()
    if chosen == "llama":
        from llama_vision.engines.llama import LlamaEngine

        return LlamaEngine(settings)
    if chosen == "openai":
        from llama_vision.engines.openai import OpenAIEngine

        return OpenAIEngine(settings)
    if chosen == "ocr":
        from llama_vision.engines.ocr import OcrEngine

        return OcrEngine(settings)
    raise ConfigError(f"Unknown engine {chosen!r}.", hint=f"Use one of {', '.join(ENGINE_CHOICES)}.")

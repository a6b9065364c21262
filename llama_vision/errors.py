"""A small exception family. Every message says what went wrong *and* how to fix it.

The CLI prints `str(error)` as one line and exits non-zero; the UI raises it as `gr.Error`.
"""

from __future__ import annotations


class LlamaVisionError(Exception):
    """Base class: a problem the user can act on. `str()` is the whole one-line message."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class ConfigError(LlamaVisionError):
    """A setting (environment variable or .env) has a value we cannot use."""


class DocumentError(LlamaVisionError):
    """An input file cannot be read as a document (empty, truncated, encrypted, too big...)."""


class PromptError(LlamaVisionError):
    """The prompt library is invalid (unknown key, missing placeholder...)."""


class EngineError(LlamaVisionError):
    """An engine failed to load or to answer."""


class ModelLoadError(EngineError):
    """The model could not be loaded (missing folder, no safetensors, bad quantization...)."""


class EngineOutOfMemoryError(EngineError):
    """The accelerator ran out of memory; the cache has been released."""


class RemoteEngineError(EngineError):
    """An OpenAI-compatible server refused or failed a request."""


class DatasetError(LlamaVisionError):
    """A document cannot be saved into the ground-truth dataset (saving off, a bad name...)."""


class DocumentExistsError(DatasetError):
    """The dataset already holds a document of that name; saving again must say "replace it"."""

"""The llama engine (transformers Mllama). Importing this package imports neither torch nor
transformers; `LlamaEngine._load` does, when the engine is first used."""

from llama_vision.engines.llama.engine import LlamaEngine

__all__ = ["LlamaEngine"]

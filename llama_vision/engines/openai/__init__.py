"""The openai engine: OpenAI-compatible servers (Ollama, vLLM, SGLang).

- `engine`: OpenAIEngine, which runs requests concurrently over the pool and streams.
- `pool`: the servers: clients, round-robin, failover, cool-downs, in-flight slots, health.
- `wire`: the chat-completions format: messages, base64 images, reading answers and usage.
- `errors`: the catalogue that turns a server's failure into a message saying how to fix it.

Nothing here imports the `openai` client package until the engine is loaded.
"""

from __future__ import annotations

from llama_vision.engines.openai.engine import OpenAIEngine
from llama_vision.engines.openai.pool import Tuning, redact_url
from llama_vision.engines.openai.wire import build_messages, encode_image

__all__ = ["OpenAIEngine", "Tuning", "build_messages", "encode_image", "redact_url"]

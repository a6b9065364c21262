"""The chat-completions wire format: what we send and how we read the answer.

One user turn, the page first as a base64 data URL and then the prompt (Llama 3.2 Vision's order;
no system role; one image per message, as Ollama requires), temperature 0. Pure functions and a
per-stream reader: nothing here knows about servers, retries or threads.
"""

from __future__ import annotations

import base64
import codecs
import io
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Generation, GenerationRequest
from llama_vision.engines.openai.errors import NoChoices

if TYPE_CHECKING:
    from PIL.Image import Image


def encode_image(image: Image) -> str:
    """PIL image -> `data:` URL. JPEG for opaque pages (small, what servers expect), PNG when the
    page has transparency (JPEG cannot carry it; flattening could hide ink)."""
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    buffer = io.BytesIO()
    if has_alpha:
        image.save(buffer, format="PNG", optimize=False)
        mime = "image/png"
    else:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(buffer, format="JPEG", quality=92)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def shared_images(requests: Sequence[GenerationRequest]) -> dict[int, str]:
    """Data URLs of the pages asked about more than once (field questions), encoded once each.
    Keyed by id(): the requests keep the images alive for as long as the batch runs."""
    counts = Counter(id(r.image) for r in requests)
    urls: dict[int, str] = {}
    for request in requests:
        key = id(request.image)
        if counts[key] > 1 and key not in urls:
            urls[key] = encode_image(request.image)
    return urls


def build_messages(image: Image | str, prompt: str) -> list[dict[str, Any]]:
    """One user turn: the image (a PIL image or an already encoded data URL) first, then the prompt."""
    url = image if isinstance(image, str) else encode_image(image)
    return [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": url}},
                {"type": "text", "text": prompt},
            ],
        }
    ]


def request_args(model: str, image: Image | str, prompt: str, max_new_tokens: int, *, stream: bool = False
                 ) -> dict[str, Any]:
    """Keyword arguments for `client.chat.completions.create`. Token log-probabilities are asked
    for (the fields' confidence); `pool.Server.complete` drops the ask for a server that refuses it."""
    args: dict[str, Any] = {
        "model": model,
        "messages": build_messages(image, prompt),
        "temperature": 0,
        "max_tokens": max_new_tokens,
        "logprobs": True,
    }
    if stream:
        args.update(stream=True, stream_options={"include_usage": True})
    return args


ServerToken = tuple[str, float, bytes | None]  # text, logprob, the token's UTF-8 bytes if sent


def token_logprobs(choice: Any) -> list[ServerToken]:
    """`choices[].logprobs.content[].{token, logprob, bytes}` of a completion or a stream chunk; []
    when the server sent none (it ignored the ask, or this chunk carries no tokens)."""
    content = getattr(getattr(choice, "logprobs", None), "content", None) or []
    out: list[ServerToken] = []
    for entry in content:
        token, logprob = getattr(entry, "token", None), getattr(entry, "logprob", None)
        raw = getattr(entry, "bytes", None)
        if isinstance(token, str) and isinstance(logprob, (int, float)):
            data = bytes(raw) if isinstance(raw, list) and all(isinstance(b, int) and 0 <= b < 256 for b in raw) else None
            out.append((token, min(0.0, float(logprob)), data))
    return out


def aligned(tokens: list[ServerToken], text: str) -> list[tuple[str, float]] | None:
    """(piece, logprob) per token when the pieces spell the text; None otherwise, so no confidence
    is read from them. A character split over tokens comes as "bytes:\\xe2\\x82" text from vLLM: the
    tokens' `bytes` are then decoded in order, each token taking the characters it completes."""
    if not tokens:
        return None
    plain = [(token, logprob) for token, logprob, _b in tokens]
    if "".join(piece for piece, _lp in plain) == text:
        return plain
    if any(data is None for _t, _lp, data in tokens):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = [decoder.decode(data or b"") for _t, _lp, data in tokens]
    pieces[-1] += decoder.decode(b"", final=True)
    if "".join(pieces) != text:
        return None
    return [(piece, logprob) for piece, (_t, logprob, _b) in zip(pieces, tokens, strict=True)]


def read_completion(response: Any, seconds: float) -> Generation:
    """A whole (non-streamed) completion -> Generation; no choices raises NoChoices."""
    if not response.choices:
        raise NoChoices("no choices")
    choice = response.choices[0]
    usage = response.usage
    text = (choice.message.content or "") if choice.message else ""
    return Generation(
        text=text,
        seconds=seconds,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        generated_tokens=getattr(usage, "completion_tokens", None),
        truncated=choice.finish_reason == "length",
        token_logprobs=aligned(token_logprobs(choice), text),
    )


class StreamReader:
    """Reads one stream's chunks (SSE); one reader per stream, so streams never share an answer."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.tokens: list[ServerToken] = []
        self.started = time.perf_counter()

    def begin(self) -> None:
        """The request goes out now: time the answer from here, not from when the stream was made."""
        self.started = time.perf_counter()

    def feed(self, chunk: Any) -> str | None:
        """The text this chunk adds, or None (role-only, finish and usage chunks)."""
        if getattr(chunk, "usage", None):
            self.usage = chunk.usage
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        self.tokens.extend(token_logprobs(choice))
        text = getattr(choice.delta, "content", None) if choice.delta else None
        if not text:
            return None
        self.pieces.append(text)
        return text

    def generation(self) -> Generation:
        """The whole answer, once the stream has ended."""
        text = "".join(self.pieces)
        return Generation(
            text=text,
            seconds=time.perf_counter() - self.started,
            prompt_tokens=getattr(self.usage, "prompt_tokens", None),
            generated_tokens=getattr(self.usage, "completion_tokens", None),
            truncated=self.finish_reason == "length",
            token_logprobs=aligned(self.tokens, text),
        )

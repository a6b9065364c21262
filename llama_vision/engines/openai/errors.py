"""What went wrong with a server, and how to fix it: the error catalogue as data.

Each client exception is sorted into a kind (timeout, connection, an HTTP status answer, an empty
answer, anything else); the first `Rule` of that kind that matches the status or the server's own
words decides the message, the hint and whether another try can help. Adding a server quirk is one
row in `CATALOGUE`. Request-level problems (one-image limit, a model without vision, auth, context
length) are `final`: no other server and no wait will do better.

The API key never reaches a message: a server may echo what it was sent, so every message is
scrubbed of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from llama_vision.errors import ConfigError, RemoteEngineError

# Server wording for the errors we explain (Ollama, vLLM, SGLang, gateways in front of them).
_ONE_IMAGE = re.compile(
    r"only supports? (a single|one) image|at most [1-9]\d* image|single image per|one image per|"
    r"too many images|more than one image",
    re.IGNORECASE,
)
_NO_VISION = re.compile(
    r"at most 0 image|not a multimodal model|does not support (image|vision|multi-?modal)|"
    r"images? (input )?(is |are )?not supported|image input is not supported|"
    r"missing data required for image input|unknown part type|"
    r"no (vision|image) (support|encoder)",
    re.IGNORECASE,
)
_CONTEXT = re.compile(r"maximum context length|context length|max_model_len|too long|exceeds", re.IGNORECASE)
_MODEL_MISSING = re.compile(r"model .*(not found|does not exist)|no such model|unknown model", re.IGNORECASE)
_REFUSED = re.compile(r"refused", re.IGNORECASE)

_START_IT = "Start it (`ollama serve`, `vllm serve ...`), check host and port, or fix LLAMA_VISION_API_BASE."
_LOAD_IT = "`ollama pull llama3.2-vision`"


@dataclass(frozen=True)
class Rule:
    """One catalogue row. It matches when any of its conditions holds (or it has none: the catch-all
    of its kind). `message` is a str.format template over: url, model, timeout, status, said (the
    server's words, shortened), error_type."""

    kind: str  # "timeout", "connection", "status", "no_choices", "other"
    message: str
    hint: str
    statuses: frozenset[int] = frozenset()
    min_status: int | None = None
    pattern: re.Pattern[str] | None = None
    transient: bool = False  # retry rounds may help, on any server
    final: bool = False  # stop the request at once: no failover, no retry

    def matches(self, status: int | None, text: str) -> bool:
        if not (self.statuses or self.min_status is not None or self.pattern):
            return True
        if status is not None and (status in self.statuses or (self.min_status is not None and status >= self.min_status)):
            return True
        return bool(self.pattern and self.pattern.search(text))


# First match wins within a kind, so order matters: the server's words about images beat its status.
CATALOGUE: tuple[Rule, ...] = (
    Rule(
        "timeout",
        "The server at {url} did not answer within {timeout:g} s.",
        "Raise LLAMA_VISION_API_TIMEOUT, lower LLAMA_VISION_API_CONCURRENCY or LLAMA_VISION_MAX_NEW_TOKENS, "
        "or add servers to LLAMA_VISION_API_BASE.",
        # Fail over to an untried server, but no retry rounds: each costs a full timeout.
    ),
    Rule("connection", "Cannot reach the OpenAI-compatible server at {url} (connection refused).", _START_IT,
         pattern=_REFUSED, transient=True),
    Rule("connection", "The connection to the OpenAI-compatible server at {url} failed ({said}).", _START_IT,
         transient=True),
    Rule(
        "status",
        "The model {model!r} at {url} does not accept images (server said: {said}).",
        "Serve a vision model (Ollama: `ollama pull llama3.2-vision`; vLLM: "
        "meta-llama/Llama-3.2-11B-Vision-Instruct with --limit-mm-per-prompt '{\"image\":1}') "
        "and set LLAMA_VISION_API_MODEL to it.",
        pattern=_NO_VISION, final=True,
    ),
    Rule(
        "status",
        "The server at {url} accepts only one image per request and refused this one (server said: {said}).",
        "Llama 3.2 Vision reads one image per message: send pages one at a time (this engine does; check "
        "any proxy in between), and on vLLM start with --limit-mm-per-prompt '{\"image\":1}'.",
        pattern=_ONE_IMAGE, final=True,
    ),
    Rule(
        "status",
        "The server at {url} refused the API key (HTTP {status}).",
        "Set LLAMA_VISION_API_KEY to the key the server expects (vLLM --api-key), or unset it for Ollama.",
        statuses=frozenset({401, 403}), final=True,
    ),
    Rule(
        "status",
        "The server at {url} does not serve the model {model!r} (server said: {said}).",
        f"Set LLAMA_VISION_API_MODEL to a name listed at /v1/models, or load it ({_LOAD_IT}; "
        "vLLM serves the name given to `vllm serve`).",
        statuses=frozenset({404}), pattern=_MODEL_MISSING,
        # Another server may have it (fail over), but waiting will not make it appear.
    ),
    Rule(
        "status",
        "The server at {url} is busy or failing (HTTP {status}: {said}).",
        "Lower LLAMA_VISION_API_CONCURRENCY, add servers to LLAMA_VISION_API_BASE, or check the server's log.",
        statuses=frozenset({429}), min_status=500, transient=True,
    ),
    Rule(
        "status",
        "The request is too long for the model at {url} (server said: {said}).",
        "Lower LLAMA_VISION_MAX_NEW_TOKENS or LLAMA_VISION_MAX_IMAGE_SIDE, or start the server with a "
        "larger context (vLLM --max-model-len 8192).",
        pattern=_CONTEXT, final=True,
    ),
    Rule("status", "The server at {url} rejected the request (HTTP {status}: {said}).",
         "Check that it is an OpenAI-compatible /v1 endpoint serving a vision model.", final=True),
    Rule("no_choices", "The server at {url} returned no choices.", "Check the server's log.", transient=True),
    Rule("other", "Unexpected answer from the server at {url}: {error_type}: {said}.",
         "Check that LLAMA_VISION_API_BASE points at an OpenAI-compatible /v1 endpoint.", transient=True),
)


class NoChoices(Exception):
    """A completion without choices: raised by the wire reader, explained by the catalogue."""


class Failure(Exception):
    """One attempt failed. `transient` failures may be retried on any server; `final` ones stop the
    request at once."""

    def __init__(
        self, error: RemoteEngineError, *, transient: bool, final: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.transient = transient
        self.final = final
        self.retry_after = retry_after


def classify(error: Exception, *, url: str, model: str, timeout_s: float, secret: str = "") -> Failure:
    """Turn a client exception into a Failure whose message says what happened and how to fix it."""
    if isinstance(error, RemoteEngineError):
        return Failure(error, transient=False, final=True)
    kind, status, text = _read(error)
    if secret:
        text = text.replace(secret, "***")  # before shortening, so no piece of it survives a cut
    rule = next(r for r in CATALOGUE if r.kind == kind and r.matches(status, text))
    message = rule.message.format(
        url=url, model=model, timeout=timeout_s, status=status, said=short(text), error_type=type(error).__name__
    )
    if secret:
        message = message.replace(secret, "***")
    retry_after = _retry_after(error) if kind == "status" else None
    return Failure(RemoteEngineError(message, hint=rule.hint), transient=rule.transient, final=rule.final,
                   retry_after=retry_after)


def _read(error: Exception) -> tuple[str, int | None, str]:
    """(kind, HTTP status, the words to match and show) of a client exception."""
    import openai

    if isinstance(error, openai.APITimeoutError):  # a subclass of APIConnectionError: test it first
        return "timeout", None, ""
    if isinstance(error, openai.APIConnectionError):
        return "connection", None, str(error.__cause__ or error.__context__ or error)
    if isinstance(error, openai.APIStatusError):
        return "status", error.status_code, error_text(error)
    if isinstance(error, NoChoices):
        return "no_choices", None, ""
    return "other", None, str(error)


def explain_health(error: Exception, *, url: str, model: str, timeout_s: float, secret: str = "") -> RemoteEngineError:
    """Like `classify`, for the /v1/models health check, where a 404 usually means a missing /v1."""
    import openai

    if isinstance(error, openai.APIStatusError) and error.status_code in (404, 405):
        base = url.rstrip("/")
        hint = "LLAMA_VISION_API_BASE must be the OpenAI-compatible base URL, ending in /v1" + (
            "" if base.endswith("/v1") else f": try {base}/v1"
        ) + "."
        return RemoteEngineError(f"The server at {url} has no /models endpoint (HTTP {error.status_code}).", hint=hint)
    return classify(error, url=url, model=model, timeout_s=timeout_s, secret=secret).error


def stream_broke(failure: Failure, *, url: str, pieces: int) -> RemoteEngineError:
    """A stream lost after its first piece cannot fail over: the user saw part of an answer."""
    return RemoteEngineError(
        f"The stream from {url} broke after {pieces} pieces: {failure.error.message}",
        hint=failure.error.hint or "Retry; if it keeps happening check the server's log.",
    )


def no_servers() -> ConfigError:
    return ConfigError(
        "The openai engine needs a server, but LLAMA_VISION_API_BASE is empty.",
        hint="Set it to an OpenAI-compatible URL such as http://localhost:11434/v1 (Ollama) "
        "or http://localhost:8000/v1 (vLLM); separate several with commas.",
    )


def nothing_usable(
    health: list[dict[str, Any]], model: str, only_error: RemoteEngineError | None
) -> RemoteEngineError:
    """The most useful explanation when no server is usable at start."""
    reachable = [h for h in health if h["reachable"]]
    if reachable:
        available = sorted({m for h in reachable for m in h.get("models") or []})
        return RemoteEngineError(
            f"No server has the model {model!r} (they serve: {', '.join(available) or 'nothing'}).",
            hint=f"Set LLAMA_VISION_API_MODEL to one of those, or load it on the server ({_LOAD_IT}, "
            "or `vllm serve <model>`).",
        )
    if only_error is not None:
        return RemoteEngineError(only_error.message, hint=only_error.hint)
    return RemoteEngineError(
        f"None of the {len(health)} servers answered: " + "; ".join(f"{h['url']}: {h['error']}" for h in health),
        hint="Start them (`ollama serve`, `vllm serve ...`), check hosts and ports, or fix LLAMA_VISION_API_BASE.",
    )


_LOGPROBS = re.compile(r"logprob", re.IGNORECASE)


def refuses_logprobs(error: Exception) -> bool:
    """A 400/422 whose words name `logprobs`: the server does not take the parameter."""
    status = getattr(error, "status_code", None)
    return status in (400, 422) and bool(_LOGPROBS.search(error_text(error)))


def error_text(error: Any) -> str:
    """The server's own words: the openai client's message plus any JSON body."""
    parts = [str(getattr(error, "message", "") or "")]
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        parts.append(str(body.get("message") or body.get("error") or body.get("detail") or ""))
    elif body:
        parts.append(str(body))
    return " ".join(p for p in parts if p)


def short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(error: Any) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

"""The `openai` engine: any OpenAI-compatible /v1/chat/completions server.

Ollama (`llama3.2-vision`), vLLM up to 0.10.2 and SGLang all speak this wire format. This engine is
how a user outgrows one machine: serve the model elsewhere, or on several servers, and point
LLAMA_VISION_API_BASE at them (comma separated).

Design, and why:
- One `openai.OpenAI` client per server with the client's own retries switched off: we retry
  ourselves so that a retry can go to *another* server (failover) instead of hammering the dead one.
- One engine-wide semaphore of LLAMA_VISION_API_CONCURRENCY slots. Every request takes a slot for
  each attempt, whoever calls (a batch, the pipeline's worker threads, the UI), so the servers never
  see more than that many requests from this process.
- Servers are used round-robin. A server that fails with a connection error, a timeout, 429, 5xx
  or an unknown-model 404 is marked down for a short, growing cool-down, and the request moves on
  to the next server at once. Only when every server has failed in a round do we sleep (exponential
  backoff with jitter, or the server's Retry-After) and start another round, at most
  LLAMA_VISION_API_RETRIES extra rounds, and only for connection errors, 429 and 5xx: a timeout
  or a missing model would just cost the same again.
- Request-level problems (one-image limit, a model without vision, auth, context length) are not
  retried: each becomes a RemoteEngineError whose message says how to fix it.
- The API key lives only inside the clients; `status()`, `repr()`, log lines and error messages
  never contain it, and user:password parts of URLs are redacted too.
"""

from __future__ import annotations

import base64
import io
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from llama_vision.engines.base import Capabilities, Engine, Generation
from llama_vision.errors import ConfigError, RemoteEngineError

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Placeholder sent when no key is configured: the openai client insists on one, and Ollama, vLLM
# and SGLang without --api-key ignore it.
_NO_KEY = "not-needed"

# Server wording for the errors we explain (Ollama, vLLM, SGLang, gateways in front of them).
_ONE_IMAGE = re.compile(
    r"only supports? (a single|one) image|at most [1-9]\d* image|single image per|one image per|"
    r"too many images|more than one image",
    re.I,
)
_NO_VISION = re.compile(
    r"at most 0 image|not a multimodal model|does not support (image|vision|multi-?modal)|"
    r"images? (input )?(is |are )?not supported|image input is not supported|"
    r"missing data required for image input|unknown part type|"
    r"no (vision|image) (support|encoder)",
    re.I,
)
_CONTEXT = re.compile(r"maximum context length|context length|max_model_len|too long|exceeds", re.I)
_MODEL_MISSING = re.compile(r"model .*(not found|does not exist)|no such model|unknown model", re.I)


def redact_url(url: str) -> str:
    """Drop user:password from a URL so it can be shown and logged."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=f"***@{host}")
    return urlunsplit(parts)


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


def build_messages(image: Image | str, prompt: str) -> list[dict[str, Any]]:
    """One user turn: the image (a PIL image or an already encoded data URL) first, then the
    prompt (Llama 3.2 Vision's order; no system role)."""
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


@dataclass
class _Server:
    """One configured server: its client, live counters and last health check."""

    url: str
    client: Any = None
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    down_until: float = 0.0
    last_error: str | None = None
    health: dict[str, Any] = field(default_factory=dict)
    health_error: RemoteEngineError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    def is_down(self, now: float) -> bool:
        return self.down_until > now

    def mark_ok(self) -> None:
        with self.lock:
            self.consecutive_failures = 0
            self.down_until = 0.0

    def mark_unhealthy(self, reason: str, cooldown: float) -> None:
        """A health check found it unusable: skip it for a while, without counting a failure."""
        with self.lock:
            self.last_error = reason
            self.down_until = max(self.down_until, time.monotonic() + cooldown)

    def mark_failed(self, reason: str, cooldown_base: float, cooldown_max: float) -> None:
        with self.lock:
            self.failures += 1
            self.consecutive_failures += 1
            self.last_error = reason
            cooldown = min(cooldown_max, cooldown_base * 2 ** (self.consecutive_failures - 1))
            self.down_until = time.monotonic() + cooldown


class _Failure(Exception):
    """Internal: one attempt failed. `transient` failures may be retried on any server; the others
    (`final`) stop the request at once."""

    def __init__(
        self, error: RemoteEngineError, *, transient: bool, final: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.transient = transient
        self.final = final
        self.retry_after = retry_after


class OpenAIEngine(Engine):
    """Engine for OpenAI-compatible servers: round-robin, failover, bounded concurrency, streaming."""

    name = "openai"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=True)

    # Tunables that are not user settings; tests and benchmarks shrink them on the instance.
    backoff_base_s = 0.5  # first sleep between rounds; doubles each round, with jitter
    backoff_max_s = 8.0
    cooldown_base_s = 2.0  # how long a failed server is skipped; doubles per consecutive failure
    cooldown_max_s = 30.0
    health_timeout_s = 3.0
    health_max_age_s = 10.0  # status() refreshes health older than this

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.model = settings.api_model
        self._servers = [_Server(url=u) for u in settings.api_bases]
        self._slots = threading.BoundedSemaphore(settings.api_concurrency)
        self._rr_lock = threading.Lock()
        self._rr_next = 0
        self._state_lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight_seen = 0  # for benchmarks and the dashboard: the concurrency we reached
        self._health_checked_at = 0.0
        self._health_lock = threading.Lock()

    def __repr__(self) -> str:
        urls = [s.shown_url for s in self._servers]
        return f"OpenAIEngine(model={self.model!r}, servers={urls!r}, concurrency={self.settings.api_concurrency})"

    # -- lifecycle ------------------------------------------------------------------------
    def _make_client(self, url: str) -> Any:
        import openai

        key = self.settings.api_key.get_secret_value() or _NO_KEY
        timeout = openai.Timeout(self.settings.api_timeout, connect=min(10.0, self.settings.api_timeout))
        return openai.OpenAI(base_url=url, api_key=key, timeout=timeout, max_retries=0)

    def _load(self) -> None:
        if not self._servers:
            raise ConfigError(
                "The openai engine needs a server, but LLAMA_VISION_API_BASE is empty.",
                hint="Set it to an OpenAI-compatible URL such as http://localhost:11434/v1 (Ollama) "
                "or http://localhost:8000/v1 (vLLM); separate several with commas.",
            )
        for server in self._servers:
            server.client = self._make_client(server.url)
        health = self.health_check()
        if any(h["reachable"] and h["model_present"] for h in health):
            for h in health:
                if not (h["reachable"] and h["model_present"]):
                    log.warning("openai engine: server %s is not usable yet (%s); using the others",
                                h["url"], h["error"])
            return
        # Nothing usable: explain the most useful problem.
        reachable = [h for h in health if h["reachable"]]
        if reachable:
            available = sorted({m for h in reachable for m in h.get("models") or []})
            raise RemoteEngineError(
                f"No server has the model {self.model!r} (they serve: {', '.join(available) or 'nothing'}).",
                hint="Set LLAMA_VISION_API_MODEL to one of those, or load it on the server "
                "(`ollama pull llama3.2-vision`, or `vllm serve <model>`).",
            )
        only = self._servers[0].health_error if len(self._servers) == 1 else None
        if only is not None:
            raise RemoteEngineError(only.message, hint=only.hint)
        raise RemoteEngineError(
            f"None of the {len(health)} servers answered: " + "; ".join(f"{h['url']}: {h['error']}" for h in health),
            hint="Start them (`ollama serve`, `vllm serve ...`), check hosts and ports, or fix LLAMA_VISION_API_BASE.",
        )

    def _unload(self) -> None:
        for server in self._servers:
            if server.client is not None:
                try:
                    server.client.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
                server.client = None

    # -- health ---------------------------------------------------------------------------
    def _check_one(self, server: _Server) -> dict[str, Any]:
        result: dict[str, Any] = {
            "url": server.shown_url,
            "reachable": False,
            "model_present": None,
            "latency_ms": None,
            "models": [],
            "error": None,
            "checked_at": time.time(),
        }
        client = server.client or self._make_client(server.url)
        started = time.perf_counter()
        try:
            page = client.models.list(timeout=min(self.health_timeout_s, self.settings.api_timeout))
            models = [m.id for m in page.data]
        except Exception as error:  # noqa: BLE001 - every failure becomes a readable health line
            server.health_error = self._explain_health(error, server)
            result["error"] = server.health_error.message
            server.mark_unhealthy(result["error"], self.cooldown_base_s)
        else:
            result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
            result["reachable"] = True
            result["models"] = models[:50]
            result["model_present"] = self._model_listed(models)
            server.health_error = None
            if not result["model_present"]:
                result["error"] = f"model {self.model!r} not listed by the server"
                server.mark_unhealthy(result["error"], self.cooldown_max_s)
            else:
                server.mark_ok()
        finally:
            if server.client is None:
                client.close()
        server.health = result
        return result

    def _explain_health(self, error: Exception, server: _Server) -> RemoteEngineError:
        import openai

        if isinstance(error, openai.APIStatusError) and error.status_code in (404, 405):
            # The usual cause: the URL lacks the /v1 suffix (http://localhost:11434 for Ollama).
            suggestion = server.shown_url.rstrip("/") + "/v1"
            hint = ("LLAMA_VISION_API_BASE must be the OpenAI-compatible base URL, ending in /v1"
                    + ("" if server.shown_url.rstrip("/").endswith("/v1") else f": try {suggestion}") + ".")
            return RemoteEngineError(
                f"The server at {server.shown_url} has no /models endpoint (HTTP {error.status_code}).", hint=hint
            )
        return self._explain(error, server)

    def _model_listed(self, models: list[str]) -> bool:
        # Ollama lists "llama3.2-vision:latest" for a model pulled as "llama3.2-vision".
        wanted = self.model
        return any(m == wanted or m == f"{wanted}:latest" or wanted == m.removesuffix(":latest") for m in models)

    def health_check(self) -> list[dict[str, Any]]:
        """Ask every server's /v1/models (in parallel): reachable, model present, latency."""
        with self._health_lock:
            if len(self._servers) == 1:
                results = [self._check_one(self._servers[0])]
            else:
                with ThreadPoolExecutor(max_workers=len(self._servers)) as pool:
                    results = list(pool.map(self._check_one, self._servers))
            self._health_checked_at = time.monotonic()
        return results

    # -- server choice and the retry loop -------------------------------------------------
    def _rotation(self) -> list[_Server]:
        """Servers in round-robin order, healthy ones first, then the down ones soonest-back first."""
        with self._rr_lock:
            start = self._rr_next
            self._rr_next = (self._rr_next + 1) % max(1, len(self._servers))
        order = self._servers[start:] + self._servers[:start]
        now = time.monotonic()
        healthy = [s for s in order if not s.is_down(now)]
        down = sorted((s for s in order if s.is_down(now)), key=lambda s: s.down_until)
        return healthy + down

    def _with_failover(self, attempt: Callable[[_Server], T], *, hold_slot: bool = False) -> T:
        """Run `attempt(server)` until it succeeds, moving to the next server on a transient
        failure and sleeping between rounds. With `hold_slot`, a successful attempt keeps its
        concurrency slot (the caller releases it: streaming)."""
        self.initialize()
        last: _Failure | None = None
        for round_number in range(self.settings.api_retries + 1):
            if round_number:
                time.sleep(self._backoff(round_number, last))
            for server in self._rotation():
                self._slots.acquire()
                keep_slot = False
                self._enter(server)
                try:
                    value = attempt(server)
                    server.mark_ok()
                    keep_slot = hold_slot
                    return value
                except _Failure as failure:
                    last = failure
                    if failure.final:
                        raise failure.error from None
                    server.mark_failed(failure.error.message, self.cooldown_base_s, self.cooldown_max_s)
                    log.warning("openai engine: %s failed: %s", server.shown_url, failure.error.message)
                finally:
                    if not keep_slot:
                        self._leave(server)
                        self._slots.release()
            if last is not None and not last.transient:
                break  # e.g. every server lacks the model: waiting will not help
        assert last is not None
        raise last.error from None

    def _backoff(self, round_number: int, last: _Failure | None) -> float:
        if last is not None and last.retry_after is not None:
            return min(self.backoff_max_s, max(0.0, last.retry_after))
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (round_number - 1))
        return delay * random.uniform(0.75, 1.25)

    def _enter(self, server: _Server) -> None:
        with self._state_lock:
            self._in_flight += 1
            self.max_in_flight_seen = max(self.max_in_flight_seen, self._in_flight)
        with server.lock:
            server.in_flight += 1
            server.requests += 1

    def _leave(self, server: _Server) -> None:
        with self._state_lock:
            self._in_flight -= 1
        with server.lock:
            server.in_flight -= 1

    # -- errors ---------------------------------------------------------------------------
    def _explain(self, error: Exception, server: _Server) -> RemoteEngineError:
        """Turn a client exception into a message that says what happened and how to fix it."""
        return self._classify(error, server).error

    def _classify(self, error: Exception, server: _Server) -> _Failure:
        import openai

        url = server.shown_url
        if isinstance(error, openai.APITimeoutError):
            return _Failure(
                RemoteEngineError(
                    f"The server at {url} did not answer within {self.settings.api_timeout:g} s.",
                    hint="Raise LLAMA_VISION_API_TIMEOUT, lower LLAMA_VISION_API_CONCURRENCY or "
                    "LLAMA_VISION_MAX_NEW_TOKENS, or add servers to LLAMA_VISION_API_BASE.",
                ),
                transient=False,  # fail over to an untried server, but no retry rounds: each costs a full timeout
            )
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error.__context__
            if "refused" in str(cause).lower():
                message = f"Cannot reach the OpenAI-compatible server at {url} (connection refused)."
            else:
                reason = _short(str(cause or error))
                message = f"The connection to the OpenAI-compatible server at {url} failed ({reason})."
            return _Failure(
                RemoteEngineError(
                    message,
                    hint="Start it (`ollama serve`, `vllm serve ...`), check host and port, "
                    "or fix LLAMA_VISION_API_BASE.",
                ),
                transient=True,
            )
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            text = _error_text(error)
            key = self.settings.api_key.get_secret_value()
            if key:
                text = text.replace(key, "***")  # a server may echo what it was sent
            if _NO_VISION.search(text):
                return _Failure(
                    RemoteEngineError(
                        f"The model {self.model!r} at {url} does not accept images (server said: {_short(text)}).",
                        hint="Serve a vision model (Ollama: `ollama pull llama3.2-vision`; vLLM: "
                        "meta-llama/Llama-3.2-11B-Vision-Instruct with --limit-mm-per-prompt '{\"image\":1}') "
                        "and set LLAMA_VISION_API_MODEL to it.",
                    ),
                    transient=False,
                    final=True,
                )
            if _ONE_IMAGE.search(text):
                return _Failure(
                    RemoteEngineError(
                        f"The server at {url} accepts only one image per request and refused this one "
                        f"(server said: {_short(text)}).",
                        hint="Llama 3.2 Vision reads one image per message: send pages one at a time "
                        "(this engine does; check any proxy in between), and on vLLM start with "
                        "--limit-mm-per-prompt '{\"image\":1}'.",
                    ),
                    transient=False,
                    final=True,
                )
            if status in (401, 403):
                return _Failure(
                    RemoteEngineError(
                        f"The server at {url} refused the API key (HTTP {status}).",
                        hint="Set LLAMA_VISION_API_KEY to the key the server expects (vLLM --api-key), "
                        "or unset it for Ollama.",
                    ),
                    transient=False,
                    final=True,
                )
            if status == 404 or _MODEL_MISSING.search(text):
                return _Failure(
                    RemoteEngineError(
                        f"The server at {url} does not serve the model {self.model!r} (server said: {_short(text)}).",
                        hint="Set LLAMA_VISION_API_MODEL to a name listed at /v1/models, or load it "
                        "(`ollama pull llama3.2-vision`; vLLM serves the name given to `vllm serve`).",
                    ),
                    transient=False,  # another server may have it, but waiting will not help
                )
            if status == 429 or status >= 500:
                return _Failure(
                    RemoteEngineError(
                        f"The server at {url} is busy or failing (HTTP {status}: {_short(text)}).",
                        hint="Lower LLAMA_VISION_API_CONCURRENCY, add servers to LLAMA_VISION_API_BASE, "
                        "or check the server's log.",
                    ),
                    transient=True,
                    retry_after=_retry_after(error),
                )
            if _CONTEXT.search(text):
                return _Failure(
                    RemoteEngineError(
                        f"The request is too long for the model at {url} (server said: {_short(text)}).",
                        hint="Lower LLAMA_VISION_MAX_NEW_TOKENS or LLAMA_VISION_MAX_IMAGE_SIDE, or start "
                        "the server with a larger context (vLLM --max-model-len 8192).",
                    ),
                    transient=False,
                    final=True,
                )
            return _Failure(
                RemoteEngineError(
                    f"The server at {url} rejected the request (HTTP {status}: {_short(text)}).",
                    hint="Check that it is an OpenAI-compatible /v1 endpoint serving a vision model.",
                ),
                transient=False,
                final=True,
            )
        if isinstance(error, RemoteEngineError):
            return _Failure(error, transient=False, final=True)
        return _Failure(
            RemoteEngineError(
                f"Unexpected answer from the server at {url}: {type(error).__name__}: {_short(str(error))}.",
                hint="Check that LLAMA_VISION_API_BASE points at an OpenAI-compatible /v1 endpoint.",
            ),
            transient=True,
        )

    # -- generation -----------------------------------------------------------------------
    def _request_args(self, image: Image | str, prompt: str, max_new_tokens: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": build_messages(image, prompt),
            "temperature": 0,
            "max_tokens": max_new_tokens,
        }

    def _generate(self, image: Image | str, prompt: str, max_new_tokens: int) -> Generation:
        args = self._request_args(image, prompt, max_new_tokens)
        started = time.perf_counter()

        def attempt(server: _Server) -> Generation:
            try:
                response = server.client.chat.completions.create(**args)
            except Exception as error:  # noqa: BLE001 - classified below
                raise self._classify(error, server) from None
            if not response.choices:
                raise _Failure(
                    RemoteEngineError(f"The server at {server.shown_url} returned no choices.",
                                      hint="Check the server's log."),
                    transient=True,
                )
            choice = response.choices[0]
            usage = response.usage
            return Generation(
                text=(choice.message.content or "") if choice.message else "",
                seconds=time.perf_counter() - started,
                prompt_tokens=getattr(usage, "prompt_tokens", None),
                generated_tokens=getattr(usage, "completion_tokens", None),
                truncated=choice.finish_reason == "length",
            )

        return self._with_failover(attempt)

    def generate_batch(
        self, images: Sequence[Image], prompts: Sequence[str], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        """Up to LLAMA_VISION_API_CONCURRENCY requests in flight; results in input order.

        Each request fails over on its own, so a server dying mid-batch loses nothing. If a request
        still fails (every server down, or a request-level error), the requests not yet started are
        cancelled and the first failure in input order is raised."""
        if len(images) != len(prompts):
            raise ValueError("generate_batch needs one prompt per image")
        return self._run_concurrently(list(zip(images, prompts, strict=True)), max_new_tokens)

    def ask_fields(
        self, image: Image, questions: dict[str, str], *, max_new_tokens: int | None = None
    ) -> dict[str, Generation]:
        """Field-specific mode: every question about the same page, concurrently; the page is
        encoded once, not once per question."""
        self.initialize()
        url = encode_image(image)
        names = list(questions)
        answers = self._run_concurrently([(url, questions[n]) for n in names], max_new_tokens)
        return dict(zip(names, answers, strict=True))

    def _run_concurrently(self, jobs: list[tuple[Image | str, str]], max_new_tokens: int | None) -> list[Generation]:
        self.initialize()
        if not jobs:
            return []
        cap = self._cap(max_new_tokens)
        workers = min(self.settings.api_concurrency, len(jobs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-batch") as pool:
            futures = [pool.submit(self._generate, image, prompt, cap) for image, prompt in jobs]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                for future in pending:
                    future.cancel()
                wait(futures)
                for future in futures:
                    if not future.cancelled() and future.exception() is not None:
                        raise future.exception()  # type: ignore[misc]
            return [f.result() for f in futures]

    def stream(self, image: Image, prompt: str, *, max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield text pieces as the server streams them (SSE). Failover is possible until the first
        piece arrives; a connection lost after that raises RemoteEngineError."""
        self.initialize()
        args = self._request_args(image, prompt, self._cap(max_new_tokens))
        args.update(stream=True, stream_options={"include_usage": True})
        started = time.perf_counter()

        def attempt(server: _Server) -> tuple[_Server, Any, list[Any]]:
            try:
                chunks = server.client.chat.completions.create(**args)
                iterator = iter(chunks)
                first = next(iterator, None)  # pull until the server has really answered
            except Exception as error:  # noqa: BLE001 - classified below
                raise self._classify(error, server) from None
            return server, iterator, [first] if first is not None else []

        server, iterator, head = self._with_failover(attempt, hold_slot=True)
        pieces: list[str] = []
        finish_reason = None
        usage = None
        try:
            for chunk in _chain(head, iterator):
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
                text = getattr(choice.delta, "content", None) if choice.delta else None
                if text:
                    pieces.append(text)
                    yield text
        except Exception as error:
            failure = self._classify(error, server)
            raise RemoteEngineError(
                f"The stream from {server.shown_url} broke after {len(pieces)} pieces: {failure.error.message}",
                hint=failure.error.hint or "Retry; if it keeps happening check the server's log.",
            ) from None
        finally:
            self._leave(server)
            self._slots.release()
        self.last_generation = Generation(
            text="".join(pieces),
            seconds=time.perf_counter() - started,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            generated_tokens=getattr(usage, "completion_tokens", None),
            truncated=finish_reason == "length",
        )

    # -- reporting ------------------------------------------------------------------------
    def status(self, *, refresh: bool | None = None) -> dict[str, Any]:
        """Engine status plus per-server health. Health older than `health_max_age_s` is refreshed
        (refresh=None), or always (True), or never (False). The API key is only said to be set."""
        stale = time.monotonic() - self._health_checked_at > self.health_max_age_s
        if self._servers and (refresh or (refresh is None and stale)):
            try:
                self.health_check()
            except Exception as error:  # noqa: BLE001 - status must always answer
                log.warning("openai engine: health check failed: %s", error)
        now = time.monotonic()
        servers = []
        for server in self._servers:
            with server.lock:
                servers.append(
                    {
                        "url": server.shown_url,
                        "reachable": server.health.get("reachable"),
                        "model_present": server.health.get("model_present"),
                        "latency_ms": server.health.get("latency_ms"),
                        "models": server.health.get("models", []),
                        "health_error": server.health.get("error"),
                        "checked_at": server.health.get("checked_at"),
                        "cooling_down": server.is_down(now),
                        "in_flight": server.in_flight,
                        "requests": server.requests,
                        "failures": server.failures,
                        "last_error": server.last_error,
                    }
                )
        return {
            **super().status(),
            "model": self.model,
            "api_key": "set (hidden)" if self.settings.api_key.get_secret_value() else "not set",
            "concurrency": self.settings.api_concurrency,
            "timeout_s": self.settings.api_timeout,
            "retries": self.settings.api_retries,
            "in_flight": self._in_flight,
            "max_in_flight_seen": self.max_in_flight_seen,
            "servers": servers,
        }


# -- helpers --------------------------------------------------------------------------------
def _chain(head: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from head
    yield from rest


def _error_text(error: Any) -> str:
    """The server's own words: the openai client's message plus any JSON body."""
    parts = [str(getattr(error, "message", "") or "")]
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        parts.append(str(body.get("message") or body.get("error") or body.get("detail") or ""))
    elif body:
        parts.append(str(body))
    return " ".join(p for p in parts if p)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(error: Any) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

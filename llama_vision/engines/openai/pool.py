"""The servers behind the openai engine: clients, round-robin, failover, cool-downs, in-flight
slots and the health check on /v1/models.

Why it works this way:
- One `openai.OpenAI` client per server with the client's own retries switched off: we retry
  ourselves so that a retry can go to *another* server (failover) instead of hammering the dead one.
- One pool-wide semaphore of LLAMA_VISION_API_CONCURRENCY slots. Every attempt takes a slot,
  whoever calls (a batch, the pipeline's worker threads, the UI), so the servers never see more
  than that many requests from this engine.
- Servers are used round-robin. A server that fails with a connection error, a timeout, 429, 5xx
  or an unknown-model 404 is marked down for a short, growing cool-down, and the request moves on
  to the next server at once. Only when every server has failed in a round do we sleep (exponential
  backoff with jitter, or the server's Retry-After) and start another round, at most
  LLAMA_VISION_API_RETRIES extra rounds, and only for transient failures (errors.CATALOGUE says
  which): a timeout or a missing model would just cost the same again.
- The API key lives only inside the clients; URLs are shown with user:password redacted.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from llama_vision.engines.openai import errors
from llama_vision.engines.openai.errors import Failure
from llama_vision.errors import RemoteEngineError

if TYPE_CHECKING:
    from llama_vision.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Placeholder sent when no key is configured: the openai client insists on one, and Ollama, vLLM
# and SGLang without --api-key ignore it.
_NO_KEY = "not-needed"


def redact_url(url: str) -> str:
    """Drop user:password from a URL so it can be shown and logged."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=f"***@{host}")
    return urlunsplit(parts)


@dataclass
class Tuning:
    """Timings that are not user settings; tests and benchmarks shrink them on the engine's copy."""

    backoff_base_s: float = 0.5  # first sleep between rounds; doubles each round, with jitter
    backoff_max_s: float = 8.0
    cooldown_base_s: float = 2.0  # how long a failed server is skipped; doubles per consecutive failure
    cooldown_max_s: float = 30.0
    health_timeout_s: float = 3.0
    health_max_age_s: float = 10.0  # status() refreshes health older than this


@dataclass
class Server:
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
    # False once the server refused the `logprobs` ask (a capability of the server, not of any request)
    takes_logprobs: bool | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    def is_down(self, now: float) -> bool:
        return self.down_until > now

    def complete(self, args: dict[str, Any]) -> Any:
        """`chat.completions.create(**args)`. A server that answers 400/422 about `logprobs` (some
        gateways and older servers reject it) is asked once more without, and not asked again."""
        if self.takes_logprobs is False:
            args = {k: v for k, v in args.items() if k != "logprobs"}
        try:
            answer = self.client.chat.completions.create(**args)
        except Exception as error:
            if "logprobs" not in args or not errors.refuses_logprobs(error):
                raise
            log.info("openai engine: %s refused logprobs; fields from it get no confidence", self.shown_url)
            self.takes_logprobs = False
            return self.client.chat.completions.create(**{k: v for k, v in args.items() if k != "logprobs"})
        if "logprobs" in args:
            self.takes_logprobs = True
        return answer

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

    def row(self, now: float) -> dict[str, Any]:
        """What the dashboard's servers table shows."""
        with self.lock:
            return {
                "url": self.shown_url,
                "reachable": self.health.get("reachable"),
                "model_present": self.health.get("model_present"),
                "latency_ms": self.health.get("latency_ms"),
                "models": self.health.get("models", []),
                "health_error": self.health.get("error"),
                "checked_at": self.health.get("checked_at"),
                "cooling_down": self.is_down(now),
                "in_flight": self.in_flight,
                "requests": self.requests,
                "failures": self.failures,
                "last_error": self.last_error,
            }


class ServerPool:
    """Every configured server, the shared in-flight slots and the failover loop."""

    def __init__(self, settings: Settings, tuning: Tuning) -> None:
        self.settings = settings
        self.tuning = tuning
        self.model = settings.api_model
        self.servers = [Server(url=u) for u in settings.api_bases]
        self._slots = threading.BoundedSemaphore(settings.api_concurrency)
        self._rr_lock = threading.Lock()
        self._rr_next = 0
        self._state_lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight_seen = 0  # for benchmarks and the dashboard: the concurrency we reached
        self._health_checked_at = 0.0
        self._health_lock = threading.Lock()

    # -- clients --------------------------------------------------------------------------
    def _secret(self) -> str:
        return self.settings.api_key.get_secret_value()

    def _make_client(self, url: str) -> Any:
        import openai

        timeout = openai.Timeout(self.settings.api_timeout, connect=min(10.0, self.settings.api_timeout))
        return openai.OpenAI(base_url=url, api_key=self._secret() or _NO_KEY, timeout=timeout, max_retries=0)

    def open(self) -> None:
        """Make the clients and check the servers; raise, saying why, when none is usable."""
        if not self.servers:
            raise errors.no_servers()
        for server in self.servers:
            server.client = self._make_client(server.url)
        health = self.health_check()
        if not any(h["reachable"] and h["model_present"] for h in health):
            only = self.servers[0].health_error if len(self.servers) == 1 else None
            raise errors.nothing_usable(health, self.model, only)
        for h in health:
            if not (h["reachable"] and h["model_present"]):
                log.warning("openai engine: server %s is not usable yet (%s); using the others", h["url"], h["error"])

    def close(self) -> None:
        for server in self.servers:
            if server.client is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    server.client.close()
                server.client = None

    def classify(self, error: Exception, server: Server) -> Failure:
        return errors.classify(error, url=server.shown_url, model=self.model,
                               timeout_s=self.settings.api_timeout, secret=self._secret())

    # -- health ---------------------------------------------------------------------------
    def health_check(self) -> list[dict[str, Any]]:
        """Ask every server's /v1/models (in parallel): reachable, model present, latency."""
        with self._health_lock:
            if len(self.servers) == 1:
                results = [self._check_one(self.servers[0])]
            else:
                with ThreadPoolExecutor(max_workers=len(self.servers)) as pool:
                    results = list(pool.map(self._check_one, self.servers))
            self._health_checked_at = time.monotonic()
        return results

    def health_is_stale(self) -> bool:
        return time.monotonic() - self._health_checked_at > self.tuning.health_max_age_s

    def _check_one(self, server: Server) -> dict[str, Any]:
        result: dict[str, Any] = {"url": server.shown_url, "reachable": False, "model_present": None,
                                  "latency_ms": None, "models": [], "error": None, "checked_at": time.time()}
        client = server.client or self._make_client(server.url)  # status() before start
        started = time.perf_counter()
        try:
            page = client.models.list(timeout=min(self.tuning.health_timeout_s, self.settings.api_timeout))
            models = [m.id for m in page.data]
        except Exception as error:  # noqa: BLE001 - every failure becomes a readable health line
            server.health_error = errors.explain_health(error, url=server.shown_url, model=self.model,
                                                        timeout_s=self.settings.api_timeout, secret=self._secret())
            result["error"] = server.health_error.message
            server.mark_unhealthy(result["error"], self.tuning.cooldown_base_s)
        else:
            result.update(latency_ms=round((time.perf_counter() - started) * 1000, 1), reachable=True,
                          models=models[:50], model_present=self._model_listed(models))
            server.health_error = None
            if not result["model_present"]:
                result["error"] = f"model {self.model!r} not listed by the server"
                server.mark_unhealthy(result["error"], self.tuning.cooldown_max_s)
            else:
                server.mark_ok()
        finally:
            if server.client is None:
                client.close()
        server.health = result
        return result

    def _model_listed(self, models: list[str]) -> bool:
        # Ollama lists "llama3.2-vision:latest" for a model pulled as "llama3.2-vision".
        wanted = self.model
        return any(m == wanted or m == f"{wanted}:latest" or wanted == m.removesuffix(":latest") for m in models)

    # -- server choice and the retry loop -------------------------------------------------
    def rotation(self) -> list[Server]:
        """Servers in round-robin order, healthy ones first, then the down ones soonest-back first."""
        with self._rr_lock:
            start = self._rr_next
            self._rr_next = (self._rr_next + 1) % max(1, len(self.servers))
        order = self.servers[start:] + self.servers[:start]
        now = time.monotonic()
        healthy = [s for s in order if not s.is_down(now)]
        down = sorted((s for s in order if s.is_down(now)), key=lambda s: s.down_until)
        return healthy + down

    def with_failover(self, attempt: Callable[[Server], T], *, hold_slot: bool = False) -> T:
        """Run `attempt(server)` until it succeeds, moving to the next server on a failure that is
        not final and sleeping between rounds. With `hold_slot`, a successful attempt keeps its
        slot and its server's in-flight count: the caller gives them back with `release` (streams)."""
        last: Failure | None = None
        for round_number in range(self.settings.api_retries + 1):
            if round_number:
                time.sleep(self._backoff(round_number, last))
            for server in self.rotation():
                self._slots.acquire()
                keep_slot = False
                self._enter(server)
                try:
                    value = attempt(server)
                    server.mark_ok()
                    keep_slot = hold_slot
                    return value
                except Failure as failure:
                    last = failure
                    if failure.final:
                        raise failure.error from None
                    server.mark_failed(failure.error.message, self.tuning.cooldown_base_s, self.tuning.cooldown_max_s)
                    log.warning("openai engine: %s failed: %s", server.shown_url, failure.error.message)
                finally:
                    if not keep_slot:
                        self.release(server)
            if last is not None and not last.transient:
                break  # e.g. every server lacks the model: waiting will not help
        assert last is not None
        raise last.error from None

    def release(self, server: Server) -> None:
        """Give back the slot and the in-flight count an attempt took."""
        with self._state_lock:
            self.in_flight -= 1
        with server.lock:
            server.in_flight -= 1
        self._slots.release()

    def _enter(self, server: Server) -> None:
        with self._state_lock:
            self.in_flight += 1
            self.max_in_flight_seen = max(self.max_in_flight_seen, self.in_flight)
        with server.lock:
            server.in_flight += 1
            server.requests += 1

    def _backoff(self, round_number: int, last: Failure | None) -> float:
        if last is not None and last.retry_after is not None:
            return min(self.tuning.backoff_max_s, max(0.0, last.retry_after))
        delay = min(self.tuning.backoff_max_s, self.tuning.backoff_base_s * 2 ** (round_number - 1))
        return delay * random.uniform(0.75, 1.25)

    def rows(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [server.row(now) for server in self.servers]

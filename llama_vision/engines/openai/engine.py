"""The `openai` engine: any OpenAI-compatible /v1/chat/completions server.

Ollama (`llama3.2-vision`), vLLM up to 0.10.2 and SGLang all speak this wire format. This engine is
how a user outgrows one machine: serve the model elsewhere, or on several servers, and point
LLAMA_VISION_API_BASE at them (comma separated). The servers, failover and health live in `pool`,
the wire format in `wire`, the explanations in `errors`; this module runs requests over them.

It runs requests concurrently (up to LLAMA_VISION_API_CONCURRENCY in flight) but does not batch:
each request is its own HTTP call. Nothing about a request is kept on the engine: one engine serves
every user of the app, so each stream carries its own reader and final Generation.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from llama_vision.engines.base import Capabilities, Engine, Generation, GenerationRequest, GenerationStream
from llama_vision.engines.openai import errors, wire
from llama_vision.engines.openai.pool import Server, ServerPool, Tuning

if TYPE_CHECKING:
    from PIL.Image import Image

    from llama_vision.config import Settings

log = logging.getLogger(__name__)


class OpenAIEngine(Engine):
    """Engine for OpenAI-compatible servers: round-robin, failover, bounded concurrency, streaming."""

    name = "openai"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=False, runs_concurrently=True)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.model = settings.api_model
        self.tuning = Tuning()  # tests and benchmarks shrink these timings in place
        self._pool = ServerPool(settings, self.tuning)

    def __repr__(self) -> str:
        urls = [s.shown_url for s in self._pool.servers]
        return f"OpenAIEngine(model={self.model!r}, servers={urls!r}, concurrency={self.settings.api_concurrency})"

    @property
    def max_in_flight_seen(self) -> int:
        """The most requests this engine has had in flight at once (benchmarks, dashboard)."""
        return self._pool.max_in_flight_seen

    # -- lifecycle ------------------------------------------------------------------------
    def _load(self) -> None:
        self._pool.open()

    def _unload(self) -> None:
        self._pool.close()

    def health_check(self) -> list[dict[str, Any]]:
        """Ask every server's /v1/models (in parallel): reachable, model present, latency."""
        return self._pool.health_check()

    # -- generation -----------------------------------------------------------------------
    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Up to LLAMA_VISION_API_CONCURRENCY requests in flight; results in input order.

        Each request fails over on its own, so a server dying mid-batch loses nothing. If a request
        still fails (every server down, or a request-level error), the requests not yet started are
        cancelled and the first failure in input order is raised. A page asked about several times
        (field questions) is encoded once."""
        shared = wire.shared_images(requests)
        jobs = [(shared.get(id(r.image), r.image), r) for r in requests]
        if len(jobs) == 1:
            return [self._generate_one(*jobs[0])]  # a single call needs no thread
        workers = min(self.settings.api_concurrency, len(jobs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-batch") as pool:
            futures = [pool.submit(self._generate_one, image, request) for image, request in jobs]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                for future in pending:
                    future.cancel()
                wait(futures)
                for future in futures:
                    if not future.cancelled() and future.exception() is not None:
                        raise future.exception()  # type: ignore[misc]
            return [f.result() for f in futures]

    def _generate_one(self, image: Image | str, request: GenerationRequest) -> Generation:
        args = wire.request_args(self.model, image, request.prompt, self._cap_of(request))
        started = time.perf_counter()

        def attempt(server: Server) -> Generation:
            try:
                response = server.complete(args)
                return wire.read_completion(response, time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - classified by the catalogue
                raise self._pool.classify(error, server) from None

        return self._pool.with_failover(attempt)

    def _stream(self, request: GenerationRequest) -> GenerationStream:
        """Text pieces as the server streams them (SSE), then this call's own Generation. Nothing is
        sent until the stream is iterated."""
        reader = wire.StreamReader()
        return GenerationStream(self._stream_pieces(request, reader), reader.generation)

    def _stream_pieces(self, request: GenerationRequest, reader: wire.StreamReader) -> Iterator[str]:
        """Failover is possible until the first chunk arrives; a connection lost after that raises
        RemoteEngineError (the user has already seen part of the answer)."""
        reader.begin()
        args = wire.request_args(self.model, request.image, request.prompt, self._cap_of(request), stream=True)

        def attempt(server: Server) -> tuple[Server, Any, Iterator[Any]]:
            try:
                chunks = server.complete(args)
                iterator = iter(chunks)
                first = next(iterator, None)  # pull until the server has really answered
            except Exception as error:  # noqa: BLE001 - classified by the catalogue
                raise self._pool.classify(error, server) from None
            return server, chunks, itertools.chain([] if first is None else [first], iterator)

        server, chunks, iterator = self._pool.with_failover(attempt, hold_slot=True)
        try:
            for chunk in iterator:
                text = reader.feed(chunk)
                if text:
                    yield text
        except Exception as error:  # noqa: BLE001 - classified by the catalogue
            failure = self._pool.classify(error, server)
            raise errors.stream_broke(failure, url=server.shown_url, pieces=len(reader.pieces)) from None
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:  # a stream left half-read must not keep its connection busy
                with contextlib.suppress(Exception):  # closing is best effort
                    close()
            self._pool.release(server)

    def _cap_of(self, request: GenerationRequest) -> int:
        return request.max_new_tokens or self.settings.max_new_tokens

    # -- reporting ------------------------------------------------------------------------
    def status(self, *, refresh: bool | None = None) -> dict[str, Any]:
        """Engine status plus per-server health. Health older than `tuning.health_max_age_s` is
        refreshed (refresh=None), or always (True), or never (False). The API key is only said to be set."""
        if self._pool.servers and (refresh or (refresh is None and self._pool.health_is_stale())):
            try:
                self._pool.health_check()
            except Exception as error:  # noqa: BLE001 - status must always answer
                log.warning("openai engine: health check failed: %s", error)
        return {
            **super().status(),
            "model": self.model,
            "api_key": "set (hidden)" if self.settings.api_key.get_secret_value() else "not set",
            "concurrency": self.settings.api_concurrency,
            "timeout_s": self.settings.api_timeout,
            "retries": self.settings.api_retries,
            "in_flight": self._pool.in_flight,
            "max_in_flight_seen": self._pool.max_in_flight_seen,
            "servers": self._pool.rows(),
        }

"""The openai engine's retries, failover and round-robin against loopback fake servers."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from llama_vision.errors import RemoteEngineError
from tests.openai_fake_server import DEFAULT_ANSWER, InFlight
from tests.openai_helpers import make_engine, page, requests, servers_fixture  # noqa: F401 - the fixture


# -- retries and failover ---------------------------------------------------------------------
def test_retries_on_503_then_succeeds(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server, api_retries=3)
    engine.initialize()
    server.fail_next(2, 503)
    generation = engine.generate(page(), "Read.")
    assert generation.text == DEFAULT_ANSWER
    assert len(server.requests) == 3  # two 503s, then the answer


def test_gives_up_after_api_retries_with_a_clear_message(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server, api_retries=2)
    engine.initialize()
    server.fail_next(10, 503)
    with pytest.raises(RemoteEngineError, match=r"busy or failing \(HTTP 503") as caught:
        engine.generate(page(), "Read.")
    assert "LLAMA_VISION_API_CONCURRENCY" in str(caught.value)
    assert len(server.requests) == 3  # first try + 2 retries


def test_429_honours_retry_after(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server, api_retries=1)
    engine.tuning.backoff_max_s = 5.0
    engine.initialize()
    server.fail_next(1, 429, "Too Many Requests", headers={"Retry-After": "0.3"})
    started = time.perf_counter()
    assert engine.generate(page(), "Read.").text == DEFAULT_ANSWER
    assert time.perf_counter() - started >= 0.3
    assert len(server.requests) == 2


def test_fails_over_to_the_live_server_when_one_is_stopped(servers: Any) -> None:
    first, second = servers(2)
    engine = make_engine(first, second, api_retries=0)  # failover needs no retry rounds
    engine.initialize()
    first.kill()
    results = [engine.generate(page(), f"ECHO n{i}") for i in range(6)]
    assert [r.text.split()[1] for r in results] == [f"n{i}" for i in range(6)]
    assert second.served == 6
    health = {s["url"]: s for s in engine.status(refresh=True)["servers"]}
    assert health[first.url]["reachable"] is False
    assert "Cannot reach" in health[first.url]["health_error"]
    assert health[second.url]["reachable"] is True and health[second.url]["model_present"] is True


def test_round_robin_spreads_requests_over_servers(servers: Any) -> None:
    first, second = servers(2)
    engine = make_engine(first, second)
    for i in range(8):
        engine.generate(page(), f"ECHO r{i}")
    assert len(first.requests) == 4 and len(second.requests) == 4


def test_batch_of_20_survives_a_server_killed_mid_run(servers: Any) -> None:
    """The 'done' criterion: two servers, a batch of 20, one server dies mid-run; the concurrency
    limit holds across both servers and nothing is lost or reordered."""
    shared = InFlight()
    first, second = servers(2, delay=0.15, in_flight=shared)
    # No retry rounds: every request caught by the crash must move to the live server at once.
    engine = make_engine(first, second, api_concurrency=4, api_retries=0)
    engine.initialize()

    def killer() -> None:
        while second.served < 3:
            time.sleep(0.01)
        second.kill()

    thread = threading.Thread(target=killer)
    thread.start()
    results = engine.generate_batch(requests(f"ECHO doc{i}" for i in range(20)))
    thread.join(timeout=10)

    assert not second.alive
    assert len(results) == 20
    assert [r.text.split()[1] for r in results] == [f"doc{i}" for i in range(20)]
    assert all(r.text.endswith(DEFAULT_ANSWER) for r in results)
    assert shared.max <= 4
    assert shared.max >= 3  # it really ran concurrently
    assert engine.max_in_flight_seen <= 4
    # Every document answered; at most the requests caught in flight by the crash were redone.
    assert 20 <= first.served + second.served <= 24
    assert second.served < 20 and first.served > 10
    status = engine.status(refresh=True)
    assert [s["reachable"] for s in status["servers"]] == [True, False]
    assert status["servers"][1]["failures"] >= 1


def test_batch_order_is_input_order_when_answers_finish_out_of_order(servers: Any) -> None:
    rng = random.Random(7)
    lock = threading.Lock()

    def responder(prompt: str, images: int, body: dict) -> str:
        with lock:
            pause = rng.uniform(0.0, 0.08)
        time.sleep(pause)
        return prompt.upper()

    (server,) = servers(1, responder=responder)
    engine = make_engine(server, api_concurrency=6)
    prompts = [f"item {i}" for i in range(20)]
    results = engine.generate_batch(requests(prompts))
    assert [r.text for r in results] == [p.upper() for p in prompts]


def test_batch_raises_the_first_failure_and_cancels_the_rest(servers: Any) -> None:
    (server,) = servers(1, delay=0.05)
    engine = make_engine(server, api_concurrency=2)
    engine.initialize()
    server.fail_one_image(1)
    with pytest.raises(RemoteEngineError, match="only one image"):
        engine.generate_batch(requests(["Read."] * 20))
    assert len(server.requests) < 20  # requests not yet started were cancelled

"""The openai engine's fix-it messages (the error catalogue), secret hygiene and binding, against
loopback fake servers and the real `openai` client."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from llama_vision.errors import RemoteEngineError
from tests.openai_fake_server import FakeOpenAIServer
from tests.openai_helpers import SECRET, free_port, make_engine, page, requests, servers_fixture  # noqa: F401 - the fixture


# -- fix-it messages --------------------------------------------------------------------------
def test_connection_refused_at_start() -> None:
    engine = make_engine(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(RemoteEngineError) as caught:
        engine.initialize()
    message = str(caught.value)
    assert "Cannot reach" in message and "connection refused" in message
    assert "LLAMA_VISION_API_BASE" in message and "ollama serve" in message
    assert engine.load_error == message


def test_a_url_without_v1_is_explained(servers: Any) -> None:
    (server,) = servers(1)
    bare = server.url.removesuffix("/v1")
    engine = make_engine(bare)
    with pytest.raises(RemoteEngineError) as caught:
        engine.initialize()
    message = str(caught.value)
    assert "has no /models endpoint (HTTP 404)" in message
    assert f"try {bare}/v1" in message


def test_unknown_model_at_start_lists_what_the_server_has(servers: Any) -> None:
    (server,) = servers(1, models=["llava:7b", "llama3.1:8b"])
    engine = make_engine(server, api_model="llama3.2-vision")
    with pytest.raises(RemoteEngineError) as caught:
        engine.initialize()
    message = str(caught.value)
    assert "'llama3.2-vision'" in message and "llava:7b" in message
    assert "LLAMA_VISION_API_MODEL" in message and "ollama pull llama3.2-vision" in message


@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_unknown_model_at_request_time(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor)
    engine = make_engine(server)
    engine.initialize()
    server.fail_unknown_model(10)
    with pytest.raises(RemoteEngineError, match="does not serve the model") as caught:
        engine.generate(page(), "Read.")
    assert "LLAMA_VISION_API_MODEL" in str(caught.value)
    assert len(server.requests) == 1  # waiting will not make the model appear: no retry rounds


def test_a_server_without_the_model_is_skipped(servers: Any) -> None:
    wrong = FakeOpenAIServer(models=["llava:7b"]).start()
    (right,) = servers(1)
    try:
        engine = make_engine(wrong, right)
        for _ in range(4):
            engine.generate(page(), "Read.")
        assert right.served == 4 and wrong.served == 0
        status = engine.status(refresh=False)
        assert [s["model_present"] for s in status["servers"]] == [False, True]
    finally:
        wrong.kill()


@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_one_image_error_is_explained(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor)
    engine = make_engine(server)
    engine.initialize()
    server.fail_one_image(5)
    with pytest.raises(RemoteEngineError) as caught:
        engine.generate(page(), "Read.")
    message = str(caught.value)
    assert "accepts only one image per request" in message
    assert "--limit-mm-per-prompt" in message
    assert len(server.requests) == 1  # a request-level error is not retried


@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_non_vision_model_is_explained(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor, vision=False)
    engine = make_engine(server)
    with pytest.raises(RemoteEngineError) as caught:
        engine.generate(page(), "Read.")
    message = str(caught.value)
    assert "does not accept images" in message
    assert "llama3.2-vision" in message and "LLAMA_VISION_API_MODEL" in message
    assert len(server.requests) == 1


def test_timeout_is_explained(servers: Any) -> None:
    (server,) = servers(1, delay=2.0)
    engine = make_engine(server, api_timeout=0.4, api_retries=3)
    engine.initialize()
    started = time.perf_counter()
    with pytest.raises(RemoteEngineError) as caught:
        engine.generate(page(), "Read.")
    assert time.perf_counter() - started < 1.2
    assert len(server.requests) == 1  # a timeout is not retried on the same server: it would cost as much again
    message = str(caught.value)
    assert "did not answer within 0.4 s" in message and "LLAMA_VISION_API_TIMEOUT" in message


def test_a_timeout_fails_over_to_another_server(servers: Any) -> None:
    (slow,) = servers(1, delay=2.0)
    (fast,) = servers(1)
    engine = make_engine(slow, fast, api_timeout=0.4, api_retries=0)
    engine.initialize()
    results = [engine.generate(page(), f"ECHO t{i}") for i in range(2)]
    assert [r.text.split()[1] for r in results] == ["t0", "t1"]
    assert len(slow.requests) == 1 and fast.served == 2  # the slow one is then cooled down


def test_a_server_echoing_the_key_does_not_leak_it(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server, api_key=SECRET)
    engine.initialize()
    server.fail_next(1, 400, f"bad request from key {SECRET}")
    with pytest.raises(RemoteEngineError) as caught:
        engine.generate(page(), "Read.")
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


def test_wrong_api_key_is_explained_without_showing_it(servers: Any) -> None:
    (server,) = servers(1, api_key="the-right-key")
    engine = make_engine(server, api_key=SECRET)
    with pytest.raises(RemoteEngineError) as caught:
        engine.initialize()
    assert SECRET not in str(caught.value)
    # The health check at start saw a 401; the message says so and how to fix it.
    assert "refused the API key (HTTP 401)" in str(caught.value)
    assert "LLAMA_VISION_API_KEY" in str(caught.value)


def test_several_dead_servers_are_all_named_at_start() -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    engine = make_engine(*urls)
    with pytest.raises(RemoteEngineError) as caught:
        engine.initialize()
    message = str(caught.value)
    assert message.startswith("None of the 2 servers answered")
    assert all(url in message for url in urls) and "LLAMA_VISION_API_BASE" in message


def test_every_kind_in_the_error_catalogue_ends_with_a_catch_all() -> None:
    """The catalogue is data: each kind of failure must find a row, so the last row of a kind has
    no condition; and no two rows of a kind are the same condition (the second would never match)."""
    from llama_vision.engines.openai.errors import CATALOGUE

    kinds = {rule.kind for rule in CATALOGUE}
    assert kinds == {"timeout", "connection", "status", "no_choices", "other"}
    for kind in kinds:
        rows = [r for r in CATALOGUE if r.kind == kind]
        assert rows[-1].matches(None, "") and rows[-1].matches(418, "anything"), kind
        conditions = [(r.statuses, r.min_status, r.pattern) for r in rows]
        assert len(set(conditions)) == len(conditions), kind


def test_classify_names_unexpected_errors_and_scrubs_the_key() -> None:
    from llama_vision.engines.openai.errors import NoChoices, classify

    failure = classify(ValueError(f"odd {SECRET} body"), url="http://h/v1", model="m", timeout_s=5, secret=SECRET)
    assert failure.transient and not failure.final
    assert failure.error.message.startswith("Unexpected answer from the server at http://h/v1: ValueError: odd ***")
    assert SECRET not in str(failure.error)
    empty = classify(NoChoices("no choices"), url="http://h/v1", model="m", timeout_s=5)
    assert empty.transient and empty.error.message == "The server at http://h/v1 returned no choices."
    passed = classify(RemoteEngineError("already explained"), url="u", model="m", timeout_s=5)
    assert passed.final and passed.error.message == "already explained"


# -- secrets and binding ----------------------------------------------------------------------
def test_api_key_never_appears_in_status_repr_or_logs(servers: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the openai and http client loggers too
    first, second = servers(2, api_key=SECRET)
    engine = make_engine(first, second, api_key=SECRET)
    engine.generate(page(), "Read.")
    list(engine.stream(page(), "Read."))
    first.fail_next(1, 503)
    second.fail_next(1, 503)
    engine.generate_batch(requests(["Read."] * 4))
    second.kill()
    engine.generate_batch(requests(["Read."] * 4))
    status = engine.status(refresh=True)

    assert status["api_key"] == "set (hidden)"
    assert first.requests and all(r["model"] for r in first.requests)  # the key was accepted
    shown = [json.dumps(status, default=str), repr(engine), str(engine), caplog.text, repr(engine.settings)]
    for text in shown:
        assert SECRET not in text
    assert caplog.text  # something was logged (the failover), so the check above means something


def test_user_and_password_in_urls_are_redacted(servers: Any) -> None:
    (server,) = servers(1)
    host, port = server.address
    engine = make_engine(f"http://bob:hunter2@{host}:{port}/v1")
    engine.generate(page(), "Read.")
    shown = json.dumps(engine.status(refresh=True)) + repr(engine)
    assert "hunter2" not in shown and "bob" not in shown
    assert f"***@{host}:{port}" in shown


def test_status_before_start_and_health_fields(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server)
    status = engine.status()
    assert status["engine"] == "openai" and status["loaded"] is False
    assert status["api_key"] == "not set"
    (health,) = status["servers"]
    assert health["url"] == server.url
    assert health["reachable"] is True and health["model_present"] is True
    assert isinstance(health["latency_ms"], float) and health["latency_ms"] >= 0
    calls = server.model_list_calls
    engine.status()  # fresh: served from the cache, no new request
    assert server.model_list_calls == calls


def test_fake_servers_bind_loopback_only() -> None:
    with FakeOpenAIServer() as server:
        assert server.address[0] == "127.0.0.1"
        assert server.url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError, match="loopback"):
        FakeOpenAIServer(host="0.0.0.0")

"""The openai engine against real HTTP servers on loopback (tests/openai_fake_server.py).

Every test talks HTTP through the real `openai` client: wire format, SSE streaming, failover,
retries, concurrency limits, error messages and secret hygiene.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import threading
import time
from typing import Any

import pytest
from PIL import Image

from llama_vision.config import load_settings
from llama_vision.engines import create_engine
from llama_vision.engines.base import Generation
from llama_vision.errors import ConfigError, RemoteEngineError
from tests.openai_fake_server import DEFAULT_ANSWER, FakeOpenAIServer, InFlight, start_servers

SECRET = "sk-test-DO-NOT-LEAK-7f3a9c"


@pytest.fixture
def servers() -> Any:
    """Factory for started fake servers; every one is killed at the end of the test."""
    started: list[FakeOpenAIServer] = []

    def make(count: int = 1, **options: Any) -> list[FakeOpenAIServer]:
        new = start_servers(count, **options)
        started.extend(new)
        return new

    yield make
    for server in started:
        server.kill()


def make_engine(*servers: FakeOpenAIServer | str, **overrides: Any) -> Any:
    urls = [s if isinstance(s, str) else s.url for s in servers]
    overrides.setdefault("api_retries", 3)
    settings = load_settings(env_file=None, engine="openai", api_base=",".join(urls), **overrides)
    engine = create_engine(settings)
    # Keep tests fast: tiny backoff and cool-downs (the logic is the same).
    engine.backoff_base_s = 0.01
    engine.backoff_max_s = 0.05
    engine.cooldown_base_s = 0.5
    engine.cooldown_max_s = 2.0
    return engine


def page(size: tuple[int, int] = (320, 400), mode: str = "RGB") -> Image.Image:
    color: Any = (255, 255, 255, 0) if mode == "RGBA" else "white"
    image = Image.new(mode, size, color)
    for x in range(20, 120):
        image.putpixel((x, 30), (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    return image


def decode_data_url(url: str) -> tuple[str, Image.Image]:
    header, data = url.split(",", 1)
    return header, Image.open(io.BytesIO(base64.b64decode(data)))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- extraction end to end --------------------------------------------------------------------
@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_generate_sends_one_image_first_and_returns_a_generation(servers: Any, flavor: str) -> None:
    model = "llama3.2-vision" if flavor == "ollama" else "meta-llama/Llama-3.2-11B-Vision-Instruct"
    (server,) = servers(1, flavor=flavor, model=model)
    engine = make_engine(server, api_model=model, max_new_tokens=300)

    generation = engine.generate(page((320, 400)), "Read this receipt.")

    assert isinstance(generation, Generation)
    assert generation.text == DEFAULT_ANSWER
    assert generation.generated_tokens == len(DEFAULT_ANSWER.split())
    assert generation.prompt_tokens and generation.prompt_tokens > 0
    assert generation.truncated is False
    assert generation.seconds > 0
    body = server.requests[-1]
    assert body["model"] == model
    assert body["temperature"] == 0
    assert body["max_tokens"] == 300
    assert not body.get("stream")
    (message,) = body["messages"]
    assert message["role"] == "user"
    image_part, text_part = message["content"]
    assert image_part["type"] == "image_url" and text_part == {"type": "text", "text": "Read this receipt."}
    header, sent = decode_data_url(image_part["image_url"]["url"])
    assert header == "data:image/jpeg;base64"
    assert sent.format == "JPEG" and sent.size == (320, 400)


def test_transparent_pages_are_sent_as_png(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server)
    engine.generate(page(mode="RGBA"), "Read.")
    header, sent = decode_data_url(server.requests[-1]["messages"][0]["content"][0]["image_url"]["url"])
    assert header == "data:image/png;base64" and sent.format == "PNG"


def test_max_new_tokens_cap_marks_the_generation_truncated(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server)
    generation = engine.generate(page(), "Read.", max_new_tokens=5)
    assert server.requests[-1]["max_tokens"] == 5
    assert generation.truncated is True
    assert generation.generated_tokens == 5


def test_factory_builds_the_openai_engine_and_auto_picks_it(servers: Any) -> None:
    (server,) = servers(1)
    settings = load_settings(env_file=None, engine="auto", api_base=server.url)
    engine = create_engine(settings)
    assert engine.name == "openai"
    assert engine.capabilities.streams and engine.capabilities.batches and engine.capabilities.follows_prompts


def test_no_server_configured_is_a_config_error() -> None:
    engine = create_engine(load_settings(env_file=None, engine="openai", api_base=""), name="openai")
    with pytest.raises(ConfigError, match="LLAMA_VISION_API_BASE"):
        engine.initialize()


def _pipeline() -> Any:
    pipeline = pytest.importorskip("llama_vision.pipeline")
    pytest.importorskip("llama_vision.prompts", reason="the prompt library is not in the tree yet")
    return pipeline


def test_pipeline_extract_through_the_openai_engine(servers: Any, tmp_path: Any) -> None:
    """Text in -> Result: the same prompts and parsers as the llama engine, over HTTP."""
    pipeline = _pipeline()
    (server,) = servers(1)
    engine = make_engine(server)
    path = tmp_path / "receipt.png"
    page((600, 800)).save(path)
    tokens: list[str] = []
    result = pipeline.extract(path, engine=engine, prompt_style="key_value", on_token=tokens.append)
    assert result.status == "ok", result.error
    assert result.engine == "openai"
    assert result.fields["supplier_abn"] == "51824753556"
    assert result.fields["total"] == "44.00"
    assert result.fields["date"] == "15/03/2024"
    assert "Bunnings" in (result.raw_output or "")
    assert any(body.get("stream") for body in server.requests)  # on_token streamed
    assert "".join(tokens).strip()


def test_pipeline_extract_many_survives_a_server_killed_mid_run(servers: Any, tmp_path: Any) -> None:
    pipeline = _pipeline()
    shared = InFlight()
    first, second = servers(2, delay=0.1, in_flight=shared)
    engine = make_engine(first, second, api_concurrency=3)
    paths = []
    for i in range(12):
        path = tmp_path / f"doc{i:02d}.png"
        page((500, 700)).save(path)
        paths.append(path)

    def killer() -> None:
        while second.served < 4:
            time.sleep(0.01)
        second.kill()

    thread = threading.Thread(target=killer)
    thread.start()
    results = dict(pipeline.extract_many(paths, engine=engine, prompt_style="key_value"))
    thread.join(timeout=10)
    assert not second.alive
    assert sorted(results) == list(range(12))
    assert all(r.status == "ok" and r.fields["total"] == "44.00" for r in results.values()), [
        r.error for r in results.values() if r.status != "ok"
    ]
    assert shared.max <= 3


# -- streaming --------------------------------------------------------------------------------
@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_stream_yields_pieces_as_they_arrive(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor, token_delay=0.03)
    engine = make_engine(server)
    engine.initialize()
    started = time.perf_counter()
    arrivals: list[float] = []
    pieces: list[str] = []
    for piece in engine.stream(page(), "Read."):
        arrivals.append(time.perf_counter() - started)
        pieces.append(piece)
    assert "".join(pieces) == DEFAULT_ANSWER
    assert len(pieces) > 10
    # The first piece came well before the last: it streamed, it was not one answer at the end.
    assert arrivals[0] < arrivals[-1] - 0.2
    body = server.requests[-1]
    assert body["stream"] is True and body["temperature"] == 0
    last = engine.last_generation
    assert last.text == DEFAULT_ANSWER
    assert last.generated_tokens == len(pieces)
    assert last.truncated is False
    assert engine.status(refresh=False)["in_flight"] == 0


def test_stream_fails_over_before_the_first_piece(servers: Any) -> None:
    dead, live = servers(2)
    dead.kill()
    engine = make_engine(dead, live, api_retries=0)  # failover needs no retry rounds
    assert "".join(engine.stream(page(), "Read.")) == DEFAULT_ANSWER
    assert live.served == 1


def test_stream_broken_midway_raises_a_clear_error(servers: Any) -> None:
    (server,) = servers(1)
    server.kill_stream_after = 3
    engine = make_engine(server)
    with pytest.raises(RemoteEngineError, match="stream from .* broke after"):
        list(engine.stream(page(), "Read."))
    status = engine.status(refresh=False)
    assert status["in_flight"] == 0


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
    engine.backoff_max_s = 5.0
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
    results = engine.generate_batch([page()] * 20, [f"ECHO doc{i}" for i in range(20)])
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
    results = engine.generate_batch([page()] * 20, prompts)
    assert [r.text for r in results] == [p.upper() for p in prompts]


def test_batch_raises_the_first_failure_and_cancels_the_rest(servers: Any) -> None:
    (server,) = servers(1, delay=0.05)
    engine = make_engine(server, api_concurrency=2)
    engine.initialize()
    server.fail_one_image(1)
    with pytest.raises(RemoteEngineError, match="only one image"):
        engine.generate_batch([page()] * 20, ["Read."] * 20)
    assert len(server.requests) < 20  # requests not yet started were cancelled


# -- concurrency limits -----------------------------------------------------------------------
def test_concurrency_never_exceeds_the_limit(servers: Any) -> None:
    (server,) = servers(1, delay=0.1)
    engine = make_engine(server, api_concurrency=3)
    results = engine.generate_batch([page()] * 12, [f"ECHO c{i}" for i in range(12)])
    assert len(results) == 12
    assert server.in_flight.max == 3  # reached, never passed


def test_the_limit_is_engine_wide_across_concurrent_callers(servers: Any) -> None:
    """The pipeline's worker threads, the UI and batches share one budget of requests."""
    (server,) = servers(1, delay=0.08)
    engine = make_engine(server, api_concurrency=3)
    engine.initialize()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            engine.generate_batch([page()] * 4, [f"ECHO w{n}-{i}" for i in range(4)])
            list(engine.stream(page(), f"ECHO s{n}"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert server.served == 20
    assert server.in_flight.max <= 3


def test_ask_fields_runs_questions_concurrently(servers: Any) -> None:
    (server,) = servers(1, delay=0.2, responder=lambda prompt, images, body: f"answer to {prompt}")
    engine = make_engine(server, api_concurrency=4)
    engine.initialize()
    questions = {"total": "What is the total?", "date": "What is the date?", "gst": "GST?", "abn": "ABN?"}
    started = time.perf_counter()
    answers = engine.ask_fields(page(), questions)
    elapsed = time.perf_counter() - started
    assert {k: v.text for k, v in answers.items()} == {k: f"answer to {q}" for k, q in questions.items()}
    assert server.in_flight.max == 4
    assert elapsed < 0.6  # four 0.2 s answers at once, not 0.8 s one after another
    urls = {r["messages"][0]["content"][0]["image_url"]["url"] for r in server.requests}
    assert len(urls) == 1  # the same page, encoded once


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


# -- secrets and binding ----------------------------------------------------------------------
def test_api_key_never_appears_in_status_repr_or_logs(servers: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the openai and http client loggers too
    first, second = servers(2, api_key=SECRET)
    engine = make_engine(first, second, api_key=SECRET)
    engine.generate(page(), "Read.")
    list(engine.stream(page(), "Read."))
    first.fail_next(1, 503)
    second.fail_next(1, 503)
    engine.generate_batch([page()] * 4, ["Read."] * 4)
    second.kill()
    engine.generate_batch([page()] * 4, ["Read."] * 4)
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

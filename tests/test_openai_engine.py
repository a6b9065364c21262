"""The openai engine against real HTTP servers on loopback (tests/openai_fake_server.py).

Every test talks HTTP through the real `openai` client: wire format, SSE streaming, concurrency
limits and streams that share one engine. Failover is in test_openai_failover.py, error messages
and secret hygiene in test_openai_errors.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from PIL import Image

from llama_vision.config import load_settings
from llama_vision.engines import create_engine
from llama_vision.engines.base import Generation, GenerationRequest, GenerationStream
from llama_vision.errors import ConfigError, RemoteEngineError
from tests.openai_fake_server import DEFAULT_ANSWER, InFlight
from tests.openai_helpers import decode_data_url, make_engine, page, requests, run_users, servers_fixture  # noqa: F401 - the fixture


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
    assert engine.capabilities.streams and engine.capabilities.follows_prompts
    # Many requests in flight at once, but each is its own HTTP call: concurrency, not batching.
    assert engine.capabilities.runs_concurrently and not engine.capabilities.batches


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


def test_two_users_extracting_through_one_engine_get_their_own_results(servers: Any, tmp_path: Any) -> None:
    """Issue 9, end to end: two users stream extractions at once through one engine (concurrency
    2). The server tells the documents apart by their paper (white or grey) and answers each with
    its own supplier and total; no Result may hold the other document's values."""
    pipeline = _pipeline()
    own = {"white": ("Bunnings Warehouse", "40.00", "4.00", "44.00"), "grey": ("Officeworks", "50.00", "5.00", "55.00")}

    def responder(prompt: str, images: int, body: dict) -> str:
        sent = decode_data_url(body["messages"][0]["content"][0]["image_url"]["url"])[1].convert("L")
        supplier, subtotal, gst, total = own["white" if sent.getpixel((5, 5)) > 240 else "grey"]
        return (DEFAULT_ANSWER.replace("Bunnings Warehouse", supplier).replace("$40.00", f"${subtotal}")
                .replace("$4.00", f"${gst}").replace("$44.00", f"${total}"))

    (server,) = servers(1, responder=responder, token_delay=0.002)
    engine = make_engine(server, api_concurrency=2)
    paths = {}
    for paper, colour in (("white", "white"), ("grey", (200, 200, 200))):
        image = Image.new("RGB", (600, 800), colour)
        image.paste((0, 0, 0), (20, 30, 120, 31))
        paths[paper] = tmp_path / f"{paper}.png"
        image.save(paths[paper])
    rounds = 6
    results: dict[str, list[Any]] = {"white": [], "grey": []}

    def user(paper: str, together: threading.Barrier) -> None:
        for _ in range(rounds):
            together.wait()
            tokens: list[str] = []
            result = pipeline.extract(paths[paper], engine=engine, prompt_style="key_value", on_token=tokens.append)
            results[paper].append((result, "".join(tokens)))

    run_users(results, user)
    for paper, runs in results.items():
        supplier, _subtotal, _gst, total = own[paper]
        assert len(runs) == rounds
        for result, streamed in runs:
            assert result.status == "ok", result.error
            assert result.fields["total"] == total and supplier in (result.fields["supplier_name"] or "")
            assert supplier in (result.raw_output or "") and supplier in streamed
    assert server.in_flight.max == 2  # the two users really were served at the same time


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
    stream = engine.stream(page(), "Read.")
    for piece in stream:
        arrivals.append(time.perf_counter() - started)
        pieces.append(piece)
    assert "".join(pieces) == DEFAULT_ANSWER
    assert len(pieces) > 10
    # The first piece came well before the last: it streamed, it was not one answer at the end.
    assert arrivals[0] < arrivals[-1] - 0.2
    body = server.requests[-1]
    assert body["stream"] is True and body["temperature"] == 0
    last = stream.generation
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


def test_a_stream_sends_nothing_until_iterated_and_holds_its_generation_after(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server)
    engine.initialize()
    stream = engine.stream(page(), "ECHO lazy")
    assert isinstance(stream, GenerationStream)
    assert len(server.requests) == 0  # made, not yet sent
    with pytest.raises(RuntimeError, match="has not finished"):
        _ = stream.generation
    text = "".join(stream)
    assert len(server.requests) == 1
    assert stream.generation.text == text and text.startswith("ECHO lazy\n")
    assert not hasattr(engine, "last_generation")


def test_two_concurrent_streams_through_one_engine_keep_their_own_answers(servers: Any) -> None:
    """Issue 9: one engine serves every user. Two streams run at once with different answers; each
    reads its final Generation only after *both* have finished (the window in which a shared
    `last_generation` would have been overwritten), and must still hold its own answer."""
    (server,) = servers(1, token_delay=0.003)
    engine = make_engine(server, api_concurrency=2)
    engine.initialize()
    rounds = 15
    seen: dict[str, list[tuple[str, str]]] = {"a": [], "b": []}

    def user(name: str, together: threading.Barrier) -> None:
        for number in range(rounds):
            stream = engine.stream(page(), f"ECHO {name}{number}")
            together.wait()  # both streams exist before either starts
            pieces = "".join(stream)
            together.wait()  # both streams are done before either reads its Generation
            seen[name].append((pieces, stream.generation.text))

    run_users(seen, user)
    for name, answers in seen.items():
        assert len(answers) == rounds
        for number, (pieces, final) in enumerate(answers):
            assert final == pieces == f"ECHO {name}{number}\n{DEFAULT_ANSWER}"
    # The two streams really were in flight together. The server may count one more for a moment:
    # a client that read "[DONE]" starts its next round while the server's handler is still closing
    # the last one (the cap itself is held by test_concurrency_never_exceeds_the_limit).
    assert server.in_flight.max >= 2
    assert engine.status(refresh=False)["in_flight"] == 0


def test_interleaved_streams_in_one_thread_keep_their_own_answers(servers: Any) -> None:
    """The same, deterministically: stream A is paused after its first piece while stream B runs
    from start to end on the same engine; then A finishes. Neither holds the other's answer."""
    (server,) = servers(1)
    engine = make_engine(server, api_concurrency=2)
    first = engine.stream(page(), "ECHO first")
    second = engine.stream(page(), "ECHO second")
    pieces = iter(first)
    head = next(pieces)
    assert "".join(second) == second.generation.text == f"ECHO second\n{DEFAULT_ANSWER}"
    assert head + "".join(pieces) == first.generation.text == f"ECHO first\n{DEFAULT_ANSWER}"
    assert second.generation.text == f"ECHO second\n{DEFAULT_ANSWER}"  # unchanged by the first's end
    assert first.generation.generated_tokens == len(first.generation.text.split())


# -- concurrency limits -----------------------------------------------------------------------
def test_concurrency_never_exceeds_the_limit(servers: Any) -> None:
    (server,) = servers(1, delay=0.1)
    engine = make_engine(server, api_concurrency=3)
    results = engine.generate_batch(requests(f"ECHO c{i}" for i in range(12)))
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
            engine.generate_batch(requests(f"ECHO w{n}-{i}" for i in range(4)))
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


def test_a_batch_of_different_pages_sends_each_its_own_page(servers: Any) -> None:
    (server,) = servers(1)
    engine = make_engine(server, api_concurrency=3)
    sizes = [(200 + 10 * i, 300) for i in range(6)]
    shared = page((131, 222))
    batch = [GenerationRequest(page(size), f"ECHO p{i}") for i, size in enumerate(sizes)]
    batch += [GenerationRequest(shared, "ECHO q0"), GenerationRequest(shared, "ECHO q1")]
    results = engine.generate_batch(batch)
    assert [r.text.split()[1] for r in results] == [f"p{i}" for i in range(6)] + ["q0", "q1"]
    sent = {}
    for body in server.requests:
        prompt = body["messages"][0]["content"][1]["text"]
        sent[prompt] = decode_data_url(body["messages"][0]["content"][0]["image_url"]["url"])[1].size
    assert [sent[f"ECHO p{i}"] for i in range(6)] == sizes
    assert sent["ECHO q0"] == sent["ECHO q1"] == (131, 222)

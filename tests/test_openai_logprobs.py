"""The openai engine's token log-probabilities from the loopback fake server: asked for, used
when the server returns them (plain and streamed), null confidence when it does not, and a
server that rejects the parameter still answers (asked once more without, then never again)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from llama_vision.pipeline import extract
from tests.openai_fake_server import DEFAULT_ANSWER
from tests.openai_helpers import make_engine, page, servers_fixture  # noqa: F401 - the fixture


def unsure_total(piece: str) -> float:
    """The server's log-probability of each piece: the total's digits are unsure."""
    return math.log(0.35) if piece.startswith("$44") else -0.02


@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_logprobs_are_asked_for_and_used(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor, logprobs="return", logprob=unsure_total)
    engine = make_engine(server)
    generation = engine.generate(page(), "Read this receipt.")
    assert server.requests[-1]["logprobs"] is True
    assert generation.text == DEFAULT_ANSWER
    assert generation.token_logprobs is not None
    assert "".join(p for p, _ in generation.token_logprobs) == generation.text
    assert dict(generation.token_logprobs)["$44.00\n"] == pytest.approx(math.log(0.35))


@pytest.mark.parametrize("flavor", ["ollama", "vllm"])
def test_streamed_logprobs_arrive_with_their_pieces(servers: Any, flavor: str) -> None:
    (server,) = servers(1, flavor=flavor, logprobs="return", logprob=unsure_total)
    engine = make_engine(server)
    stream = engine.stream(page(), "Read this receipt.")
    assert "".join(stream) == DEFAULT_ANSWER
    assert server.requests[-1]["logprobs"] is True and server.requests[-1]["stream"] is True
    tokens = stream.generation.token_logprobs
    assert tokens is not None and "".join(p for p, _ in tokens) == DEFAULT_ANSWER
    assert min(lp for _, lp in tokens) == pytest.approx(math.log(0.35))


def test_the_result_carries_model_confidence_and_routes_an_unsure_total(servers: Any) -> None:
    (server,) = servers(1, logprobs="return", logprob=unsure_total)
    result = extract(page(), engine=make_engine(server, review_threshold=0.8), document_type="tax_invoice")
    assert result.status == "ok" and result.fields["total"] == "44.00"
    total = result.evidence["total"]
    assert (total.source, total.text, total.page, total.box) == ("model", "$44.00", 0, None)
    assert total.confidence == pytest.approx(0.35)
    assert result.evidence["gst"].confidence == pytest.approx(math.exp(-0.02))
    assert result.review.needed and "total" in result.review.fields
    assert any(r.startswith("low-confidence total") for r in result.review.reasons)


def test_a_server_without_logprobs_gives_null_confidence_not_a_constant(servers: Any) -> None:
    (server,) = servers(1)  # ignores the parameter, as Ollama before 0.12.11 does
    engine = make_engine(server, review_threshold=0.8)
    generation = engine.generate(page(), "Read this receipt.")
    assert server.requests[-1]["logprobs"] is True and generation.token_logprobs is None
    result = extract(page(), engine=engine, document_type="tax_invoice")
    assert result.fields["total"] == "44.00"
    assert all(e.confidence is None for e in result.evidence.values())
    assert not any(r.startswith("low-confidence") for r in result.review.reasons)


@pytest.mark.parametrize("stream", [False, True])
def test_a_server_that_rejects_logprobs_still_answers_and_is_not_asked_again(servers: Any, stream: bool) -> None:
    (server,) = servers(1, logprobs="reject")
    engine = make_engine(server)

    def ask() -> Any:
        if not stream:
            return engine.generate(page(), "Read this receipt.")
        answer = engine.stream(page(), "Read this receipt.")
        "".join(answer)
        return answer.generation

    first = ask()
    assert first.text == DEFAULT_ANSWER and first.token_logprobs is None
    assert [body.get("logprobs") for body in server.requests] == [True, None]  # refused, then without
    assert ask().text == DEFAULT_ANSWER
    assert len(server.requests) == 3 and "logprobs" not in server.requests[-1]  # remembered per server
    assert engine.status(refresh=False)["servers"][0]["failures"] == 0  # a refusal is not a failure


def test_the_capability_is_per_server(servers: Any) -> None:
    refusing, returning = servers(1, logprobs="reject")[0], servers(1, logprobs="return")[0]
    engine = make_engine(refusing, returning)
    answers = [engine.generate(page(), f"Read {i}.") for i in range(4)]  # round-robin over both
    assert refusing.requests and returning.requests
    assert all(body.get("logprobs") is True for body in returning.requests)
    assert sum(a.token_logprobs is not None for a in answers) == len(returning.requests)


def test_evaluate_reports_calibration_for_model_confidences(servers: Any, tmp_path: Any) -> None:
    import json

    from llama_vision.evaluation import evaluate

    # two documents; the fake server reads the same answer for both: right for a.png, wrong for b.png
    for name, total in (("a", "44.00"), ("b", "99.00")):
        page().save(tmp_path / f"{name}.png")
        truth = {"fields": {"total": total, "gst": "4.00", "supplier_abn": "51824753556"}}
        (tmp_path / f"{name}.json").write_text(json.dumps(truth), encoding="utf-8")
    (server,) = servers(1, logprobs="return", logprob=unsure_total)
    report = evaluate(tmp_path, engine=make_engine(server), progress=False).to_dict(details=False)
    total = report["calibration"]["fields"]["total"]
    assert total["fields"] == 2
    (bucket,) = total["reliability"]  # both at the measured 0.35, one right
    assert bucket["confidence"] == pytest.approx(0.35) and bucket["accuracy"] == pytest.approx(0.5)
    assert total["ece"] == pytest.approx(0.15, abs=1e-4)
    assert report["calibration"]["fields"]["gst"]["accepted"]["accuracy"] == 1.0


def test_tokens_that_do_not_spell_the_answer_are_not_used() -> None:
    from types import SimpleNamespace as NS

    from llama_vision.engines.openai import wire

    def response(tokens: list[tuple[str, float]]) -> Any:
        content = [NS(token=t, logprob=lp) for t, lp in tokens]
        choice = NS(message=NS(content="TOTAL: €5"), finish_reason="stop", logprobs=NS(content=content))
        return NS(choices=[choice], usage=None)

    spelled = [("TOTAL", -0.1), (":", -0.1), (" €", -0.5), ("5", -0.2)]
    assert wire.read_completion(response(spelled), 0.1).token_logprobs == spelled
    # vLLM writes a split character as "bytes:\\xe2..." pieces: they do not spell the text
    split = [("TOTAL", -0.1), (":", -0.1), (" bytes:\\xe2\\x82", -0.5), ("bytes:\\xac", -0.4), ("5", -0.2)]
    assert wire.read_completion(response(split), 0.1).token_logprobs is None
    # ... unless the tokens carry their bytes: decoded in order, each token takes what it completes
    with_bytes = [NS(token=t, logprob=lp, bytes=list(b)) for t, lp, b in (
        ("TOTAL", -0.1, b"TOTAL"), (":", -0.1, b":"), (" bytes:\\xe2\\x82", -0.5, b" \xe2\x82"),
        ("bytes:\\xac", -0.4, b"\xac"), ("5", -0.2, b"5"))]
    choice = NS(message=NS(content="TOTAL: €5"), finish_reason="stop", logprobs=NS(content=with_bytes))
    assert wire.read_completion(NS(choices=[choice], usage=None), 0.1).token_logprobs == [
        ("TOTAL", -0.1), (":", -0.1), (" ", -0.5), ("€", -0.4), ("5", -0.2)]

"""Token log-probabilities through the real `generate` of the tiny random Mllama (CPU): single,
batched (left padding), streamed and field questions (vision reuse), checked against
transformers' own `compute_transition_scores`, and carried into a Result's evidence.

Random weights answer garbage, so the tests check the numbers, not the words."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from llama_vision.engines.base import Generation, GenerationRequest  # noqa: E402
from llama_vision.engines.llama import LlamaEngine  # noqa: E402
from llama_vision.parsing.confidence import answer_confidence  # noqa: E402
from llama_vision.pipeline import extract  # noqa: E402
from llama_vision.tiny_model import write_tiny_model  # noqa: E402
from tests.test_llama_engine import noise, receipt, settings_for  # noqa: E402

TOLERANCE = 1e-3  # batched rows see other padding; float32 sums differ in the last bits


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaEngine]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the team shares 2 cores
    engine = LlamaEngine(settings_for(write_tiny_model(tmp_path_factory.mktemp("llama") / "tiny", seed=0)))
    engine.initialize()
    yield engine
    engine.unload()
    torch.set_num_threads(before)


def check_aligned(generation: Generation) -> list[float]:
    assert generation.token_logprobs is not None
    assert len(generation.token_logprobs) == generation.generated_tokens
    assert "".join(piece for piece, _ in generation.token_logprobs) == generation.text
    values = [lp for _, lp in generation.token_logprobs]
    assert all(math.isfinite(v) and v <= 0.0 for v in values)
    return values


def transition_scores(engine: LlamaEngine, image: object, prompt: str) -> list[float]:
    """transformers' own answer: output_scores + compute_transition_scores(normalize_logits=True)."""
    runner = engine.runner
    inputs = runner.encode([image], [prompt])
    config = runner.generation_config(engine.settings.max_new_tokens)
    config.output_scores, config.return_dict_in_generate = True, True
    with torch.inference_mode():
        out = runner.model.generate(**inputs, generation_config=config)
    scores = runner.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    return scores[0].tolist()


def test_single_generation_carries_the_transition_scores(engine: LlamaEngine) -> None:
    generation = engine.generate(receipt(), "What is the total?")
    values = check_aligned(generation)
    reference = transition_scores(engine, receipt(), "What is the total?")[: len(values)]
    assert values == pytest.approx(reference, abs=1e-5)
    assert len(set(values)) > 1  # measured per token, not one number for all


def test_batched_rows_equal_their_single_runs(engine: LlamaEngine) -> None:
    images = [receipt(), receipt(900, 300, "blue"), noise()]
    prompts = ["What is the total?", "ABN?", "Read every line of this receipt and list the items with prices."]
    batch = engine.generate_batch([GenerationRequest(i, p) for i, p in zip(images, prompts, strict=True)])
    for row, image, prompt in zip(batch, images, prompts, strict=True):
        single = engine.generate(image, prompt)
        assert check_aligned(row) == pytest.approx(check_aligned(single), abs=TOLERANCE)
        assert [p for p, _ in row.token_logprobs] == [p for p, _ in single.token_logprobs]


def test_stream_and_field_questions_carry_the_same_scores(engine: LlamaEngine) -> None:
    stream = engine.stream(receipt(), "What is the supplier name?")
    "".join(stream)
    single = engine.generate(receipt(), "What is the supplier name?")
    assert check_aligned(stream.generation) == pytest.approx(check_aligned(single), abs=1e-5)
    questions = {"total": "What is the total?", "supplier_name": "Who is the supplier on this receipt?"}
    image = receipt(600, 700)
    reused = engine.ask_fields(image, questions)  # the vision tower once, one batched generate
    for name, question in questions.items():
        assert check_aligned(reused[name]) == pytest.approx(check_aligned(engine.generate(image, question)),
                                                            abs=TOLERANCE)


def test_a_field_spelled_in_the_answer_gets_its_tokens_confidence(engine: LlamaEngine) -> None:
    generation = engine.generate(noise(), "Describe the picture.")
    check_aligned(generation)
    # a "value": a whitespace-separated word of the answer; its confidence is the lowest
    # probability among the tokens that overlap it
    match = max(re.finditer(r"\S+", generation.text), key=lambda m: len(m.group(0)))
    overlapping, position = [], 0
    for piece, logprob in generation.token_logprobs:
        if position < match.end() and position + len(piece) > match.start():
            overlapping.append(logprob)
        position += len(piece)
    found = answer_confidence(generation.text, generation.token_logprobs, {"notes": match.group(0)})
    assert found["notes"].text == match.group(0)
    assert found["notes"].confidence == pytest.approx(math.exp(min(overlapping)))


def test_field_specific_extraction_puts_model_confidence_in_the_evidence(engine: LlamaEngine) -> None:
    result = extract(receipt(), engine=engine, prompt_style="field_specific", document_type="receipt")
    assert result.status == "ok", result.error
    model = {name: e for name, e in result.evidence.items() if e.source == "model"}
    assert model, result.raw_output
    for evidence in model.values():
        assert evidence.page == 0 and evidence.box is None
        assert evidence.text and evidence.text in result.raw_output
        assert evidence.confidence is None or 0.0 <= evidence.confidence <= 1.0
    assert any(e.confidence is not None for e in model.values())

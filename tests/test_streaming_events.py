"""Issue J, item 2 and 6 without a model: the pipeline's typed events say what a user would
otherwise wait through in silence (the fallback retry, each field question, each page), Compare
says "prompt 2 of 3" and streams each prompt, and `ask` streams an answer on a prompt-following
engine and refuses plainly on OCR."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from llama_vision import pipeline
from llama_vision.ask import Answer, AnswerEvent, CannotAnswerError, ask, ask_events
from llama_vision.errors import LlamaVisionError
from llama_vision.events import StatusEvent, TokenEvent
from llama_vision.prompts import load_prompt_library
from tests.fakes import FakeEngine, fake_settings

GOOD = "- SUPPLIER_NAME: Harbour Hardware\n- TOTAL: $110.00\n- GST: $10.00\n- DATE: 15 Mar 2024\n"
REFUSAL = "I'm not able to provide information about this image."


@pytest.fixture
def image() -> Image.Image:
    return Image.new("RGB", (320, 400), "white")


def _events(engine, source, **kwargs) -> list:
    return list(pipeline.extract_events(source, engine=engine, document_type="receipt", **kwargs))


def test_the_fallback_retry_is_announced_then_streamed(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[REFUSAL, GOOD])
    events = _events(engine, image)
    kinds = [type(e).__name__ if not isinstance(e, StatusEvent) else f"status:{e.kind}" for e in events]
    retry = kinds.index("status:retry")
    assert "retrying with the fallback prompt" in events[retry].text and "refused" in events[retry].text
    before = "".join(e.text for e in events[:retry] if isinstance(e, TokenEvent))
    after = "".join(e.text for e in events[retry:] if isinstance(e, TokenEvent))
    assert before.split() == REFUSAL.split()  # the first answer streamed, then the status...
    assert after.split() == GOOD.split()  # ...then the retry's answer, token by token
    assert kinds[-1] == "ResultEvent" and events[-1].result.fields["total"] == "110.00"


def test_a_good_answer_has_no_retry_status(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD])
    assert not [e for e in _events(engine, image) if isinstance(e, StatusEvent)]


def test_field_questions_are_announced_and_answered_one_status_each(tmp_path: Path, image) -> None:
    questions = load_prompt_library().field_questions("receipt")
    answers = {"total": "The total is $45.10.", "supplier_name": "Bunnings"}

    def respond(prompt: str) -> str:
        field = next(name for name, question in questions.items() if question == prompt)
        return answers.get(field, "NOT_FOUND")

    engine = FakeEngine(fake_settings(tmp_path), responder=respond)
    events = _events(engine, image, prompt_style="field_specific")
    statuses = [e for e in events if isinstance(e, StatusEvent)]
    assert statuses[0].kind == "fields" and statuses[0].steps == len(questions)
    fields = [s for s in statuses if s.kind == "field"]
    assert [s.field for s in fields] == list(questions)  # one status per question, in order
    assert [s.step for s in fields] == list(range(1, len(questions) + 1))
    by_field = {s.field: s for s in fields}
    assert by_field["total"].answer == "45.10" and f"(1 of {len(questions)})" in fields[0].text
    assert "not found" in by_field["supplier_abn"].text
    assert events[-1].result.fields["total"] == "45.10"


def test_a_non_batching_engine_gets_one_question_at_a_time(tmp_path: Path, image) -> None:
    class OneByOne(FakeEngine):
        capabilities = FakeEngine.capabilities.__class__(follows_prompts=True, streams=True, batches=False)

    engine = OneByOne(fake_settings(tmp_path), outputs=["NOT_FOUND"])
    events = _events(engine, image, prompt_style="field_specific")
    assert "one by one" in next(e for e in events if isinstance(e, StatusEvent)).text
    assert set(engine.batch_sizes) == {1}


def test_pages_are_announced_and_stream_false_has_no_statuses(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD])
    pages = [s.text for s in _events(engine, [image, image]) if isinstance(s, StatusEvent)]
    assert pages == ["Reading page 1 of 2…", "Reading page 2 of 2…"]
    quiet = list(pipeline.extract_events(image, engine=FakeEngine(fake_settings(tmp_path), outputs=[REFUSAL, GOOD]),
                                         document_type="receipt", stream=False))
    assert len(quiet) == 1 and isinstance(quiet[0], pipeline.ResultEvent)


def test_extract_with_on_token_gets_tokens_only(tmp_path: Path, image) -> None:
    pieces: list[str] = []
    result = pipeline.extract(image, engine=FakeEngine(fake_settings(tmp_path), outputs=[REFUSAL, GOOD]),
                              document_type="receipt", on_token=pieces.append)
    assert "retrying" not in "".join(pieces) and result.fields["total"] == "110.00"


def test_compare_says_prompt_2_of_3_and_streams_each_prompt(tmp_path: Path, image) -> None:
    from llama_vision.ui.compare_run import compare_steps

    path = tmp_path / "receipt.png"
    image.save(path)
    library = load_prompt_library()
    engine = FakeEngine(fake_settings(tmp_path), responder=lambda p: "receipt" if p == library.classification.text
                        else GOOD)
    runs = [("key_value", "KEY-VALUE"), ("json", "JSON"), ("field_specific", "Field-specific")]
    steps = list(compare_steps(engine, str(path), runs))
    statuses = [s.status for s in steps]
    assert "Prompt 2 of 3: JSON…" in statuses and "Prompt 3 of 3: Field-specific…" in statuses
    starts = [s for s in steps if s.text == "" and s.result is None]
    assert [(s.step, s.steps) for s in starts] == [(1, 3), (2, 3), (3, 3)]  # said before its first token
    streamed = [s for s in steps if s.step == 1 and s.result is None and s.text]
    assert len(streamed) >= 1 and GOOD.split()[0] in streamed[0].text  # the first prompt's answer streams
    done = [s for s in steps if s.result is not None]
    assert [s.style for s in done] == ["key_value", "json", "field_specific"]
    assert steps[-1].status == "Compared 3 prompts."
    classify = [c for c in engine.calls if c[0] == library.classification.text]
    assert len(classify) == 1  # classified once, by the first prompt


def test_ask_streams_the_answer_on_a_prompt_following_engine(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=["You bought a hammer for $110.00."])
    events = list(ask_events(image, "  What was bought?  ", engine=engine))
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) > 3 and isinstance(events[-1], AnswerEvent)
    answer: Answer = events[-1].answer
    assert answer.text == "You bought a hammer for $110.00." and "".join(tokens).split() == answer.text.split()
    assert engine.calls == [("What was bought?", image.size)]  # the question as asked, with the page
    assert (answer.page, answer.pages, answer.engine) == (1, 1, "fake")


def test_ask_picks_the_page_and_refuses_a_missing_one(tmp_path: Path) -> None:
    pages = [Image.new("RGB", (100, 100), "white"), Image.new("RGB", (200, 150), "white")]
    engine = FakeEngine(fake_settings(tmp_path), outputs=["page two"])
    assert ask(pages, "Which page?", engine=engine, page=1).page == 2 and engine.calls[0][1] == (200, 150)
    with pytest.raises(LlamaVisionError, match="page 3 does not exist.*from 1 to 2"):
        ask(pages, "Which page?", engine=engine, page=2)
    with pytest.raises(LlamaVisionError, match="question is empty"):
        ask(pages, "   ", engine=engine)


def test_ask_on_the_ocr_engine_explains_it_cannot(tmp_path: Path, image) -> None:
    from llama_vision.engines import create_engine

    engine = create_engine(fake_settings(tmp_path, engine="ocr"))
    with pytest.raises(CannotAnswerError) as caught:
        ask(image, "What was bought?", engine=engine)
    assert "OCR engine" in str(caught.value) and "cannot answer free-form questions" in str(caught.value)
    assert "LLAMA_VISION_MODEL_PATH" in str(caught.value)
    assert not engine.is_loaded  # refused before anything was loaded


def test_the_chat_streams_and_says_why_on_ocr(tmp_path: Path, image) -> None:
    from llama_vision.ui.ask import answer_stream
    from llama_vision.ui.state import AppState

    path = tmp_path / "r.png"
    image.save(path)
    state = AppState(fake_settings(tmp_path), FakeEngine(fake_settings(tmp_path), outputs=["A hammer, $110.00."]))
    updates = list(answer_stream(state, str(path), 1, "What was bought?", []))
    chat, box = updates[-1]
    assert chat == [{"role": "user", "content": "What was bought?"},
                    {"role": "assistant", "content": "A hammer, $110.00."}] and box == ""
    assert updates[0][0][-1]["content"] == "…"  # the answer's place shows at once
    from llama_vision.engines import create_engine

    ocr = AppState(fake_settings(tmp_path), create_engine(fake_settings(tmp_path, engine="ocr")))
    chat, _ = list(answer_stream(ocr, str(path), 1, "What was bought?", chat))[-1]
    assert len(chat) == 4 and "cannot answer free-form questions" in chat[-1]["content"]

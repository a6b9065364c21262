"""The pipeline with a fake prompt-following engine: what reaches the engine, what comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from llama_vision.errors import EngineOutOfMemoryError
from llama_vision.pipeline import extract, extract_many
from llama_vision.prompts import load_prompt_library
from tests.fakes import FakeEngine, fake_settings

GOOD_ANSWER = """**DOCUMENT_TYPE:** tax invoice
- SUPPLIER_NAME: Harbour Hardware Pty Ltd
- SUPPLIER_ABN: 51 824 753 556
- DATE: 15 Mar 2024
- SUBTOTAL: $100.00
- GST: $10.00
- TOTAL: $110.00
- TAX_INVOICE_LABEL: yes
- ITEMS: Hammer | 1 | 100.00 | 100.00
"""


@pytest.fixture
def library():
    return load_prompt_library()


@pytest.fixture
def image() -> Image.Image:
    return Image.new("RGB", (640, 800), "white")


def classifying_responder(answer: str, document_type: str = "tax_invoice"):
    library = load_prompt_library()

    def respond(prompt: str) -> str:
        return document_type if prompt == library.classification.text else answer

    return respond


def test_key_value_answer_becomes_a_checked_result(tmp_path: Path, image, library) -> None:
    engine = FakeEngine(fake_settings(tmp_path), responder=classifying_responder(GOOD_ANSWER))
    result = extract(image, engine=engine, prompt_style="key_value", file_name="inv.png")

    assert result.status == "ok", result.error
    assert (result.engine, result.prompt, result.document_type) == ("fake", "key_value", "tax_invoice")
    assert result.fields["supplier_abn"] == "51824753556"
    assert result.fields["date"] == "15/03/2024"
    assert (result.fields["subtotal"], result.fields["gst"], result.fields["total"]) == ("100.00", "10.00", "110.00")
    assert result.compliance["abn_valid"] is True and result.compliance["gst_consistent"] is True
    assert result.compliance["tax_invoice_required"] is True
    # The classification prompt came first, then the tax-invoice variant of the KEY-VALUE prompt.
    assert engine.calls[0][0] == library.classification.text
    assert engine.calls[1][0] == library.prompt("key_value", "tax_invoice").text
    assert {"load", "classify", "generate", "compliance", "total"} <= set(result.timings)
    assert result.usage["generated_tokens"] > 0


def test_known_document_type_skips_classification(tmp_path: Path, image, library) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD_ANSWER])
    result = extract(image, engine=engine, document_type="receipt")
    assert len(engine.calls) == 1 and result.document_type == "receipt"
    assert engine.calls[0][0] == library.prompt("key_value", "receipt").text


def test_refusal_retries_once_with_the_fallback_prompt(tmp_path: Path, image, library) -> None:
    outputs = ["I'm not able to provide information about this image.", GOOD_ANSWER]
    engine = FakeEngine(fake_settings(tmp_path), outputs=outputs)
    result = extract(image, engine=engine, document_type="receipt")
    assert [call[0] for call in engine.calls][-1] == library.fallback_for("receipt").text
    assert result.fields["total"] == "110.00"
    assert any("refused" in w and "fallback" in w for w in result.warnings)


def test_nonsense_twice_gives_null_fields_and_a_warning_not_guesses(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=["zq ## 12 blorp kk", "qq zz ##"])
    result = extract(image, engine=engine, document_type="receipt")
    assert result.status == "ok"
    assert all(value in (None, [], False) for value in result.fields.values()), result.fields
    assert result.warnings and "fallback" in result.warnings[0]
    assert len(engine.calls) == 2


def test_truncated_answer_is_flagged(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path, max_new_tokens=3), outputs=["TOTAL: 12.30 GST: 1.12 more words"])
    result = extract(image, engine=engine, document_type="receipt")
    assert any("token cap" in w for w in result.warnings)


def test_field_specific_asks_one_question_per_field(tmp_path: Path, image, library) -> None:
    questions = library.field_questions("receipt")

    def respond(prompt: str) -> str:
        field = next(name for name, question in questions.items() if question == prompt)
        return {"total": "The total is $45.10.", "supplier_abn": "ABN 51 824 753 556"}.get(field, "NOT_FOUND")

    engine = FakeEngine(fake_settings(tmp_path), responder=respond)
    result = extract(image, engine=engine, prompt_style="field_specific", document_type="receipt")
    assert len(engine.calls) == len(questions)
    assert result.fields["total"] == "45.10" and result.fields["supplier_abn"] == "51824753556"
    assert result.fields["date"] is None


def test_bad_file_is_an_error_result_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken receipt.jpg"
    broken.write_bytes(b"<html>not an image</html>")
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD_ANSWER])
    result = extract(broken, engine=engine)
    assert result.status == "error" and "broken receipt.jpg" in result.error
    assert engine.calls == []


def test_engine_out_of_memory_fails_the_document_with_its_message(tmp_path: Path, image) -> None:
    oom = EngineOutOfMemoryError("The GPU ran out of memory.", hint="Try LLAMA_VISION_QUANTIZATION=4bit.")
    engine = FakeEngine(fake_settings(tmp_path), fail_with=oom)
    result = extract(image, engine=engine, document_type="receipt")
    assert result.status == "error" and "4bit" in result.error


def test_unknown_style_and_page_are_clear_errors(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD_ANSWER])
    assert "key_value" in extract(image, engine=engine, prompt_style="yaml").error
    assert "page 3" in extract([image, image], engine=engine, page=2).error


def test_pages_are_merged_first_value_wins_items_kept(tmp_path: Path, image) -> None:
    page_one = "SUPPLIER_NAME: Acme\nTOTAL: NOT_FOUND\nITEMS: Bolt | 1 | 2.00 | 2.00"
    page_two = "SUPPLIER_NAME: Other\nTOTAL: 4.00\nITEMS: Nut | 1 | 2.00 | 2.00"
    engine = FakeEngine(fake_settings(tmp_path), outputs=[page_one, page_two])
    result = extract([image, image], engine=engine, document_type="receipt")
    assert result.fields["supplier_name"] == "Acme" and result.fields["total"] == "4.00"
    assert [item["description"] for item in result.fields["items"]] == ["Bolt", "Nut"]
    assert result.pages == 2


def test_extract_many_batches_a_local_model_and_loses_nothing(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), responder=classifying_responder(GOOD_ANSWER, "receipt"))
    broken = tmp_path / "empty.png"
    broken.write_bytes(b"")
    sources = [image, image, broken, image, image]
    results = dict(extract_many(sources, engine=engine, batch_size=2))
    assert sorted(results) == [0, 1, 2, 3, 4]
    assert results[2].status == "error" and "empty.png" in results[2].error
    assert all(results[i].fields["total"] == "110.00" for i in (0, 1, 3, 4))
    assert max(engine.batch_sizes) == 2  # classify and extract went through generate_batch


def test_streaming_reaches_the_callback_and_matches_raw_output(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD_ANSWER])
    pieces: list[str] = []
    result = extract(image, engine=engine, document_type="receipt", on_token=pieces.append)
    assert len(pieces) > 5
    assert "".join(pieces).split() == result.raw_output.split()


def test_closing_extract_many_early_cancels_queued_documents(tmp_path: Path, image) -> None:
    engine = FakeEngine(fake_settings(tmp_path), outputs=[GOOD_ANSWER], delay=0.05)
    engine.capabilities = type(engine.capabilities)(follows_prompts=True, streams=True, batches=False)
    results = extract_many([image] * 40, engine=engine, concurrency=2, prompts=load_prompt_library())
    next(results)
    results.close()
    import time

    time.sleep(0.3)
    settled = len(engine.calls)
    time.sleep(0.3)
    assert settled == len(engine.calls) and settled < 20 * 2  # 40 documents x 2 generates were not all run

"""Issue J, item 4 and "Done means": the app's public API through gradio_client against the
real app (python app.py, OCR engine). Exactly the public endpoints are listed, every input and
output named, optional inputs optional; a page-2 extract works in a fresh session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_helpers import RunningApp, launch_app, three_documents

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

PUBLIC = {
    "/extract": (["file", "page", "prompt_style"], ["result"]),
    "/batch": (["files", "prompt_style", "folder"], ["batch"]),
    "/compare": (["file", "prompt_styles", "page", "ground_truth"], ["comparison"]),
    "/ask": (["file", "question", "page"], ["answer"]),
    "/hardware": ([], ["hardware"]),
    "/extract_document": (["document", "page", "prompt_style"], ["result_json"]),
    "/check_compliance": (["fields", "document_type"], ["checked_json"]),
}
REQUIRED = {"/extract": {"file"}, "/compare": {"file"}, "/ask": {"file", "question"},
            "/extract_document": {"document"}, "/check_compliance": {"fields"}}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("public-api")


@pytest.fixture(scope="module")
def documents(workdir) -> list[Path]:
    return three_documents(workdir, seed=11)


@pytest.fixture(scope="module")
def app(workdir) -> RunningApp:
    return launch_app("ocr", workdir)


@pytest.fixture(scope="module")
def two_page_pdf(workdir, documents) -> Path:
    from PIL import Image

    pdf = workdir / "two pages.pdf"
    pages = [Image.open(p).convert("RGB") for p in documents[:2]]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=150)
    return pdf


def fresh(app: RunningApp, workdir: Path) -> Client:
    """A new Client: a new session that has called nothing before."""
    return Client(app.url, verbose=False, download_files=str(workdir / "downloads"))


def test_the_api_lists_exactly_the_public_endpoints_named(app, workdir):
    info = fresh(app, workdir).view_api(print_info=False, return_format="dict")
    endpoints = info["named_endpoints"]
    assert set(endpoints) == set(PUBLIC), set(endpoints) ^ set(PUBLIC)
    assert not info["unnamed_endpoints"]
    for name, (inputs, outputs) in PUBLIC.items():
        parameters = endpoints[name]["parameters"]
        assert [p["parameter_name"] for p in parameters] == inputs, name
        assert [p["label"] for p in parameters] == inputs, name  # not "1st", "2nd"
        assert {p["parameter_name"] for p in parameters if not p["parameter_has_default"]} == REQUIRED.get(name, set())
        assert [r["label"] for r in endpoints[name]["returns"]] == outputs, name
        assert endpoints[name]["description"], f"{name} has no description"
    page = next(p for p in endpoints["/extract"]["parameters"] if p["parameter_name"] == "page")
    assert page["parameter_default"] is None and "counting from 1" in page["python_type"]["description"]


def test_page_2_of_a_pdf_in_a_fresh_session(app, workdir, documents, two_page_pdf):
    client = fresh(app, workdir)  # no /inspect_document (or anything) first
    result = client.predict(handle_file(str(two_page_pdf)), page=2, api_name="/extract")
    assert result["status"] == "ok" and result["pages"] == 1 and result["file"] == two_page_pdf.name
    first = fresh(app, workdir).predict(handle_file(str(two_page_pdf)), 1, "key_value", api_name="/extract")
    whole = fresh(app, workdir).predict(handle_file(str(two_page_pdf)), api_name="/extract")  # optional omitted
    assert whole["pages"] == 2 and whole["prompt"] == "rules"
    assert first["pages"] == 1 and result["raw_output"] != first["raw_output"]  # another page was read
    # page 2 is the second document: it reads that one's total, not the first's
    import json

    totals = [json.loads(d.with_suffix(".json").read_text())["fields"]["total"] for d in documents[:2]]
    if totals[0] != totals[1] and result["fields"]["total"] in totals:
        assert result["fields"]["total"] == totals[1] and first["fields"]["total"] != result["fields"]["total"]


def test_a_page_out_of_range_is_a_clear_error(app, workdir, two_page_pdf):
    client = fresh(app, workdir)
    with pytest.raises(Exception, match=r"page 3 does not exist\. Pick a page from 1 to 2"):
        client.predict(handle_file(str(two_page_pdf)), page=3, api_name="/extract")
    with pytest.raises(Exception, match="page must be a whole number from 1"):
        client.predict(handle_file(str(two_page_pdf)), page=0, api_name="/extract")
    with pytest.raises(Exception, match="prompt_style must be one of"):
        client.predict(handle_file(str(two_page_pdf)), prompt_style="poem", api_name="/extract")


def test_batch_returns_results_and_a_summary(app, workdir, documents):
    broken = workdir / "empty.png"
    broken.write_bytes(b"")
    answer = fresh(app, workdir).predict([handle_file(str(p)) for p in [*documents, broken]], api_name="/batch")
    assert answer["done"] == answer["total"] == 4
    files = sorted(r["file"] for r in answer["results"])
    assert files == sorted([p.name for p in documents] + ["empty.png"])
    failed = [r for r in answer["results"] if r["status"] == "error"]
    assert [r["file"] for r in failed] == ["empty.png"] and failed[0]["error"]
    assert answer["summary"]["documents"] == 4 and answer["summary"]["errors"] == 1
    assert all("/" not in r["file"] for r in answer["results"])  # names, never server folders


def test_batch_streams_progress(app, workdir, documents):
    job = fresh(app, workdir).submit([handle_file(str(p)) for p in documents], api_name="/batch")
    final = job.result(timeout=300)
    updates = job.outputs()
    assert updates[0] == {"done": 0, "total": 3} and "results" not in updates[0]
    assert final["done"] == 3 and len(final["results"]) == 3


def test_compare_on_ocr_is_one_rules_run_scored(app, workdir, documents):
    document = documents[0]
    job = fresh(app, workdir).submit(handle_file(str(document)), ground_truth=handle_file(
        str(document.with_suffix(".json"))), api_name="/compare")
    answer = job.result(timeout=300)
    assert list(answer["results"]) == ["rules"] and answer["results"]["rules"]["file"] == document.name
    assert answer["comparison"]["accuracy"]["rules"] is not None
    assert any(u.get("status") == "Prompt 1 of 1: OCR (rules)…" for u in job.outputs())


def test_ask_on_ocr_says_it_cannot(app, workdir, documents):
    with pytest.raises(Exception, match="cannot answer free-form questions"):
        fresh(app, workdir).predict(handle_file(str(documents[0])), "What was bought?", api_name="/ask")


def test_hardware_is_the_dashboard_snapshot(app, workdir):
    snapshot = fresh(app, workdir).predict(api_name="/hardware")
    assert {"devices", "engine", "estimator"} <= set(snapshot)
    assert snapshot["engine"]["engine"] == "ocr"


def test_page_events_are_not_callable_by_name(app, workdir):
    client = fresh(app, workdir)
    for name in ("/single_extract", "/header", "/header_refresh", "/hardware_snapshot", "/load_model",
                 "/unload_model", "/batch_run", "/batch_filter", "/inspect_document"):
        with pytest.raises(ValueError, match="Cannot find a function"):
            client.predict(api_name=name)


# -- a prompt-following engine (tests/fakes.py) behind the real app: what streams ---------------------
FAKE_DRIVER = r"""
from llama_vision.config import load_settings
from llama_vision.prompts import load_prompt_library
from llama_vision.ui import build_app, launch_options
from tests.fakes import FakeEngine

library = load_prompt_library()
key_value = {library.prompt("key_value", kind).text for kind in ("receipt", "other")}
questions = library.field_questions("receipt")

def respond(prompt):
    if prompt == library.classification.text:
        return "receipt"
    if prompt in key_value:  # the KEY-VALUE prompt is refused; the fallback prompt is answered
        return "I'm not able to provide information about this image."
    if prompt == questions.get("total"):
        return "The total is $45.10."
    if prompt in questions.values():
        return "NOT_FOUND"
    if prompt == "What was bought?":
        return "A claw hammer and a box of nails, for forty five dollars and ten cents."
    return "- SUPPLIER_NAME: Harbour Hardware\n- TOTAL: $45.10\n- GST: $4.10\n- DATE: 15 Mar 2024"

settings = load_settings()
demo = build_app(settings, engine=FakeEngine(settings, responder=respond, delay=0.05))
demo.launch(**launch_options(settings))
"""


@pytest.fixture(scope="module")
def fake_app(workdir) -> RunningApp:
    return launch_app("public-api-fake", workdir / "fake", script=FAKE_DRIVER)


def test_ask_streams_its_answer(fake_app, workdir, documents):
    job = fresh(fake_app, workdir).submit(handle_file(str(documents[0])), "What was bought?", api_name="/ask")
    answer = job.result(timeout=120)
    assert answer == "A claw hammer and a box of nails, for forty five dollars and ten cents."
    partial = [text for text in job.outputs() if text != answer]
    assert partial and all(answer.startswith(text.strip()) for text in partial), job.outputs()


def test_compare_streams_prompt_2_of_3(fake_app, workdir, documents):
    job = fresh(fake_app, workdir).submit(handle_file(str(documents[0])), api_name="/compare")
    answer = job.result(timeout=180)
    statuses = [update["status"] for update in job.outputs()]
    assert "Prompt 2 of 3: JSON…" in statuses and "Prompt 3 of 3: Field-specific…" in statuses, statuses
    assert list(answer["results"]) == ["key_value", "json", "field_specific"]
    assert answer["results"]["field_specific"]["fields"]["total"] == "45.10"


def test_the_page_streams_the_retry_and_each_field(fake_app, workdir, documents):
    from tests.ui_helpers import page_event

    client = fresh(fake_app, workdir)
    event = page_event(client, "single_extract")
    job = client.submit(handle_file(str(documents[0])), 1, "key_value", fn_index=event)
    job.result(timeout=120)
    shown = "\n".join(update[0] for update in job.outputs() if update and isinstance(update[0], str))
    assert "retrying with the fallback prompt…" in shown and "refused" in shown, shown
    job = client.submit(handle_file(str(documents[0])), 1, "field_specific", fn_index=event)
    *_, result, _download = job.result(timeout=120)
    shown = [update[0] for update in job.outputs() if update and isinstance(update[0], str)]
    assert any("field questions" in text for text in shown), shown
    assert any("Total: 45.10 (" in text for text in shown), shown
    assert result["fields"]["total"] == "45.10"

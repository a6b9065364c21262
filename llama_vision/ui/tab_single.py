"""Tab 1 — Single extraction: one document in; the verdict, key fields and the page with a box
for every field on the first screen; checks, line items, raw output and JSON below."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from llama_vision.ui import ask, corrections, evidence_view, queue_words, views
from llama_vision.ui.common import (
    FILE_TYPES,
    page_index,
    path_of,
    public_message,
    run_streaming,
    sample_by_label,
    sample_choices,
    write_result_json,
)
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors

if TYPE_CHECKING:
    from PIL import Image

    from llama_vision.ui.state import AppState

STYLE_CHOICES = [("KEY-VALUE", "key_value"), ("JSON", "json"), ("Field-specific questions", "field_specific")]
PREVIEW_MAX_SIDE = 1200  # px: sharp in a half-width panel on a HiDPI screen, a fraction of a phone photo
IMAGE_HEIGHT = 540
FIELDS_MAX_HEIGHT = 2000  # every field row shows (a fuel receipt has 14): no scroll inside the table
EVIDENCE_LABEL = "Where each field was read"
FIELDS_LABEL = "Fields (click a row to see where it was read)"
FIELD_COLUMN_WIDTHS = ["24%", "29%", "29%", "18%"]  # Field, Value, Confidence, From: all fit a half-width column

# Run in the browser before the Python handler (each returns its inputs unchanged).
# A run starts: the previous run's toasts close (Gradio keeps them until their timer ends).
CLEAR_TOASTS_JS = "document.querySelectorAll('[data-testid=\"toast-close\"]').forEach((b) => b.click());"
NEW_RUN_JS = "(...args) => { " + CLEAR_TOASTS_JS + " return args; }"
# A run ended: the verdict comes into view where it is off screen (on a phone, below the live text).
SHOW_VERDICT_JS = ("(...args) => { const v = document.getElementById('single-compliance'); const r = v && "
                   "v.getBoundingClientRect(); if (r && (r.top < 0 || r.bottom > window.innerHeight)) "
                   "v.scrollIntoView({block: 'start', behavior: 'smooth'}); return args; }")


def _inputs(state: AppState) -> dict[str, Any]:
    """Left column: the document, the samples, the page and prompt pickers, Extract, the raw text."""
    prompts_apply = state.follows_prompts
    document = gr.File(label="Document (image or PDF)", file_types=FILE_TYPES, elem_id="single-file", height=150)
    samples = gr.Radio(sample_choices(), label="…or click a bundled sample", elem_id="single-samples")
    with gr.Row(elem_classes="lv-pickers"):
        page = gr.Dropdown(choices=[1], value=1, label="Page", visible=False, elem_id="single-page", min_width=90)
        # the OCR engine reads with rules (the header says so): no prompt picker to take up the screen
        style = gr.Dropdown(STYLE_CHOICES, value="key_value", label="Prompt style", visible=prompts_apply,
                            elem_id="single-style", min_width=180)
    extract_button = gr.Button("Extract", variant="primary", size="lg", elem_id="single-extract")
    raw_label = "Model output (live)" if prompts_apply else "Recognised text"
    raw = gr.Textbox(label=raw_label, lines=6, max_lines=14, elem_classes="lv-raw", elem_id="single-raw",
                     buttons=["copy"])
    return dict(document=document, samples=samples, page=page, style=style, extract_button=extract_button, raw=raw)


def _layout(state: AppState) -> dict[str, Any]:
    """The tab's components by name (other sections of the tab add theirs with `build(state, ui)`)."""
    threshold = state.settings.review_threshold
    with gr.Row(equal_height=False, elem_id="single-top"):
        with gr.Column(scale=4, min_width=300, elem_id="single-inputs"):
            ui = _inputs(state)
        with gr.Column(scale=9, min_width=300):
            compliance = gr.HTML(evidence_view.verdict_card_html(None, threshold), elem_id="single-compliance",
                                 label="ATO compliance")
            with gr.Row(equal_height=False):
                with gr.Column(scale=5, min_width=280):
                    # one place for the page: the preview until a Result is in, then its evidence
                    preview = gr.Image(label="Preview", type="pil", interactive=False, height=IMAGE_HEIGHT,
                                       elem_id="single-preview", alt_text="Preview of the chosen page of the document")
                    evidence = gr.AnnotatedImage(label=EVIDENCE_LABEL, height=IMAGE_HEIGHT, visible=False,
                                                 elem_id="single-evidence", format="jpeg")
                with gr.Column(scale=6, min_width=280):
                    fields = gr.Dataframe(headers=evidence_view.EVIDENCE_COLUMNS, label=FIELDS_LABEL,
                                          interactive=False, elem_classes="lv-table", wrap=True,
                                          elem_id="single-fields", max_height=FIELDS_MAX_HEIGHT,
                                          column_widths=FIELD_COLUMN_WIDTHS)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            summary = gr.Markdown(elem_id="single-summary")
            checks = gr.HTML(elem_id="single-checks", label="Compliance checks")
        with gr.Column(scale=1, min_width=300):
            items = gr.Dataframe(headers=["Description", "Quantity", "Unit price", "Amount"], label="Line items",
                                 interactive=False, elem_classes="lv-table", wrap=True, elem_id="single-items")
            result_download = gr.DownloadButton("Download Result JSON", value=None, elem_id="single-download")
    with gr.Accordion("Result JSON", open=False):
        result_json = gr.JSON(label="Result", elem_id="single-json")
    view = gr.State(None)  # the shown page (downscaled), its Result and the selected field
    return dict(ui, preview=preview, summary=summary, download=result_download, fields=fields, items=items,
                compliance=compliance, result_json=result_json, evidence=evidence, checks=checks, view=view)


def _shown_page(state: AppState, file_value: Any, page_number: Any) -> Image.Image | None:
    """The page the user picked (the first when none), as loaded for extraction."""
    path = path_of(file_value)
    if not path:
        return None
    from llama_vision.documents import load_pages

    pages = load_pages(Path(path), settings=state.settings)
    return pages[min(page_index(page_number) or 0, len(pages) - 1)]


def _small(image: Image.Image | None) -> Image.Image | None:
    from llama_vision.documents import prepare_for_ocr

    return None if image is None else prepare_for_ocr(image, PREVIEW_MAX_SIDE)


def evidence_update(view: dict[str, Any] | None, label: str = EVIDENCE_LABEL) -> Any:
    """The AnnotatedImage for `view`: every box, or only the selected field's (the batch row
    detail shows its page through this too, with its own `label`)."""
    if not view or view.get("image") is None:
        return gr.update(value=None, visible=False)
    value, label = evidence_view.view_annotations(view, label)
    return gr.update(value=value, label=label, visible=True)


def show_evidence(state: AppState, file_value: Any, page_number: Any, data: dict[str, Any] | None) -> tuple:
    """After a run: the page with the Result's boxes in place of the preview, and the checks.

    The tab reads one page (or, through the API, every page and shows the first): either way the
    shown page is number 0 of the pages read, the numbering evidence uses."""
    checks = views.checks_html(data or {})
    image = _shown_page(state, file_value, page_number) if data and data.get("status") == "ok" else None
    if image is None:  # nothing read: the preview stays
        return gr.update(value=None, visible=False), gr.update(visible=True), checks, None
    view = evidence_view.new_view(data, image, max_side=PREVIEW_MAX_SIDE)
    return evidence_update(view), gr.update(visible=False), checks, view


def select_field(view: dict[str, Any] | None, event: gr.SelectData, label: str = EVIDENCE_LABEL) -> tuple:
    """A click on a field row shows only that field's box; a second click on it, every box."""
    if not view:
        return gr.skip(), view
    view = evidence_view.toggle_field(view, event.index)
    return evidence_update(view, label), view


def load_sample(label: str | None) -> Any:
    sample = sample_by_label(label)
    return str(sample.path) if sample else gr.skip()  # unticked (an upload of one's own): keep that file


def preview_of(state: AppState, file_value: Any) -> tuple[Any, Any]:
    """Preview the first page and offer a page picker when the PDF has several pages."""
    path = path_of(file_value)
    if not path:
        return None, gr.update(choices=[1], value=1, visible=False)
    from llama_vision.documents import load_pages
    from llama_vision.errors import DocumentError

    try:
        pages = load_pages(Path(path), settings=state.settings)
    except DocumentError as error:
        gr.Warning(public_message(str(error)))  # the file name, never the upload folder
        return None, gr.update(choices=[1], value=1, visible=False)
    choices = list(range(1, len(pages) + 1))
    return _small(pages[0]), gr.update(choices=choices, value=1, visible=len(pages) > 1)


def fresh_document() -> tuple:
    """A new document or page: the preview comes back and the last run's results go."""
    no_fields = evidence_view.evidence_frame({}).iloc[0:0]
    no_items = views.items_frame({})
    return (gr.update(visible=True), gr.update(value=None, visible=False), evidence_view.verdict_card_html(None, 0),
            "", no_fields, no_items, "", "", None, None, None)


def build(state: AppState) -> None:
    ui = _layout(state)
    corrections.build(state, ui)  # the "correct and save as ground truth" accordion, under the Result
    ask.build(state, ui["document"], ui["page"])  # "Ask about this document", under the results
    queue_words.announce(ui["extract_button"], ui["raw"], wrap="[{}]")  # "2 requests are ahead of you, about 40 s"
    document, samples, page, preview, style = ui["document"], ui["samples"], ui["page"], ui["preview"], ui["style"]
    extract_button, raw, summary, download = ui["extract_button"], ui["raw"], ui["summary"], ui["download"]
    fields, items, compliance, result_json = ui["fields"], ui["items"], ui["compliance"], ui["result_json"]
    evidence, checks, view = ui["evidence"], ui["checks"], ui["view"]
    threshold = state.settings.review_threshold

    @reports_errors
    def inspect_document(file_value: Any) -> tuple[Any, Any]:
        return preview_of(state, file_value)

    @reports_errors
    def show_page(file_value: Any, page_number: Any) -> Any:
        return _small(_shown_page(state, file_value, page_number))

    @reports_errors
    def extract(file_value: Any, page_number: Any, prompt_style: str | None):
        """Stream the model's text, then show the verdict, fields, items and the Result."""
        path = path_of(file_value)
        if not path:
            raise gr.Error("Upload a document or click a bundled sample first.", title="No document")
        engine = state.engine  # one engine for the whole run, even if the dashboard swaps it
        pending = (gr.skip(),) * 6
        for text, result in run_streaming(
            engine, path, prompt_style=prompt_style or "key_value", page=page_index(page_number),
            file_name=Path(path).name,
        ):
            if result is None:
                yield (text, *pending)
                continue
            data = result.to_dict()
            failed = result.status == "error"
            yield (
                text,
                "" if failed else views.summary_markdown(data),  # a failure is told once, in the verdict
                evidence_view.verdict_card_html(data, threshold),
                evidence_view.evidence_table(data, threshold),
                views.items_frame(data),
                data,
                write_result_json(result),
            )
            if failed:  # API callers get the error; the page already shows it in the verdict card
                raise gr.Error(result.error or "The document could not be read.", title="Could not read the document",
                               visible=False)

    @reports_errors
    def evidence_after_run(file_value: Any, page_number: Any, data: dict[str, Any] | None) -> tuple:
        return show_evidence(state, file_value, page_number, data)

    private = {"api_visibility": "private", "show_progress": "hidden"}
    samples.input(load_sample, samples, document, api_name="load_sample", show_progress="hidden", js=NEW_RUN_JS)
    # the sample radio says which document is in: an upload of one's own (or clearing it) unticks it
    document.upload(lambda: None, None, samples, api_name="untick_sample", **private)
    document.clear(lambda: None, None, samples, api_name="untick_sample_on_clear", **private)
    stale = [preview, evidence, compliance, checks, fields, items, summary, raw, result_json, download, view]
    document.change(inspect_document, document, [preview, page], api_name="inspect_document").then(
        fresh_document, None, stale, api_name="fresh_document", **private)
    page.input(show_page, [document, page], preview, api_name="show_page", api_visibility="private").then(
        fresh_document, None, stale, api_name="fresh_page", **private)
    extract_button.click(
        extract,
        [document, page, style],
        [raw, summary, compliance, fields, items, result_json, download],
        api_name="single_extract", api_visibility="private",  # the page's event; the public /extract is ui.api's
        concurrency_id=MODEL_QUEUE,
        concurrency_limit=state.model_concurrency(),
        js=NEW_RUN_JS,
    ).then(evidence_after_run, [document, page, result_json], [evidence, preview, checks, view],
           api_name="show_evidence", js=SHOW_VERDICT_JS, **private)
    fields.select(select_field, view, [evidence, view], api_name="select_field", **private)

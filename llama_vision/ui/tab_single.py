"""Tab 1 — Single extraction: one document in, live model output, fields, compliance, JSON out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from llama_vision.ui import corrections, views
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
    from llama_vision.ui.state import AppState

STYLE_CHOICES = [("KEY-VALUE", "key_value"), ("JSON", "json"), ("Field-specific questions", "field_specific")]


def _layout(state: AppState) -> dict[str, Any]:
    """The tab's components: upload, samples, page, preview, style and Extract on the left; the
    live answer, summary and download on the right; fields, items and compliance below."""
    prompts_apply = state.follows_prompts
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            document = gr.File(label="Document (image or PDF)", file_types=FILE_TYPES, elem_id="single-file")
            samples = gr.Radio(sample_choices(), label="…or click a bundled sample", elem_id="single-samples")
            page = gr.Dropdown(choices=[1], value=1, label="Page", visible=False, elem_id="single-page")
            preview = gr.Image(label="Preview", type="pil", interactive=False, height=360, elem_id="single-preview",
                               alt_text="Preview of the chosen page of the document")
            style = gr.Radio(
                STYLE_CHOICES, value="key_value", label="Prompt style", interactive=prompts_apply,
                info=None if prompts_apply else "The OCR engine reads with rules; prompts do not apply.",
            )
            extract_button = gr.Button("Extract", variant="primary", size="lg", elem_id="single-extract")
        with gr.Column(scale=3, min_width=420):
            raw = gr.Textbox(label="Model output (live)", lines=10, max_lines=18, elem_classes="lv-raw",
                             elem_id="single-raw", buttons=["copy"])
            summary = gr.Markdown(elem_id="single-summary")
            with gr.Row():
                result_download = gr.DownloadButton("Download Result JSON", value=None, elem_id="single-download")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=380):
            fields = gr.Dataframe(headers=["Field", "Value"], label="Fields", interactive=False, elem_classes="lv-table", wrap=True,
                                  elem_id="single-fields")
            items = gr.Dataframe(headers=["Description", "Quantity", "Unit price", "Amount"], label="Line items",
                                 interactive=False, elem_classes="lv-table", wrap=True, elem_id="single-items")
        with gr.Column(scale=1, min_width=380):
            compliance = gr.HTML(elem_id="single-compliance", label="ATO compliance")
    with gr.Accordion("Result JSON", open=False):
        result_json = gr.JSON(label="Result", elem_id="single-json")
    return dict(document=document, samples=samples, page=page, preview=preview, style=style,
                extract_button=extract_button, raw=raw, summary=summary, download=result_download,
                fields=fields, items=items, compliance=compliance, result_json=result_json)


def build(state: AppState) -> None:
    ui = _layout(state)
    corrections.build(state, ui)  # the "correct and save as ground truth" accordion, under the Result
    document, samples, page, preview, style = ui["document"], ui["samples"], ui["page"], ui["preview"], ui["style"]
    extract_button, raw, summary, download = ui["extract_button"], ui["raw"], ui["summary"], ui["download"]
    fields, items, compliance, result_json = ui["fields"], ui["items"], ui["compliance"], ui["result_json"]

    def load_sample(label: str | None) -> Any:
        sample = sample_by_label(label)
        return str(sample.path) if sample else None

    @reports_errors
    def inspect_document(file_value: Any) -> tuple[Any, Any]:
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
        return pages[0], gr.update(choices=choices, value=1, visible=len(pages) > 1)

    @reports_errors
    def show_page(file_value: Any, page_number: Any) -> Any:
        path = path_of(file_value)
        if not path:
            return None
        from llama_vision.documents import load_pages

        pages = load_pages(Path(path), settings=state.settings)
        index = page_index(page_number) or 0
        return pages[min(index, len(pages) - 1)]

    @reports_errors
    def extract(file_value: Any, page_number: Any, prompt_style: str | None):
        """Stream the model's text, then show type, fields, items, compliance and the Result."""
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
            yield (
                text,
                views.summary_markdown(data),
                views.compliance_html(data),
                views.fields_frame(data),
                views.items_frame(data),
                data,
                write_result_json(result),
            )
            if result.status == "error":  # the panel shows it too; the toast carries the CLI's fix-it line
                raise gr.Error(result.error or "The document could not be read.", title="Could not read the document")

    samples.change(load_sample, samples, document, api_name="load_sample", show_progress="hidden")
    document.change(inspect_document, document, [preview, page], api_name="inspect_document")
    page.input(show_page, [document, page], preview, api_name="show_page", api_visibility="private")
    extract_button.click(
        extract,
        [document, page, style],
        [raw, summary, compliance, fields, items, result_json, download],
        api_name="extract",
        concurrency_id=MODEL_QUEUE,
        concurrency_limit=state.model_concurrency(),
    )

"""The app's public API, for `gradio_client` and any HTTP client: /extract, /batch, /compare, /ask
(and /hardware from the dashboard, /extract_document and /check_compliance from `mcp_tools`).

Each endpoint is a typed function (`gr.api`): every input is named, optional inputs have
defaults, the docstring is the description, and the answer is JSON (the Result, as
ARCHITECTURE.md section 2 describes it), not the page's HTML. Pages count from 1 and need no
earlier call: `/extract` with page=2 works in a fresh session. `publish(demo)` then hides every
other event (the page's own clicks, timers and loads) from the API and names each output.
Thin like the tabs: the work is `llama_vision.pipeline`, `batch` and `ask`.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.data_classes import FileData

from llama_vision.errors import LlamaVisionError
from llama_vision.schema import PROMPT_STYLES
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors, user_error

if TYPE_CHECKING:
    from llama_vision.result import Result
    from llama_vision.ui.state import AppState

#: api_name -> the names of its outputs; every other event of the app is private.
PUBLIC_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "extract": ("result",),
    "batch": ("batch",),
    "compare": ("comparison",),
    "ask": ("answer",),
    "hardware": ("hardware",),
    "extract_document": ("result_json",),
    "check_compliance": ("checked_json",),
}


def document_path(document: Any) -> tuple[str, str]:
    """A FileData (or its dict) from Gradio -> (the uploaded file's path here, the user's file name)."""
    if isinstance(document, dict):
        path, name = document.get("path"), document.get("orig_name")
    else:
        path, name = getattr(document, "path", None), getattr(document, "orig_name", None)
    if not path:
        raise gr.Error("Pass the document as a file (gradio_client's handle_file, an http(s) URL or a data: URL).",
                       title="No document")
    return str(path), str(name or Path(str(path)).name)


def page_index(page: int | None) -> int | None:
    """The API's 1-based page (None: every page) -> the pipeline's 0-based one."""
    if page is None:
        return None
    if isinstance(page, bool) or not isinstance(page, (int, float)) or int(page) != page or page < 1:
        raise gr.Error(f"page must be a whole number from 1, not {page!r}; leave it out to read every page.",
                       title="No such page")
    return int(page) - 1


def check_style(prompt_style: str) -> str:
    if prompt_style not in PROMPT_STYLES:
        raise gr.Error(f"prompt_style must be one of {', '.join(PROMPT_STYLES)}, not {prompt_style!r}.",
                       title="Unknown prompt style")
    return prompt_style


def read_document(state: AppState, document: Any, page: int | None, prompt_style: str) -> Result:
    """One document through the pipeline for an API caller; a failed document is a Result with
    status "error" (the pipeline never raises for one)."""
    from llama_vision import pipeline

    check_style(prompt_style)
    path, name = document_path(document)
    try:
        return pipeline.extract(path, engine=state.engine, prompt_style=prompt_style, page=page_index(page),
                                file_name=name)
    except LlamaVisionError as error:
        raise user_error(error) from error


def _extract(state: AppState):
    @reports_errors
    def extract(file: FileData, page: int | None = None, prompt_style: str = "key_value") -> dict[str, Any]:
        """Read one receipt, tax invoice, fuel receipt or bank statement (an image or a PDF) and check it against the ATO's tax-invoice rules.

        Args:
            file: The document: an image (PNG, JPEG, WebP, TIFF, BMP, GIF) or a PDF.
            page: The page of a PDF to read, counting from 1; leave it out to read every page and merge them.
            prompt_style: How a language model is asked: "key_value", "json" or "field_specific" (the OCR engine reads with rules and ignores it).

        Returns:
            The Result: file, engine, prompt, status, document_type, fields (null where the document does not show one), compliance (verdict, score, missing_elements, recommendations), evidence, review, warnings, timings and usage. A document that cannot be read raises an error whose message says how to fix it.
        """
        result = read_document(state, file, page, prompt_style)
        if result.status == "error":
            raise gr.Error(result.error or "The document could not be read.", title="Could not read the document")
        return result.to_dict()

    return extract


def _batch(state: AppState):
    @reports_errors
    def batch(files: list[FileData] | None = None, prompt_style: str = "key_value",
              folder: str | None = None) -> Iterator[dict[str, Any]]:
        """Read many documents (images, PDFs or ZIPs of them) and check each against the ATO's rules; streams progress.

        Args:
            files: The documents, or ZIP archives of documents.
            prompt_style: How a language model is asked: "key_value", "json" or "field_specific".
            folder: Instead of files, a folder inside the server's batch folder (LLAMA_VISION_BATCH_DIR), relative to it.

        Returns:
            While it runs: {"done", "total"}. At the end also "results" (one Result per document, in the order they finished; a document that failed has status "error") and "summary" (counts per verdict, GST claimable, time per document).
        """
        from llama_vision.ui.batch_run import BatchRun
        from llama_vision.ui.common import output_dir
        from llama_vision.ui.tab_batch import collect_sources

        check_style(prompt_style)
        work, run = output_dir(), None
        try:
            inputs = collect_sources(state, files, folder, work)
            # an API caller has no Stop button: cancelling the job (or leaving) stops the run
            run = BatchRun(inputs, engine=state.engine, work=work, session_stop=threading.Event(),
                           prompt_style=prompt_style).start()
            results: list[dict[str, Any]] = []
            yield {"done": 0, "total": len(inputs)}
            for bunch in run.updates():
                results.extend(result.to_dict() for _done, _total, result in bunch)
                yield {"done": bunch[-1][0], "total": bunch[-1][1]}
            report = run.summary()
            yield {"done": report.processed + report.skipped, "total": report.total, "results": results,
                   "summary": report.summary, "stopped": report.stopped, "notes": list(getattr(inputs, "notes", []))}
        finally:  # the answer carries everything: no Resume for an API run, so nothing is kept
            while run is not None and run.running:  # a cancelled run ends after its current document
                time.sleep(0.1)
            shutil.rmtree(work, ignore_errors=True)

    return batch


def _compare(state: AppState):
    @reports_errors
    def compare(file: FileData, prompt_styles: list[str] | None = None, page: int | None = None,
                ground_truth: FileData | None = None) -> Iterator[dict[str, Any]]:
        """Read one document with several prompt styles, classified once, and compare what each read; streams "prompt 2 of 3".

        Args:
            file: The document: an image or a PDF.
            prompt_styles: The styles to compare, from "key_value", "json" and "field_specific"; leave it out for all three (the OCR engine runs once, as "rules").
            page: The page of a PDF to read, counting from 1; leave it out for every page.
            ground_truth: Optional: the document's ground truth JSON ({"fields": {...}}), to score each prompt.

        Returns:
            While it runs: {"status": "Prompt 2 of 3: JSON…", "done", "total"}. At the end also "results" (prompt name -> its Result) and "comparison" (per field: each prompt's value and confidence (null when not measured), whether they disagree, right or wrong against the ground truth; per prompt: accuracy and review verdict).
        """
        from llama_vision.ui.compare_run import compare_steps
        from llama_vision.ui.scoring import load_truth
        from llama_vision.ui.tab_compare import comparison, prompt_runs

        styles = [check_style(style) for style in (prompt_styles or list(PROMPT_STYLES))]
        path, name = document_path(file)
        truth = load_truth(document_path(ground_truth)[0]) if ground_truth else None
        engine = state.engine
        results: dict[str, dict[str, Any]] = {}
        runs = prompt_runs(engine, styles)
        for step in compare_steps(engine, path, runs, page=page_index(page)):
            if step.result is not None:
                step.result["file"] = name
                results[step.result.get("prompt") or step.style] = step.result
            if step.text == "" or step.result is not None:  # a prompt starts or ends; tokens stay on the page
                yield {"status": step.status, "done": len(results), "total": step.steps}
        yield {"status": f"Compared {len(results)} prompt{'s' if len(results) != 1 else ''}.", "done": len(results),
               "total": len(runs), "results": results, "comparison": comparison(results, truth, state.settings.review_threshold)[1]}

    return compare


def _ask(state: AppState):
    @reports_errors
    def ask(file: FileData, question: str, page: int | None = None) -> Iterator[str]:
        """Ask a language model any question about a document's page; the answer streams as it is generated (the OCR engine cannot answer free-form questions and says so).

        Args:
            file: The document: an image or a PDF.
            question: The question, for example "What was bought, and for how much?".
            page: The page of a PDF to show the model, counting from 1 (default: the first).

        Returns:
            The answer so far, growing as the model generates it; the last value is the whole answer.
        """
        from llama_vision.ask import AnswerEvent, ask_events

        path, name = document_path(file)
        text = ""
        for event in ask_events(path, question, engine=state.engine, page=page_index(page), file_name=name):
            text = event.answer.text if isinstance(event, AnswerEvent) else text + event.text
            yield text

    return ask


def register(state: AppState) -> None:
    """Add /extract, /batch, /compare and /ask to the Blocks being built (call inside `gr.Blocks`)."""
    model = {"concurrency_id": MODEL_QUEUE, "concurrency_limit": state.model_concurrency()}
    gr.api(_extract(state), api_name="extract", **model)
    gr.api(_batch(state), api_name="batch", **model)
    gr.api(_compare(state), api_name="compare", **model)
    gr.api(_ask(state), api_name="ask", **model)


def publish(demo: gr.Blocks) -> list[str]:
    """Make PUBLIC_ENDPOINTS the whole public API: every other event becomes private (the page
    still calls it; API clients, the docs page and MCP do not see it), and each public input and
    output gets its name and its docstring's description (gr.api would label them "1st", "2nd").
    Returns the public api_names."""
    import inspect

    from gradio.components.api_component import Api
    from gradio.utils import get_function_description

    public = []
    for fn in demo.fns.values():
        names = PUBLIC_ENDPOINTS.get(str(fn.api_name))
        if names is None or fn.fn is None:
            fn.api_visibility = "private"
            continue
        public.append(str(fn.api_name))
        _description, params, returns = get_function_description(fn.fn)
        for block, name in zip(fn.inputs, inspect.signature(fn.fn).parameters, strict=False):
            if isinstance(block, Api):
                block.label = name
                block._api_info = {**block._api_info, "additional_description": params.get(name, "")}
        for block, name in zip(fn.outputs, names, strict=False):
            block.label = name
            if isinstance(block, Api):
                block._api_info = {**block._api_info, "description": " ".join(returns).strip()}
    return sorted(public)

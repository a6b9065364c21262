"""Tab 2 — Prompt comparison: one document through several prompt styles, side by side.

Each style's prompt text can be edited for this run only (the YAML library is not written).
With ground truth (uploaded, or automatic for bundled samples) each cell is marked right or
wrong and each prompt gets an accuracy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision.schema import ALL_FIELDS
from llama_vision.ui import evidence_view, queue_words, views
from llama_vision.ui.common import FILE_TYPES, page_index, path_of, sample_by_label, sample_choices, truth_for
from llama_vision.ui.compare_run import compare_steps
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors
from llama_vision.ui.scoring import Truth, accuracy, load_truth, score
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine
    from llama_vision.ui.state import AppState

STYLES: tuple[tuple[str, str], ...] = (("key_value", "KEY-VALUE"), ("json", "JSON"), ("field_specific", "Field-specific"))
STYLE_LABEL = dict(STYLES)
METRIC_COLUMNS = ["Prompt", "Parsed", "Fields found", "Latency (s)", "Generated tokens", "Tokens/s", "Accuracy"]


def prompt_text(style: str) -> str:
    """The library's generic text for a style, as the user edits it (field-specific: one
    "field: question" line per field). An edit applies to every document type for that run."""
    try:
        from llama_vision.prompts import load_prompt_library

        library = load_prompt_library()
        if style == "field_specific":
            questions = library.field_questions(None)
            return "\n".join(f"{name}: {question}" for name, question in questions.items())
        return library.prompt(style, None).text
    except Exception as error:  # the library is validated at load; show why instead of crashing the tab
        return f"(prompt library unavailable: {error})"


def prompts_for_run(style: str, edited: str | None) -> Any:
    """A library with this style overridden when the user changed its text; else None (default)."""
    if not edited or edited.strip() == prompt_text(style).strip() or edited.startswith("(prompt library"):
        return None
    from llama_vision.prompts import load_prompt_library

    return load_prompt_library().with_override(style, edited)


def parsed_ok(result: dict[str, Any]) -> bool:
    """Did the answer parse? The pipeline reports a refusal or unparseable output as a warning."""
    if result.get("status") != "ok":
        return False
    troubled = any(w.startswith("The model ") for w in result.get("warnings") or [])
    return not troubled and views.fields_found(result) > 0


def metrics_row(label: str, result: dict[str, Any], accuracy: float | None) -> list[Any]:
    usage = result.get("usage") or {}
    timings = result.get("timings") or {}
    latency = timings.get("total")
    if latency is not None:  # the document is classified once, by the first prompt: leave that out
        latency = max(latency - timings.get("classify", 0.0), 0.0)
    return [
        label,
        "yes" if parsed_ok(result) else "no",
        views.fields_found(result),
        round(latency, 2) if latency is not None else None,
        usage.get("generated_tokens"),
        usage.get("tokens_per_second"),
        f"{accuracy:.0%}" if accuracy is not None else "—",
    ]


def _cell(name: str, result: dict[str, Any]) -> Any:
    value = (result.get("fields") or {}).get(name)
    if name == "items":
        return f"{len(value)} items" if value else None
    return value


def _confidence(name: str, result: dict[str, Any]) -> float | None:
    """The engine's confidence in `name` as this prompt read it (None: not measured, or not read)."""
    return ((result.get("evidence") or {}).get(name) or {}).get("confidence")


def _review_row(results: dict[str, dict[str, Any]], truth: Truth | None) -> tuple[str, dict[str, Any]]:
    """The review verdict of each prompt's Result (the Single tab's badge and reasons; "—" for a
    failed read), as a table row and as data."""
    cells = "".join(f"<td>{evidence_view.review_html(r, explain=False) or '—'}</td>" for r in results.values())
    truth_cell = "<td></td>" if truth is not None else ""
    data = {label: None if r.get("status") == "error" else {
        "needed": bool((r.get("review") or {}).get("needed")), "reasons": list((r.get("review") or {}).get("reasons") or [])}
        for label, r in results.items()}
    return f'<tr class="lv-review-row"><th>Review</th>{cells}{truth_cell}</tr>', data


def comparison(results: dict[str, dict[str, Any]], truth: Truth | None,
               threshold: float | None = None) -> tuple[str, dict[str, Any]]:
    """HTML table (rows = fields, columns = prompts) and the same as data for API clients.

    Cells where the prompts disagree are highlighted; with ground truth each cell is marked
    right or wrong by `evaluation.score_result`, and each prompt gets an accuracy. Each cell
    carries that prompt's confidence in the field ("—" when unmeasured), coloured against the
    review threshold (`threshold`; the settings' default when None), and a last row each
    prompt's review verdict.
    """
    if threshold is None:
        from llama_vision.config import Settings

        threshold = Settings.model_fields["review_threshold"].default
    labels = list(results)
    scores = {label: score(r, truth) for label, r in results.items()} if truth else {}
    truth_fields = truth.fields if truth else {}
    names = [n for n in (*(f for f in ALL_FIELDS if f != "items"), "items")
             if any(_cell(n, r) not in (None, "") for r in results.values())
             or truth_fields.get(n) not in (None, "", [])]
    rows_data = []
    body = []
    for name in names:
        values = {label: _cell(name, r) for label, r in results.items()}
        present = {str(v) for v in values.values() if v not in (None, "")}
        disagree = len(labels) > 1 and (len(present) > 1 or (bool(present) and any(
            v in (None, "") for v in values.values())))
        cells = []
        row: dict[str, Any] = {"field": name, "disagree": disagree, "values": values, "right": {},
                               "confidence": {label: _confidence(name, r) for label, r in results.items()}}
        for label, value in values.items():
            css = "lv-disagree" if disagree else ""
            mark = ""
            entry = (scores.get(label) or {}).get("fields", {}).get(name)
            if entry is not None and not entry.get("absent"):
                right = bool(entry.get("correct"))
                row["right"][label] = right
                css, mark = ("lv-right", " ✔") if right else ("lv-wrong", " ✘")
            chip = evidence_view.confidence_chip({"confidence": row["confidence"][label]}, threshold)
            cells.append(f'<td class="{css}">{esc(views.show_value(name, value))}{mark} {chip}</td>')
        truth_cell = ""
        if truth is not None:
            expected = truth_fields.get(name)
            if name == "items":
                expected = f"{len(expected)} items" if expected else None
            truth_cell = f"<td>{esc(views.show_value(name, expected))}</td>"
            row["truth"] = expected
        flag = ' <span title="the prompts disagree">≠</span>' if disagree else ""
        body.append(f"<tr><th>{esc(views.field_label(name))}{flag}</th>{''.join(cells)}{truth_cell}</tr>")
        rows_data.append(row)
    accuracy_by_label: dict[str, float | None] = {}
    counts: dict[str, tuple[int, int]] = {}
    for label in labels:
        counts[label] = accuracy(scores[label]) if label in scores else (0, 0)
        correct, present = counts[label]
        accuracy_by_label[label] = correct / present if present else None
    if truth is not None and any(p for _, p in counts.values()):
        cells = "".join(
            f'<td class="lv-accuracy-cell"><b>{accuracy_by_label[label]:.0%}</b> '
            f"({counts[label][0]}/{counts[label][1]})</td>" if counts[label][1] else "<td>—</td>"
            for label in labels)
        body.append(f'<tr class="lv-accuracy"><th>Accuracy</th>{cells}<td></td></tr>')
    review_row, review = _review_row(results, truth)
    body.append(review_row)
    head = "".join(f"<th>{esc(label)}</th>" for label in labels) + ("<th>Ground truth</th>" if truth is not None else "")
    caption = (f'<caption class="lv-muted">Beside each value, the engine\'s confidence in it ("—": not measured); '
               f"amber and \"low\": below the review threshold ({threshold:.0%})</caption>")
    table = (f'<table class="lv-compare" id="compare-table">{caption}<thead><tr><th>Field</th>{head}</tr></thead>'
             f"<tbody>{''.join(body)}</tbody></table>")
    if not names:
        table = '<p class="lv-muted">No fields were read.</p>'
    return table, {"rows": rows_data, "accuracy": accuracy_by_label, "review": review, "threshold": threshold,
                   "correct": {k: v[0] for k, v in counts.items()}, "present": {k: v[1] for k, v in counts.items()}}


def prompt_runs(engine: Engine, chosen: list[str] | None) -> list[tuple[str, str]]:
    """(style, label) per run: the ticked styles, or one run for an engine that ignores prompts,
    labelled with the prompt name its Result carries ("OCR (rules)")."""
    from llama_vision.pipeline import prompt_name_for

    if not engine.capabilities.follows_prompts:
        return [("key_value", f"{engine.name.upper()} ({prompt_name_for(engine, 'key_value')})")]
    runs = [(key, STYLE_LABEL[key]) for key, _ in STYLES if key in (chosen or [])]
    if not runs:
        raise gr.Error("Tick at least one prompt style.", title="Nothing to compare")
    return runs


def _ocr_note() -> None:
    gr.Markdown(
        "**Prompts do not apply to the OCR engine**: it reads the page and applies rules, so there "
        "is one column, scored against the ground truth. Configure a model "
        "(`LLAMA_VISION_MODEL_PATH` or `LLAMA_VISION_API_BASE`) to compare prompts.",
        elem_id="compare-ocr-note",
    )


def _prompt_columns(prompts_apply: bool) -> tuple[list[Any], list[Any]]:
    """One column per prompt style: its editable text and its raw answer (the OCR text on OCR)."""
    if prompts_apply:
        gr.Markdown("#### Each prompt, side by side — edit a prompt's text to try a variant (this run only; "
                    "the prompt library is not changed)")
    with gr.Row(equal_height=False):
        texts, raws = [], []
        for key, label in STYLES:
            with gr.Column(min_width=300, visible=prompts_apply or key == "key_value"):
                texts.append(gr.Textbox(prompt_text(key), label=f"{label} prompt", lines=5, max_lines=12,
                                        visible=prompts_apply, elem_id=f"compare-prompt-{key}"))
                raws.append(gr.Textbox(label=f"{label}: raw output" if prompts_apply else "OCR text",
                                       lines=10, max_lines=20, elem_classes="lv-raw", elem_id=f"compare-raw-{key}"))
    return texts, raws


def build(state: AppState) -> None:
    prompts_apply = state.follows_prompts
    if not prompts_apply:
        _ocr_note()
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            document = gr.File(label="Document (image or PDF)", file_types=FILE_TYPES, elem_id="compare-file")
            samples = gr.Radio(sample_choices(), label="…or click a bundled sample (has ground truth)",
                               elem_id="compare-samples")
            page = gr.Number(value=1, precision=0, minimum=1, label="Page (PDF)")
            truth_file = gr.File(label="Ground truth JSON (optional; automatic for bundled samples)",
                                 file_types=[".json"], elem_id="compare-truth")
            styles = gr.CheckboxGroup([(label, key) for key, label in STYLES], value=[k for k, _ in STYLES],
                                      label="Prompt styles to compare", interactive=prompts_apply)
            run = gr.Button("Compare", variant="primary", size="lg", elem_id="compare-run")
        with gr.Column(scale=3, min_width=420):
            status = gr.Markdown(elem_id="compare-status")
            metrics = gr.Dataframe(headers=METRIC_COLUMNS, label="Per prompt (latency leaves out classifying the "
                                   "document, which happens once)", interactive=False,
                                   elem_classes="lv-table", elem_id="compare-metrics")
            table = gr.HTML(elem_id="compare-html")
    texts, raws = _prompt_columns(prompts_apply)
    with gr.Accordion("Comparison data (JSON)", open=False):
        data = gr.JSON(label="Comparison", elem_id="compare-json")

    def load_sample(label: str | None) -> Any:
        sample = sample_by_label(label)
        return str(sample.path) if sample else None

    @reports_errors
    def compare(file_value: Any, page_number: Any, truth_value: Any, chosen: list[str] | None,
                kv_text: str, json_text: str, fs_text: str):
        path = path_of(file_value)
        if not path:
            raise gr.Error("Upload a document or click a bundled sample first.", title="No document")
        truth_path = path_of(truth_value) or truth_for(path)
        truth = load_truth(truth_path) if truth_path else None
        engine = state.engine
        edited = {"key_value": kv_text, "json": json_text, "field_specific": fs_text}
        runs = prompt_runs(engine, chosen)
        libraries = {key: prompts_for_run(key, edited[key]) for key, _ in runs} if engine.capabilities.follows_prompts else {}

        results: dict[str, dict[str, Any]] = {}
        raw_out: list[Any] = [gr.skip()] * len(STYLES)
        for step in compare_steps(engine, path, runs, page=page_index(page_number), libraries=libraries):
            raw_out[[k for k, _ in STYLES].index(step.style)] = step.text
            if step.result is None:  # "prompt 2 of 3" and that prompt's answer as it streams
                yield (*raw_out, gr.skip(), gr.skip(), gr.skip(), step.status)
                continue
            results[step.label] = step.result
            html, summary = comparison(results, truth, state.settings.review_threshold)
            rows = [metrics_row(lbl, r, summary["accuracy"].get(lbl)) for lbl, r in results.items()]
            summary["prompts"] = {lbl: {"raw_output": r.get("raw_output"), "status": r.get("status"),
                                        "error": r.get("error"), "metrics": dict(zip(METRIC_COLUMNS, row))}
                                  for (lbl, r), row in zip(results.items(), rows)}
            summary["engine"] = engine.name
            summary["ground_truth"] = Path(truth_path).name if truth_path else None
            yield (*raw_out, pd.DataFrame(rows, columns=METRIC_COLUMNS), html, summary, step.status)

    queue_words.announce(run, status, wrap="*{}*")  # "2 requests ahead of you, about 40 s"
    samples.change(load_sample, samples, document, api_name="compare_load_sample", show_progress="hidden",
                   api_visibility="private")
    run.click(
        compare,
        [document, page, truth_file, styles, *texts],
        [*raws, metrics, table, data, status],
        api_name="compare_run",  # the page's own event; the public /compare is ui.api's
        api_visibility="private",
        concurrency_id=MODEL_QUEUE,
        concurrency_limit=state.model_concurrency(),
    )

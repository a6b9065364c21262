"""Single tab: correct the fields inline, see the verdict recomputed, save the page as ground truth.

Thin over `pipeline.reassess` (the rules) and `dataset` (the files): this module only turns the
last Result into an editable Field/Value table and the table back into the values a person typed.
The handlers are plain functions of their inputs, so tests call them without a browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision import schema
from llama_vision.errors import DatasetError, DocumentExistsError, LlamaVisionError
from llama_vision.ui import evidence_view, views
from llama_vision.ui.common import path_of, public_message
from llama_vision.ui.layout import reports_errors

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.ui.state import AppState

COLUMNS = ["Field", "Value"]
LIST_COLUMNS = ["Document", "Type", "Verdict", "Saved (UTC)"]
ITEMS_SEPARATOR = "; "  # between line items in the Items cell; each item is "description | qty | unit price | amount"
TYPE_CHOICES = [(label, name) for name, label in schema.DOCUMENT_LABELS.items()]
_FIELD_BY_LABEL = {schema.label_of(name): name for name in schema.ALL_FIELDS}
NOTHING_YET = "Extract a document first: its fields appear here to correct."


# -- the table ---------------------------------------------------------------------------------


def editable_text(name: str, value: Any) -> str:
    """A value as a person edits it: "" for null, yes/no, the ABN spaced, money without "$",
    items as "description | qty | unit price | amount" joined by "; "."""
    if value is None or value == "" or value == []:
        return ""
    if name == "items":
        return ITEMS_SEPARATOR.join(
            " | ".join("" if item.get(key) is None else str(item[key]) for key in schema.ITEM_KEYS)
            for item in value if isinstance(item, dict))
    shown = views.show_value(name, value)
    return shown.removeprefix("$") if schema.kind_of(name) == "money" else shown


def field_rows(result: dict[str, Any]) -> list[str]:
    """The fields to offer: the type's fields, any other that holds a value, and the items."""
    fields = result.get("fields") or {}
    names = list(views.fields_for(result.get("document_type")))
    names += [n for n in schema.ALL_FIELDS if n not in names and n != "items" and fields.get(n) not in (None, "")]
    return [*names, "items"]


def table_of(result: dict[str, Any] | None) -> pd.DataFrame:
    """The editable Field/Value table of a Result dict (empty for none or a failed one)."""
    if not result or result.get("status") == "error":
        return pd.DataFrame([], columns=COLUMNS)
    fields = result.get("fields") or {}
    return pd.DataFrame([[schema.label_of(n), editable_text(n, fields.get(n))] for n in field_rows(result)],
                        columns=COLUMNS)


def _rows(table: Any) -> list[tuple[str, str]]:
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        values = table.values.tolist()
    elif isinstance(table, dict):  # the API's {"headers": [...], "data": [[...]]}
        values = table.get("data") or []
    else:
        values = list(table)
    return [(str(row[0]).strip(), "" if len(row) < 2 or row[1] is None else str(row[1]).strip())
            for row in values if row and row[0] is not None]


def corrections_of(table: Any, original: dict[str, Any]) -> dict[str, str]:
    """field -> the text a person typed, for every row that differs from what the Result said.

    Rows are matched by their Field label; a row whose label is no field is refused (a person
    added a row or renamed a label), so no typed value is silently dropped.
    """
    fields = original.get("fields") or {}
    corrected: dict[str, str] = {}
    for label, text in _rows(table):
        name = _FIELD_BY_LABEL.get(label)
        if name is None:
            raise LlamaVisionError(f"'{label}' is not a field.", hint="Edit the Value column only; the Field names stay.")
        if text != editable_text(name, fields.get(name)):
            corrected[name] = text
    return corrected


def _captured_result(captured: dict[str, Any] | None) -> dict[str, Any]:
    if not captured or not captured.get("result"):
        raise LlamaVisionError("There is nothing to correct yet.", hint="Extract a document first.")
    return captured["result"]


def recheck(settings: Settings, captured: dict[str, Any] | None, table: Any, document_type: str | None) -> dict[str, Any]:
    """The captured Result with the table's corrections and the chosen type, judged again."""
    from llama_vision.pipeline import reassess

    original = _captured_result(captured)
    return reassess(original, corrections_of(table, original), settings=settings, document_type=document_type or None)


def note_of(original: dict[str, Any], corrected: dict[str, Any]) -> str:
    """One line under the table: what changed and the verdict now."""
    from llama_vision.pipeline import changed_fields

    changed = [schema.label_of(n) for n in changed_fields(original, corrected)]
    if corrected.get("document_type") != original.get("document_type"):
        changed.append("Document type")
    verdict = views.VERDICT_STYLE.get((corrected.get("compliance") or {}).get("verdict") or "", ("no verdict", ""))[0]
    if not changed:
        return f"No corrections yet. Verdict: **{verdict}**."
    return f"Corrected: {', '.join(changed)}. Verdict now: **{verdict}**."


# -- the dataset ---------------------------------------------------------------------------------


def dataset_frame(folder: Path | None) -> pd.DataFrame:
    """The dataset's documents as the list shows them, newest first."""
    from llama_vision.dataset import list_documents

    rows = [[d.name, views.document_label(d.document_type) if d.document_type else "?",
             views.VERDICT_STYLE.get(d.verdict or "", (d.verdict or "—", ""))[0], d.saved.strftime("%Y-%m-%d %H:%M:%S")]
            for d in list_documents(folder)]
    return pd.DataFrame(rows, columns=LIST_COLUMNS)


def folder_note(folder: Path | None) -> str:
    if folder is None:
        return ("Saving is off (`LLAMA_VISION_DATASET_DIR=off`). Set it to a folder, or leave it empty for the "
                "default in your data folder, and restart the app. Corrections still recompute the verdict.")
    return (f"Saved documents go to `{folder}` (`LLAMA_VISION_DATASET_DIR`): the page as PNG and its truth as "
            f"JSON. Score an engine on them with `python -m llama_vision evaluate {folder}`.")


def page_image(settings: Settings, captured: dict[str, Any]) -> Any:
    """The page the captured Result read, loaded again from its document as the pipeline loads it."""
    from llama_vision.documents import load_pages

    pages = load_pages(Path(captured["path"]), settings=settings)
    index = captured.get("page")
    if index is None and len(pages) > 1:
        raise DatasetError(f"This reading covers {len(pages)} pages; ground truth is one page per document.",
                           hint="Pick one page, extract it again and save that.")
    return pages[min(index or 0, len(pages) - 1)]


def save_document(settings: Settings, captured: dict[str, Any] | None, table: Any, document_type: str | None,
                  name: str | None, replace: bool) -> tuple[str, bool]:
    """Save the corrected page into the dataset: (message, whether to offer "replace").

    A taken name is not an error to raise but a question to ask: the message says so and the
    second value asks the UI to show the "replace the existing one" box.
    """
    from llama_vision import dataset
    from llama_vision.pipeline import changed_fields

    original = _captured_result(captured)
    corrected = recheck(settings, captured, table, document_type)
    try:
        saved = dataset.save(settings.dataset_dir, page_image(settings, captured), corrected["fields"],
                             corrected["document_type"], source=original.get("file"), name=name,
                             compliance=corrected.get("compliance"), engine=original.get("engine"),
                             corrected=changed_fields(original, corrected), overwrite=bool(replace))
    except DocumentExistsError as error:
        return f"⚠ {error}", True
    return (f"Saved **{saved.stem}** ({saved.stem}.png + {saved.name}) into the dataset "
            f"({len(dataset.list_documents(settings.dataset_dir))} documents)."), False


def capture(result: dict[str, Any] | None, file_value: Any, page_number: Any) -> dict[str, Any] | None:
    """What a later save needs: the Result as extracted, the document it came from and the page."""
    from llama_vision.ui.common import page_index

    path = path_of(file_value)
    if not result or not path or result.get("status") == "error":
        return None
    return {"result": result, "path": path, "page": page_index(page_number)}


# -- the components --------------------------------------------------------------------------------


def build(state: AppState, ui: dict[str, Any]) -> dict[str, Any]:
    """The "Correct and save as ground truth" accordion under the Single tab's components `ui`;
    editing updates `ui["compliance"]`. Returns its own components."""
    settings = state.settings
    folder = settings.dataset_dir
    with gr.Accordion("Correct and save as ground truth", open=False, elem_id="corrections"):
        captured = gr.State(None)
        gr.Markdown("Edit any value (e.g. `$12.50`, `13 Aug 2023`, `51 824 753 556`; empty = not on the "
                    "document); the verdict above is recomputed at once.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                table = gr.Dataframe(headers=COLUMNS, value=table_of(None), interactive=True, static_columns=[0],
                                     label="Fields (edit the values)", wrap=True, elem_classes="lv-table",
                                     column_widths=["35%", "65%"], max_height=720, elem_id="corrections-table")
                note = gr.Markdown(NOTHING_YET, elem_id="corrections-note")
            with gr.Column(scale=2, min_width=300):
                document_type = gr.Dropdown(TYPE_CHOICES, value=None, label="Document type",
                                            elem_id="corrections-type")
                name = gr.Textbox(label="Name in the dataset", placeholder="the document's own name",
                                  interactive=folder is not None, elem_id="corrections-name")
                replace = gr.Checkbox(False, label="Replace the existing one", visible=False,
                                      elem_id="corrections-replace")
                save_button = gr.Button("Save as ground truth", variant="primary", interactive=folder is not None,
                                        elem_id="corrections-save")
                saved_note = gr.Markdown(folder_note(folder), elem_id="corrections-status")
        documents = gr.Dataframe(value=lambda: dataset_frame(folder), headers=LIST_COLUMNS, interactive=False,
                                 label="Dataset", wrap=True, elem_classes="lv-table", elem_id="corrections-dataset")

    def on_result(result: Any, file_value: Any, page_number: Any) -> tuple[Any, ...]:
        kept = capture(result, file_value, page_number)
        if kept is None:
            return None, table_of(None), None, "", NOTHING_YET
        original = kept["result"]
        stem = Path(str(original.get("file") or "")).stem
        return kept, table_of(original), original.get("document_type"), stem, note_of(original, original)

    @reports_errors
    def on_edit(kept: Any, rows: Any, kind: str | None) -> tuple[Any, ...]:
        if not kept:
            return gr.skip(), gr.skip(), NOTHING_YET
        corrected = recheck(settings, kept, rows, kind)
        return (*_verdict(corrected), note_of(kept["result"], corrected))

    @reports_errors
    def on_type(kept: Any, rows: Any, kind: str | None) -> tuple[Any, ...]:
        """A new type asks for other fields: the table is rebuilt, keeping what was typed."""
        if not kept:
            return gr.skip(), gr.skip(), gr.skip(), NOTHING_YET
        corrected = recheck(settings, kept, rows, kind)
        return (*_verdict(corrected), table_of(corrected), note_of(kept["result"], corrected))

    @reports_errors
    def on_save(kept: Any, rows: Any, kind: str | None, typed_name: str | None, replace_it: bool) -> tuple[Any, ...]:
        try:
            message, ask = save_document(settings, kept, rows, kind, typed_name, replace_it)
        except DatasetError as error:
            raise gr.Error(public_message(str(error)), title="Not saved") from None
        return message, gr.update(visible=ask, value=False), dataset_frame(folder)

    def _verdict(corrected: dict[str, Any]) -> tuple[str, str]:
        """The Single tab's verdict card and checks, for the corrected Result."""
        return evidence_view.verdict_card_html(corrected, settings.review_threshold), views.checks_html(corrected)

    private = {"api_visibility": "private", "show_progress": "hidden"}
    ui["result_json"].change(on_result, [ui["result_json"], ui["document"], ui["page"]],
                             [captured, table, document_type, name, note], **private)
    verdict = [ui["compliance"], ui["checks"]]
    table.input(on_edit, [captured, table, document_type], [*verdict, note], **private)
    document_type.input(on_type, [captured, table, document_type], [*verdict, table, note], **private)
    save_button.click(on_save, [captured, table, document_type, name, replace], [saved_note, replace, documents],
                      **private)
    return dict(table=table, document_type=document_type, name=name, replace=replace, save=save_button,
                note=note, saved_note=saved_note, documents=documents, captured=captured)

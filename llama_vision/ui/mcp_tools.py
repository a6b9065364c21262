"""The MCP server (LLAMA_VISION_MCP=true): two tools for AI assistants, `extract_document` and
`check_compliance`, served by Gradio's MCP support (the `gradio[mcp]` extra) over streamable HTTP
at /gradio_api/mcp/.

Thin like the tabs: each tool calls `llama_vision.pipeline` or `llama_vision.compliance` and
returns JSON text (an MCP tool answers in text; Gradio would
show a dict as a Python repr). Gradio turns every public API endpoint into a tool, so once the app is up
`restrict_mcp_tools` keeps only these two: an assistant must not unload the model or run batches.
The docstrings are the tool descriptions an assistant reads.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.data_classes import FileData

from llama_vision.schema import DOCUMENT_TYPES
from llama_vision.ui.api import read_document
from llama_vision.ui.layout import MODEL_QUEUE

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.ui.state import AppState

MCP_TOOLS = ("extract_document", "check_compliance")
MCP_PATH = "/gradio_api/mcp/"


def register(state: AppState) -> None:
    """Add the two tools as API endpoints of the Blocks being built (call inside `gr.Blocks`)."""

    def extract_document(document: FileData, page: int | None = None, prompt_style: str = "key_value") -> str:
        """Read an Australian receipt, tax invoice, fuel receipt or bank statement (an image or a PDF) and check it against the ATO's tax-invoice rules.

        Args:
            document: The document to read: an image (PNG, JPEG, WebP, TIFF, BMP, GIF) or a PDF.
            page: For a PDF, the page to read, counting from 1; leave empty to read every page.
            prompt_style: How a language model is asked: "key_value", "json" or "field_specific" (the OCR engine ignores it).

        Returns:
            The Result as JSON text: file, engine, status ("ok" or "error") and error, document_type, fields (supplier_name, supplier_abn, date as DD/MM/YYYY, total, gst, items...; null when not on the document), compliance (verdict, score, missing_elements, recommendations), warnings and timings.
        """
        return read_document(state, document, page, prompt_style).to_json()  # the same path as /extract

    def check_compliance(fields: dict, document_type: str = "tax_invoice") -> str:
        """Check a document's fields against the ATO's tax-invoice rules, without reading a document.

        Args:
            fields: The document's fields, as extract_document returns them: supplier_name, supplier_abn, date, total, gst, subtotal, tax_invoice_label, gst_included_statement, buyer_name, buyer_abn, items ([{description, quantity, unit_price, amount}])...; values may be as printed ("$44.00", "51 824 753 556", "15 Mar 2024").
            document_type: One of "receipt", "tax_invoice", "fuel_receipt", "bank_statement", "other".

        Returns:
            JSON text: {"fields": the fields normalised (dates DD/MM/YYYY, money "12.30", ABN 11 digits), "compliance": abn_valid, gst_consistent, totals_consistent, date_valid, tax_invoice_required, missing_elements, score (0-100), verdict ("compliant", "non_compliant", "not_required" or "review") and recommendations, "warnings": what could not be normalised}.
        """
        from llama_vision.compliance import check_compliance as ato_rules
        from llama_vision.fields import normalise_fields

        if document_type not in DOCUMENT_TYPES:
            raise gr.Error(f"document_type must be one of {', '.join(DOCUMENT_TYPES)}, not {document_type!r}.",
                           title="Unknown document type")
        if not isinstance(fields, dict):
            raise gr.Error("fields must be a JSON object such as {\"total\": \"44.00\"}.", title="No fields")
        normalised, warnings = normalise_fields(fields)
        return json.dumps({"fields": normalised, "compliance": ato_rules(normalised, document_type),
                           "warnings": warnings})

    # the model-bound tool queues with the UI's model events; the rules are pure and cheap
    gr.api(extract_document, api_name="extract_document", concurrency_id=MODEL_QUEUE,
           concurrency_limit=state.model_concurrency())
    gr.api(check_compliance, api_name="check_compliance", concurrency_limit=None)


def restrict_mcp_tools(demo: gr.Blocks) -> list[str]:
    """Keep only MCP_TOOLS on the running MCP server; the other API endpoints stay API-only.

    Gradio lists every public endpoint as a tool and has no option to leave one out, so we trim
    its tool table (read on every list and call). Returns the tools left.
    """
    server = getattr(demo, "mcp_server_obj", None)
    table = getattr(server, "tool_to_endpoint", None)
    if not isinstance(table, dict):
        return []
    kept = {name: endpoint for name, endpoint in table.items() if name in MCP_TOOLS}
    table.clear()
    table.update(kept)
    return sorted(kept)


def launch(demo: gr.Blocks, settings: Settings, options: dict[str, Any]) -> None:
    """`demo.launch(**options)`, with the MCP server and its two tools when LLAMA_VISION_MCP is on."""
    if not settings.mcp:
        demo.launch(**options)
        return
    demo.launch(**options, mcp_server=True, prevent_thread_lock=True)
    tools = restrict_mcp_tools(demo)
    print(f"* MCP tools {', '.join(tools) or '(none)'} at {MCP_PATH} (streamable HTTP)", flush=True)
    demo.block_thread()

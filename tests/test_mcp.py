"""The MCP server (issue J, item 5): with LLAMA_VISION_MCP=true the real app (python app.py) serves
`extract_document` and `check_compliance` over streamable HTTP; the `mcp` Python client connects
on loopback, lists exactly those two tools (with their docstrings as descriptions) and calls both
on a bundled sample. The same two are plain API endpoints for gradio_client."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from tests.ui_helpers import SAMPLES, RunningApp, launch_app

pytestmark = pytest.mark.slow
pytest.importorskip("mcp", reason="needs the gradio[mcp] extra (the mcp package)")
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

SAMPLE = SAMPLES / "tax_invoice_over_1000.jpg"
TOOLS = {"extract_document", "check_compliance"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mcp")


@pytest.fixture(scope="module")
def mcp_app(workdir) -> RunningApp:
    if not SAMPLE.is_file():
        pytest.skip("the bundled sample is missing")
    app = launch_app("mcp", workdir, LLAMA_VISION_MCP="true")
    assert app.url.startswith("http://127.0.0.1:")  # loopback only
    return app


def _data_url(path: Path) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


async def _session_calls(url: str, sample_url: str) -> tuple[list, dict, dict]:
    async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        extracted = await session.call_tool("extract_document", {"document": _data_url(SAMPLE), "page": 1})
        assert not extracted.isError, extracted.content  # a file sent inline, as assistants do
        result = json.loads(extracted.content[0].text)
        # Gradio fetches http(s) URLs for a tool, but never from this machine's own network
        fetched = await session.call_tool("extract_document", {"document": sample_url})
        assert fetched.isError and "failed validation" in fetched.content[0].text, fetched.content
        checked = await session.call_tool("check_compliance", {"fields": result["fields"],
                                                               "document_type": result["document_type"]})
        assert not checked.isError, checked.content
        refused = await session.call_tool("unload_model", {})  # an API endpoint, not a tool
        assert refused.isError
        return tools, result, json.loads(checked.content[0].text)


def test_an_mcp_client_lists_and_calls_both_tools(mcp_app):
    url = mcp_app.url + "gradio_api/mcp/"
    sample_url = f"{mcp_app.url}gradio_api/file={SAMPLE}"  # served, but on loopback
    tools, result, checked = asyncio.run(asyncio.wait_for(_session_calls(url, sample_url), timeout=180))
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == TOOLS, mcp_app.log_tail()
    assert "ATO" in by_name["extract_document"].description and "receipt" in by_name["extract_document"].description
    assert "tax-invoice rules" in by_name["check_compliance"].description
    assert {"document", "page", "prompt_style"} <= set(by_name["extract_document"].inputSchema["properties"])
    assert by_name["check_compliance"].inputSchema["required"] == ["fields"]

    truth = json.loads(SAMPLE.with_suffix(".json").read_text())
    assert result["status"] == "ok", result["error"]
    assert result["file"].endswith(".jpg") and result["engine"] == "ocr"  # a data: URL carries no name
    assert result["document_type"] == truth["document_type"]
    assert result["fields"]["total"] == truth["fields"]["total"]  # OCR reads a clean bundled sample
    # the rules on the fields the extraction read give the extraction's own compliance
    assert checked["compliance"] == result["compliance"]
    assert checked["fields"]["total"] == result["fields"]["total"]


def test_check_compliance_explains_what_is_missing(mcp_app):
    from gradio_client import Client

    client = Client(mcp_app.url, verbose=False)
    answer = json.loads(client.predict({"supplier_name": "Acme Pty Ltd", "total": "$440.00", "gst": "$40.00",
                                        "date": "15 Mar 2024"}, "tax_invoice", api_name="/check_compliance"))
    compliance = answer["compliance"]
    assert answer["fields"]["date"] == "15/03/2024" and answer["fields"]["total"] == "440.00"
    assert compliance["verdict"] == "non_compliant"
    assert {"supplier_abn", "tax_invoice_label"} <= set(compliance["missing_elements"])
    with pytest.raises(Exception, match="document_type must be one of"):
        client.predict({"total": "1.00"}, "shopping_list", api_name="/check_compliance")

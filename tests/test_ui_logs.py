"""What the server log says (issue J, item 7): a user's mistake (no document, a text file, an
empty batch: anything raised as gr.Error, from a LlamaVisionError or by Gradio's own checks) is
ONE line, not a 35-line traceback; a real bug still logs its full traceback.

Checked against the real app (python app.py, and a driver script with a planted bug), reading the
log file its stdout and stderr go to."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.ui_helpers import RunningApp, bundled_samples, launch_app, page_event

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

# The real app with a bug planted in the UI layer (outside the pipeline, which turns a document's
# failure into an error Result): rendering the summary divides by zero.
BUGGY_DRIVER = r"""
from llama_vision.config import load_settings
from llama_vision.ui import build_app, launch_options, views

def summary_markdown(data):
    return str(1 / 0)

views.summary_markdown = summary_markdown
settings = load_settings()
demo = build_app(settings)
demo.launch(**launch_options(settings))
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui-logs")


@pytest.fixture(scope="module")
def app(workdir) -> RunningApp:
    return launch_app("ocr", workdir)  # the UI tests' app, shared when run together


def _new_log(app: RunningApp, start: int, wait_for: str, timeout: float = 20.0) -> str:
    """The log written since `start` (a character offset), once it contains `wait_for`."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = app.log.read_text(errors="replace")[start:]
        if wait_for in text:
            time.sleep(0.5)  # anything printed right after (a traceback) lands too
            return app.log.read_text(errors="replace")[start:]
        time.sleep(0.2)
    return text


def _fails(client: Client, *args, api_name: str) -> str:
    with pytest.raises(Exception) as caught:  # noqa: B017 - gradio_client raises AppError
        client.predict(*args, fn_index=page_event(client, api_name))  # as the page calls it
    return str(caught.value)


def _cases(workdir: Path) -> list[tuple[str, tuple, str, str]]:
    notes = workdir / "notes.txt"
    notes.write_text("a shopping list, not a receipt")
    fake_png = workdir / "shopping.png"
    fake_png.write_text("a shopping list with an image's name")
    return [
        ("no document", (None, 1, "key_value"), "single_extract", "Upload a document"),
        ("a text file", (handle_file(str(notes)), 1, "key_value"), "single_extract", "Invalid file type"),
        ("a text file named .png", (handle_file(str(fake_png)), 1, "key_value"), "single_extract", "shopping.png"),
        ("an empty batch", (None, None, "all"), "batch_run", "Upload documents or a ZIP"),
    ]


def test_each_expected_user_error_is_one_log_line(app, workdir):
    client = Client(app.url, verbose=False)
    for label, args, api_name, shown in _cases(workdir):
        start = len(app.log.read_text(errors="replace"))
        message = _fails(client, *args, api_name=api_name)
        assert shown in message, (label, message)
        logged = _new_log(app, start, shown)
        lines = [line for line in logged.splitlines() if line.strip()]
        assert len(lines) == 1, (label, logged)
        assert lines[0].startswith("user error (") and shown in lines[0], (label, logged)
        assert "Traceback" not in logged, (label, logged)


def test_a_real_bug_still_logs_its_full_traceback(workdir):
    samples = bundled_samples()
    if not samples:
        pytest.skip("no bundled samples")
    buggy = launch_app("buggy-summary", workdir / "buggy", script=BUGGY_DRIVER)
    try:
        client = Client(buggy.url, verbose=False)
        start = len(buggy.log.read_text(errors="replace"))
        message = _fails(client, handle_file(str(samples[0])), 1, "key_value", api_name="single_extract")
        assert "ZeroDivisionError" in message  # the toast says what broke...
        logged = _new_log(buggy, start, "ZeroDivisionError")
        assert "Traceback (most recent call last)" in logged, logged  # ...and the log says where
        assert "in summary_markdown" in logged and "ZeroDivisionError: division by zero" in logged, logged
        assert "user error (" not in logged, logged
    finally:
        buggy.stop()

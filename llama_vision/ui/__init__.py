"""The Gradio app: five tabs over the package (no business logic here).

`build_app(settings)` returns the Blocks; `launch_options(settings)` the keyword arguments for
`launch()` that keep it safe (auth, upload caps, allowed paths, theme, and `ui.web_guard`'s
middleware: security headers, the sign-in slowdown, the login gate on routes Gradio leaves open). `app.py` is the thin
entry point. Importing this module imports gradio but never torch: engines load lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine
    from llama_vision.ui.state import AppState

__all__ = ["build_app", "launch_options", "queue_options"]

HEADER_REFRESH_SECONDS = 5.0
TITLE = "llama_vision — receipts, tax invoices and ATO compliance"


def build_app(settings: Settings, *, engine: Engine | None = None, state: AppState | None = None) -> gr.Blocks:
    """Build the Blocks app around one shared engine (created here unless given)."""
    import gradio as gr

    from llama_vision.ui import (
        api,
        mcp_tools,
        queue_words,
        tab_batch,
        tab_compare,
        tab_dashboard,
        tab_experiments,
        tab_single,
    )
    from llama_vision.ui.common import sweep_outputs
    from llama_vision.ui.layout import header_html, quiet_user_errors
    from llama_vision.ui.state import AppState

    sweep_outputs()  # run folders a killed app left behind
    state = state or AppState(settings, engine)
    # delete_cache: Gradio's upload/output cache is swept hourly of files older than a day
    with gr.Blocks(title=TITLE, fill_width=False, delete_cache=(3600, 86400)) as demo:
        header = gr.HTML(header_html(state), elem_id="lv-header-box")
        with gr.Tabs():
            with gr.Tab("Single extraction", id="single", elem_id="tab-single"):
                tab_single.build(state)
            with gr.Tab("Prompt comparison", id="compare", elem_id="tab-compare"):
                tab_compare.build(state)
            with gr.Tab("Hardware & memory", id="dashboard", elem_id="tab-dashboard"):
                tab_dashboard.build(state, header, demo)
            with gr.Tab("Batch compliance", id="batch", elem_id="tab-batch"):
                tab_batch.build(state)
            with gr.Tab("Prompt experiments", id="experiments", elem_id="tab-experiments"):
                tab_experiments.build(state)
        api.register(state)  # /extract, /batch, /compare, /ask: the public API (JSON in, JSON out)
        mcp_tools.register(state)  # extract_document and check_compliance: API endpoints and MCP tools
        demo.load(lambda: header_html(state), None, header, api_name="header", show_progress="hidden")
        # the model may finish loading (or fail) after the page opened: keep the header honest
        # (the page's own refresh, hidden from the public API: /header answers the same)
        gr.Timer(HEADER_REFRESH_SECONDS).tick(lambda: header_html(state), None, header, api_name="header_refresh",
                                              show_progress="hidden", concurrency_limit=None,
                                              api_visibility="private")
    api.publish(demo)  # every event not in api.PUBLIC_ENDPOINTS is private; public outputs are named
    demo.queue(**queue_options(settings))
    queue_words.watch(demo)  # Gradio's wait estimate from whole measured runs; `announce` says it in words
    _explain_queue_full(demo, settings)
    quiet_user_errors(demo)  # a user's mistake is one log line, not a 35-line traceback
    demo.app_state = state  # type: ignore[attr-defined]  # for app.py (warm-up) and tests
    return demo


def queue_options(settings: Settings) -> dict[str, Any]:
    """Bounded queue: beyond `queue_size` waiting requests users get BUSY_MESSAGE at once."""
    return {"max_size": settings.queue_size, "default_concurrency_limit": 4}


BUSY_MESSAGE = (
    "The model is busy: {waiting} requests are already waiting. Try again in a minute "
    "(the waiting line holds LLAMA_VISION_QUEUE_SIZE={size} requests)."
)


def _explain_queue_full(demo: gr.Blocks, settings: Settings) -> None:
    """Replace Gradio's "Queue is full. Max size is N" with a message a stakeholder understands.

    Gradio has no option for this text, so we wrap the queue's `push`; if a future Gradio moves
    it, the default message stays (the queue is still bounded).
    """
    queue = getattr(demo, "_queue", None)
    push = getattr(queue, "push", None)
    if push is None:
        return

    async def push_with_busy_message(*args: Any, **kwargs: Any) -> Any:
        accepted, message, status = await push(*args, **kwargs)
        if status == "queue_full":
            message = BUSY_MESSAGE.format(waiting=len(queue), size=settings.queue_size)
            request = kwargs.get("request", args[1] if len(args) > 1 else None)
            if _from_gradio_client(request):
                # gradio_client turns any 503 into its own "Queue is full! Please try again."; the
                # one answer whose text it shows is a failed validation (HTTP 422).
                return accepted, [{"__type__": "validate", "is_valid": False, "parameter_name": "the app",
                                   "message": message}], "validator_error"
        return accepted, message, status

    queue.push = push_with_busy_message


def _from_gradio_client(request: Any) -> bool:
    headers = getattr(request, "headers", None) or {}
    return headers.get("x-gradio-user") == "api"  # what gradio_client sends on every submit


def allowed_paths(settings: Settings) -> list[str]:
    """Only the bundled samples and the batch folder may be served from disk."""
    from llama_vision.ui.state import SAMPLES_DIR

    paths = [str(SAMPLES_DIR)]
    if settings.batch_dir:
        paths.append(str(Path(settings.batch_dir).expanduser().resolve()))
    return paths


def launch_options(settings: Settings) -> dict[str, Any]:
    from starlette.middleware import Middleware

    from llama_vision.ui.layout import ACCESSIBILITY_HEAD, CSS, theme
    from llama_vision.ui.web_guard import WebGuard

    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": settings.share,
        "auth": list(settings.auth_pairs) or None,
        "auth_message": "Sign in to llama_vision." if settings.auth_pairs else None,
        "max_file_size": settings.max_file_bytes,
        "allowed_paths": allowed_paths(settings),
        "theme": theme(),
        "css": CSS,
        "head": ACCESSIBILITY_HEAD,
        "footer_links": ["api", "settings"],
        "show_error": True,
        # security headers, the login slowdown, routes Gradio leaves open, the per-request cap
        "app_kwargs": {"middleware": [Middleware(WebGuard, max_request_bytes=settings.max_request_bytes)],
                       "openapi_url": None},  # FastAPI's schema of Gradio's internals: not needed
    }

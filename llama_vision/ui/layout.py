"""Shared look and the bits every tab uses: theme, CSS, the engine header, error reporting.

Readable on a laptop and on a projector: large text, generous spacing, colour that also carries a
word (a badge says "Compliant", not only green).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import gradio as gr

from llama_vision.errors import LlamaVisionError
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from llama_vision.ui.state import AppState

log = logging.getLogger("llama_vision.ui")
MODEL_QUEUE = "model"  # concurrency_id shared by every event that touches the engine
F = TypeVar("F", bound=Callable[..., Any])

CSS = """
.gradio-container { max-width: 1400px !important; margin: auto; }
.lv-header { display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; align-items: center;
  padding: .8rem 1.1rem; border-radius: 12px; background: var(--block-background-fill);
  border: 1px solid var(--border-color-primary); }
.lv-header h1 { font-size: 1.6rem; margin: 0 1rem 0 0; }
.lv-fact { font-size: 1rem; } .lv-fact b { font-weight: 650; }
.lv-note { flex-basis: 100%; margin: .2rem 0 0; padding: .6rem .8rem; border-radius: 8px;
  background: #fff7e0; color: #5b4100; border: 1px solid #f0d48a; }
.lv-note code { background: #fff; }
.lv-badge { display: inline-block; padding: .35rem .9rem; border-radius: 999px; font-weight: 700;
  font-size: 1.15rem; letter-spacing: .01em; }
.lv-chip { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-weight: 600;
  white-space: nowrap; }
.lv-ok { background: #d6f5e3; color: #0b5d2a; border: 1px solid #86d4a6; }
.lv-bad { background: #fde0e0; color: #8a1111; border: 1px solid #f19a9a; }
.lv-warn { background: #fff1cc; color: #6b4a00; border: 1px solid #f0c85a; }
.lv-neutral { background: #e8eef6; color: #2b3d55; border: 1px solid #b8c7da; }
.lv-err { background: #3b3b45; color: #ffffff; border: 1px solid #3b3b45; }
#batch-actions { gap: .6rem; }
#batch-actions button { min-width: 9rem; }
/* Gradio's "add more files" icon is a button inside a button (axe: nested-interactive, serious);
   hidden: dropping files on the list or choosing again after the clear button does the same. */
#batch-files button[aria-label="common.upload"] { display: none; }
.lv-file-names { margin: 0; padding-left: 1.6rem; max-height: 14rem; overflow-y: auto; }
/* Batch cells break between words only: an amount, an ABN or a date is never split mid-number
   (Gradio's wrapping breaks anywhere); a column too narrow for its longest word scrolls instead. */
#batch-table .cell-wrap span, #batch-table .wrap, #batch-table span.text,
#batch-detail-fields .cell-wrap span, #batch-detail-fields .wrap, #batch-detail-fields span.text { word-break: normal !important;
  overflow-wrap: normal !important; hyphens: none; }
#batch-table .lv-verdict { white-space: nowrap; font-size: .95rem; }
.lv-panel { padding: .4rem .2rem; font-size: 1.02rem; }
.lv-verdict-row { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin-bottom: .4rem; }
.lv-verdict p { margin: .2rem 0 .4rem; }
.lv-review { display: flex; flex-wrap: wrap; gap: .2rem .6rem; align-items: center; }
.lv-review ul { margin: 0; padding-left: 1.1rem; font-size: .95rem; }
.lv-keys { display: flex; flex-wrap: wrap; gap: .3rem 1.4rem; font-size: 1.05rem; }
.lv-key { white-space: nowrap; } .lv-key b { white-space: normal; }
.lv-key-label { color: var(--body-text-color-subdued); }
#single-samples label { padding: .3rem .6rem; }
#single-inputs { gap: .7rem !important; }
/* the fields table breaks between words only ("Confidence" stays one word, an ABN breaks at its spaces) */
#single-fields .cell-wrap span, #single-fields .wrap, #single-fields span.text { word-break: normal !important;
  overflow-wrap: normal !important; hyphens: none; }
/* One indicator per error: a failed read is told in the verdict card, anything else in a toast;
   Gradio's own "Error" pill on every output of the failed event would say it five more times. */
#tab-single [data-testid="status-tracker"] .error,
#tab-single [data-testid="status-tracker"] .clear-status { display: none !important; }
#single-evidence label[data-testid="block-label"] { position: static; margin: 0 0 .3rem; }
.lv-score { font-size: 1.1rem; }
.lv-muted { color: var(--body-text-color-subdued); }
.lv-error { color: #8a1111; font-weight: 600; }
table.lv-checks { width: 100%; border-collapse: collapse; margin: .4rem 0 .6rem; }
table.lv-checks th, table.lv-checks td { text-align: left; padding: .35rem .5rem;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
table.lv-compare { border-collapse: collapse; width: 100%; font-size: 1rem; }
table.lv-compare th, table.lv-compare td { padding: .35rem .6rem; border: 1px solid var(--border-color-primary);
  text-align: left; }
table.lv-compare td.lv-disagree { background: #fff1cc; }
table.lv-compare td.lv-right { background: #d6f5e3; }
table.lv-compare td.lv-wrong { background: #fde0e0; }
.lv-table td, .lv-table th, .lv-table td *, .lv-table th *,
.lv-table .virtual-row, .lv-table .virtual-row * { font-family: var(--font) !important; }
.lv-raw textarea { font-family: var(--font-mono); font-size: .95rem !important; }
"""


# Accessible names Gradio's own widgets lack (axe-core: button-name, scrollable-region-focusable,
# aria-prohibited-attr), filled in as the page renders; launch(head=...) adds it to the page.
# Phones, as a plain <style> in the page head: Gradio's processing of `css` drops @media blocks.
PHONE_CSS = """/* Phones: columns stack and may shrink below their desktop min_width, and wide tables scroll
   inside their own box instead of widening the page (their column minimums add up to ~800 px). */
@media (max-width: 720px) {
  gradio-app, .gradio-container, .gradio-container main, .gradio-container .tabs,
  .gradio-container .row { min-width: 0 !important; max-width: 100% !important; }
  .gradio-container { width: 100% !important; max-width: 100% !important; overflow-x: hidden; }
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .gradio-container .row { flex-wrap: wrap !important; }
  .gradio-container .column, .gradio-container .row > *, .gradio-container .block,
  .gradio-container .form, .gradio-container .tabitem, .gradio-container .tab-wrapper,
  .gradio-container .tab-container, .gradio-container .main, .gradio-container .wrap {
    min-width: 0 !important; max-width: 100%; }
  .gradio-container .column { flex: 1 1 100% !important; }
  .lv-table .table-wrap, .lv-table .upload-container, .lv-table .virtual-table-viewport,
  .lv-table .table-container { max-width: 100%; min-width: 0 !important; }
  .lv-table .virtual-table-viewport { overflow-x: auto !important; }
  .lv-header h1 { font-size: 1.3rem; }
  table.lv-compare { display: block; overflow-x: auto; }
  #compare-html, #single-compliance { overflow-x: auto; }
}
"""

ACCESSIBILITY_HEAD = "<style>" + PHONE_CSS + """</style><script>
(() => {
  const fix = () => {
    document.querySelectorAll(".image-container > button:not([aria-label])").forEach((b) => {
      const img = b.querySelector("img");
      b.setAttribute("aria-label", img && img.alt ? "Open " + img.alt : "Open the image");
    });
    document.querySelectorAll(".virtual-table-viewport").forEach((v) => {
      // a scrolling table needs something focusable to be scrolled with the keyboard; the grid's
      // first column header may take focus (the viewport itself must stay role "none" in the grid)
      const header = v.querySelector("th[role=columnheader]");
      if (header && !v.querySelector("[tabindex='0']")) header.setAttribute("tabindex", "0");
    });
    // empty-image boxes and a static column's lock icon ("Static column") label a bare div
    document.querySelectorAll("div.empty[aria-label]:not([role]), div.wrapper[aria-label]:not([role])")
      .forEach((d) => d.setAttribute("role", "img"));
  };
  new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", fix);
})();
</script>"""


# WCAG AA (4.5:1 for normal text): teal's 400-600 shades, which Gradio uses for primary buttons,
# block labels and the selected tab, are darkened (white on #0f766e is 5.5:1, #115e59 7.6:1), and
# slate's 400 (muted text, footer links) becomes #5b6778 (5.5:1 on the page background).
AA_TEAL = ("#f0fdfa", "#ccfbf1", "#99f6e4", "#5eead4", "#0f766e", "#0f766e", "#115e59", "#115e59", "#134e4a",
           "#134e4a", "#042f2e")
AA_SLATE = ("#f8fafc", "#f1f5f9", "#e2e8f0", "#cbd5e1", "#5b6778", "#475569", "#475569", "#334155", "#1e293b",
            "#0f172a", "#020617")


def _color(name: str, shades: tuple[str, ...]) -> gr.themes.Color:
    keys = ("c50", "c100", "c200", "c300", "c400", "c500", "c600", "c700", "c800", "c900", "c950")
    return gr.themes.Color(name=name, **dict(zip(keys, shades)))


def theme() -> gr.themes.Base:
    """A clean theme with large text meeting WCAG AA contrast (no web fonts: works offline)."""
    return gr.themes.Soft(
        primary_hue=_color("aa_teal", AA_TEAL),
        secondary_hue="sky",
        neutral_hue=_color("aa_slate", AA_SLATE),
        text_size="lg",
        spacing_size="lg",
        radius_size="md",
        font=("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"),
        font_mono=("ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"),
    ).set(
        body_text_color_subdued="*neutral_600",
        block_label_text_color="*primary_700",
        block_info_text_color="*neutral_600",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white",
        link_text_color="*primary_700",
    )


def expected_error(error: gr.Error) -> gr.Error:
    """A user's mistake (no document, a text file, an empty batch): one log line, no traceback.

    Gradio prints a traceback for every gr.Error unless `print_exception` is off; ours carry a
    fix-it message, which is all the server log needs. Line breaks are folded so that a file
    name cannot forge extra log lines.
    """
    if getattr(error, "_lv_bug", False) or not error.print_exception:
        return error  # a bug keeps its traceback; an error already logged is not logged twice
    error.print_exception = False
    log.warning("user error (%s): %s", " ".join(str(error.title).split()), " ".join(str(error.message).split()))
    return error


def user_error(error: BaseException) -> gr.Error:
    """The same one-line fix-it message the CLI prints, as a Gradio error toast, with server
    folders (upload temp paths) taken out: the user sees their file's name only.

    gr.Error raised by a handler and LlamaVisionError are expected (one log line); anything else
    is a bug: its toast says "Unexpected error" and Gradio logs the full chained traceback.
    """
    from llama_vision.ui.common import public_message

    if isinstance(error, gr.Error):
        error.message = public_message(str(error.message))
        return expected_error(error)
    if isinstance(error, LlamaVisionError):
        return expected_error(gr.Error(public_message(str(error)),
                                       title=type(error).__name__.replace("Error", " error").strip()))
    bug = gr.Error(public_message(f"{type(error).__name__}: {error}"), title="Unexpected error")
    bug._lv_bug = True  # type: ignore[attr-defined]  # Gradio prints its chained traceback
    return bug


def quiet_user_errors(demo: gr.Blocks) -> None:
    """Log every expected gr.Error as one line, also those Gradio's own components raise before
    a handler runs (a text file in a gr.File, a page outside a dropdown's choices).

    Gradio has no hook for this, so we wrap the Blocks' `process_api`, through which every queued,
    direct and MCP call passes; if a future Gradio renames it, errors just log as tracebacks again.
    """
    process_api = getattr(demo, "process_api", None)
    if process_api is None:
        return

    @functools.wraps(process_api)
    async def process_api_quietly(*args: Any, **kwargs: Any) -> Any:
        try:
            return await process_api(*args, **kwargs)
        except gr.Error as error:
            expected_error(error)  # a no-op for a bug, which keeps its chained traceback
            raise

    demo.process_api = process_api_quietly  # type: ignore[method-assign]


def reports_errors(fn: F) -> F:
    """Turn LlamaVisionError (and surprises) raised by a handler into gr.Error for the user."""

    if _is_generator(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except gr.Error as error:
                raise user_error(error) from None
            except Exception as error:
                raise user_error(error) from error

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error as error:
            raise user_error(error) from None
        except Exception as error:
            raise user_error(error) from error

    return wrapper  # type: ignore[return-value]


def _is_generator(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.isgeneratorfunction(fn)


def engine_facts(state: AppState) -> dict[str, str]:
    """What answers, on what, in which precision: from the engine's status, falling back to Settings."""
    status = state.engine_status()
    settings = state.settings
    name = status.get("engine") or state.engine_name
    if name == "ocr":
        return {"engine": "ocr (RapidOCR + rules)", "device": "cpu", "dtype": "n/a", "quantization": "n/a"}
    if name == "openai":
        servers = ", ".join(settings.shown_api_bases) or "none"  # never a URL password
        return {"engine": f"openai ({settings.api_model})", "device": f"server: {servers}",
                "dtype": "set by the server", "quantization": "set by the server"}
    device = status.get("device") or settings.device
    return {
        "engine": f"llama ({_short_path(settings.model_path)})",
        "device": str(device),
        "dtype": str(status.get("dtype") or settings.dtype),
        "quantization": str(status.get("quantization") or settings.quantization),
    }


def _short_path(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def header_html(state: AppState) -> str:
    facts = engine_facts(state)
    status = state.engine_status()
    items = "".join(f'<span class="lv-fact">{esc(k.capitalize())}: <b>{esc(v)}</b></span>' for k, v in facts.items())
    if status.get("load_error"):
        state_line = '<span class="lv-chip lv-bad">model failed to load</span>'
    elif status.get("loaded"):
        state_line = '<span class="lv-chip lv-ok">ready</span>'
    else:
        state_line = '<span class="lv-chip lv-neutral">loads on first use</span>'
    note = ""
    if state.engine_name == "ocr":
        note = (
            '<p class="lv-note"><b>No language model is loaded.</b> Answers come from OCR and rules, '
            "so prompts do not apply. To use Llama 3.2 Vision, set <code>LLAMA_VISION_MODEL_PATH</code> "
            "to a local Llama-3.2-11B-Vision-Instruct folder, or <code>LLAMA_VISION_API_BASE</code> to an "
            "OpenAI-compatible server (Ollama, vLLM), in the environment or <code>.env</code>, and restart.</p>"
        )
    elif status.get("load_error"):
        note = f'<p class="lv-note"><b>The model did not load:</b> {esc(status["load_error"])}</p>'
    return (f'<div class="lv-header" id="lv-header"><h1>llama_vision</h1>{items}{state_line}{note}</div>')

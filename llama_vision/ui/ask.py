""""Ask about this document" on the Single tab: a free-form question about the chosen page, its
answer streamed into a chat, like Hugging Face's Llama 3.2 Vision demo.

Thin over `llama_vision.ask`. Each question is answered from the page alone (the chat keeps the
history for the reader, the model does not see it). On the OCR engine, which cannot answer free
questions, the box says so plainly and an asked question gets the same explanation as its answer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from llama_vision.ui.common import STREAM_INTERVAL, page_index, path_of
from llama_vision.ui.layout import MODEL_QUEUE, reports_errors

if TYPE_CHECKING:
    from llama_vision.ui.state import AppState

EXAMPLES = ("What was bought, and for how much?", "Is this a tax invoice? Why?", "Who is the supplier?")
OCR_NOTE = ("The OCR engine reads receipts with fixed rules, so it cannot answer free-form questions. "
            "Configure a language model (`LLAMA_VISION_MODEL_PATH` or `LLAMA_VISION_API_BASE`) to ask one.")


def _messages(history: list[dict[str, Any]] | None, question: str, answer: str) -> list[dict[str, Any]]:
    return [*(history or []), {"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def answer_stream(state: AppState, file_value: Any, page_number: Any, question: str | None,
                  history: list[dict[str, Any]] | None):
    """(chat, cleared question box) while the answer streams; the OCR engine's answer is why it cannot."""
    from llama_vision.ask import AnswerEvent, CannotAnswerError, ask_events

    question = (question or "").strip()
    if not question:
        raise gr.Error("Type a question about the document first.", title="No question")
    path = path_of(file_value)
    if not path:
        raise gr.Error("Upload a document or click a bundled sample first.", title="No document")
    try:
        events = ask_events(path, question, engine=state.engine, page=page_index(page_number),
                            file_name=Path(path).name)
        text, last = "", 0.0
        yield _messages(history, question, "…"), ""
        for event in events:
            if isinstance(event, AnswerEvent):
                text = event.answer.text or "(the model gave no answer)"
                if event.answer.truncated:
                    text += "\n\n*(cut at the token cap: raise LLAMA_VISION_MAX_NEW_TOKENS for longer answers)*"
                break
            text += event.text
            if time.monotonic() - last >= STREAM_INTERVAL:
                last = time.monotonic()
                yield _messages(history, question, text), ""
        yield _messages(history, question, text), ""
    except CannotAnswerError as error:  # not a failure: the engine cannot do this, said in the chat
        yield _messages(history, question, str(error)), ""


def build(state: AppState, document: gr.File, page: gr.Dropdown) -> None:
    """The "Ask about this document" box, under the Single tab's results (call inside its layout)."""
    with gr.Accordion("Ask about this document", open=False, elem_id="ask-box"):
        if not state.follows_prompts:
            gr.Markdown(OCR_NOTE, elem_id="ask-ocr-note")
        chat = gr.Chatbot(label="Questions and answers", height=320, elem_id="ask-chat", buttons=["copy"],
                          placeholder="Ask anything about the chosen page; each question is answered from the page alone.")
        with gr.Row():
            question = gr.Textbox(label="Your question", placeholder=EXAMPLES[0], scale=4, elem_id="ask-question",
                                  max_length=2000)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-send")
        gr.Examples([[e] for e in EXAMPLES], inputs=[question], label="Try")

    @reports_errors
    def respond(file_value: Any, page_number: Any, text: str | None, history: list[dict[str, Any]] | None):
        yield from answer_stream(state, file_value, page_number, text, history)

    listener = {"fn": respond, "inputs": [document, page, question, chat], "outputs": [chat, question],
                "concurrency_id": MODEL_QUEUE, "concurrency_limit": state.model_concurrency(),
                "api_visibility": "private", "show_progress": "minimal"}
    send.click(api_name="ask_chat", **listener)  # the public /ask is ui.api's
    question.submit(api_name="ask_chat_enter", **listener)

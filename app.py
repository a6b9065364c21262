"""Start the llama_vision web app: `python app.py` (settings from the environment and .env).

Thin on purpose: load .env, validate settings, build the Blocks from `llama_vision.ui`, launch.
`demo` is module-level so `gradio app.py` (hot reload) and hosting platforms find it.
"""

from __future__ import annotations

import sys

from dotenv import load_dotenv

from llama_vision.config import load_settings
from llama_vision.errors import LlamaVisionError
from llama_vision.ui import build_app, launch_options
from llama_vision.ui.mcp_tools import launch

load_dotenv()  # entry points read .env; the library never does

try:
    settings = load_settings()
except LlamaVisionError as error:  # one line naming the variable, the value and what is allowed
    sys.exit(f"llama_vision: {error}")

demo = build_app(settings)

if __name__ == "__main__":
    demo.app_state.warm_up()  # load the model in the background; the page is up at once
    launch(demo, settings, launch_options(settings))  # with the MCP server when LLAMA_VISION_MCP=true

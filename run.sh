#!/usr/bin/env bash
# One command: set up (first time) and start the app on http://127.0.0.1:7860.
# With LLAMA_VISION_MODEL_PATH set it also installs the local Llama engine.
set -euo pipefail
cd "$(dirname "$0")"
if [ -n "${LLAMA_VISION_MODEL_PATH:-}" ] || grep -qs '^LLAMA_VISION_MODEL_PATH=.' .env; then
  scripts/setup.sh llama
else
  scripts/setup.sh app
fi
exec .venv/bin/python app.py "$@"

#!/usr/bin/env bash
# Create .venv and install what a purpose needs. Idempotent: a second run installs nothing new.
#   scripts/setup.sh app    runtime only (the app and CLI on the OCR engine)
#   scripts/setup.sh llama  + the local Llama 3.2 Vision engine (torch, transformers, bitsandbytes)
#   scripts/setup.sh test   + everything the test suite needs, Debian's chromium included
set -euo pipefail
purpose="${1:-app}"
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

install_torch() {
  # Without an NVIDIA driver a CPU build of torch is enough (and far smaller than the CUDA one).
  if .venv/bin/python -c "import torch" 2>/dev/null; then return; fi
  if command -v nvidia-smi >/dev/null 2>&1; then
    "${pip[@]}" "torch>=2.4"
  else
    "${pip[@]}" "torch==2.13.0" || "${pip[@]}" "torch>=2.4"
  fi
}

case "$purpose" in
  app)   "${pip[@]}" -r requirements.txt ;;
  llama) install_torch; "${pip[@]}" -r requirements.txt -r requirements-llama.txt ;;
  test)
    install_torch
    "${pip[@]}" -r requirements-test.txt
    if [ ! -x /usr/bin/chromium ]; then
      # The browser tests drive Debian's chromium; no tool may download a browser of its own.
      if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
      echo "setup: installing Debian's chromium for the browser tests"
      "${sudo_cmd[@]}" apt-get update -qq
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    fi
    ;;
  *) echo "setup: unknown purpose '$purpose' (use app, llama or test)" >&2; exit 2 ;;
esac

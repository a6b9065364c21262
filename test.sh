#!/usr/bin/env bash
# One command: set up (first time) and run every test, browser tests included.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"

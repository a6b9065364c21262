#!/usr/bin/env bash
# One command: set up (first time), lint, check the import layers, and run every test, browser tests included.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh test
# A lint error or an import that crosses a layer (pyproject.toml: [tool.ruff], [tool.importlinter])
# fails CI before any test runs; both take about a second.
.venv/bin/ruff check --quiet .
.venv/bin/lint-imports --no-cache --no-logo
exec .venv/bin/python -m pytest "$@"

"""The import-layer contract (pyproject.toml, [tool.importlinter]) that test.sh checks before pytest:
it holds for the package as it is, and it does break when an import crosses a layer, so a weakened
contract shows up here rather than as a CI run that can no longer fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package and its pyproject.toml in a folder of their own, to break freely."""
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "llama_vision", tmp_path / "llama_vision", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, capture_output=True,
                          text=True, timeout=120)


def add_line(root: Path, module: str, line: str) -> None:
    """Append `line` to `module` (dotted, inside llama_vision), a module file or a package's __init__."""
    base = root / "llama_vision" / module.replace(".", "/")
    path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_package_keeps_its_import_contracts(copy: Path) -> None:
    done = lint_imports(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and "0 broken" in done.stdout


LAYERS = "layers: ui and cli over pipeline over engines over parsing and compliance over schema and fields"
ENGINES = "engines: each engine stands alone on the shared base"
GRADIO = "gradio only in llama_vision.ui"


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("fields", "import gradio", GRADIO),
    ("engines.base", "def _late():\n    from llama_vision import pipeline", LAYERS),  # a lazy import counts too
    ("cli", "def _serve():\n    from llama_vision.ui import build_app", LAYERS),
    ("engines.ocr", "from llama_vision.engines import llama as _llama", ENGINES),
    ("parsing", "from llama_vision import compliance as _compliance", None),  # siblings that may import each other
    ("schema", "from llama_vision import fields as _fields", LAYERS),  # the schema is the bottom layer
    ("compliance.rules", "from llama_vision.engines import base as _base", LAYERS),  # inside a package too
])
def test_an_import_across_a_layer_breaks_the_contract(copy: Path, module: str, line: str, broken: str | None) -> None:
    add_line(copy, module, line)
    done = lint_imports(copy)
    report = " ".join(done.stdout.split())  # the report wraps long contract names
    if broken is None:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode != 0 and f"{broken} BROKEN" in report, done.stdout + done.stderr

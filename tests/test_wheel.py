"""The wheel, as a user gets it: build it, install it into a fresh virtual environment, and run
`llama-vision extract` on a bundled sample from a folder that is not the checkout.

Offline and quick: the wheel is built without build isolation (setuptools is already in the test
environment) and installed with `--no-deps --no-index` into a venv whose only view of the
dependencies is a .pth line naming this environment's site-packages, so nothing is downloaded and
the checkout is never on the path. This is the check that the prompt library and the samples are
package data: run from the checkout they would be found even if the wheel left them out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from llama_vision.prompts import REQUIRED_STYLES
from tests.openai_fake_server import FakeOpenAIServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
# What setuptools needs to build the wheel (pyproject reads the dependencies from requirements.txt).
SOURCES = ("pyproject.toml", "requirements.txt", "llama_vision")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _user_env(**extra: str) -> dict[str, str]:
    """The environment of a user who has not configured anything (and has no checkout on the path)."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("LLAMA_VISION_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    environment.update(extra)
    return environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the built wheel installed in it; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build writes no build/ or egg-info into the checkout
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--quiet", "--wheel-dir", str(dist), str(source)], cwd=root)
    (wheel,) = dist.glob("llama_vision-*.whl")

    target = root / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    bin_dir = target / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).strip())
    # The dependencies come from this environment: appended after the venv's own site-packages, so the
    # installed wheel, not the checkout or an editable install, is what `import llama_vision` finds.
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))  # lib64 on some systems
    (site / "dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--quiet", str(wheel)], cwd=root)
    return bin_dir


def _installed_package(bin_dir: Path, cwd: Path) -> Path:
    code = "import llama_vision, pathlib; print(pathlib.Path(llama_vision.__file__).parent)"
    return Path(_run([str(bin_dir / "python"), "-c", code], cwd=cwd, env=_user_env()).strip())


def test_the_wheel_carries_prompts_and_samples(installed: Path, tmp_path: Path) -> None:
    package = _installed_package(installed, tmp_path)
    assert REPO not in package.parents and installed.parent in package.parents, package
    code = ("import json; from llama_vision.prompts import default_prompts_folder, load_prompt_library; "
            "print(json.dumps({'folder': str(default_prompts_folder()), 'styles': load_prompt_library().styles}))")
    loaded = json.loads(_run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_user_env()))
    assert Path(loaded["folder"]) == package / "prompts_data"
    assert set(REQUIRED_STYLES) <= set(loaded["styles"])
    assert sorted(p.name for p in (package / "samples" / "bundled").glob("*.jpg"))


def test_installed_cli_extracts_a_bundled_sample_with_ocr(installed: Path, tmp_path: Path) -> None:
    sample = _installed_package(installed, tmp_path) / "samples" / "bundled" / "fuel_receipt.jpg"
    truth = json.loads(sample.with_suffix(".json").read_text())
    out = _run([str(installed / "llama-vision"), "extract", "--json", str(sample)], cwd=tmp_path,
               env=_user_env(), timeout=180)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "ok", result.get("error")
    assert result["engine"] == "ocr" and result["prompt"] == "rules"
    assert result["document_type"] == "fuel_receipt"
    fields = truth.get("fields", truth)
    assert result["fields"]["supplier_abn"] == fields["supplier_abn"]
    assert result["fields"]["total"] == fields["total"]


def test_installed_cli_sends_the_packaged_prompts_to_a_server(installed: Path, tmp_path: Path) -> None:
    # An engine that follows prompts: before the prompts were package data this was a PromptError.
    sample = _installed_package(installed, tmp_path) / "samples" / "bundled" / "cafe_receipt.jpg"
    with FakeOpenAIServer() as server:
        out = _run([str(installed / "python"), "-m", "llama_vision", "extract", "--json", str(sample)], cwd=tmp_path,
                   env=_user_env(LLAMA_VISION_API_BASE=server.url, LLAMA_VISION_ENGINE="openai"), timeout=180)
        bodies = list(server.requests)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "ok", result.get("error")
    assert result["engine"] == "openai" and result["prompt"] == "key_value"
    from llama_vision.prompts import load_prompt_library

    library = load_prompt_library()
    sent = json.dumps(bodies)
    assert json.dumps(library.classification.text)[1:-1] in sent
    assert any(json.dumps(library.prompt("key_value", t).text)[1:-1] in sent for t in library.document_fields)

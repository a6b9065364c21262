from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SROIE_DIR = REPO.parent / "shared" / "data" / "sroie-dev"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's LLAMA_VISION_* settings or cached Settings."""
    for key in list(os.environ):
        if key.startswith("LLAMA_VISION_"):
            monkeypatch.delenv(key, raising=False)
    # grounding's OCR pass costs about a second a page: only the tests that are about it turn it on
    monkeypatch.setenv("LLAMA_VISION_GROUNDING", "off")
    from llama_vision.config import get_settings

    get_settings.cache_clear()


@pytest.fixture
def sroie_dir() -> Path:
    if not SROIE_DIR.is_dir():
        pytest.skip("../shared/data/sroie-dev is absent")
    return SROIE_DIR

from __future__ import annotations

import re

import pytest

from llama_vision.config import Settings, load_settings
from llama_vision.errors import ConfigError

REPO_ENV_EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / ".env.example"


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert (settings.engine, settings.quantization, settings.device, settings.dtype) == ("auto", "none", "auto", "auto")
    assert (settings.host, settings.port, settings.max_file_mb, settings.max_new_tokens) == ("127.0.0.1", 7860, 20, 512)
    assert settings.trust_remote_code is False and settings.share is False
    assert settings.resolved_engine() == "ocr"


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("QUANTIZATION", "16bit", "none"),
        ("ENGINE", "gpt", "llama"),
        ("DEVICE", "tpu", "cuda:N"),
        ("DTYPE", "int8", "bfloat16"),
        ("MAX_MEMORY", "lots", "GiB"),
        ("PORT", "99999", "65535"),
        ("MAX_FILE_MB", "-1", "0"),
        ("AUTH", "nopassword", "user:password"),
        ("API_BASE", "localhost:11434", "http"),
    ],
)
def test_bad_value_is_one_line_naming_variable_value_and_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(f"LLAMA_VISION_{variable}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert f"LLAMA_VISION_{variable}" in message
    assert value in message
    assert allowed in message


def test_auto_engine_prefers_model_then_api(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_VISION_API_BASE", "http://127.0.0.1:1/v1")
    assert load_settings().resolved_engine() == "openai"
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv("LLAMA_VISION_MODEL_PATH", str(tmp_path))
    assert load_settings().resolved_engine() == "llama"


def test_derived_views() -> None:
    settings = load_settings(max_memory="0:15GiB, 1:15GiB,cpu:30GiB", auth="ann:pw1,bob:p:w2",
                             api_base="http://a:1/v1, http://b:2/v1")
    assert settings.max_memory_map() == {0: "15GiB", 1: "15GiB", "cpu": "30GiB"}
    assert settings.auth_pairs == [("ann", "pw1"), ("bob", "p:w2")]
    assert settings.api_bases == ["http://a:1/v1", "http://b:2/v1"]
    assert "pw1" not in repr(settings) and "pw1" not in str(settings.model_dump())


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = REPO_ENV_EXAMPLE.read_text()
    listed = dict(re.findall(r"^(LLAMA_VISION_[A-Z_]+)=(.*)$", text, flags=re.M))
    defaults = Settings.model_fields
    assert {f"LLAMA_VISION_{name.upper()}" for name in defaults} == set(listed)
    settings = load_settings()
    for name in defaults:
        value = getattr(settings, name)
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        shown = listed[f"LLAMA_VISION_{name.upper()}"]
        assert str(value).lower() == shown.lower() or float(shown or 0) == value, name

from __future__ import annotations

import re

import pytest

from llama_vision.config import Settings, data_home, load_settings
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
        ("GPU_MEMORY_FRACTION", "0.05", "0.1"),
        ("GPU_MEMORY_FRACTION", "1.5", "1"),
        ("GPU_MEMORY_FRACTION", "half", "number"),
        ("MCP", "maybe", "boolean"),
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


def test_gpu_memory_fraction_and_mcp_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.gpu_memory_fraction == 1.0 and settings.mcp is False
    monkeypatch.setenv("LLAMA_VISION_GPU_MEMORY_FRACTION", "0.1")
    monkeypatch.setenv("LLAMA_VISION_MCP", "true")
    settings = load_settings()
    assert settings.gpu_memory_fraction == 0.1 and settings.mcp is True
    # Gradio's MCP route does not ask for the login, so the two together would open the app
    monkeypatch.setenv("LLAMA_VISION_AUTH", "alice:pw")
    with pytest.raises(ConfigError, match="LLAMA_VISION_MCP='true' is not allowed .*LLAMA_VISION_AUTH") as caught:
        load_settings()
    assert "alice:pw" not in str(caught.value)


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


def test_env_example_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMA_VISION_GROUNDING", raising=False)  # conftest turns it off for speed
    text = REPO_ENV_EXAMPLE.read_text()
    listed = dict(re.findall(r"^(LLAMA_VISION_[A-Z_]+)=(.*)$", text, flags=re.M))
    defaults = Settings.model_fields
    assert {f"LLAMA_VISION_{name.upper()}" for name in defaults} == set(listed)
    settings = load_settings()
    for name in defaults:
        value = getattr(settings, name)
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        shown = listed[f"LLAMA_VISION_{name.upper()}"]
        if name == "dataset_dir" and shown == "":  # empty stands for the folder in the user's data folder
            assert value == data_home() / "dataset"
            continue
        assert str(value).lower() == shown.lower() or float(shown or 0) == value, name


# -- secrets never reach an error message (issue 10, item 7) ------------------------------------

PASSWORD = "s3cret-Pw-9d2f"


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("AUTH", f"alice:{PASSWORD},bob", "alice:***,bob"),  # the bad entry is bob's, not alice's
        ("AUTH", f"alice {PASSWORD}", "alice***"),  # a space instead of ":"
        ("AUTH", f"al ice:{PASSWORD}", "al ice:***"),
        ("API_BASE", f"http://user:{PASSWORD}@host:8000/v1, localhost:11434", "http://user:***@host:8000/v1"),
        ("API_BASE", f"ftp://user:{PASSWORD}@host", "ftp://user:***@host"),
        ("API_BASE", f"user:{PASSWORD}@localhost:11434", "user:***@localhost:11434"),
        ("API_BASE", f"http://{PASSWORD}@host/v1,nope", "http://***@host/v1"),  # a bare token
        ("API_BASE", f"http://user:{PASSWORD}/x@host/v1,nope", "http://user:***@host/v1"),  # unescaped "/"
        ("API_BASE", f"http://user:{PASSWORD}@host:x1/v1", "http://user:***@host:x1/v1"),  # a bad port
        ("API_BASE", f"http://user:ab/{PASSWORD}@host:1/v1", "http://user:***@host:1/v1"),  # later: "Invalid port: 'ab'"
        ("API_KEY", f"sk-{PASSWORD}\u2019", "'***'"),  # a curly quote pasted from a web page
        ("API_KEY", f"sk-{PASSWORD}\r\nX-Injected: 1", "'***'"),  # a header injection
    ],
)
def test_a_bad_secret_setting_is_redacted(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                          shown: str) -> None:
    import traceback

    monkeypatch.setenv(f"LLAMA_VISION_{variable}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"LLAMA_VISION_{variable}=") and shown in message and "\n" not in message
    assert PASSWORD not in message and "input_value" not in message
    # the pydantic error (whose text echoes input_value) is not chained, so no traceback shows it
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


def test_every_secret_setting_is_recognised_and_hidden() -> None:
    from llama_vision.config import _is_secret, shown_value

    secret_fields = [name for name in Settings.model_fields if _is_secret(name)]
    assert {"auth", "api_key"} <= set(secret_fields)  # and any later one (an ABR GUID, a token)
    credentials = [f"u:{PASSWORD}", f"http://u:{PASSWORD}@h", f"u:{PASSWORD}@h"]
    for name in secret_fields:  # wholly hidden, except AUTH's user names (an entry without ":"
        for value in ([] if name == "auth" else [PASSWORD]) + credentials:  # holds no password)
            assert PASSWORD not in shown_value(name, value), name
    for value in credentials[1:]:
        assert PASSWORD not in shown_value("api_base", value)
    assert shown_value("port", "99999") == "'99999'"  # ordinary values are shown as they are


def test_the_cli_prints_no_secret_even_in_debug(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import traceback

    from llama_vision import cli

    monkeypatch.setenv("LLAMA_VISION_AUTH", f"alice:{PASSWORD},bob")
    assert cli.main(["hardware"]) == 2
    err = capsys.readouterr().err
    assert "LLAMA_VISION_AUTH='alice:***,bob'" in err and PASSWORD not in err
    monkeypatch.setenv("LLAMA_VISION_DEBUG", "1")  # the debug path re-raises: its traceback is clean too
    with pytest.raises(ConfigError) as caught:
        cli.main(["hardware"])
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


def test_api_base_credentials_are_hidden_in_repr_and_the_page_header() -> None:
    from types import SimpleNamespace

    settings = load_settings(api_base=f"http://user:{PASSWORD}@gpu1:8000/v1", engine="openai")
    assert settings.api_bases == [f"http://user:{PASSWORD}@gpu1:8000/v1"]  # the engine still gets it
    assert settings.shown_api_bases == ["http://user:***@gpu1:8000/v1"]
    assert PASSWORD not in repr(settings)
    pytest.importorskip("gradio")
    from llama_vision.ui.layout import engine_facts

    state = SimpleNamespace(settings=settings, engine_name="openai", engine_status=lambda: {"engine": "openai"})
    facts = engine_facts(state)  # type: ignore[arg-type]
    assert "user:***@gpu1:8000" in facts["device"] and PASSWORD not in str(facts)

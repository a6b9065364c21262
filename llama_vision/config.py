"""Settings from the environment (prefix LLAMA_VISION_) and an optional .env file.

`load_settings()` is the one way in: a bad value raises `ConfigError` with one line naming the
variable, the value and what is allowed. Secrets never appear in that line (nor in a traceback:
the pydantic error, whose text holds `input_value=...`, is dropped): `LLAMA_VISION_AUTH` shows as
`alice:***`, a URL in `LLAMA_VISION_API_BASE` as `http://user:***@host`, and a secret setting
(`SecretStr`, or a name with key/token/secret/password/guid) as `***`. The library never calls `load_dotenv`; entry points
(app.py, the CLI) pass `env_file` explicitly.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from llama_vision.errors import ConfigError
from llama_vision.schema import EngineName

ENV_PREFIX = "LLAMA_VISION_"
EngineChoice = Literal["auto", EngineName]  # ENGINE_CHOICES as a type
Quantization = Literal["none", "8bit", "4bit"]
DType = Literal["auto", "bfloat16", "float16", "float32"]
Grounding = Literal["auto", "on", "off"]

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
_MEMORY_ENTRY = re.compile(r"^(\d+|cpu|mps)\s*:\s*\d+(\.\d+)?\s*(GiB|MiB|GB|MB|KiB|KB)$", re.I)
_AUTH_ENTRY = re.compile(r"^[^:,\s]+:[^,]+$")
_API_KEY = re.compile(r"^[\x20-\x7e]*$")  # what an HTTP header carries: printable ASCII
_SECRET_NAME = re.compile(r"key|token|secret|password|guid", re.IGNORECASE)
_URL_FIELDS = frozenset({"api_base", "abr_url"})
_USER_NAME = re.compile(r"^[\w.@+-]*")


_OFF = frozenset({"off", "none", "false", "no", "0"})


def data_home() -> Path:
    """The user's data folder for this app: $XDG_DATA_HOME/llama_vision, else
    ~/.local/share/llama_vision (what a desktop user's tools and backups expect)."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".local" / "share") / "llama_vision"


def redact_url(url: str) -> str:
    """`http://user:pw@host/v1` -> `http://user:***@host/v1`; a bare token (`http://tok@host`)
    -> `http://***@host`. Anything before the last "@" counts as credentials, so a password
    holding an unescaped "/" or "@" is hidden too. Never raises (the URL may be malformed)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    shown = userinfo.split(":", 1)[0] + ":***" if ":" in userinfo else "***"
    return f"{scheme}{separator}{shown}@{host}"


def _url_problem(url: str) -> str | None:
    """Why an http(s) URL cannot be used as it is written, or None. Checked at start-up because
    later a password holding "/" reads as host:port, and the HTTP client's "Invalid port: 'pa'"
    would print part of it."""
    rest = url.split("://", 1)[1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in rest and "@" not in authority:
        return "a '/', '?' or '#' in the user name or password must be written %2F, %3F or %23"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the host or port is not valid; use http(s)://host:port/v1"
    if not parts.hostname:
        return "the URL has no host; use http(s)://host:port/v1"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None


def redact_urls(value: str) -> str:
    """Every comma-separated URL of LLAMA_VISION_API_BASE through `redact_url`."""
    return ",".join(redact_url(part) for part in value.split(","))


def redact_auth(value: str) -> str:
    """`alice:pw,bob:pw2` -> `alice:***,bob:***`. An entry without ":" holds no password by the
    format, so it is shown as the user name it must be, up to the first character no user name
    has (`alice secret` -> `alice***`)."""
    shown = []
    for entry in value.split(","):
        if ":" in entry:
            shown.append(entry.split(":", 1)[0] + ":***")
        else:
            name = _USER_NAME.match(entry.strip()).group(0)  # type: ignore[union-attr]
            shown.append(name if name == entry.strip() else name + "***")
    return ",".join(shown)


class Settings(BaseSettings):
    """Every setting of ARCHITECTURE.md §2; `.env.example` documents each with its default."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    engine: EngineChoice = Field("auto", description="auto: llama if MODEL_PATH holds a model, else openai if API_BASE is set, else ocr")
    model_path: str = Field("", description="Local folder of a Mllama checkpoint (never downloaded)")
    quantization: Quantization = Field("none", description="Weight quantization for the llama engine")
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps")
    dtype: DType = Field("auto", description="bf16 where supported, fp16 on pre-Ampere GPUs, fp32 on CPU")
    max_memory: str = Field("", description="Per-device caps for device_map, e.g. 0:15GiB,cpu:30GiB")
    api_base: str = Field("", description="OpenAI-compatible server URL(s), comma separated")
    api_model: str = Field("llama3.2-vision", description="Model name on the server")
    api_key: SecretStr = Field(SecretStr(""), description="API key for the server (never shown)")
    api_concurrency: int = Field(4, ge=1, le=256, description="Requests in flight to remote engines")
    api_timeout: float = Field(120.0, gt=0, description="Seconds before a remote request times out")
    api_retries: int = Field(3, ge=0, le=20, description="Retries on connection errors, 429 and 5xx")
    max_new_tokens: int = Field(512, ge=1, le=8192, description="Generation cap")
    host: str = Field("127.0.0.1", description="Where the app listens")
    port: int = Field(7860, ge=1, le=65535, description="Port the app listens on")
    auth: SecretStr = Field(SecretStr(""), description="user:password pairs, comma separated")
    share: bool = Field(False, description="Create a public Gradio share link")
    max_file_mb: float = Field(20.0, gt=0, le=2048, description="Upload and input size cap in MB")
    max_request_mb: float = Field(200.0, gt=0, le=16384, description="Web upload cap per request (all files together) in MB")
    max_pages: int = Field(20, ge=1, le=500, description="PDF page cap")
    document_memory_mb: int = Field(1024, ge=64, le=65536, description="Memory one document may take to decode or draw, in MB")
    document_seconds: float = Field(30.0, gt=0, le=3600, description="Seconds one document may take to decode or draw")
    max_image_side: int = Field(2240, ge=560, le=8192, description="Longest image side handed to the model")
    ocr_max_side: int = Field(1600, ge=320, le=8192, description="Longest image side handed to OCR")
    ocr_workers: int = Field(0, ge=0, le=16, description="Pages the OCR engine reads at once in a batch, each on "
                             "its own ONNX sessions with its share of the cores (0: one per usable core; a page "
                             "read alone always gets every core)")
    grounding: Grounding = Field("auto", description="Boxes for model answers from an OCR pass run beside generation: "
                                 "auto (on when rapidocr is installed), on, off")
    review_threshold: float = Field(0.8, ge=0.0, le=1.0, description="Compliance fields below this confidence send a document to review")
    batch_dir: str = Field("", description="Folder the app may read batches from (empty: uploads only)")
    experiments_dir: str = Field("", description="Folder of the prompt-experiment history (empty: the user's data folder)")
    queue_size: int = Field(32, ge=1, le=1000, description="Waiting requests per model queue before 'busy'")
    trust_remote_code: bool = Field(False, description="Only for custom checkpoints; Mllama never needs it")
    compile: bool = Field(False, description="CUDA only: static KV cache + torch.compile")
    gpu_memory_fraction: float = Field(1.0, ge=0.1, le=1.0, description="Share of each GPU's memory this process "
                                       "may take (torch.cuda.set_per_process_memory_fraction), 0.1-1.0")
    mcp: bool = Field(False, description="Also serve the extract_document and check_compliance MCP tools")
    abr_guid: SecretStr = Field(SecretStr(""), description="ABN Lookup GUID; empty: no ABN Lookup (never shown)")
    abr_url: str = Field("https://abr.business.gov.au/json", description="ABN Lookup JSON web service base URL")
    abr_timeout: float = Field(10.0, gt=0, le=120, description="Seconds before an ABN Lookup request times out")
    abr_retries: int = Field(2, ge=0, le=5, description="ABN Lookup retries (with backoff) on network errors and 5xx")
    abr_cache: str = Field("", description="SQLite file caching ABN Lookup answers (empty: ~/.cache/llama_vision/)")
    abr_cache_days: float = Field(7.0, ge=0, le=365, description="Days an ABN Lookup answer is reused; 0: no cache")
    dataset_dir: Path | None = Field(None, description="Folder 'Save as ground truth' writes page images and truth "
                                     "JSON into (empty: <data folder>/dataset; off: saving is disabled)")

    @field_validator("dataset_dir", mode="before")
    @classmethod
    def _check_dataset_dir(cls, value: object) -> Path | None:
        # empty (or unset) means the default folder, so a copied .env.example keeps saving on;
        # "off" turns saving off. Resolved now: the folder's path never depends on a later cwd.
        text = "" if value is None else str(value).strip()
        if text.lower() in _OFF:
            return None
        folder = Path(text).expanduser() if text else data_home() / "dataset"
        if folder.exists() and not folder.is_dir():
            raise ValueError("it is a file, not a folder; name a folder (it is created on the first save) or 'off'")
        return folder.resolve()

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DEVICE_PATTERN.match(value):
            raise ValueError("use auto, cpu, cuda, cuda:N or mps")
        return value

    @field_validator("max_memory")
    @classmethod
    def _check_max_memory(cls, value: str) -> str:
        value = value.strip()
        if value and not all(_MEMORY_ENTRY.match(part.strip()) for part in value.split(",")):
            raise ValueError("use DEVICE:SIZE pairs such as 0:15GiB,1:15GiB,cpu:30GiB")
        return value

    @field_validator("auth")
    @classmethod
    def _check_auth(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        if raw and not all(_AUTH_ENTRY.match(part.strip()) for part in raw.split(",")):
            raise ValueError("use user:password pairs, comma separated")
        return value

    @field_validator("api_key")
    @classmethod
    def _check_api_key(cls, value: SecretStr) -> SecretStr:
        if not _API_KEY.match(value.get_secret_value()):  # httpx would fail on every request
            raise ValueError("the key holds a control character or a non-ASCII character; "
                             "paste it exactly as the server gave it")
        return value

    @field_validator("max_request_mb")
    @classmethod
    def _check_max_request_mb(cls, value: float, info: ValidationInfo) -> float:
        per_file = info.data.get("max_file_mb")
        if per_file is not None and value < per_file:  # one file at the cap must still fit in a request
            raise ValueError(f"must be at least LLAMA_VISION_MAX_FILE_MB ({per_file:g})")
        return value

    @field_validator("mcp")
    @classmethod
    def _check_mcp(cls, value: bool, info: ValidationInfo) -> bool:
        auth = info.data.get("auth")
        if value and auth is not None and auth.get_secret_value().strip():
            # Gradio's MCP route does not ask for the login: it would open the app to anyone
            raise ValueError("the MCP server does not ask for LLAMA_VISION_AUTH's login; "
                             "set LLAMA_VISION_MCP=false, or empty LLAMA_VISION_AUTH on a trusted network")
        return value

    @field_validator("grounding")
    @classmethod
    def _check_grounding(cls, value: str) -> str:
        if value == "on" and not ocr_runtime_installed():
            raise ValueError("grounding needs the OCR runtime, which is not installed; install it with "
                             "pip install 'rapidocr>=3.4' onnxruntime, or use auto or off")
        return value

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        urls = [u.strip() for u in value.split(",") if u.strip()]
        for url in urls:
            if not re.match(r"^https?://", url):
                raise ValueError("use http(s)://host:port/v1, comma separated for several servers")
            problem = _url_problem(url)
            if problem:
                raise ValueError(problem)
        return ",".join(urls)

    @field_validator("abr_guid")
    @classmethod
    def _check_abr_guid(cls, value: SecretStr) -> SecretStr:
        if not re.match(r"^[0-9A-Fa-f-]*$", value.get_secret_value().strip()):
            raise ValueError("an ABN Lookup GUID is hexadecimal digits and dashes, as the ABR e-mailed it")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("abr_url")
    @classmethod
    def _check_abr_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://", value):
            raise ValueError("use http(s)://host/json, e.g. https://abr.business.gov.au/json")
        problem = _url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.rstrip("/")

    # -- derived views -------------------------------------------------------------------
    @property
    def api_bases(self) -> list[str]:
        return [u for u in self.api_base.split(",") if u]

    @property
    def shown_api_bases(self) -> list[str]:
        """The servers as pages and logs may show them (credentials redacted)."""
        return [redact_url(u) for u in self.api_bases]

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        # SecretStr already hides AUTH and API_KEY; a password inside API_BASE must not leak either
        for name, value in super().__repr_args__():
            yield name, (redact_urls(value) if name in _URL_FIELDS and isinstance(value, str) else value)

    @property
    def auth_pairs(self) -> list[tuple[str, str]]:
        raw = self.auth.get_secret_value().strip()
        return [tuple(part.strip().split(":", 1)) for part in raw.split(",") if part.strip()]  # type: ignore[misc]

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)

    def model_folder_has_weights(self) -> bool:
        folder = Path(self.model_path).expanduser() if self.model_path else None
        return bool(folder and folder.is_dir() and (folder / "config.json").is_file())

    def resolved_engine(self) -> str:
        """The engine `auto` stands for, by ARCHITECTURE.md §2."""
        if self.engine != "auto":
            return self.engine
        if self.model_folder_has_weights():
            return "llama"
        if self.api_bases:
            return "openai"
        return "ocr"

    def max_memory_map(self) -> dict[int | str, str] | None:
        """`0:15GiB,cpu:30GiB` -> {0: "15GiB", "cpu": "30GiB"} for from_pretrained."""
        if not self.max_memory:
            return None
        result: dict[int | str, str] = {}
        for part in self.max_memory.split(","):
            key, size = (p.strip() for p in part.split(":", 1))
            result[int(key) if key.isdigit() else key.lower()] = size.replace(" ", "")
        return result


def ocr_runtime_installed() -> bool:
    """rapidocr and onnxruntime importable (looked up, not imported: start-up stays light)."""
    from importlib.util import find_spec

    return find_spec("rapidocr") is not None and find_spec("onnxruntime") is not None


def _is_secret(field: str) -> bool:
    info = Settings.model_fields.get(field)
    return bool(_SECRET_NAME.search(field)) or (info is not None and info.annotation is SecretStr)


def shown_value(field: str, value: object) -> str:
    """How a setting's value may appear in a message: quoted, with every secret redacted."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if field == "auth":
        return repr(redact_auth(str(value)))
    if field in _URL_FIELDS:
        return repr(redact_urls(str(value)))
    if _is_secret(field):
        return "'***'"
    return repr(value)


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    name = ENV_PREFIX + field.upper()
    value = shown_value(field, first.get("input"))
    reason = first["msg"].removeprefix("Value error, ")
    if first["type"] == "literal_error":
        reason = "allowed: " + reason.removeprefix("Input should be ").replace("'", "")
    return f"{name}={value} is not allowed ({reason}). Fix it in the environment or .env."


def load_settings(env_file: str | Path | None = None, **overrides: object) -> Settings:
    """Build Settings from the environment (and `env_file` if given), with explicit overrides."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings for entry points; tests build their own with `load_settings`."""
    return load_settings()


def public_settings(settings: Settings) -> dict[str, object]:
    """Every setting that may be written down (an experiment's record): secrets left out, URLs redacted."""
    shown: dict[str, object] = {}
    for name, value in settings.model_dump(mode="json").items():
        if _is_secret(name) or isinstance(getattr(settings, name), SecretStr):
            continue
        shown[name] = redact_urls(str(value)) if name in _URL_FIELDS else value
    return shown

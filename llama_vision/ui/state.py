"""The one object every tab shares: Settings, the engine (created once), and small live state.

No Gradio here and no business logic: the tabs call `llama_vision.pipeline`, `batch`,
`evaluation` and `hardware`; this object only holds what must outlive a single event (the
engine, the memory history for the dashboard plot, per-session stop flags for batches).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.engines import create_engine
from llama_vision.schema import DOCUMENT_EXTENSIONS

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples" / "bundled"
HISTORY_POINTS = 180  # memory samples kept for the dashboard plot (about 6 minutes at 2 s)


@dataclass(frozen=True)
class Sample:
    """A bundled document and its same-named ground truth."""

    label: str
    path: Path
    truth: Path | None


def bundled_samples(folder: Path = SAMPLES_DIR) -> list[Sample]:
    """Bundled documents, labelled from their file names ("fuel_receipt_01" -> "Fuel receipt 01")."""
    if not folder.is_dir():
        return []
    samples = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in DOCUMENT_EXTENSIONS:
            continue
        truth = path.with_suffix(".json")
        label = path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
        samples.append(Sample(label=label, path=path, truth=truth if truth.is_file() else None))
    return samples


class AppState:
    """Holds the shared engine; swapping it (reload with another quantization) is serialised."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine: Engine = engine if engine is not None else create_engine(settings)
        self.engine_lock = threading.RLock()
        self.memory_history: deque[dict[str, Any]] = deque(maxlen=HISTORY_POINTS)
        self._stop_flags: dict[str, threading.Event] = {}
        self.started = time.time()

    # -- engine ------------------------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        return self.engine.name

    @property
    def follows_prompts(self) -> bool:
        return self.engine.capabilities.follows_prompts

    def model_concurrency(self) -> int:
        """How many model-bound events may run at once: N servers, one local model, or cheap OCR."""
        capabilities = self.engine.capabilities
        if capabilities.runs_concurrently:
            return max(1, self.settings.api_concurrency)
        if capabilities.batches:  # a local model: one GPU, one request at a time (batching is inside)
            return 1
        return 2

    def engine_status(self) -> dict[str, Any]:
        try:
            return dict(self.engine.status())
        except Exception as error:  # a status call must never take the header down
            return {"engine": self.engine.name, "loaded": False, "load_error": str(error)}

    def warm_up(self) -> None:
        """Load the engine in the background so the first click does not pay for it."""

        def load() -> None:
            try:
                self.engine.initialize()
            except Exception:  # remembered in engine.load_error and shown in the header
                pass

        threading.Thread(target=load, name="engine-warm-up", daemon=True).start()

    def replace_engine(self, settings: Settings) -> Engine:
        """Unload the current engine and build (not load) one from `settings`."""
        with self.engine_lock:
            try:
                self.engine.unload()
            finally:
                self.settings = settings
                self.engine = create_engine(settings)
            return self.engine

    # -- batch stop flags ----------------------------------------------------------------------
    def stop_flag(self, session: str) -> threading.Event:
        flag = self._stop_flags.get(session)
        if flag is None:
            flag = self._stop_flags[session] = threading.Event()
        return flag

    def request_stop(self, session: str) -> None:
        self.stop_flag(session).set()

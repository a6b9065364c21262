"""Shared pieces of the benchmarks: timing, the figure record, synthetic inputs, the model cache.

Every figure is one dict of the same shape (see `figure`), so the entry point can print them as
one JSON object and docs/performance.md can be a table of them. Timings are medians of several
repeats after a warm-up, and a figure's baseline is always measured in the same run, interleaved
with the measured variant (A B A B ...) so that load from other processes on a shared machine
hits both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SROIE_DIR = ROOT.parent / "shared" / "data" / "sroie-dev"
CACHE_DIR = Path(os.environ.get("LLAMA_VISION_BENCH_CACHE", Path(tempfile.gettempdir()) / "llama_vision_bench"))


# -- timing ---------------------------------------------------------------------------------

# Which clock the in-process figures compare. The development box has 2 cores shared by about 8
# busy processes, where wall time swings by 2x between identical runs; the process's CPU time
# (all its threads) is the work done and barely moves. Wall time is always reported alongside.
# `python -m benchmarks --clock wall` on an idle machine compares wall time instead.
CLOCK = os.environ.get("LLAMA_VISION_BENCH_CLOCK", "cpu")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds on CLOCK, return value) of one call."""
    cpu, wall, value = timed_both(fn)
    return _pick(cpu, wall), value


def timed_both(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU seconds of this process, wall seconds, return value) of one call."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    value = fn()
    return time.process_time() - cpu0, time.perf_counter() - wall0, value


def _pick(cpu: float, wall: float) -> float:
    return cpu if CLOCK == "cpu" else wall


def interleaved(variants: dict[str, Callable[[], Any]], *, repeats: int, warmup: int = 1) -> dict[str, dict[str, Any]]:
    """Run each variant `warmup` times untimed, then `repeats` times in turn (A B A B ...).

    Returns {name: {"median": s on CLOCK, "runs": [...], "wall_median", "wall_runs", "cpu_median",
    "cpu_runs", "last": last return value}}.
    """
    last: dict[str, Any] = {}
    for _ in range(warmup):
        for name, fn in variants.items():
            last[name] = fn()
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    wall: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            c, w, last[name] = timed_both(fn)
            cpu[name].append(c)
            wall[name].append(w)
    out: dict[str, dict[str, Any]] = {}
    for name in variants:
        chosen = cpu[name] if CLOCK == "cpu" else wall[name]
        out[name] = {
            "median": statistics.median(chosen), "runs": [round(t, 4) for t in chosen],
            "cpu_median": round(statistics.median(cpu[name]), 4), "cpu_runs": [round(t, 4) for t in cpu[name]],
            "wall_median": round(statistics.median(wall[name]), 4), "wall_runs": [round(t, 4) for t in wall[name]],
            "last": last.get(name),
        }
    return out


def timing_details(timing: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both clocks for every variant, for a figure's details."""
    return {name: {k: v for k, v in entry.items() if k.startswith(("cpu_", "wall_"))} for name, entry in timing.items()}


def clock_note() -> str:
    if CLOCK == "cpu":
        return "median process CPU seconds (all threads), variants interleaved; wall medians in details"
    return "median wall seconds, variants interleaved; CPU medians in details"


# -- the figure record ----------------------------------------------------------------------


def figure(
    name: str,
    *,
    title: str,
    value: float,
    baseline: float,
    unit: str,
    goal: str,
    met: bool,
    setup: dict[str, Any],
    ratio: float | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One measured figure. `ratio` defaults to value / baseline; `goal` reads like '<= 1.05x'."""
    if ratio is None:
        ratio = value / baseline if baseline else None
    return {
        "name": name,
        "title": title,
        "status": "measured",
        "value": _round(value),
        "baseline": _round(baseline),
        "unit": unit,
        "ratio": _round(ratio),
        "goal": goal,
        "met": bool(met),
        "setup": setup,
        "details": details or {},
    }


def skipped(name: str, *, title: str, goal: str, reason: str, setup: dict[str, Any] | None = None) -> dict[str, Any]:
    """A figure that could not be measured in this run, and why (met is null, not false)."""
    return {
        "name": name, "title": title, "status": "skipped", "value": None, "baseline": None, "unit": None,
        "ratio": None, "goal": goal, "met": None, "reason": reason, "setup": setup or {}, "details": {},
    }


def failed(name: str, *, title: str, goal: str, error: BaseException) -> dict[str, Any]:
    """A figure whose measurement crashed: reported, never hiding the other figures."""
    record = skipped(name, title=title, goal=goal, reason=f"{type(error).__name__}: {error}")
    record["status"] = "error"
    return record


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4 if abs(value) < 100 else 2)
    return value


def machine() -> dict[str, Any]:
    """Where the numbers came from (the 2-core development box is shared, so load matters)."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
    }
    try:
        info["load_average_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return info


# -- synthetic inputs -----------------------------------------------------------------------

_SHOPS = ("CORNER CAFE", "BUNNINGS WAREHOUSE", "METRO FUEL", "CITY BOOKS", "GREEN GROCER", "OFFICE HUB",
          "HARBOUR BAKERY", "NORTH PHARMACY")


def receipt_image(seed: int = 0, size: tuple[int, int] = (720, 1280)) -> Any:
    """A receipt-sized page with shop, ABN, items and totals printed on it (deterministic)."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    y = 40
    lines = [_SHOPS[seed % len(_SHOPS)], "TAX INVOICE", f"ABN 51 824 753 {556 + seed:03d}",
             f"Date {1 + seed % 28:02d}/03/2024   Invoice INV-{1000 + seed}", ""]
    total = 0.0
    for item in range(6 + seed % 5):
        price = round(2.5 + ((seed * 7 + item * 13) % 40) * 0.85, 2)
        total += price
        lines.append(f"Item {item + 1:02d} widget {seed}-{item}      1 x {price:7.2f}")
    gst = total / 11
    lines += ["", f"SUBTOTAL {total - gst:10.2f}", f"GST      {gst:10.2f}", f"TOTAL    {total:10.2f}",
              "Total includes GST", "EFTPOS  Thank you!"]
    for line in lines:
        draw.text((40, y), line, fill="black")
        y += 36
        if y > height - 40:
            break
    return image


def phone_photo(seed: int = 0, size: tuple[int, int] = (4000, 3000)) -> Any:
    """A 12-megapixel 'phone photo' of a receipt: a noisy table-top with a page on it."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    width, height = size
    # Low-frequency shading plus sensor-like noise, so the photo compresses and resizes like one.
    shade = np.linspace(90, 160, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 12, (height, width, 3)).astype(np.float32)
    pixels = np.clip(shade + noise + np.array([10, 0, -10], dtype=np.float32), 0, 255).astype(np.uint8)
    photo = Image.fromarray(pixels, "RGB")
    page = receipt_image(seed, (1400, 2500)).rotate(3, expand=True, fillcolor=(120, 110, 100))
    photo.paste(page, ((width - page.width) // 2, (height - page.height) // 2))
    return photo


# -- the model used by the CPU figures ------------------------------------------------------


def model_folder(size: str = "small") -> Path:
    """The project's own random-weight Mllama (`tiny_model.write_tiny_model`), written once per cache."""
    import hashlib

    from llama_vision import tiny_model

    # keyed on tiny_model.py's source, so a change of sizes or tokenizer writes a fresh checkpoint
    version = hashlib.sha1(Path(tiny_model.__file__).read_bytes()).hexdigest()[:10]
    write_tiny_model = tiny_model.write_tiny_model
    folder = CACHE_DIR / f"mllama-{size}-{version}"
    if not (folder / "TINY_MODEL.json").is_file() or not (folder / "model.safetensors").is_file():
        write_tiny_model(folder, size=size)  # type: ignore[arg-type]
    return folder


def model_parameters(folder: Path) -> int | None:
    try:
        return int(json.loads((folder / "TINY_MODEL.json").read_text())["parameters"])
    except (OSError, ValueError, KeyError):
        return None


def report_json(record: dict[str, Any], out: Path | None, *, indent: int = 1) -> str:
    """Print a benchmark's JSON record and, when `out` is given, keep it there (folders made)."""
    text = json.dumps(record, indent=indent, default=str)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    return text

"""Tab 3 — Hardware and memory: live devices, memory over time, the loaded model, a footprint
estimator for Llama-3.2-11B-Vision, and load / unload / reload with another quantization or device.

Numbers come from `llama_vision.hardware` and `engine.status()`; this tab only lays them out.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from llama_vision.ui.common import in_background
from llama_vision.ui.layout import MODEL_QUEUE, header_html
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from llama_vision.ui.state import AppState

REFRESH_SECONDS = 2.0
GIB = 1024**3
DEVICE_COLUMNS = ["Device", "Name", "Total GiB", "Used GiB", "Free GiB", "Utilisation %"]
APP_DEVICE = "app"  # the devices table's row (and the plot's line) for this process's own memory
QUANT_LABELS = {"bf16": "bf16", "bfloat16": "bf16", "none": "bf16", "8bit": "8-bit", "int8": "8-bit",
                "4bit": "4-bit (NF4)", "nf4": "4-bit (NF4)", "int4": "4-bit (NF4)"}


def _gib(value: Any) -> float | None:
    return round(float(value) / GIB, 2) if isinstance(value, (int, float)) else None


def _size(value: Any) -> str | None:
    """Bytes as a person reads them: MiB for small (tiny test) models, GiB for real ones."""
    if not isinstance(value, (int, float)):
        return None
    return f"{value / GIB:.2f} GiB" if value >= 0.5 * GIB else f"{value / 1024**2:.1f} MiB"


def devices_frame() -> pd.DataFrame:
    from llama_vision import hardware

    rows = []
    for d in hardware.detect_devices():
        util = d.get("utilisation")
        rows.append([d.get("id"), d.get("name"), _gib(d.get("total_bytes")), _gib(d.get("used_bytes")),
                     _gib(d.get("free_bytes")), round(float(util), 1) if util is not None else None])
    # the machine's rows count every program; this row is what the app itself holds
    own = hardware.process_memory()
    rows.append([APP_DEVICE, f"this app (process {own['pid']}, resident memory)", _gib(own["machine_total_bytes"]),
                 _gib(own["rss_bytes"]), None, round(own["cpu_percent"], 1)])
    return pd.DataFrame(rows, columns=DEVICE_COLUMNS)


def sample_memory(state: AppState, devices: pd.DataFrame) -> pd.DataFrame:
    """Append this reading to the shared history (at most one per refresh period, however many
    browsers watch) and return the history for the plot (x: seconds since the app started)."""
    now = time.time()
    if not state.memory_history or now - state.memory_history[-1]["t"] >= REFRESH_SECONDS * 0.75:
        for _, row in devices.iterrows():
            if row["Used GiB"] is not None:
                state.memory_history.append({"t": now, "device": row["Device"], "used": row["Used GiB"]})
    history = list(state.memory_history)
    return pd.DataFrame({"Seconds": [round(h["t"] - state.started, 1) for h in history],
                         "device": [h["device"] for h in history], "Used GiB": [h["used"] for h in history]})


def model_frame(state: AppState) -> pd.DataFrame:
    status = state.engine_status()
    rows: list[list[str]] = [["Engine", status.get("engine", state.engine_name)],
                             ["Loaded", "yes" if status.get("loaded") else "no"]]
    for key, label in (("dtype", "Dtype"), ("quantization", "Quantization"), ("device", "Device"),
                       ("load_seconds", "Load time (s)"), ("model_path", "Model folder"),
                       ("parameters", "Parameters"), ("attn_implementation", "Attention"),
                       ("interface", "Interface"), ("runtime", "Runtime"), ("load_error", "Load error")):
        value = status.get(key)
        if value not in (None, "", [], {}):
            rows.append([label, f"{value:.2f}" if isinstance(value, float) else str(value)])
    if status.get("footprint_bytes"):
        rows.append(["Measured footprint", _size(status["footprint_bytes"])])
    if state.engine_name == "llama" and not status.get("quantization"):
        rows.append(["Configured quantization", state.settings.quantization])
    fraction = state.settings.gpu_memory_fraction
    cap = "whole GPU" if fraction >= 1 else f"{fraction:.0%} of each GPU"
    rows.append(["GPU memory fraction", f"{fraction:g} ({cap}; LLAMA_VISION_GPU_MEMORY_FRACTION"
                 + (")" if state.engine_name == "llama" else ", used by the llama engine)")])
    return pd.DataFrame(rows, columns=["", "Value"])


def device_map_frame(state: AppState) -> pd.DataFrame:
    """Modules and memory per device from the engine's device map (llama only)."""
    status = state.engine_status()
    per_device: dict[str, dict[str, Any]] = {}
    device_map = status.get("device_map") or {}
    if isinstance(device_map, dict):
        for _, device in device_map.items():
            entry = per_device.setdefault(str(device), {"modules": 0, "gib": None})
            entry["modules"] += 1
    memory = status.get("memory") or status.get("memory_per_device") or {}
    if isinstance(memory, dict):
        for device, value in memory.items():
            entry = per_device.setdefault(str(device), {"modules": 0, "gib": None})
            entry["gib"] = _size(value)
    return pd.DataFrame([[d, e["modules"], e["gib"]] for d, e in per_device.items()],
                        columns=["Device", "Modules", "Memory"])


def servers_frame(state: AppState) -> pd.DataFrame:
    servers = state.engine_status().get("servers") or []
    rows = []
    for server in servers:
        healthy = server.get("reachable") and server.get("model_present") is not False
        rows.append([server.get("url"), "healthy" if healthy else "unhealthy", server.get("latency_ms"),
                     server.get("in_flight"), server.get("requests"), server.get("failures"),
                     server.get("health_error") or server.get("last_error") or ""])
    return pd.DataFrame(rows, columns=["Server", "Health", "Latency ms", "In flight", "Requests", "Failures", "Error"])


ESTIMATE_COLUMN = "Estimated GiB"  # weights + runtime overhead: what is compared with free memory
NEEDS_CUDA = "needs a CUDA GPU"


def estimator_note(settings: Any) -> str:
    """Says what the estimator counts, so "does not fit" next to a big free figure is explained."""
    from llama_vision import hardware

    margin = hardware.RUNTIME_MARGIN_BYTES / GIB
    fraction = settings.gpu_memory_fraction
    cap = (f" GPUs count at most LLAMA_VISION_GPU_MEMORY_FRACTION={fraction:g} of their memory."
           if fraction < 1 else "")
    return ("### Will Llama-3.2-11B-Vision fit?\n"
            f"**Weights GiB** is the model's weights alone; **{ESTIMATE_COLUMN}** adds {margin:.1f} GiB of runtime "
            "overhead (activations, KV cache, vision states, CUDA context), and that sum is compared with each "
            f"device's free memory. 8-bit and 4-bit (NF4) use bitsandbytes' CUDA kernels: on a CPU or Apple GPU "
            f"they say \"{NEEDS_CUDA}\".{cap}")


def _usable_bytes(device: dict[str, Any], fraction: float) -> Any:
    """Free memory, capped on a GPU by the per-process fraction the engine applies."""
    free = device.get("free_bytes")
    if device.get("kind") == "cuda" and fraction < 1 and isinstance(device.get("total_bytes"), (int, float)):
        return min(free or 0, int(device["total_bytes"] * fraction))
    return free


def estimator_frame(fraction: float = 1.0) -> pd.DataFrame:
    """Llama-3.2-11B-Vision per quantization against each device: fits / offload / does not fit,
    or "needs a CUDA GPU" for 8-bit and NF4 anywhere else."""
    from llama_vision import hardware

    devices = hardware.detect_devices()
    rows = []
    for quantization, estimate in hardware.estimate_footprint().items():
        row: dict[str, Any] = {"Quantization": QUANT_LABELS.get(quantization, quantization),
                               "Weights GiB": estimate.get("total_gib"),
                               ESTIMATE_COLUMN: round(estimate["with_runtime_bytes"] / GIB, 2)}
        for device in devices:
            usable = _usable_bytes(device, fraction)
            column = f"{device.get('id')} ({_gib(usable)} GiB free)"
            if not hardware.quantization_runs_on(quantization, device):
                row[column] = NEEDS_CUDA
            else:
                row[column] = hardware.fit_verdict(estimate, {**device, "free_bytes": usable})
        rows.append(row)
    return pd.DataFrame(rows)


def hardware_report(state: AppState) -> dict[str, Any]:
    """The dashboard as JSON for API clients (`/hardware`): the same numbers the tables show."""
    from llama_vision import hardware

    status = {k: v for k, v in state.engine_status().items() if k not in ("device_map",)}
    return {"devices": hardware.detect_devices(), "app_process": hardware.process_memory(),
            "engine": status, "gpu_memory_fraction": state.settings.gpu_memory_fraction,
            "runtime_overhead_bytes": hardware.RUNTIME_MARGIN_BYTES,
            "footprint": hardware.estimate_footprint(),
            "estimator": estimator_frame(state.settings.gpu_memory_fraction).to_dict("records")}


def _live_panels(state: AppState) -> tuple[Any, ...]:
    """Devices, memory plot, loaded model, device map and servers (refreshed by the timer)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            devices = gr.Dataframe(headers=DEVICE_COLUMNS, label="Devices (live)", interactive=False, elem_classes="lv-table",
                                   elem_id="dash-devices")
            plot = gr.LinePlot(x="Seconds", y="Used GiB", color="device",
                               title="Memory used over time (\"app\" is this app's own process)",
                               height=260, elem_id="dash-plot", x_title="seconds since the app started",
                               y_title="GiB used")
        with gr.Column(scale=2, min_width=320):
            model = gr.Dataframe(headers=["", "Value"], label="Loaded model", interactive=False, elem_classes="lv-table",
                                 elem_id="dash-model")
            device_map = gr.Dataframe(headers=["Device", "Modules", "Memory"], label="Device map (per device)",
                                      interactive=False, elem_classes="lv-table", visible=state.engine_name == "llama")
            servers = gr.Dataframe(label="Servers", interactive=False, elem_classes="lv-table", visible=state.engine_name == "openai",
                                   elem_id="dash-servers")
    return devices, plot, model, device_map, servers


def _load_controls(state: AppState) -> tuple[Any, ...]:
    """Quantization and device pickers, Load / Unload / Reload, and the status line."""
    with gr.Group():
        gr.Markdown("### Load, unload or reload the model")
        with gr.Row():
            quantization = gr.Dropdown([("bf16 / fp16 (none)", "none"), ("8-bit", "8bit"), ("4-bit NF4", "4bit")],
                                       value=state.settings.quantization, label="Quantization",
                                       interactive=state.engine_name == "llama")
            device = gr.Dropdown(["auto", "cpu", "cuda", "cuda:0", "cuda:1", "mps"], value=state.settings.device,
                                 label="Device", allow_custom_value=True, interactive=state.engine_name == "llama")
        with gr.Row():
            load = gr.Button("Load", variant="primary", elem_id="dash-load")
            unload = gr.Button("Unload", elem_id="dash-unload")
            reload = gr.Button("Reload with these settings", elem_id="dash-reload")
        load_status = gr.Markdown(elem_id="dash-load-status")
    return quantization, device, load, unload, reload, load_status


def _load_with_progress(state: AppState, progress: gr.Progress, verb: str) -> str:
    """Load in the background and move the progress bar while we wait (loading reports no steps)."""
    engine = state.engine
    started = time.monotonic()
    failure: Exception | None = None
    try:
        for _ in in_background(lambda emit: engine.initialize(), tick=0.25):
            elapsed = time.monotonic() - started
            progress(min(0.95, elapsed / (elapsed + 20)), desc=f"{verb} {engine.name}… {elapsed:.0f} s")
    except Exception as error:  # shown in the tab; the app stays up
        failure = error
    progress(1.0, desc="done")
    if failure is not None:
        return f"**The model did not load.** {esc(failure)}"
    return f"**{engine.name}** loaded in {engine.load_seconds or 0:.1f} s."


def _reload(state: AppState, quant: str, dev: str, progress: gr.Progress) -> str:
    from llama_vision.config import load_settings
    from llama_vision.errors import LlamaVisionError

    try:
        values = state.settings.model_dump()
        values.update(quantization=quant or state.settings.quantization, device=dev or state.settings.device)
        settings = load_settings(env_file=None, **values)
    except LlamaVisionError as error:
        return f"**Not reloaded.** {esc(error)}"
    progress(0.02, desc="Unloading…")
    state.replace_engine(settings)
    return _load_with_progress(state, progress, "Reloading")


def build(state: AppState, header: gr.HTML, demo: gr.Blocks) -> None:
    outputs = list(_live_panels(state))
    gr.Markdown(estimator_note(state.settings), elem_id="dash-estimator-note")
    estimator = gr.Dataframe(label="Footprint estimator", interactive=False, elem_classes="lv-table", wrap=True, elem_id="dash-estimator")
    quantization, device, load, unload, reload, load_status = _load_controls(state)
    timer = gr.Timer(REFRESH_SECONDS)

    def snapshot() -> tuple[Any, ...]:
        frame = devices_frame()
        return (frame, sample_memory(state, frame), model_frame(state), device_map_frame(state),
                servers_frame(state))

    def estimate() -> pd.DataFrame:
        return estimator_frame(state.settings.gpu_memory_fraction)

    def do_load(progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        return _load_with_progress(state, progress, "Loading"), header_html(state)

    def do_unload() -> tuple[str, str]:
        with state.engine_lock:
            state.engine.unload()
        return f"**{state.engine_name}** unloaded; memory released.", header_html(state)

    def do_reload(quant: str, dev: str, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        return _reload(state, quant, dev, progress), header_html(state)

    model_queue = {"concurrency_id": MODEL_QUEUE, "concurrency_limit": state.model_concurrency()}
    # the page's 2 s refresh is internal (private); /hardware_snapshot (page load) and /hardware answer clients
    timer.tick(snapshot, None, outputs, api_name="hardware_refresh", show_progress="hidden",
               concurrency_limit=None, api_visibility="private")
    load.click(do_load, None, [load_status, header], api_name="load_model", **model_queue)
    unload.click(do_unload, None, [load_status, header], api_name="unload_model", **model_queue)
    reload.click(do_reload, [quantization, device], [load_status, header], api_name="reload_model", **model_queue)
    # first paint and the estimator (which does not change while the app runs) on page load
    demo.load(snapshot, None, outputs, api_name="hardware_snapshot", show_progress="hidden")
    demo.load(estimate, None, estimator, api_name="footprint_estimate", show_progress="hidden")

    def hardware() -> dict:
        """Devices with live memory, this app's own process memory, the loaded engine, and the estimated
        memory of Llama-3.2-11B-Vision per quantization (weights, and weights + runtime overhead)."""
        return hardware_report(state)

    gr.api(hardware, api_name="hardware", concurrency_limit=None)

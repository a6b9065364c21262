"""Plain-text and JSON views for a terminal: a Result's readable summary and the hardware report.

The command line prints these; nothing here parses arguments or runs an engine.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.names import printable

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.result import Result


def show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_SUMMARY_CHECKS = ("abn_valid", "gst_consistent", "totals_consistent", "date_valid", "tax_invoice_required",
                   "abn_active", "gst_registered_on_date", "supplier_name_matches_abn")


def format_result(result: Result) -> str:
    """A readable summary: type, key fields, verdict, missing elements, recommendations."""
    from llama_vision.fields import ALL_FIELDS

    seconds = (result.timings or {}).get("total")
    head = f"{result.file}: {result.document_type or 'unknown'} ({result.engine}, {result.prompt}"
    head += f", {seconds:.2f} s)" if seconds is not None else ")"
    lines = [head]
    fields = result.fields or {}
    shown = [(name, fields.get(name)) for name in ALL_FIELDS if name != "items" and fields.get(name) not in (None, "")]
    width = max((len(name) for name, _ in shown), default=0)
    evidence = result.evidence or {}

    def sure(name: str) -> str:  # the field's confidence, where the engine measured one
        conf = evidence[name].confidence if name in evidence else None
        return f"  ({conf:.2f})" if conf is not None else ""

    lines += [f"  {name:<{width}}  {show_value(value)}{sure(name)}" for name, value in shown]
    items = fields.get("items") or []
    for item in items[:20]:
        parts = [str(item.get(k)) for k in ("quantity", "description") if item.get(k)]
        amount = item.get("amount")
        lines.append(f"    - {' x '.join(parts) if parts else '(item)'}" + (f"  {amount}" if amount else ""))
    if len(items) > 20:
        lines.append(f"    ... {len(items) - 20} more items")
    compliance = result.compliance or {}
    if compliance:
        lines.append(f"  verdict: {compliance.get('verdict')} (score {compliance.get('score')}/100)")
        checks = [f"{k}={show_value(compliance[k])}" for k in _SUMMARY_CHECKS if compliance.get(k) is not None]
        if "tax_invoice_required" in compliance and compliance["tax_invoice_required"] is None:
            checks.append("tax_invoice_required=unknown (the total could not be read)")
        if compliance.get("duplicate_of"):
            checks.append(f"duplicate_of={compliance['duplicate_of']}")
        if checks:
            lines.append("  checks: " + ", ".join(checks))
        if compliance.get("missing_elements"):
            lines.append("  missing: " + ", ".join(compliance["missing_elements"]))
        for recommendation in compliance.get("recommendations") or []:
            lines.append(f"  * {recommendation}")
    if result.status == "ok":
        review = result.review
        lines.append("  review: " + ("needed - " + "; ".join(review.reasons) if review.needed else "not needed"))
    for warning in result.warnings:
        lines.append(f"  warning: {warning}")
    return "\n".join(printable(line) for line in lines)  # a name or a field may hold ESC or a newline


def jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def hardware_report(settings: Settings) -> dict[str, Any]:
    """Devices, live memory, footprint per quantization and whether the model fits (JSON-able)."""
    from llama_vision import hardware

    devices = hardware.detect_devices()
    report: dict[str, Any] = {
        "devices": devices,
        "memory": hardware.memory_snapshot(),
        "footprint": hardware.estimate_footprint(),
    }
    fit_summary = getattr(hardware, "fit_summary", None)
    if callable(fit_summary):
        report["fit"] = fit_summary(devices)
    nvml_error = getattr(hardware, "nvml_error", None)
    if callable(nvml_error):
        report["nvml_error"] = nvml_error()
    report["settings"] = {"engine": settings.resolved_engine(), "device": settings.device,
                          "quantization": settings.quantization, "dtype": settings.dtype}
    return jsonable(report)


def _gib(value: Any) -> str:
    return f"{value / 1024**3:.1f} GiB" if isinstance(value, (int, float)) else "?"


def format_hardware(report: dict[str, Any]) -> str:
    lines = ["Devices:"]
    for device in report.get("devices") or []:
        if not isinstance(device, dict):
            lines.append(f"  {device}")
            continue
        extra = f", {device['cores']} cores" if device.get("cores") else ""
        lines.append(f"  {str(device.get('id', '?')):<8} {str(device.get('name', '')):<28} "
                     f"{_gib(device.get('total_bytes'))} total, {_gib(device.get('free_bytes'))} free{extra}")
    if report.get("nvml_error"):
        lines.append(f"  (no NVIDIA GPU information: {report['nvml_error']})")
    fit = report.get("fit") or {}
    lines.append("Llama 3.2 11B Vision footprint (weights; with runtime margin) and fit:")
    footprint = report.get("footprint") or {}
    for quantization, entry in (footprint.items() if isinstance(footprint, dict) else []):
        if isinstance(entry, dict):
            size = f"{_gib(entry.get('total_bytes'))} ({_gib(entry.get('with_runtime_bytes'))})"
        else:
            size = str(entry)
        lines.append(f"  {quantization:<6} {size:<24} {fit.get(quantization, '')}")
    settings = report.get("settings") or {}
    if settings:
        lines.append("Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    return "\n".join(lines)

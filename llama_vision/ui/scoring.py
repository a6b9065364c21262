"""Thin adapters from the comparison tab to `evaluation` and `prompts`.

The rules for "is this field right" live in `llama_vision.evaluation`; this module only finds
the function and shapes its answer for a table. The fallback (exact match of normalised values)
exists so the tab still works while evaluation is being built or if its API moves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llama_vision.errors import DocumentError


def load_truth(path: str | Path) -> dict[str, Any]:
    """A ground-truth JSON: `{"fields": {...}}`, a bare field dict, or SROIE's keys."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DocumentError(f"{Path(path).name} is not readable JSON ({error}).",
                            hint="Upload the same-named .json ground truth, e.g. {\"fields\": {\"total\": \"12.30\"}}.") from None
    if not isinstance(data, dict):
        raise DocumentError(f"{Path(path).name} holds no JSON object.", hint="Use {\"fields\": {...}}.")
    try:
        from llama_vision import evaluation

        loader = getattr(evaluation, "truth_fields", None) or getattr(evaluation, "normalise_truth", None)
        if loader is not None:
            return dict(loader(data))
    except ImportError:
        pass
    fields = data.get("fields", data)
    if "company" in fields and "supplier_name" not in fields:  # SROIE keys
        fields = {"supplier_name": fields.get("company"), "date": fields.get("date"),
                  "supplier_address": fields.get("address"), "total": fields.get("total")}
    from llama_vision.fields import normalise_fields

    normalised, _ = normalise_fields({k: v for k, v in fields.items() if v is not None})
    return {k: v for k, v in normalised.items() if k in fields and v not in (None, "", [])}


def field_matches(name: str, predicted: Any, expected: Any) -> bool:
    try:
        from llama_vision import evaluation

        matcher = getattr(evaluation, "field_matches", None) or getattr(evaluation, "values_match", None)
        if matcher is not None:
            return bool(matcher(name, predicted, expected))
    except ImportError:
        pass
    if isinstance(expected, str) and isinstance(predicted, str):
        return " ".join(predicted.lower().split()) == " ".join(expected.lower().split())
    return predicted == expected


def scored_fields(truth: dict[str, Any]) -> list[str]:
    """Fields a score counts: those the ground truth states (line items are compared elsewhere)."""
    return [name for name, value in truth.items() if name != "items" and value not in (None, "")]

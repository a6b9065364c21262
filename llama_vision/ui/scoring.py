"""Thin adapter from the comparison tab to `llama_vision.evaluation` (which owns the rules for
"is this field right": normalisation, what counts as present, spurious values)."""

from __future__ import annotations

from typing import Any

from llama_vision.evaluation import Truth, load_truth, score_result
from llama_vision.result import Result

__all__ = ["Truth", "load_truth", "score", "accuracy"]


def score(result: dict[str, Any], truth: Truth) -> dict[str, Any]:
    """evaluation.score_result for a Result given as its dict."""
    return score_result(Result.model_validate(result), truth)


def accuracy(scored: dict[str, Any]) -> tuple[int, int]:
    """(correct, present): fields the truth states, and how many of them the result got right."""
    entries = [e for e in (scored.get("fields") or {}).values() if not e.get("absent")]
    return sum(bool(e.get("correct")) for e in entries), len(entries)

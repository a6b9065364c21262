"""How one Result is scored against its truth: normalised comparison, soft text similarity, the
letters-and-digits verdict and compliance agreement (the rules are in the package docstring)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from llama_vision.evaluation.truth import Truth
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS, BOOL_FIELDS, MONEY_FIELDS, kind_of

COMPLIANCE_KEYS: tuple[str, ...] = ("abn_valid", "gst_consistent", "tax_invoice_required", "missing_elements")
SOFT_THRESHOLD = 0.8
#: Fields compared as text (case-folded, with a soft score); every other kind compares normalised.
TEXT_FIELDS: tuple[str, ...] = tuple(f for f in ALL_FIELDS if kind_of(f) == "text")
METHOD = (
    "accuracy = exact match after normalisation (dates DD/MM/YYYY, money 0.00, ABN digits; text "
    "case-folded, spaces collapsed, end punctuation stripped) / fields present in the ground truth; "
    f"soft = text similarity >= {SOFT_THRESHOLD}; spurious = a value where the truth is null"
)


# -- comparing ------------------------------------------------------------------------------

_CURRENCY_PREFIX = re.compile(r"^\s*(?:[A-Za-z]{1,3}\s*)?[$€£¥]?\s*")


def _strip_end_punctuation(text: str) -> str:
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]).startswith(("P", "S")):
        start += 1
    while end > start and unicodedata.category(text[end - 1]).startswith(("P", "S")):
        end -= 1
    return text[start:end]


def normalise_for_comparison(name: str, value: Any) -> Any:
    """The comparable form of one field's value (None when absent)."""
    from llama_vision.fields import normalise_money, normalise_value

    if name in BOOL_FIELDS:
        return bool(normalise_value(name, value))
    normalised = normalise_value(name, value)
    if normalised is None and name in MONEY_FIELDS and value is not None:
        normalised = normalise_money(_CURRENCY_PREFIX.sub("", str(value)))  # "RM49.4", "AUD12"
    if normalised is None or kind_of(name) not in (None, "text"):
        return normalised
    text = re.sub(r"\s+", " ", str(normalised).casefold()).strip()
    return _strip_end_punctuation(text).strip() or None


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def letters_and_digits(value: Any) -> str:
    """Only the letters and digits of a value, case-folded: the `letters_digits` comparison."""
    return "".join(c for c in str(value if value is not None else "").casefold() if c.isalnum())


@dataclass
class FieldScore:
    present: int = 0  # documents whose truth has a value
    correct: int = 0  # exact after normalisation
    soft_correct: int = 0  # similarity >= SOFT_THRESHOLD (text fields)
    absent: int = 0  # documents whose truth says null
    spurious: int = 0  # ... where the engine still gave a value

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.present if self.present else None

    @property
    def soft_accuracy(self) -> float | None:
        return self.soft_correct / self.present if self.present else None

    def to_dict(self, *, text: bool) -> dict[str, Any]:
        return {
            "present": self.present, "correct": self.correct, "accuracy": round_rate(self.accuracy),
            "soft_correct": self.soft_correct if text else None,
            "soft_accuracy": round_rate(self.soft_accuracy) if text else None,
            "absent": self.absent, "spurious": self.spurious,
        }


def round_rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _compliance_agreement(expected: dict[str, Any], got: dict[str, Any] | None) -> dict[str, bool]:
    got = got or {}
    agreement = {}
    for key in COMPLIANCE_KEYS:
        if key not in expected:
            continue
        if key == "missing_elements":
            agreement[key] = set(expected[key] or []) == set(got.get(key) or []) if got else False
        else:
            agreement[key] = key in got and expected[key] == got.get(key)
    if "verdict" in expected:
        agreement["verdict"] = expected["verdict"] == got.get("verdict")
    return agreement


def score_result(result: Result, truth: Truth) -> dict[str, Any]:
    """One document's comparison: per field (expected, got, correct, soft), type and compliance."""
    ok = result.status == "ok"
    fields: dict[str, dict[str, Any]] = {}
    for name, expected_raw in truth.fields.items():
        if name == "items":
            continue
        expected = normalise_for_comparison(name, expected_raw)
        got = normalise_for_comparison(name, result.fields.get(name)) if ok else None
        absent = expected is None or (name in BOOL_FIELDS and expected_raw is None)
        entry: dict[str, Any] = {"expected": expected, "got": got, "absent": absent}
        if absent:
            entry["spurious"] = got is not None and got is not False
        else:
            entry["correct"] = ok and got == expected
            if name in TEXT_FIELDS:
                entry["soft"] = ok and got is not None and similarity(str(got), str(expected)) >= SOFT_THRESHOLD
                kept = letters_and_digits(expected)
                entry["letters_digits"] = ok and bool(kept) and letters_and_digits(got) == kept
        fields[name] = entry
    scored: dict[str, Any] = {"file": result.file, "status": result.status, "error": result.error, "fields": fields}
    if truth.document_type:
        scored["document_type"] = {"expected": truth.document_type, "got": result.document_type,
                                   "correct": ok and result.document_type == truth.document_type}
    if truth.compliance:
        agreement = _compliance_agreement(truth.compliance, result.compliance if ok else None)
        exact_keys = [k for k in COMPLIANCE_KEYS if k in agreement]
        scored["compliance"] = {"agreement": agreement, "exact": bool(exact_keys) and all(agreement[k] for k in exact_keys)}
    return scored

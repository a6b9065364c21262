"""Results vs ground truth -> per-field accuracy, document-type and compliance agreement.

A folder holds documents and same-named `.json` ground truth, in one of two styles:

- ours: the Result's field keys, at the top level or under `"fields"` (as `make-samples`
  writes them), with optional `"document_type"` and `"compliance"` objects;
- SROIE: `company`, `date`, `address`, `total` (company -> supplier_name, address ->
  supplier_address), labels in their printed form.

How a field is scored (documented in the report's `method`):
- Both sides go through `fields.normalise_value` (dates to DD/MM/YYYY, money to "12.30", ABN to
  11 digits...). Text fields are then compared as case-folded, whitespace-collapsed strings with
  punctuation stripped at both ends.
- The headline is EXACT agreement after that normalisation: correct / present in the ground
  truth. A field whose truth is null is not "present"; predicting a value for it counts as
  `spurious` (an invented value), reported separately.
- Text fields also get a softer rate: character similarity (difflib ratio) >= 0.8, shown as its
  own column and never mixed into the headline.
- And a secondary `letters_digits` verdict per text field in the details: equal after keeping
  only letters and digits (case-folded), the comparison SROIE results are usually quoted with
  ("POPULAR BOOK CO. (M) SDN BHD" = "Popular Book Co (M) Sdn. Bhd."). The OCR benchmarks show it
  beside the headline; it is never mixed into it.
- The two statement flags treat null as false on both sides (not seen = not there).
- `items` are not scored field by field (their count and order vary legitimately).
- A document that failed (status=error) scores every one of its truth fields as wrong.
- Compliance, when the truth carries it: `abn_valid`, `gst_consistent`, `tax_invoice_required`
  and `missing_elements` (as a set) must all agree for a document to count as exactly right;
  each key's agreement and the verdict's are reported too.
"""

from __future__ import annotations

import difflib
import json
import re
import statistics
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import DocumentError
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS, BOOL_FIELDS, DOCUMENT_EXTENSIONS, MONEY_FIELDS, kind_of

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine

__all__ = [
    "EvaluationReport", "FieldScore", "Truth", "evaluate", "find_pairs", "letters_and_digits", "load_truth",
    "score_result",
]

SROIE_KEYS = {"company": "supplier_name", "address": "supplier_address", "date": "date", "total": "total"}
COMPLIANCE_KEYS: tuple[str, ...] = ("abn_valid", "gst_consistent", "tax_invoice_required", "missing_elements")
SOFT_THRESHOLD = 0.8
#: Fields compared as text (case-folded, with a soft score); every other kind compares normalised.
TEXT_FIELDS: tuple[str, ...] = tuple(f for f in ALL_FIELDS if kind_of(f) == "text")
METHOD = (
    "accuracy = exact match after normalisation (dates DD/MM/YYYY, money 0.00, ABN digits; text "
    "case-folded, spaces collapsed, end punctuation stripped) / fields present in the ground truth; "
    f"soft = text similarity >= {SOFT_THRESHOLD}; spurious = a value where the truth is null"
)


# -- ground truth ---------------------------------------------------------------------------


@dataclass
class Truth:
    fields: dict[str, Any]  # only the keys the truth speaks about (null = "not on the document")
    document_type: str | None = None
    compliance: dict[str, Any] | None = None
    style: str = "fields"  # "fields" or "sroie"


def load_truth(path: str | Path) -> Truth:
    """Read one ground-truth JSON in either style. Raises DocumentError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentError(f"Ground truth '{path.name}' cannot be read ({error}).", hint="Fix or remove the file.") from None
    if not isinstance(data, dict):
        raise DocumentError(f"Ground truth '{path.name}' is not a JSON object.", hint="Fix or remove the file.")
    if "fields" not in data and ({"company", "address"} & data.keys()):
        fields = {ours: data[theirs] for theirs, ours in SROIE_KEYS.items() if theirs in data}
        return Truth(fields=fields, style="sroie")
    source = data["fields"] if isinstance(data.get("fields"), dict) else data
    fields = {k: v for k, v in source.items() if k in ALL_FIELDS}
    compliance = data.get("compliance") if isinstance(data.get("compliance"), dict) else None
    document_type = data.get("document_type") if isinstance(data.get("document_type"), str) else None
    return Truth(fields=fields, document_type=document_type, compliance=compliance)


def find_pairs(directory: str | Path) -> list[tuple[Path, Path]]:
    """(document, truth) pairs under `directory`, sorted; documents without truth are left out."""
    folder = Path(directory)
    if not folder.is_dir():
        raise DocumentError(f"'{folder}' is not a folder.", hint="Pass a folder of documents with same-named .json files.")
    pairs = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if path.suffix.lower() in DOCUMENT_EXTENSIONS and path.is_file() and not path.name.startswith("."):
            truth = path.with_suffix(".json")
            if truth.is_file():
                pairs.append((path, truth))
    if not pairs:
        raise DocumentError(
            f"No documents with ground truth in '{folder}'.",
            hint="Each document needs a same-named .json next to it (receipt.jpg + receipt.json).",
        )
    return pairs


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
            "present": self.present, "correct": self.correct, "accuracy": _round(self.accuracy),
            "soft_correct": self.soft_correct if text else None,
            "soft_accuracy": _round(self.soft_accuracy) if text else None,
            "absent": self.absent, "spurious": self.spurious,
        }


def _round(value: float | None) -> float | None:
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


# -- the report -----------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    directory: str
    engine: str
    prompt_style: str
    documents: int = 0
    errors: int = 0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    document_type_present: int = 0
    document_type_correct: int = 0
    compliance_documents: int = 0
    compliance_exact: int = 0
    compliance_keys: dict[str, list[int]] = field(default_factory=dict)  # key -> [correct, present]
    seconds: list[float] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    truth_styles: dict[str, int] = field(default_factory=dict)

    def add(self, result: Result, truth: Truth) -> dict[str, Any]:
        scored = score_result(result, truth)
        self.documents += 1
        self.errors += result.status == "error"
        self.truth_styles[truth.style] = self.truth_styles.get(truth.style, 0) + 1
        total = result.timings.get("total") if result.timings else None
        if total is not None:
            self.seconds.append(float(total))
        for name, entry in scored["fields"].items():
            score = self.fields.setdefault(name, FieldScore())
            if entry["absent"]:
                score.absent += 1
                score.spurious += entry["spurious"]
            else:
                score.present += 1
                score.correct += entry["correct"]
                score.soft_correct += entry.get("soft", entry["correct"])
        if "document_type" in scored:
            self.document_type_present += 1
            self.document_type_correct += scored["document_type"]["correct"]
        if "compliance" in scored:
            self.compliance_documents += 1
            self.compliance_exact += scored["compliance"]["exact"]
            for key, agreed in scored["compliance"]["agreement"].items():
                tally = self.compliance_keys.setdefault(key, [0, 0])
                tally[0] += agreed
                tally[1] += 1
        self.details.append(scored)
        return scored

    # -- headline numbers
    @property
    def present(self) -> int:
        return sum(s.present for s in self.fields.values())

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.fields.values())

    @property
    def accuracy(self) -> float | None:
        """Micro-averaged exact accuracy over every (document, field) the truth has a value for."""
        return self.correct / self.present if self.present else None

    @property
    def soft_accuracy(self) -> float | None:
        text = [self.fields[f] for f in TEXT_FIELDS if f in self.fields]
        present = sum(s.present for s in text)
        return sum(s.soft_correct for s in text) / present if present else None

    @property
    def mean_seconds(self) -> float | None:
        return statistics.fmean(self.seconds) if self.seconds else None

    def _ordered_fields(self) -> list[str]:
        return [f for f in ALL_FIELDS if f in self.fields]

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "directory": self.directory, "engine": self.engine, "prompt_style": self.prompt_style,
            "documents": self.documents, "errors": self.errors, "truth_styles": self.truth_styles,
            "method": METHOD,
            "accuracy": _round(self.accuracy), "correct": self.correct, "present": self.present,
            "soft_text_accuracy": _round(self.soft_accuracy),
            "fields": {f: self.fields[f].to_dict(text=f in TEXT_FIELDS) for f in self._ordered_fields()},
            "document_type": None, "compliance": None,
            "mean_seconds": _round(self.mean_seconds),
        }
        if self.document_type_present:
            data["document_type"] = {
                "present": self.document_type_present, "correct": self.document_type_correct,
                "accuracy": _round(self.document_type_correct / self.document_type_present),
            }
        if self.compliance_documents:
            data["compliance"] = {
                "documents": self.compliance_documents, "exact": self.compliance_exact,
                "exact_rate": _round(self.compliance_exact / self.compliance_documents),
                "keys": {k: {"correct": c, "present": p, "accuracy": _round(c / p)} for k, (c, p) in self.compliance_keys.items()},
            }
        if details:
            data["details"] = self.details
        return data

    def format_table(self) -> str:
        """A plain-text table for the terminal."""
        def pct(value: float | None) -> str:
            return f"{value * 100:6.1f}%" if value is not None else "      -"

        lines = [
            f"Evaluation of {self.documents} documents in {self.directory} (engine {self.engine}, prompt "
            f"{self.prompt_style}): {self.errors} failed"
            + (f", {self.mean_seconds:.2f} s per document" if self.mean_seconds is not None else ""),
            "",
            f"{'field':<24}{'present':>8}{'correct':>8}{'accuracy':>10}{'soft>=0.8':>11}{'spurious':>10}",
        ]
        for name in self._ordered_fields():
            s = self.fields[name]
            if not s.present and not s.spurious:
                continue  # never on these documents and never invented: nothing to say (JSON keeps it)
            soft = pct(s.soft_accuracy) if name in TEXT_FIELDS else "      -"
            lines.append(
                f"{name:<24}{s.present:>8}{s.correct:>8}{pct(s.accuracy):>10}{soft:>11}"
                f"{(str(s.spurious) + '/' + str(s.absent)) if s.absent else '-':>10}"
            )
        lines.append(f"{'all fields (exact)':<24}{self.present:>8}{self.correct:>8}{pct(self.accuracy):>10}"
                     f"{pct(self.soft_accuracy):>11}")
        if self.document_type_present:
            lines.append(f"document type: {self.document_type_correct}/{self.document_type_present} "
                         f"({pct(self.document_type_correct / self.document_type_present).strip()})")
        if self.compliance_documents:
            keys = ", ".join(f"{k} {c}/{p}" for k, (c, p) in self.compliance_keys.items())
            lines.append(f"compliance exactly right: {self.compliance_exact}/{self.compliance_documents} "
                         f"({pct(self.compliance_exact / self.compliance_documents).strip()}); {keys}")
        failed = [d for d in self.details if d["status"] == "error"]
        for entry in failed[:10]:
            lines.append(f"failed: {entry['file']}: {entry['error']}")
        if len(failed) > 10:
            lines.append(f"... and {len(failed) - 10} more failures")
        lines.append("")
        lines.append("accuracy: exact after normalisation / present in the truth; soft: text similarity >= 0.8; "
                     "spurious: values invented where the truth is null (of how many)")
        return "\n".join(lines)


def evaluate(
    directory: str | Path,
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    limit: int | None = None,
    progress: bool = True,
    concurrency: int | None = None,
) -> EvaluationReport:
    """Run every document with ground truth in `directory` through the pipeline and score it.

    `limit` takes the first N documents (sorted by path). `progress` shows a tqdm bar on stderr
    when stderr is a terminal. Raises DocumentError for a missing folder or no pairs.
    """
    from llama_vision.batch import _results, input_keys

    pairs = find_pairs(directory)
    if limit is not None:
        pairs = pairs[: max(limit, 0)]
    truths = [load_truth(truth) for _, truth in pairs]
    paths = [document for document, _ in pairs]
    keys = input_keys(paths, Path(directory).absolute())
    prompt_name = prompt_style if engine.capabilities.follows_prompts else "rules"
    report = EvaluationReport(directory=str(directory), engine=engine.name, prompt_style=prompt_name)
    ordered: dict[int, tuple[Result, Truth]] = {}
    bar = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # the bar is a nicety, never a reason to fail
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=len(paths), file=sys.stderr, unit="doc", desc="evaluate", disable=None, leave=False)
    try:
        for index, result in _results(paths, engine=engine, prompt_style=prompt_style, concurrency=concurrency):
            ordered[index] = (result.model_copy(update={"file": keys[index]}), truths[index])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    for index in sorted(ordered):  # details in input order, whatever order documents finished in
        report.add(*ordered[index])
    return report

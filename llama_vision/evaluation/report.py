"""The evaluation report: per-field accuracy, document type, compliance agreement, details per
document, as JSON and as a table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from llama_vision.evaluation.calibration import Pair, calibration_summary
from llama_vision.evaluation.scoring import METHOD, TEXT_FIELDS, FieldScore, round_rate, score_result
from llama_vision.evaluation.truth import Truth
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS


def _confidence(result: Result, name: str) -> float | None:
    """The field's measured confidence; 0 when the engine read nothing; None when it measures nothing."""
    if result.status != "ok" or result.fields.get(name) in (None, "", False):
        return 0.0 if result.evidence or result.status != "ok" else None
    item = result.evidence.get(name)
    return item.confidence if item is not None else None


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
    review_threshold: float = 0.8
    # field -> (confidence, right) for every field the truth has a value for and the engine
    # measured a confidence for (a field the engine left empty counts as confidence 0)
    confidences: dict[str, list[Pair]] = field(default_factory=dict)

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
                conf = _confidence(result, name)
                if conf is not None:
                    self.confidences.setdefault(name, []).append((conf, bool(entry["correct"])))
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
            "accuracy": round_rate(self.accuracy), "correct": self.correct, "present": self.present,
            "soft_text_accuracy": round_rate(self.soft_accuracy),
            "fields": {f: self.fields[f].to_dict(text=f in TEXT_FIELDS) for f in self._ordered_fields()},
            "document_type": None, "compliance": None,
            "mean_seconds": round_rate(self.mean_seconds),
        }
        if self.document_type_present:
            data["document_type"] = {
                "present": self.document_type_present, "correct": self.document_type_correct,
                "accuracy": round_rate(self.document_type_correct / self.document_type_present),
            }
        if self.compliance_documents:
            data["compliance"] = {
                "documents": self.compliance_documents, "exact": self.compliance_exact,
                "exact_rate": round_rate(self.compliance_exact / self.compliance_documents),
                "keys": {k: {"correct": c, "present": p, "accuracy": round_rate(c / p)} for k, (c, p) in self.compliance_keys.items()},
            }
        data["calibration"] = calibration_summary(self.confidences, self.review_threshold)
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

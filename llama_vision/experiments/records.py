"""What an experiment keeps: one DocumentRecord per (column, document), scored by the one scorer
(`evaluation.score_result`), and the ExperimentRun that holds them with what was run.

Every figure of the table is computed from the records (`summarise`), so a run loaded from the
history gives exactly the table it gave when it ran.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from llama_vision.evaluation import Truth, score_result
from llama_vision.result import Result
from llama_vision.schema import ALL_FIELDS

__all__ = ["DocumentRecord", "ExperimentRun", "record_of", "summarise"]

RETRY_WARNING = "fallback prompt"  # stages.parse_or_retry's warning when it asked again


@dataclass
class DocumentRecord:
    column: str  # the table's column: the prompt's name, "engine/prompt" when several engines ran
    engine: str
    prompt: str
    document: str  # the document's name inside the labelled set
    status: str
    error: str | None
    document_type: str | None
    verdict: str | None
    # field -> {"expected", "got", "correct" (None where the truth is null), "spurious"}
    fields: dict[str, dict[str, Any]]
    verdict_correct: bool | None  # None: the truth has no verdict to compare with
    seconds: float | None
    prompt_tokens: int | None
    generated_tokens: int | None
    retries: int  # answers asked again with the fallback prompt

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_of(result: Result, truth: Truth, *, column: str, document: str) -> DocumentRecord:
    """Score one Result against its truth into the record the table and the history use."""
    scored = score_result(result, truth)
    fields = {
        name: {"expected": entry["expected"], "got": entry["got"],
               "correct": None if entry["absent"] else bool(entry["correct"]),
               "spurious": bool(entry.get("spurious", False))}
        for name, entry in scored["fields"].items()
    }
    agreement = (scored.get("compliance") or {}).get("agreement") or {}
    verdict_correct = agreement.get("verdict") if "verdict" in agreement else None
    usage = result.usage or {}
    return DocumentRecord(
        column=column, engine=result.engine, prompt=result.prompt, document=document, status=result.status,
        error=result.error, document_type=result.document_type or None,
        verdict=(result.compliance or {}).get("verdict") if result.status == "ok" else None,
        fields=fields, verdict_correct=verdict_correct,
        seconds=(result.timings or {}).get("total"),
        prompt_tokens=usage.get("prompt_tokens"), generated_tokens=usage.get("generated_tokens"),
        retries=sum(RETRY_WARNING in w for w in result.warnings or []),
    )


def _rate(correct: int, present: int) -> float | None:
    return round(correct / present, 4) if present else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _column_summary(records: list[DocumentRecord]) -> dict[str, Any]:
    fields: dict[str, dict[str, int]] = {}
    for record in records:
        for name, entry in record.fields.items():
            tally = fields.setdefault(name, {"present": 0, "correct": 0, "absent": 0, "spurious": 0})
            if entry["correct"] is None:
                tally["absent"] += 1
                tally["spurious"] += entry["spurious"]
            else:
                tally["present"] += 1
                tally["correct"] += entry["correct"]
    verdicts = [r.verdict_correct for r in records if r.verdict_correct is not None]
    tokens = [(r.prompt_tokens or 0) + (r.generated_tokens or 0) for r in records
              if r.prompt_tokens is not None or r.generated_tokens is not None]
    present = sum(t["present"] for t in fields.values())
    first = records[0]
    return {
        "engine": first.engine, "prompt": first.prompt, "documents": len(records),
        "failures": sum(r.status == "error" for r in records), "retries": sum(r.retries for r in records),
        "fields": {name: {**fields[name], "accuracy": _rate(fields[name]["correct"], fields[name]["present"])}
                   for name in ALL_FIELDS if name in fields},
        "correct": sum(t["correct"] for t in fields.values()), "present": present,
        "accuracy": _rate(sum(t["correct"] for t in fields.values()), present),
        "compliance_documents": len(verdicts),
        "compliance_accuracy": _rate(sum(verdicts), len(verdicts)),  # None when no truth has a verdict
        "seconds_per_document": _mean([r.seconds for r in records if r.seconds is not None]),
        "tokens_per_document": _mean([float(t) for t in tokens]),
    }


def summarise(records: list[DocumentRecord], columns: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """column -> its figures (per-field and overall accuracy, compliance-outcome accuracy, latency,
    tokens, failures, retries), in `columns` order (default: first seen)."""
    by_column: dict[str, list[DocumentRecord]] = {}
    for record in records:
        by_column.setdefault(record.column, []).append(record)
    order = [c for c in (columns or list(by_column)) if c in by_column]
    return {column: _column_summary(by_column[column]) for column in order}


@dataclass
class ExperimentRun:
    dataset: str
    dataset_hash: str
    documents: list[str]  # the labelled set's names, in order
    prompts: list[dict[str, Any]]  # per column: column, engine, name, style, edited, text, sha256
    engines: list[dict[str, Any]]  # name, model, quantization
    settings: dict[str, Any]  # public_settings: never a secret
    started: str
    finished: str | None = None
    stopped: bool = False
    engine_retries: int | None = None  # requests a server pool retried (None: the engine does not say)
    records: list[DocumentRecord] = field(default_factory=list)
    id: int | None = None

    @property
    def columns(self) -> list[str]:
        return [p["column"] for p in self.prompts]

    def summary(self) -> dict[str, dict[str, Any]]:
        return summarise(self.records, self.columns)

    def to_dict(self, *, records: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "records"}
        data["summary"] = self.summary()
        if records:
            data["records"] = [r.to_dict() for r in self.records]
        return data

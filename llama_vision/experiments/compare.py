"""Two runs side by side: which documents changed, which fields got better or worse, per prompt.

Columns are paired by name; columns left over on both sides are paired when they share engine and
style (an edited `key_value` saved under a new name still meets the old `key_value`), in order.
A field got better when it was wrong (or failed) in A and is right in B; worse the other way.
A document changed when any field's value, its status or its verdict differs.
"""

from __future__ import annotations

from typing import Any

from llama_vision.experiments.records import DocumentRecord, ExperimentRun

__all__ = ["compare_runs", "pair_columns"]


def pair_columns(a: ExperimentRun, b: ExperimentRun) -> list[tuple[str, str]]:
    """(column in A, column in B) pairs: same name first, then same engine and style, in order."""
    pairs = [(c, c) for c in a.columns if c in b.columns]
    left = [p for p in a.prompts if p["column"] not in b.columns]
    right = [p for p in b.prompts if p["column"] not in a.columns]
    for prompt in left:
        match = next((q for q in right if (q["engine"], q["style"]) == (prompt["engine"], prompt["style"])), None)
        if match is not None:
            right.remove(match)
            pairs.append((prompt["column"], match["column"]))
    return pairs


def _by_document(run: ExperimentRun, column: str) -> dict[str, DocumentRecord]:
    return {r.document: r for r in run.records if r.column == column}


def _compare_column(a: dict[str, DocumentRecord], b: dict[str, DocumentRecord]) -> dict[str, Any]:
    better: dict[str, list[str]] = {}
    worse: dict[str, list[str]] = {}
    changed: dict[str, list[str]] = {}  # document -> the fields whose value changed
    for document in sorted(a.keys() & b.keys()):
        old, new = a[document], b[document]
        moved = [name for name in sorted(old.fields.keys() | new.fields.keys())
                 if (old.fields.get(name) or {}).get("got") != (new.fields.get(name) or {}).get("got")]
        if moved or old.status != new.status or old.verdict != new.verdict:
            changed[document] = moved
        for name in old.fields.keys() & new.fields.keys():
            was, now = old.fields[name]["correct"], new.fields[name]["correct"]
            if was is None or now is None or was == now:
                continue
            (better if now else worse).setdefault(name, []).append(document)
    return {"changed_documents": changed,
            "better": {k: better[k] for k in sorted(better)}, "worse": {k: worse[k] for k in sorted(worse)}}


def compare_runs(a: ExperimentRun, b: ExperimentRun) -> dict[str, Any]:
    """The diff of run A and run B (see the module doc)."""
    summary_a, summary_b = a.summary(), b.summary()
    hashes_a = {p["column"]: p["sha256"] for p in a.prompts}
    hashes_b = {p["column"]: p["sha256"] for p in b.prompts}
    columns = []
    for column_a, column_b in pair_columns(a, b):
        figures_a, figures_b = summary_a.get(column_a, {}), summary_b.get(column_b, {})
        fields = sorted(set(figures_a.get("fields", {})) | set(figures_b.get("fields", {})))
        columns.append({
            "a": column_a, "b": column_b, "prompt_changed": hashes_a[column_a] != hashes_b[column_b],
            "accuracy_a": figures_a.get("accuracy"), "accuracy_b": figures_b.get("accuracy"),
            "compliance_accuracy_a": figures_a.get("compliance_accuracy"),
            "compliance_accuracy_b": figures_b.get("compliance_accuracy"),
            "field_accuracy": {name: [figures_a.get("fields", {}).get(name, {}).get("accuracy"),
                                      figures_b.get("fields", {}).get(name, {}).get("accuracy")] for name in fields},
            **_compare_column(_by_document(a, column_a), _by_document(b, column_b)),
        })
    paired_a = {c for c, _ in pair_columns(a, b)}
    paired_b = {c for _, c in pair_columns(a, b)}
    return {
        "a": a.id, "b": b.id, "same_dataset": a.dataset_hash == b.dataset_hash,
        "documents_only_in_a": sorted(set(a.documents) - set(b.documents)),
        "documents_only_in_b": sorted(set(b.documents) - set(a.documents)),
        "columns_only_in_a": [c for c in a.columns if c not in paired_a],
        "columns_only_in_b": [c for c in b.columns if c not in paired_b],
        "columns": columns,
    }

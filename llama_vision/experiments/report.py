"""An experiment as a table (field x prompt accuracy, then overall, compliance outcome, latency,
tokens, failures, retries), a plot of accuracy per field per prompt (matplotlib, a PNG), the
documents where prompts disagree, and the text views of the history and of a diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_vision.experiments.records import ExperimentRun
from llama_vision.names import printable

__all__ = ["disagreements", "format_comparison", "format_history", "format_table", "plot_accuracy", "table_rows"]

NOTE = ("accuracy: exact after normalisation (the evaluate scorer) / documents whose truth has the field; "
        "verdict: the compliance verdict vs the truth's, where the truth has one")


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "-"


def _number(value: float | None, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if value is not None else "-"


def table_rows(summary: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """(headings, rows) of the table: one row per field the truth has (or a prompt invented), then totals."""
    columns = list(summary)
    names: list[str] = []
    for figures in summary.values():
        for name, tally in figures["fields"].items():
            if (tally["present"] or tally["spurious"]) and name not in names:
                names.append(name)
    rows = []
    for name in names:
        present = max(summary[c]["fields"].get(name, {}).get("present", 0) for c in columns)
        rows.append([name, str(present)] + [_pct(summary[c]["fields"].get(name, {}).get("accuracy")) for c in columns])
    rows.append(["all fields (exact)", str(max(summary[c]["present"] for c in columns))]
                + [_pct(summary[c]["accuracy"]) for c in columns])
    rows.append(["compliance verdict", str(max(summary[c]["compliance_documents"] for c in columns))]
                + [_pct(summary[c]["compliance_accuracy"]) for c in columns])
    rows.append(["seconds / document", ""] + [_number(summary[c]["seconds_per_document"]) for c in columns])
    rows.append(["tokens / document", ""] + [_number(summary[c]["tokens_per_document"], 0) for c in columns])
    rows.append(["failures", ""] + [str(summary[c]["failures"]) for c in columns])
    rows.append(["retries", ""] + [str(summary[c]["retries"]) for c in columns])
    return ["field", "n", *columns], rows


def format_table(run: ExperimentRun) -> str:
    """The plain-text table the CLI prints (the UI shows the same rows)."""
    summary = run.summary()
    engines = ", ".join(f"{e['name']} ({e['model']})" if e.get("model") != e["name"] else e["name"] for e in run.engines)
    head = (f"Experiment {run.id if run.id is not None else '(not saved)'}: {len(run.documents)} documents in "
            f"{run.dataset} (hash {run.dataset_hash[:12]}), engine {engines}" + (" - stopped early" if run.stopped else ""))
    if not summary:
        return head + "\nno document finished"
    headings, rows = table_rows(summary)
    widths = [max(len(printable(str(r[i]))) for r in [headings, *rows]) for i in range(len(headings))]
    lines = [printable(head), ""]
    for row in [headings, *rows]:
        cells = [printable(str(row[0])).ljust(widths[0])] + [printable(str(v)).rjust(w) for v, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
    if run.engine_retries:
        lines.append(f"requests the server pool retried: {run.engine_retries}")
    failed = [r for r in run.records if r.status == "error"]
    for record in failed[:10]:
        lines.append(printable(f"failed: {record.column}: {record.document}: {record.error}"))
    if len(failed) > 10:
        lines.append(f"... and {len(failed) - 10} more failures")
    lines += ["", NOTE]
    return "\n".join(lines)


def plot_accuracy(run: ExperimentRun, path: str | Path) -> Path:
    """A grouped bar chart of accuracy per field (x) per prompt (bars), written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    import matplotlib.pyplot as plt

    summary = run.summary()
    headings, rows = table_rows(summary) if summary else (["field", "n"], [])
    fields = [row[0] for row in rows if row[1] and row[0] != "compliance verdict"]
    columns = headings[2:]
    figure, axes = plt.subplots(figsize=(min(14.0, max(6.0, 0.5 * len(fields) + 0.15 * len(fields) * len(columns) + 2)), 4.5), dpi=110)
    width = 0.8 / max(1, len(columns))
    for i, column in enumerate(columns):
        values = [(summary[column]["accuracy"] if name == "all fields (exact)"
                   else summary[column]["fields"].get(name, {}).get("accuracy")) for name in fields]
        positions = [x + (i - (len(columns) - 1) / 2) * width for x in range(len(fields))]
        axes.bar(positions, [v * 100 if v is not None else 0 for v in values], width, label=column)
    axes.set_xticks(range(len(fields)), [f.replace("all fields (exact)", "all fields") for f in fields],
                    rotation=35, ha="right", fontsize=8)
    axes.set_ylim(0, 100)
    axes.set_ylabel("accuracy (%)")
    axes.set_title(f"Accuracy per field per prompt ({len(run.documents)} documents)")
    if columns:
        axes.legend(fontsize=8)
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target)
    plt.close(figure)
    return target


def disagreements(run: ExperimentRun) -> list[dict[str, Any]]:
    """Per document and field where the columns read different values: the truth and each column's value."""
    columns = run.columns
    by_document: dict[str, dict[str, Any]] = {}
    for record in run.records:
        by_document.setdefault(record.document, {})[record.column] = record
    rows = []
    for document in run.documents:
        records = by_document.get(document, {})
        names = sorted({n for r in records.values() for n in r.fields})
        for name in names:
            got = {c: (records[c].fields.get(name) or {}).get("got") if c in records else None for c in columns}
            if len({repr(v) for v in got.values()}) > 1:
                expected = next((r.fields[name]["expected"] for r in records.values() if name in r.fields), None)
                correct = {c: (records[c].fields.get(name) or {}).get("correct") if c in records else None for c in columns}
                rows.append({"document": document, "field": name, "expected": expected, "got": got, "correct": correct})
    return rows


def format_history(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "no experiments yet (run: llama-vision experiment DIR --prompt key_value --prompt json)"
    lines = []
    for run in runs:
        columns = ", ".join(f"{c} {_pct(a)}" for c, a in run["columns"].items())
        lines.append(printable(f"{run['id']:>4}  {run['started']}  {run['documents']} documents in {run['dataset']}  "
                               f"[{', '.join(run['engines'])}]  {columns}" + ("  (stopped)" if run["stopped"] else "")))
    return "\n".join(lines)


def format_comparison(diff: dict[str, Any]) -> str:
    lines = [f"Run {diff['a']} vs run {diff['b']}" + ("" if diff["same_dataset"] else
                                                       " (the datasets differ: documents or truth changed)")]
    for column in diff["columns"]:
        name = column["a"] if column["a"] == column["b"] else f"{column['a']} -> {column['b']}"
        lines.append("")
        lines.append(f"{name}: accuracy {_pct(column['accuracy_a'])} -> {_pct(column['accuracy_b'])}, verdict "
                     f"{_pct(column['compliance_accuracy_a'])} -> {_pct(column['compliance_accuracy_b'])}"
                     + (" (prompt text changed)" if column["prompt_changed"] else " (same prompt text)"))
        changed = column["changed_documents"]
        lines.append(f"  documents changed: {len(changed)}")
        for document, fields in changed.items():
            lines.append(f"    {document}: {', '.join(fields) or 'status or verdict'}")
        for word in ("better", "worse"):
            for field, documents in column[word].items():
                lines.append(f"  {word}: {field}: {', '.join(documents)}")
    for key, label in (("columns_only_in_a", "only in run A"), ("columns_only_in_b", "only in run B")):
        if diff[key]:
            lines += ["", f"columns {label}: {', '.join(diff[key])}"]
    return "\n".join(printable(line) for line in lines)

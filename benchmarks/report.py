"""Render a benchmarks JSON file as the Markdown table used in docs/performance.md.

    python -m benchmarks.report benchmarks/results/cpu-quick.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(report: dict[str, Any]) -> str:
    lines = ["| figure | value | baseline | ratio | goal | met |", "| --- | --- | --- | --- | --- | --- |"]
    for name, f in report["figures"].items():
        if f["status"] != "measured":
            lines.append(f"| {name} | {f['status']}: {f.get('reason', '')} | | | {f['goal']} | - |")
            continue
        unit = f" {f['unit']}" if f.get("unit") else ""
        met = "yes" if f["met"] else "**no**"
        lines.append(f"| {name} | {_number(f['value'])}{unit} | {_number(f['baseline'])}{unit} | "
                     f"{_number(f['ratio'])} | {f['goal']} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print(table(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

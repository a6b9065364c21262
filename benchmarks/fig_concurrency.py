"""Figure 8: the openai engine's concurrency, from benchmarks/concurrency.py (openai teammate's script)."""

from __future__ import annotations

from typing import Any

from benchmarks.common import ROOT, figure, skipped

TITLE = "openai engine: documents/s at concurrency 8 vs 1 (loopback fake server)"


def concurrency(*, quick: bool) -> dict[str, Any]:
    if not (ROOT / "benchmarks" / "concurrency.py").is_file():
        return skipped("concurrency", title=TITLE, goal="see benchmarks/concurrency.py",
                       reason="benchmarks/concurrency.py does not exist yet")
    from benchmarks import concurrency as script

    raw = script.run(quick)
    levels = raw["levels"]
    top = max(levels, key=int)
    base = min(levels, key=int)
    goals = raw.get("goals", {})
    return figure(
        "concurrency",
        title=TITLE,
        value=levels[top]["docs_per_s"], baseline=levels[base]["docs_per_s"], unit="documents/s",
        goal=", ".join(f">= {g}x at {c}" for c, g in goals.items()) or "see benchmarks/concurrency.py",
        met=bool(raw.get("all_met")),
        setup={"source": "benchmarks/concurrency.run(quick)", "server": raw.get("server"),
               "server_delay_s": raw.get("server_delay_s"), "page": raw.get("page")},
        details=raw,
    )

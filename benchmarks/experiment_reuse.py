"""Experiment throughput on the llama engine (issue K): N documents x P prompts through the
experiment runner (pages and classification reused across prompts, batched generation) vs the
naive way, one `pipeline.extract` per (document, prompt), in the same run, interleaved.

    .venv/bin/python -m benchmarks.experiment_reuse [--docs 4] [--prompts 3] [--tokens 12] [--repeats 2]

The model is the project's random-weight Mllama (`tiny_model`, real architecture) on the CPU, every
generation forced to exactly `--tokens` new tokens on both sides (min = max), so both do the same
decoding work per request. A random model's answers do not parse, so both sides also ask the
fallback prompt once per (document, prompt): the same extra work on each side, left in because a
real run pays it too. Writes JSON to benchmarks/results/experiment_reuse.json. Goal: <= 0.6x.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, clock_note, figure, interleaved, machine, report_json, timing_details
from benchmarks.fig_model import LlamaBench

GOAL = 0.6
OUT = ROOT / "benchmarks" / "results" / "experiment_reuse.json"
STYLES = ("key_value", "json")


def _variants(count: int) -> list[Any]:
    from llama_vision.experiments import PromptVariant
    from llama_vision.prompts import load_prompt_library

    variants = [PromptVariant(style, style) for style in STYLES[:count]]
    base = load_prompt_library().entries["key_value"].text
    for n in range(count - len(variants)):  # edited key_value texts beyond the library's two
        variants.append(PromptVariant(f"key_value_edit{n + 1}", "key_value", base + f"\nAnswer carefully ({n + 1})."))
    return variants


def measure(docs: int, prompts: int, tokens: int, repeats: int) -> dict[str, Any]:
    from llama_vision.experiments import load_labelled_set, run_experiment
    from llama_vision.pipeline import extract
    from llama_vision.samples.generator import generate_documents

    bench = LlamaBench("tiny")
    folder = Path(tempfile.mkdtemp(prefix="experiment-reuse-"))
    generate_documents(folder, docs, 0, max_side=1120)
    dataset = load_labelled_set(folder)
    variants = _variants(prompts)
    from llama_vision.experiments.variants import prompt_runs

    runs, _ = prompt_runs(variants, bench.engine)
    counts: dict[str, int] = {}

    def experiment() -> int:
        run = run_experiment(dataset, variants, [bench.engine], batch_size=4)
        counts["experiment_ok"] = sum(r.status == "ok" for r in run.records)
        return len(run.records)

    def naive() -> int:
        results = [extract(path, engine=bench.engine, prompt_style=run.style, prompts=run.library)
                   for path in dataset.documents for run in runs]
        counts["naive_ok"] = sum(r.status == "ok" for r in results)
        return len(results)

    with bench.forced(tokens):
        timing = interleaved({"experiment": experiment, "naive": naive}, repeats=repeats, warmup=1)
    value, baseline = timing["experiment"]["median"], timing["naive"]["median"]
    ratio = value / baseline
    return figure(
        "experiment_reuse", title=f"experiment of {docs} documents x {prompts} prompts: runner vs naive extract calls",
        value=value, baseline=baseline, unit="s", goal=f"<= {GOAL}x", met=ratio <= GOAL,
        setup=bench.setup(documents=docs, prompts=[v.name for v in variants], tokens=tokens, repeats=repeats,
                          clock=clock_note(), machine=machine()),
        details={**timing_details(timing), "readings": docs * prompts, **counts},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    record = measure(args.docs, args.prompts, args.tokens, args.repeats)
    report_json(record, args.out)


if __name__ == "__main__":
    main()

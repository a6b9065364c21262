"""`llama-vision experiment`: prompts x engines over a labelled folder or ZIP, the table, the history.

    experiment DIR_OR_ZIP --prompt key_value --prompt json [--prompt-file NAME[:STYLE]=PATH]
               [--engine E]... [--limit N] [--plot PNG] [--json]
    experiment --history
    experiment --compare RUN_A RUN_B [--json]

Progress goes to stderr, one line per (prompt, document); the table (or JSON) to stdout. Every
run is saved in the history (LLAMA_VISION_EXPERIMENTS_DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision.errors import DocumentError
from llama_vision.names import json_safe, printable
from llama_vision.schema import ENGINE_CHOICES, PROMPT_STYLES

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.experiments import ExperimentRun

ZIP_PREFIX = "llama-vision-experiment-"


def add_parser(commands: Any) -> None:
    """The `experiment` sub-command on the CLI's sub-parsers."""
    parser = commands.add_parser("experiment", help="compare prompts (and engines) over a labelled folder; history")
    parser.add_argument("source", nargs="?", type=Path, metavar="DIR_OR_ZIP",
                        help="documents with same-named .json ground truth (a folder or a ZIP)")
    parser.add_argument("--prompt", dest="prompts", action="append", choices=PROMPT_STYLES,
                        help="a library prompt (repeatable; default: key_value)")
    parser.add_argument("--prompt-file", dest="prompt_files", action="append", default=[], metavar="NAME[:STYLE]=PATH",
                        help="an edited prompt's text from a file, read as STYLE (default: NAME if it is a style, "
                             "else key_value); repeatable")
    parser.add_argument("--engine", dest="engines", action="append", choices=ENGINE_CHOICES,
                        help="engine to run (repeatable; default: LLAMA_VISION_ENGINE, else auto)")
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument("--batch-size", type=int, default=4, help="requests per generate on a local model")
    parser.add_argument("--concurrency", type=int, help="requests in flight on a remote engine")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="also write the accuracy plot as a PNG")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--details", action="store_true", help="with --json: every (prompt, document) record")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--history", action="store_true", help="list the saved runs, newest first")
    parser.add_argument("--compare", nargs=2, type=int, metavar=("RUN_A", "RUN_B"), help="diff two saved runs")
    parser.set_defaults(handler=run_command)


def _print_json(data: Any) -> None:
    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision.experiments import History, compare_runs, format_comparison, format_history

    history = History.for_settings(settings)
    if args.history:
        runs = history.list_runs()
        _print_json(runs) if args.json else print(format_history(runs))
        return 0
    if args.compare:
        diff = compare_runs(history.load(args.compare[0]), history.load(args.compare[1]))
        _print_json(diff) if args.json else print(format_comparison(diff))
        return 0
    if args.source is None:
        raise DocumentError("experiment needs a folder or ZIP of documents with ground truth.",
                            hint="Run: llama-vision experiment DIR --prompt key_value --prompt json "
                                 "(or --history, --compare RUN_A RUN_B).")
    if args.limit is not None and args.limit < 1:
        raise DocumentError(f"--limit {args.limit} runs nothing.", hint="Use --limit 1 or more.")
    run = _experiment(args, settings, history)
    if args.plot:
        from llama_vision.experiments import plot_accuracy

        plot_accuracy(run, args.plot)
        print(f"note: plot written to {args.plot}", file=sys.stderr)
    if args.json:
        _print_json(run.to_dict(records=args.details))
    else:
        from llama_vision.experiments import format_table

        print(format_table(run))
    return 0


def _variants(args: argparse.Namespace) -> list[Any]:
    from llama_vision.experiments import PromptVariant, parse_prompt_file

    variants = [PromptVariant(name, name) for name in dict.fromkeys(args.prompts or [])]
    variants += [parse_prompt_file(spec) for spec in args.prompt_files]
    return variants or [PromptVariant("key_value", "key_value")]


def _engines(args: argparse.Namespace, settings: Settings) -> list[Any]:
    from llama_vision.config import load_settings
    from llama_vision.engines import create_engine

    names = list(dict.fromkeys(args.engines or []))
    return [create_engine(load_settings(engine=name)) for name in names] or [create_engine(settings)]


def _experiment(args: argparse.Namespace, settings: Settings, history: Any) -> ExperimentRun:
    from llama_vision import scratch
    from llama_vision.experiments import load_labelled_set, run_experiment, unpack_zip

    variants = _variants(args)
    engines = _engines(args, settings)
    for engine in engines:
        if not engine.capabilities.follows_prompts and (args.prompts or args.prompt_files):
            print(f"note: the {engine.name} engine does not follow prompts; it runs as one 'rules' column.",
                  file=sys.stderr)

    def progress(done: int, total: int, record: Any) -> None:
        if args.quiet:
            return
        scores = [e["correct"] for e in record.fields.values() if e["correct"] is not None]
        what = f"error: {record.error}" if record.status == "error" else f"{sum(scores)}/{len(scores)} fields right"
        line = " ".join(f"[{done}/{total}] {record.column}: {record.document}: {what}".split())
        print(printable(line), file=sys.stderr, flush=True)

    try:
        source: Path = args.source
        if source.is_file() and source.suffix.lower() == ".zip":
            scratch.remove_stale(ZIP_PREFIX)
            with tempfile.TemporaryDirectory(prefix=f"{ZIP_PREFIX}{os.getpid()}-") as work:
                dataset = load_labelled_set(unpack_zip(source, settings, work), limit=args.limit)
                dataset = replace(dataset, path=str(source))  # the ZIP, not its temporary folder
                return run_experiment(dataset, variants, engines, progress=progress, history=history,
                                      batch_size=args.batch_size, concurrency=args.concurrency)
        dataset = load_labelled_set(source, limit=args.limit)
        return run_experiment(dataset, variants, engines, progress=progress, history=history,
                              batch_size=args.batch_size, concurrency=args.concurrency)
    finally:
        for engine in engines:
            engine.unload()

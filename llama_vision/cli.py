"""The command line: `python -m llama_vision ...` and the `llama-vision` console script.

A thin layer over pipeline, batch and evaluation (ARCHITECTURE.md §2):

    extract FILE... [--engine E] [--prompt P] [--json]
    ask FILE "QUESTION" [--page N] [--engine E] [--json]
    batch DIR_OR_ZIP... --out results.csv [--xlsx results.xlsx] [--resume]
    evaluate DIR [--engine E] [--prompt P] [--json] [--limit N]
    experiment DIR_OR_ZIP --prompt key_value --prompt json [--prompt-file NAME=PATH] [--engine E]... [--json]
    experiment --history | --compare RUN_A RUN_B
    hardware [--json]
    make-tiny-model DIR [--size tiny|small]
    make-samples DIR [--count N] [--seed S] [--families all|NAMES] [--family NAME] [--max-side PX]

The entry point loads `.env` from the current folder (the only place python-dotenv is used; real
environment variables win), then validates the settings. Every problem the user can fix prints
ONE line to stderr, `error: ...`, and exits 2 (never a traceback); `extract` exits 1 when any
document failed. An unexpected exception prints one line too, and the traceback only with
LLAMA_VISION_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_vision import __version__
from llama_vision.cli_experiment import add_parser as add_experiment_parser
from llama_vision.errors import DocumentError, LlamaVisionError
from llama_vision.names import json_safe, printable  # no control character reaches the terminal raw
from llama_vision.schema import ENGINE_CHOICES, PROMPT_STYLES
from llama_vision.terminal import format_hardware, format_result, hardware_report

if TYPE_CHECKING:
    from llama_vision.config import Settings
    from llama_vision.engines.base import Engine
    from llama_vision.result import Result

DEBUG_VARIABLE = "LLAMA_VISION_DEBUG"
EXIT_FAILED_DOCUMENTS = 1
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130


# -- parser ---------------------------------------------------------------------------------


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINE_CHOICES, help="engine to use (default: LLAMA_VISION_ENGINE, else auto)")
    parser.add_argument("--prompt", choices=PROMPT_STYLES, default="key_value",
                        help="prompt style for engines that follow prompts (default: key_value)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llama-vision",
        description="Read Australian receipts, tax invoices and bank statements and check them against "
                    "the ATO's tax-invoice rules.",
        epilog="Settings come from LLAMA_VISION_* environment variables and ./.env (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to load (default: ./.env)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser("extract", help="read documents and print one result each")
    extract.add_argument("files", nargs="+", metavar="FILE", help="image or PDF files")
    _engine_options(extract)
    extract.add_argument("--json", action="store_true", help="print one JSON object per document per line")
    extract.add_argument("--page", type=int, metavar="N", help="read only page N (1-based) of a PDF")
    extract.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                         help="show the model's tokens on stderr as they come (default: when stderr is a terminal)")
    extract.set_defaults(handler=_cmd_extract)

    ask = commands.add_parser("ask", help="ask a model a free-form question about one document; the answer streams")
    ask.add_argument("file", metavar="FILE", help="an image or PDF")
    ask.add_argument("question", metavar="QUESTION", help='for example "What was bought, and for how much?"')
    ask.add_argument("--page", type=int, metavar="N", help="the page to show the model (1-based; default 1)")
    ask.add_argument("--engine", choices=ENGINE_CHOICES, help="engine to use (default: LLAMA_VISION_ENGINE, else auto)")
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object (no streaming)")
    ask.set_defaults(handler=_cmd_ask)

    batch = commands.add_parser("batch", help="a folder, ZIP or list of files -> one CSV row per document")
    batch.add_argument("sources", nargs="+", metavar="DIR_OR_ZIP", help="a folder, a ZIP archive, or files")
    batch.add_argument("--out", required=True, type=Path, help="results CSV (written as documents finish)")
    batch.add_argument("--xlsx", type=Path, help="also write an Excel workbook (Results + Summary sheets)")
    batch.add_argument("--resume", action="store_true", help="keep the rows already in --out and skip their files")
    batch.add_argument("--concurrency", type=int, help="documents in flight (remote engines)")
    batch.add_argument("--quiet", action="store_true", help="no per-document progress lines on stderr")
    _engine_options(batch)
    batch.set_defaults(handler=_cmd_batch)

    evaluate = commands.add_parser("evaluate", help="per-field accuracy against same-named .json ground truth")
    evaluate.add_argument("directory", type=Path, metavar="DIR")
    _engine_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print a machine-readable summary")
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N documents")
    evaluate.add_argument("--details", action="store_true", help="with --json: include per-document comparisons")
    evaluate.add_argument("--concurrency", type=int, help="documents in flight (remote engines)")
    evaluate.set_defaults(handler=_cmd_evaluate)

    add_experiment_parser(commands)  # llama_vision.cli_experiment: prompts x engines over a labelled set

    hardware = commands.add_parser("hardware", help="devices, live memory and the 11B model's footprint")
    hardware.add_argument("--json", action="store_true")
    hardware.set_defaults(handler=_cmd_hardware)

    tiny = commands.add_parser("make-tiny-model", help="write a small random-weight Mllama checkpoint")
    tiny.add_argument("directory", type=Path, metavar="DIR")
    tiny.add_argument("--size", choices=("tiny", "small"), default="tiny")
    tiny.set_defaults(handler=_cmd_make_tiny_model)

    samples = commands.add_parser("make-samples", help="generate Australian sample documents with ground truth")
    samples.add_argument("directory", type=Path, metavar="DIR")
    samples.add_argument("--count", type=int, default=10)
    samples.add_argument("--seed", type=int, default=0)
    samples.add_argument("--families", metavar="NAMES",
                         help="'all' or comma-separated layout families (harder documents with field boxes)")
    samples.add_argument("--family", action="append", metavar="NAME", help="one layout family (repeatable)")
    samples.add_argument("--max-side", type=int, metavar="PX", help="cap the long side of each image")
    samples.set_defaults(handler=_cmd_make_samples)
    return parser


# -- entry point ----------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """One terminal-safe line: whitespace runs folded, control characters (ESC...) made visible."""
    return printable(" ".join(str(text).split()))


def _error(message: str) -> None:
    print(f"error: {_one_line(message)}", file=sys.stderr, flush=True)


def _load_env(env_file: str) -> None:
    """Load ./.env (or --env-file) into the environment; real variables win. Entry points only."""
    path = Path(env_file)
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)
    elif env_file != ".env":
        raise DocumentError(f"Settings file '{env_file}' not found.", hint="Check the --env-file path.")


def _settings(args: argparse.Namespace) -> Settings:
    from llama_vision.config import load_settings

    overrides: dict[str, Any] = {}
    if getattr(args, "engine", None):
        overrides["engine"] = args.engine
    return load_settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # usage errors: argparse printed usage and one line
        return int(exit_.code or 0)
    debug = os.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")
    try:
        _load_env(args.env_file)
        settings = _settings(args)
        return int(args.handler(args, settings) or 0)
    except LlamaVisionError as error:
        if debug:
            raise
        _error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        hint = " The CSV holds every finished document; rerun with --resume to carry on." if args.command == "batch" else ""
        _error("interrupted." + hint)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `llama-vision extract ... | head`
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 - one line, not a traceback
        if debug:
            raise
        _error(f"unexpected {type(error).__name__}: {error} (run with {DEBUG_VARIABLE}=1 for the traceback)")
        return EXIT_UNEXPECTED


# -- extract --------------------------------------------------------------------------------


def _engine(settings: Settings) -> Engine:
    from llama_vision.engines import create_engine

    return create_engine(settings)


def _prompt_note(engine: Engine, args: argparse.Namespace) -> str:
    """The prompt name a Result will carry; tells the user when --prompt cannot apply."""
    from llama_vision.pipeline import prompt_name_for

    if not engine.capabilities.follows_prompts and args.prompt != "key_value":
        print(f"note: the {engine.name} engine does not follow prompts; --prompt {args.prompt} has no effect.",
              file=sys.stderr)
    return prompt_name_for(engine, args.prompt)


def _cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision.pipeline import extract
    from llama_vision.result import Result

    if args.page is not None and args.page < 1:
        raise DocumentError(f"--page {args.page} does not exist.", hint="Pages are numbered from 1.")
    engine = _engine(settings)
    prompt_name = _prompt_note(engine, args)
    stream = args.stream if args.stream is not None else (sys.stderr.isatty() and not args.json)
    stream = stream and engine.capabilities.streams and engine.capabilities.follows_prompts

    def on_token(token: str) -> None:
        sys.stderr.write(token)
        sys.stderr.flush()

    failed = 0
    try:
        for file in args.files:
            path = Path(file)
            if not path.is_file():  # fail fast, without loading a model for nothing
                why = ("is a folder, not a document" if path.is_dir()
                       else "is not a regular file" if path.exists() else "not found")  # /dev/zero, a FIFO
                result = Result.failed(str(file), engine.name, prompt_name,
                                       f"'{file}' {why}. Check the path (use the batch command for folders).")
            else:
                page = {"page": args.page - 1} if args.page else {}
                result = extract(path, engine=engine, prompt_style=args.prompt,
                                 on_token=on_token if stream else None, file_name=str(file), **page)
                if stream:
                    sys.stderr.write("\n")
            if result.status == "error":
                failed += 1
                _error(f"{result.file}: {result.error}")
            if args.json:
                print(json_safe(result.to_json()), flush=True)
            elif result.status == "ok":
                print(format_result(result), flush=True)
    finally:
        engine.unload()
    return EXIT_FAILED_DOCUMENTS if failed else 0


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """The answer streams to stdout as it is generated (or one JSON object with --json)."""
    from llama_vision.ask import ask, check_can_answer

    if args.page is not None and args.page < 1:
        raise DocumentError(f"--page {args.page} does not exist.", hint="Pages are numbered from 1.")
    if not Path(args.file).is_file():
        raise DocumentError(f"'{args.file}' not found or not a file.", hint="Check the path.")
    engine = _engine(settings)
    try:
        check_can_answer(engine)  # before loading anything

        def on_token(token: str) -> None:
            sys.stdout.write("\n".join(printable(line) for line in token.split("\n")))  # lines stay lines
            sys.stdout.flush()

        answer = ask(Path(args.file), args.question, engine=engine, file_name=str(args.file),
                     page=None if args.page is None else args.page - 1, on_token=None if args.json else on_token)
    finally:
        engine.unload()
    if args.json:
        print(json_safe(json.dumps(answer.to_dict())), flush=True)
    else:
        print(flush=True)
    return 0


# -- batch ----------------------------------------------------------------------------------


BATCH_PREFIX = "llama-vision-batch-"


def _cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision import scratch
    from llama_vision.batch import collect_inputs, run_batch

    if not args.resume and args.out.is_file() and args.out.stat().st_size:
        print(f"note: starting {args.out} afresh (pass --resume to keep its rows and skip their files).",
              file=sys.stderr)
    engine = _engine(settings)
    _prompt_note(engine, args)
    source = args.sources[0] if len(args.sources) == 1 else args.sources

    def progress(done: int, total: int, result: Result) -> None:
        if args.quiet:
            return
        if result.status == "error":
            what = f"error: {result.error}"
        else:
            verdict = (result.compliance or {}).get("verdict")
            what = f"{result.document_type or 'unknown'}, {verdict or 'no verdict'}"
        seconds = (result.timings or {}).get("total")
        timing = f" ({seconds:.1f} s)" if seconds is not None else ""
        print(_one_line(f"[{done}/{total}] {result.file}: {what}{timing}"), file=sys.stderr, flush=True)

    try:
        # The pid in the name lets the next batch remove what a killed one left behind.
        scratch.remove_stale(BATCH_PREFIX)
        with tempfile.TemporaryDirectory(prefix=f"{BATCH_PREFIX}{os.getpid()}-") as work_dir:
            inputs = collect_inputs(source, settings=settings, work_dir=work_dir)
            for note in inputs.notes:
                print(f"note: {_one_line(note)}", file=sys.stderr)
            summary = run_batch(inputs, engine=engine, prompt_style=args.prompt, out_csv=args.out, xlsx=args.xlsx,
                                resume=args.resume, progress=progress, concurrency=args.concurrency)
    finally:
        engine.unload()
    s = summary.summary
    print(f"{summary.processed} documents processed, {summary.skipped} already done, {summary.errors} errors "
          f"in {summary.seconds:.1f} s -> {summary.out_csv}" + (f" and {summary.xlsx}" if summary.xlsx else ""))
    verdicts = ", ".join(f"{k} {v}" for k, v in s.get("by_verdict", {}).items()) or "none"
    print(f"all rows: {s.get('documents')} documents ({s.get('errors')} errors); verdicts: {verdicts}; "
          f"GST claimable on compliant documents: ${s.get('gst_claimable')}"
          + (f"; {s['mean_seconds']:.2f} s per document" if s.get("mean_seconds") is not None else ""))
    if s.get("duplicates"):
        print(f"duplicates: {s['duplicates']} (their GST is counted once; see the duplicate_of column)")
    if s.get("review_summary"):
        print(s["review_summary"])
    return 0


# -- evaluate -------------------------------------------------------------------------------


def _cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision.evaluation import evaluate

    if args.limit is not None and args.limit < 1:
        raise DocumentError(f"--limit {args.limit} evaluates nothing.", hint="Use --limit 1 or more.")
    engine = _engine(settings)
    _prompt_note(engine, args)
    try:
        report = evaluate(args.directory, engine=engine, prompt_style=args.prompt, limit=args.limit,
                          concurrency=args.concurrency)
    finally:
        engine.unload()
    if args.json:
        print(json_safe(json.dumps(report.to_dict(details=args.details), ensure_ascii=False, indent=2)))
    else:
        print(report.format_table())
    return 0


# -- hardware and generators ----------------------------------------------------------------


def _cmd_hardware(args: argparse.Namespace, settings: Settings) -> int:
    report = hardware_report(settings)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(format_hardware(report))
    return 0


def _cmd_make_tiny_model(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision.tiny_model import write_tiny_model

    written = write_tiny_model(args.directory, size=args.size)
    print(f"wrote a {args.size} random-weight Mllama checkpoint to {written or args.directory}")
    print(f"use it with LLAMA_VISION_MODEL_PATH={written or args.directory}")
    return 0


def _family_names(args: argparse.Namespace) -> list[str] | None:
    names = [n.strip() for n in (args.families or "").split(",") if n.strip()] + list(args.family or [])
    return (["all"] if "all" in names else names) or None


def _cmd_make_samples(args: argparse.Namespace, settings: Settings) -> int:
    from llama_vision.samples.generator import generate_documents

    if args.count < 1:
        raise DocumentError(f"--count {args.count} makes no documents.", hint="Use --count 1 or more.")
    options = {"families": _family_names(args), "max_side": args.max_side}
    try:  # only the options given, so the plain call stays what it always was
        paths = generate_documents(args.directory, args.count, args.seed, **{k: v for k, v in options.items() if v})
    except ValueError as error:
        raise DocumentError(str(error), hint="Run 'make-samples --help' for the families.") from None
    print(f"wrote {len(paths)} documents with ground truth (.json) to {args.directory}")
    return 0

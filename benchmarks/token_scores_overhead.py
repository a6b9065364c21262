"""What recording token log-probabilities costs the llama engine (issue G), same run, same inputs.

    .venv/bin/python -m benchmarks.token_scores_overhead [--size tiny|small] [--tokens 48] [--batch 4] [--rounds 3]

Times one batched greedy `generate` three ways on the random-weight checkpoint: plain (the
baseline), with the engine's recorder (`engines/llama/token_scores.py`, what the engine runs), and
with transformers' `output_scores=True, return_dict_in_generate=True` (the documented route). It
also counts the bytes each keeps until generate returns, and scales them to the 11B model's vocab
(128256) at the engine's default cap (512 tokens). Prints JSON; rounds are interleaved so the
machine's load hits every side alike.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

REAL_VOCAB = 128256
DEFAULT_CAP = 512


def _engine(size: str, tokens: int) -> Any:
    from llama_vision.config import load_settings
    from llama_vision.engines.llama import LlamaEngine
    from llama_vision.tiny_model import write_tiny_model

    folder = write_tiny_model(Path(tempfile.mkdtemp(prefix="tokscores-")) / size, size=size, seed=0)  # type: ignore[arg-type]
    engine = LlamaEngine(load_settings(env_file=None, engine="llama", model_path=str(folder), max_new_tokens=tokens))
    engine.initialize()
    return engine


def _pages(batch: int) -> list[Any]:
    from PIL import Image, ImageDraw

    pages = []
    for i in range(batch):
        page = Image.new("RGB", (400 + 40 * i, 600), "white")
        ImageDraw.Draw(page).text((20, 40), f"TAX INVOICE {i}  TOTAL ${10 + i}.50", fill="black")
        pages.append(page)
    return pages


def _run(engine: Any, inputs: Any, tokens: int, how: str) -> tuple[float, int]:
    """(seconds, bytes of scores kept) of one generate."""
    from llama_vision.engines.llama import token_scores

    runner, torch = engine.runner, engine.runner.torch
    config = runner.generation_config(tokens)
    extra: dict[str, Any] = {}
    recorder = None
    if how == "recorder":
        recorder = token_scores.step_recorder()
        extra["logits_processor"] = recorder.processors()
    elif how == "output_scores":
        config.output_scores, config.return_dict_in_generate = True, True
    started = time.perf_counter()
    with torch.inference_mode():
        out = runner.model.generate(**inputs, generation_config=config, **extra)
        if how == "output_scores":
            runner.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        elif recorder is not None:
            recorder.stacked()
    seconds = time.perf_counter() - started
    if how == "output_scores":
        kept = sum(s.numel() * s.element_size() for s in out.scores)
    elif recorder is not None:
        kept = sum(t.numel() * t.element_size() for t in recorder.best + recorder.index)
    else:
        kept = 0
    return seconds, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["tiny", "small"], default="small")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = _engine(args.size, args.tokens)
    pages = _pages(args.batch)
    inputs = engine.runner.encode(pages, [f"Read receipt {i}." for i in range(args.batch)])
    ways = ("plain", "recorder", "output_scores")
    seconds: dict[str, list[float]] = {w: [] for w in ways}
    kept: dict[str, int] = {}
    _run(engine, inputs, args.tokens, "plain")  # warm-up
    for _ in range(args.rounds):
        for way in ways:
            s, k = _run(engine, inputs, args.tokens, way)
            seconds[way].append(s)
            kept[way] = k
    best = {w: min(v) for w, v in seconds.items()}
    vocab = engine.model.config.text_config.vocab_size
    steps = args.tokens

    def scaled(way: str) -> int:  # the same per-step record for the 11B model at the default cap
        per_step_row = kept[way] / (steps * args.batch) if steps else 0
        return int(per_step_row * (REAL_VOCAB / vocab if way == "output_scores" else 1) * DEFAULT_CAP * args.batch)

    print(json.dumps({
        "size": args.size, "batch": args.batch, "max_new_tokens": args.tokens, "vocab": vocab,
        "seconds": {w: round(v, 4) for w, v in best.items()},
        "recorder_ratio_vs_plain": round(best["recorder"] / best["plain"], 3),
        "output_scores_ratio_vs_plain": round(best["output_scores"] / best["plain"], 3),
        "bytes_kept": kept,
        "bytes_kept_11b_vocab_512_tokens": {w: scaled(w) for w in ("recorder", "output_scores")},
    }, indent=1))
    engine.unload()


if __name__ == "__main__":
    main()

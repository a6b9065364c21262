"""Time grounding (issue G): the llama engine's documents with LLAMA_VISION_GROUNDING off vs on.

    .venv/bin/python -m benchmarks.grounding_overhead [--size small] [--tokens 128] [--repeats 3]
                                                      [--documents 4] [--out FILE]

One loaded random-weight Mllama (`tiny_model`, the benchmarks' "small" size by default), the same
generated documents (one per layout family, at their natural size), `pipeline.extract` with the
key_value prompt, every generation forced to `--tokens` new tokens (random weights never stop by
themselves). The two settings are interleaved document by document (off, on, off, on ...), so the
machine's load hits both alike. The goal is latency: wall seconds per document, on / off <= 1.10.
The OCR pass is extra work on other cores, so the process's CPU seconds are reported beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import report_json  # noqa: E402

GOAL = 1.10


def _documents(count: int, seed: int) -> list[Any]:
    from PIL import Image

    from llama_vision.samples import generate_documents
    from llama_vision.samples.families import FAMILIES

    folder = Path("/tmp/llama_vision_grounding_overhead") / f"{seed}-{count}"
    paths = sorted(p for p in folder.glob("*") if p.suffix in (".jpg", ".png"))
    if len(paths) != count:
        paths = generate_documents(folder, count, seed=seed, families=list(FAMILIES[:count]))
    images = []
    for path in paths:
        with Image.open(path) as opened:
            images.append(opened.convert("RGB"))
    return images


def _one(bench: Any, image: Any, library: Any, grounding: str) -> tuple[float, float, Any]:
    from llama_vision.pipeline import extract

    bench.engine.settings.grounding = grounding
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = extract(image, engine=bench.engine, prompt_style="key_value", prompts=library, document_type="receipt")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if result.status != "ok":
        raise RuntimeError(f"pipeline.extract failed: {result.error}")
    if ("grounding" in result.timings) is not (grounding == "on"):
        raise AssertionError(f"grounding={grounding} but timings are {result.timings}")
    return wall, cpu, result


def measure(size: str, tokens: int, repeats: int, documents: int, seed: int, threads: int | None) -> dict[str, Any]:
    from benchmarks.fig_model import LlamaBench
    from llama_vision.prompts import load_prompt_library

    bench = LlamaBench(size)
    if threads:
        bench.torch.set_num_threads(threads)
    images, library = _documents(documents, seed), load_prompt_library()
    runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    waits: list[float] = []
    with bench.forced(tokens):
        for image in images[:1]:  # warm-up: the model's first call and the OCR sessions' loading
            _one(bench, image, library, "off")
            _one(bench, image, library, "on")
        for _ in range(repeats):
            for image in images:
                for grounding in ("off", "on"):
                    wall, cpu, result = _one(bench, image, library, grounding)
                    runs[grounding].append((wall, cpu))
                    if grounding == "on":
                        waits.append(result.timings["grounding"])
    pairs = [on[0] / off[0] for off, on in zip(runs["off"], runs["on"], strict=True)]
    wall = {k: statistics.median(w for w, _c in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _w, c in v) for k, v in runs.items()}
    ratio = statistics.median(pairs)
    return {
        "benchmark": "grounding_overhead", "goal": f"wall on/off <= {GOAL}", "met": ratio <= GOAL,
        "ratio_wall": round(ratio, 4), "wall_s_per_document": {k: round(v, 4) for k, v in wall.items()},
        "cpu_s_per_document": {k: round(v, 4) for k, v in cpu.items()},
        "ratio_cpu": round(cpu["on"] / cpu["off"], 4),
        "join_wait_s_median": round(statistics.median(waits), 4), "join_wait_s_max": round(max(waits), 4),
        "paired_ratios": [round(r, 4) for r in pairs],
        "setup": {**bench.setup(), "documents": documents, "image_sizes": [list(i.size) for i in images],
                  "new_tokens_per_call": tokens, "repeats": repeats,
                  "model_calls_per_document": "key_value prompt, plus the fallback once (random weights' "
                                              "text does not parse): the same for both settings",
                  "statistic": "median over documents x repeats; ratio = median of paired on/off runs",
                  "join_wait": "seconds the pipeline waited for the OCR pass after the model had answered"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("small", "tiny"), default="small")
    parser.add_argument("--tokens", type=int, default=128, help="forced new tokens per call (a real answer: ~128+)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--documents", type=int, default=4)
    parser.add_argument("--seed", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: 1, as figures 1-3)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = measure(args.size, args.tokens, args.repeats, args.documents, args.seed, args.threads)
    report["command"] = "python -m benchmarks.grounding_overhead " + " ".join(sys.argv[1:])
    report_json(report, args.out)


if __name__ == "__main__":
    main()

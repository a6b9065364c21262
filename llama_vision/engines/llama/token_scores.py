"""Each generated token's log-probability and text piece, for the fields' confidence
(`llama_vision.parsing.confidence` turns them into one number per field).

transformers' documented route is `output_scores=True, return_dict_in_generate=True` and then
`model.compute_transition_scores(sequences, scores, normalize_logits=True)`. It keeps every step's
whole score row on the device until `generate` returns: max_new_tokens x batch x vocab floats, i.e.
512 x 4 x 128256 x 4 B = 1 GB on the 11B model, on top of the weights and the KV cache. This
engine decodes greedily, so the chosen token is the arg-max of the final scores and its
log-probability is max(log_softmax(scores)) = max(scores) - logsumexp(scores). A logits processor
placed last records just that and the arg-max (two numbers per row per step) and changes nothing.
The recorded arg-max is checked against the token really generated: a mismatch (a processor after
ours, sampling) yields no logprobs rather than wrong ones. tests/test_llama_engine.py checks the
numbers against `compute_transition_scores` on the tiny model.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any


@functools.cache
def _recorder_class() -> type:
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    class StepLogprobs(LogitsProcessor):
        """One generate call's chosen-token log-probabilities (one recorder per call: no sharing)."""

        def __init__(self) -> None:
            self.best: list[Any] = []
            self.index: list[Any] = []
            self._stacked: tuple[Any, Any] | None = None

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            floats = scores.float()
            best, index = floats.max(dim=-1)
            self.best.append(best - floats.logsumexp(dim=-1))
            self.index.append(index)
            return scores

        def processors(self) -> Any:
            return LogitsProcessorList([self])

        def stacked(self) -> tuple[Any, Any] | None:
            """(steps, batch) log-probabilities and arg-max ids on the CPU, or None before any step."""
            if self._stacked is None and self.best:
                self._stacked = (torch.stack(self.best).cpu(), torch.stack(self.index).cpu())
            return self._stacked

    return StepLogprobs


def step_recorder() -> Any:
    """A fresh recorder; pass `recorder.processors()` as generate's `logits_processor`."""
    return _recorder_class()()


def row_logprobs(recorder: Any, row: int, tokens: Sequence[int]) -> list[float] | None:
    """The log-probability of each of `tokens` (row `row`'s kept tokens), or None when the
    recording does not cover them or its arg-max disagrees with what was generated."""
    stacked = recorder.stacked() if recorder is not None else None
    if stacked is None or not tokens:
        return None
    best, index = stacked
    count = len(tokens)
    if count > best.shape[0] or index[:count, row].tolist() != [int(t) for t in tokens]:
        return None
    return [min(0.0, float(v)) for v in best[:count, row].tolist()]  # rounding can leave +1e-7


def token_pieces(tokenizer: Any, tokens: Sequence[int], text: str) -> list[str] | None:
    """Each token's share of `text` (= tokenizer.decode(tokens, skip_special_tokens=True)); the
    pieces join to `text`, or None when they cannot be made to."""
    ids = [int(t) for t in tokens]
    pieces = [tokenizer.decode([t], skip_special_tokens=True) for t in ids]
    if "".join(pieces) == text:
        return pieces  # byte-level BPE: the usual case, one decode per token
    return _incremental_pieces(tokenizer, ids, text)


def _incremental_pieces(tokenizer: Any, ids: list[int], text: str) -> list[str] | None:
    """Pieces by decoding growing prefixes: a character split over several byte tokens goes to the
    token that completes it (the others get ""), and a clean-up that rewrites the tail (" ." ->
    ".") is taken back from the latest pieces. Quadratic, so only used when the fast way fails."""
    pieces: list[str] = []
    shown = ""
    for end in range(1, len(ids) + 1):
        now = tokenizer.decode(ids[:end], skip_special_tokens=True)
        if now.endswith("\ufffd") and end < len(ids):
            pieces.append("")  # half a character so far
            continue
        keep = _common_prefix(shown, now)
        _drop_tail(pieces, len(shown) - keep)
        pieces.append(now[keep:])
        shown = now
    return pieces if "".join(pieces) == text else None


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _drop_tail(pieces: list[str], count: int) -> None:
    for i in range(len(pieces) - 1, -1, -1):
        if count <= 0:
            return
        cut = min(count, len(pieces[i]))
        pieces[i] = pieces[i][: len(pieces[i]) - cut]
        count -= cut


def pair(tokenizer: Any, tokens: Sequence[int], text: str, logprobs: Sequence[float] | None
         ) -> list[tuple[str, float]] | None:
    """[(piece, logprob)] for a Generation, or None when either half is missing."""
    if logprobs is None or len(logprobs) != len(tokens):
        return None
    pieces = token_pieces(tokenizer, tokens, text)
    if pieces is None:
        return None
    return list(zip(pieces, (float(v) for v in logprobs), strict=True))

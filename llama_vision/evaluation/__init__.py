"""Results vs ground truth -> per-field accuracy, document-type and compliance agreement.

A folder holds documents and same-named `.json` ground truth, in one of two styles:

- ours: the Result's field keys, at the top level or under `"fields"` (as `make-samples`
  writes them), with optional `"document_type"` and `"compliance"` objects;
- SROIE: `company`, `date`, `address`, `total` (company -> supplier_name, address ->
  supplier_address), labels in their printed form.

How a field is scored (documented in the report's `method`):
- Both sides go through `fields.normalise_value` (dates to DD/MM/YYYY, money to "12.30", ABN to
  11 digits...). Text fields are then compared as case-folded, whitespace-collapsed strings with
  punctuation stripped at both ends.
- The headline is EXACT agreement after that normalisation: correct / present in the ground
  truth. A field whose truth is null is not "present"; predicting a value for it counts as
  `spurious` (an invented value), reported separately.
- Text fields also get a softer rate: character similarity (difflib ratio) >= 0.8, shown as its
  own column and never mixed into the headline.
- And a secondary `letters_digits` verdict per text field in the details: equal after keeping
  only letters and digits (case-folded), the comparison SROIE results are usually quoted with
  ("POPULAR BOOK CO. (M) SDN BHD" = "Popular Book Co (M) Sdn. Bhd."). The OCR benchmarks show it
  beside the headline; it is never mixed into it.
- The two statement flags treat null as false on both sides (not seen = not there).
- `items` are not scored field by field (their count and order vary legitimately).
- A document that failed (status=error) scores every one of its truth fields as wrong.
- Compliance, when the truth carries it: `abn_valid`, `gst_consistent`, `tax_invoice_required`
  and `missing_elements` (as a set) must all agree for a document to count as exactly right;
  each key's agreement and the verdict's are reported too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from llama_vision.evaluation.report import EvaluationReport
from llama_vision.evaluation.scoring import (
    COMPLIANCE_KEYS,
    METHOD,
    SOFT_THRESHOLD,
    TEXT_FIELDS,
    FieldScore,
    letters_and_digits,
    normalise_for_comparison,
    score_result,
    similarity,
)
from llama_vision.evaluation.truth import SROIE_KEYS, Truth, find_pairs, load_truth
from llama_vision.result import Result

if TYPE_CHECKING:
    from llama_vision.engines.base import Engine

__all__ = [
    "COMPLIANCE_KEYS", "METHOD", "SOFT_THRESHOLD", "SROIE_KEYS", "TEXT_FIELDS", "EvaluationReport", "FieldScore",
    "Truth", "evaluate", "find_pairs", "letters_and_digits", "load_truth", "normalise_for_comparison",
    "score_result", "similarity",
]


def evaluate(
    directory: str | Path,
    *,
    engine: Engine,
    prompt_style: str = "key_value",
    limit: int | None = None,
    progress: bool = True,
    concurrency: int | None = None,
) -> EvaluationReport:
    """Run every document with ground truth in `directory` through the pipeline and score it.

    `limit` takes the first N documents (sorted by path). `progress` shows a tqdm bar on stderr
    when stderr is a terminal. Raises DocumentError for a missing folder or no pairs.
    """
    from llama_vision.batch import input_keys
    from llama_vision.pipeline import extract_many_safely, prompt_name_for

    pairs = find_pairs(directory)
    if limit is not None:
        pairs = pairs[: max(limit, 0)]
    truths = [load_truth(truth) for _, truth in pairs]
    paths = [document for document, _ in pairs]
    keys = input_keys(paths, Path(directory).absolute())
    prompt_name = prompt_name_for(engine, prompt_style)
    report = EvaluationReport(directory=str(directory), engine=engine.name, prompt_style=prompt_name,
                              review_threshold=engine.settings.review_threshold)
    ordered: dict[int, tuple[Result, Truth]] = {}
    bar = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # the bar is a nicety, never a reason to fail
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=len(paths), file=sys.stderr, unit="doc", desc="evaluate", disable=None, leave=False)
    try:
        for index, result in extract_many_safely(paths, engine=engine, prompt_style=prompt_style,
                                                 concurrency=concurrency):
            ordered[index] = (result.model_copy(update={"file": keys[index]}), truths[index])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    for index in sorted(ordered):  # details in input order, whatever order documents finished in
        report.add(*ordered[index])
    return report

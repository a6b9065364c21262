"""Prompt experiments over a labelled set: P prompts x E engines, scored per field with the
`evaluate` scorer, saved in a local history, compared run against run.

- `dataset`: a labelled folder (documents + same-named `.json` truth) or a ZIP of one, its hash,
  and the folders an experiment may read (LLAMA_VISION_BATCH_DIR, LLAMA_VISION_DATASET_DIR);
- `variants`: the prompts compared (library styles or edited texts) and the text stored of each;
- `runner.run_experiment`: the run (`prompt_sweep` reuses each document's pages and type across
  prompts; batched on a local model, concurrent on a server pool), progress and Stop;
- `records`: per (prompt, document) scores and the table's figures; `history`: SQLite;
  `compare`: the diff of two runs; `report`: the table, the plot, the disagreements.
"""

from llama_vision.experiments.compare import compare_runs
from llama_vision.experiments.dataset import (
    LabelledSet,
    allowed_roots,
    labelled_folders,
    load_labelled_set,
    resolve_folder,
    unpack_zip,
)
from llama_vision.experiments.history import History
from llama_vision.experiments.records import DocumentRecord, ExperimentRun, summarise
from llama_vision.experiments.report import disagreements, format_comparison, format_history, format_table, plot_accuracy
from llama_vision.experiments.runner import run_experiment
from llama_vision.experiments.variants import PromptVariant, parse_prompt_file

__all__ = [
    "DocumentRecord", "ExperimentRun", "History", "LabelledSet", "PromptVariant", "allowed_roots", "compare_runs",
    "disagreements", "format_comparison", "format_history", "format_table", "labelled_folders", "load_labelled_set",
    "parse_prompt_file", "plot_accuracy", "resolve_folder", "run_experiment", "summarise", "unpack_zip",
]

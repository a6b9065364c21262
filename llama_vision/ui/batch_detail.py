"""A batch row opened: the document's first page with its evidence boxes, its fields with their
confidence, and its compliance verdict and review reasons: the Single tab's view (the shared
`evidence_view` and `views.compliance_html`) rebuilt from what the batch kept, the document's
saved Result JSON and the document itself in the run folder; nothing is extracted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from llama_vision.results_store import load_result
from llama_vision.ui import batch_folder, evidence_view, views
from llama_vision.ui.views import esc

if TYPE_CHECKING:
    from PIL import Image

    from llama_vision.config import Settings


@dataclass
class RowDetail:
    result: dict[str, Any]
    page: Image.Image | None  # the first page, downscaled for the browser (the boxes scaled with it)
    boxes: list[tuple[tuple[int, int, int, int], str]]
    view: dict[str, Any] | None  # the Single tab's view of the page (`evidence_view.new_view`), for row clicks
    fields: pd.DataFrame
    verdicts_html: str  # compliance verdict and checks, then the review badge and reasons
    heading: str
    note: str = ""  # why the page is not shown, when it is not


class NoDetail(Exception):
    """The row cannot be opened; the message says why and what to do."""


def row_detail(run_id: Any, key: str, settings: Settings | None = None) -> RowDetail:
    """The detail of the row keyed `key` (the table's File cell) of run `run_id`."""
    try:
        run = batch_folder.open_run(run_id)
    except batch_folder.RunGone:
        raise NoDetail("This batch's results are no longer on the server (run folders are kept for a few "
                       "hours, and until the next run). Run the batch again to open its rows.") from None
    result = load_result(run.results_dir, key)
    if result is None:
        raise NoDetail(f"No saved result for {key!r} yet: it opens once the document has finished.")
    page, note = _first_page(run, key, settings)
    view = evidence_view.new_view(result, page) if page is not None else None
    (shown, boxes), _label = evidence_view.view_annotations(view, "") if view else ((None, []), "")
    verdicts = views.compliance_html(result) + evidence_view.review_html(result)
    heading = f"### {esc(key)}\n\n" + views.summary_markdown(result).split("\n\n", 1)[-1]
    return RowDetail(result=result, page=shown, boxes=boxes, view=view, fields=evidence_view.evidence_frame(result),
                     verdicts_html=verdicts, heading=heading, note=note)


def _first_page(run: batch_folder.RunFolder, key: str, settings: Settings | None) -> tuple[Any, str]:
    from llama_vision.documents import load_pages
    from llama_vision.errors import LlamaVisionError

    path = run.document_path(key)
    if path is None or not path.is_file():
        return None, "The document itself is no longer on the server; its result is shown."
    try:
        return load_pages(path, settings=settings)[0], ""
    except (LlamaVisionError, OSError, IndexError):
        return None, "The document's page could not be loaded again; its result is shown."

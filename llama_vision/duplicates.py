"""Duplicates in a batch (issue I item 6): the same receipt submitted twice is claimed twice.

A later document is a duplicate of an earlier one when it has
1. the same supplier ABN, date and total, or
2. the same invoice number from the same supplier (ABN, else the name, case and spacing aside), or
3. a near-identical first page: a perceptual hash (imagehash's DCT `phash`) of the page as loaded,
   after cutting it down to the printed content and straightening it, so a re-photographed copy
   (a little rotated, framed or compressed differently) hashes alike, while two receipts of the
   same shop (the same header, other items and totals) do not; the content's shape must agree too.

`DuplicateFinder` is cheap (a dict lookup per key; a 256-bit hash compare per earlier page, a
hash costs a few milliseconds) and thread-safe. "Later" is the order documents are checked in: the
batch checks them as they finish, so with several at once the one finished later is marked.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from llama_vision.result import Result

__all__ = ["Duplicate", "DuplicateFinder", "PageFingerprint", "fingerprint", "mark_duplicate", "small_grey"]

#: phash bits (of 256) two pages may differ in and still be one document.
MAX_HASH_DISTANCE = 12
#: How much the printed content's height/width ratio may differ between copies.
MAX_ASPECT_DIFFERENCE = 0.03


@dataclass(frozen=True)
class Duplicate:
    of: str  # the earlier document's file key
    reason: str


@dataclass(frozen=True)
class PageFingerprint:
    hash: Any  # imagehash.ImageHash
    aspect: float  # content height / width

    def matches(self, other: PageFingerprint) -> bool:
        if abs(self.aspect / other.aspect - 1) > MAX_ASPECT_DIFFERENCE:
            return False
        return int(self.hash - other.hash) <= MAX_HASH_DISTANCE


def _otsu(values: Any) -> int:
    """The grey level that best splits ink from paper (Otsu's method)."""
    import numpy as np

    hist = np.bincount(values.ravel(), minlength=256).astype(float)
    levels = np.arange(256)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    total, total_mean = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * weight - mean * total) ** 2 / (weight * (total - weight))
    return int(np.nanargmax(between))


def _straighten(grey: Image.Image, threshold: int) -> Image.Image:
    """Rotate so text lines are level: the angle whose row sums of ink vary most. The corners the
    turn uncovers are filled dark, like the table around a photographed receipt."""
    import numpy as np
    from PIL import Image as PILImage

    ink = PILImage.fromarray(((np.asarray(grey) <= threshold) * 255).astype(np.uint8))
    ink.thumbnail((300, 300))
    best, angle = -1.0, 0.0
    for step in range(-16, 17):
        rows = np.asarray(ink.rotate(step / 4, resample=PILImage.Resampling.BILINEAR, fillcolor=0), dtype=float)
        spread = float(rows.sum(axis=1).var())
        if spread > best:
            best, angle = spread, step / 4
    return grey.rotate(angle, resample=PILImage.Resampling.BICUBIC, fillcolor=0, expand=True)


def _paper(grey: Image.Image) -> Image.Image:
    """The paper: the brightest part of the picture (a table around a photo is darker)."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageFilter

    values = np.asarray(grey)
    mask = PILImage.fromarray(((values > np.percentile(values, 95) - 30) * 255).astype(np.uint8))
    box = mask.filter(ImageFilter.MinFilter(9)).getbbox()
    return grey.crop(box) if box else grey


def small_grey(page: Image.Image) -> Image.Image:
    """The page as `fingerprint` reads it: grey, at most 800 pixels a side (cheap to keep)."""
    from PIL import ImageOps

    grey = ImageOps.grayscale(page)
    grey.thumbnail((800, 800))
    return grey


def fingerprint(page: Image.Image) -> PageFingerprint | None:
    """The page's perceptual fingerprint, or None for a page with no printed content."""
    import imagehash
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageFilter

    grey = _paper(small_grey(page))
    threshold = _otsu(np.asarray(grey))
    grey = _paper(_straighten(grey, threshold))
    ink = PILImage.fromarray(((np.asarray(grey) <= threshold) * 255).astype(np.uint8))
    width, height = ink.size
    inset_x, inset_y = int(width * 0.04), int(height * 0.02)  # the paper's edges are not content
    inner = ink.crop((inset_x, inset_y, width - inset_x, height - inset_y))
    box = inner.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3)).getbbox()
    if not box:
        return None
    content = grey.crop((box[0] + inset_x, box[1] + inset_y, box[2] + inset_x, box[3] + inset_y))
    return PageFingerprint(imagehash.phash(content, hash_size=16), content.height / max(1, content.width))


def _clean(value: Any) -> str | None:
    text = re.sub(r"[^0-9A-Z]+", "", str(value or "").upper())
    return text or None


def _keys(fields: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """The field keys a duplicate shares, each with how to say it."""
    abn, date, total = _clean(fields.get("supplier_abn")), fields.get("date"), fields.get("total")
    keys = []
    if abn and date and total:
        keys.append((("abn_date_total", abn, str(date), str(total)), f"the same ABN, date ({date}) and total ({total})"))
    number, supplier = _clean(fields.get("invoice_number")), abn or _clean(fields.get("supplier_name"))
    if number and supplier:
        keys.append((("invoice", supplier, number), f"the same invoice number ({fields.get('invoice_number')}) "
                                                    "from the same supplier"))
    return keys


class DuplicateFinder:
    """Remembers every document it has seen; `check` says whether a new one repeats one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, ...], str] = {}
        self._pages: list[tuple[str, PageFingerprint]] = []

    def remember(self, file: str, fields: dict[str, Any]) -> None:
        """An earlier document known only by its fields (a row of the CSV a resumed batch keeps)."""
        with self._lock:
            for key, _ in _keys(fields):
                self._by_key.setdefault(key, file)

    def check(self, file: str, fields: dict[str, Any], page: PageFingerprint | None = None) -> Duplicate | None:
        """The earlier document this one repeats, if any; then remember this one too."""
        with self._lock:
            found: Duplicate | None = None
            for key, why in _keys(fields):
                earlier = self._by_key.get(key)
                if earlier is not None and earlier != file and found is None:
                    found = Duplicate(earlier, why)
                self._by_key.setdefault(key, file)
            if page is not None:
                if found is None:
                    found = next((Duplicate(earlier, "a near-identical image") for earlier, seen in self._pages
                                  if earlier != file and seen.matches(page)), None)
                self._pages.append((file, page))
            return found


def mark_duplicate(result: Result, duplicate: Duplicate) -> Result:
    """The Result with `duplicate_of`, a failed `duplicate` check, a recommendation and a warning."""
    compliance = dict(result.compliance or {})
    reason = f"A duplicate of '{duplicate.of}': {duplicate.reason}."
    compliance["duplicate_of"] = duplicate.of
    compliance["checks"] = [*compliance.get("checks", []), {"name": "duplicate", "status": "fail", "reason": reason}]
    compliance["recommendations"] = [*compliance.get("recommendations", []),
                                     f"{reason} Claim the GST credit once: remove one of the two from the claim."]
    return result.model_copy(update={"compliance": compliance, "warnings": [*result.warnings, reason]})

"""OCR text boxes -> reading-order lines (pure, no OCR runtime needed).

RapidOCR returns one box per text run; a receipt row such as ``Total RM ....... 49.40`` often
comes back as two boxes far apart. Rules work on rows, so boxes whose vertical extents overlap
enough are merged into one line, left to right, keeping each piece (a `Segment`) so a rule can
still ask "what is printed to the right of this label".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

# the multilingual recogniser sometimes puts accents or look-alike symbols on Latin text
_LOOKALIKES = str.maketrans({"×": "x", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "：": ":", "，": ",", "（": "(", "）": ")"})


def norm_space(text: str) -> str:
    """One line with single spaces and no ends: "  Total   RM 5.00 " -> "Total RM 5.00"."""
    return re.sub(r"\s+", " ", text).strip()


def clean_text(text: str) -> str:
    """ASCII-fold OCR text: "TÀMAN" -> "TAMAN", "4 × 15.40" -> "4 x 15.40"."""
    text = text.translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@dataclass(frozen=True)
class TextBox:
    """One OCR detection: the text and its axis-aligned bounds in pixels."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0
    slope: float = 0.0  # dy/dx of the box's top edge: the page's skew where the box is


    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @classmethod
    def from_polygon(cls, polygon: Sequence[Sequence[float]], text: str, score: float = 1.0) -> TextBox:
        xs = [float(p[0]) for p in polygon]
        ys = [float(p[1]) for p in polygon]
        slope = 0.0
        if len(polygon) == 4:  # RapidOCR order: top-left, top-right, bottom-right, bottom-left
            dx = float(polygon[1][0]) - float(polygon[0][0])
            if dx > 1:
                slope = (float(polygon[1][1]) - float(polygon[0][1])) / dx
        return cls(text=text, x0=min(xs), y0=min(ys), x1=max(xs), y1=max(ys), score=float(score), slope=slope)


@dataclass
class Segment:
    text: str
    x0: float
    x1: float
    # where the piece is printed on the page as OCR saw it (before deskewing), and how sure the
    # recogniser was: the evidence a field read from this piece points to
    box: tuple[float, float, float, float] | None = None
    score: float = 1.0


@dataclass
class Line:
    """One printed row: its pieces left to right and the joined text."""

    segments: list[Segment] = field(default_factory=list)
    y0: float = 0.0
    y1: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def __str__(self) -> str:  # handy in rule code and test failures
        return self.text

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """The union of the pieces' page boxes; None for lines made from plain strings."""
        boxes = [s.box for s in self.segments if s.box is not None]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    @property
    def score(self) -> float:
        """The recogniser's weakest piece: one misread piece is enough to misread the row."""
        return min((s.score for s in self.segments), default=1.0)


def boxes_from_rapidocr(boxes: Iterable[Any] | None, texts: Iterable[str] | None,
                        scores: Iterable[float] | None) -> list[TextBox]:
    """Adapt RapidOCR's parallel arrays (polygons, texts, scores) to TextBoxes."""
    if boxes is None or texts is None:
        return []
    scores = list(scores) if scores is not None else []
    out = []
    for i, (poly, text) in enumerate(zip(boxes, texts, strict=False)):
        text = str(text).strip()
        if text:
            out.append(TextBox.from_polygon(poly, text, scores[i] if i < len(scores) else 1.0))
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _wide(boxes: Sequence[TextBox]) -> list[TextBox]:
    """The boxes wide enough to measure the skew where they are (a short amount's box is not)."""
    return [b for b in boxes if (b.x1 - b.x0) > 3 * b.height and abs(b.slope) < 0.2]


def page_slope(boxes: Sequence[TextBox]) -> float:
    """The page's skew (dy/dx), the median over boxes wide enough to measure it."""
    slopes = sorted(b.slope for b in _wide(boxes))
    return median(slopes) if len(slopes) >= 3 else 0.0


# a photo taken at an angle tilts its top one way and its foot the other: the skew changes down
# the page. The change is followed when it is large (about 1.7 degrees from the top text to the
# bottom text) and explains the boxes' skews far better than one skew does (half the spread)
_KEYSTONE_MIN = 0.03


def slope_at(boxes: Sequence[TextBox]) -> tuple[float, float]:
    """(a, b): the skew at height y is a + b * y. b is the Theil-Sen slope of the wide boxes' skews
    against their heights (robust to a few misread skews), kept only for a real keystone; else
    b = 0 and a is the page's median skew (a page merely turned, or skews too noisy to tell)."""
    wide = _wide(boxes)
    flat = (page_slope(boxes), 0.0)
    if len(wide) < 6:
        return flat
    pairs = [(q.slope - p.slope) / (q.yc - p.yc) for i, p in enumerate(wide) for q in wide[i + 1:]
             if abs(q.yc - p.yc) > p.height]
    if not pairs:
        return flat
    b = median(pairs)
    a = median(p.slope - b * p.yc for p in wide)
    spread_line = median(abs(p.slope - a - b * p.yc) for p in wide)
    spread_flat = median(abs(p.slope - flat[0]) for p in wide)
    change = abs(b) * (max(p.yc for p in wide) - min(p.yc for p in wide))
    if change < _KEYSTONE_MIN or spread_line > spread_flat / 2:
        return flat
    return a, b


def deskew(boxes: Sequence[TextBox]) -> list[TextBox]:
    """Boxes moved as if the page were straight, so a row's label and amount share a band.

    A photo turned by 2 degrees drops a right-hand amount 30 px below its label across a
    900 px receipt: more than half a text height, enough to split the row. The skew may change
    down the page (`slope_at`): each box is straightened by the skew at its own height.
    """
    a, b = slope_at(boxes)
    if b == 0.0 and abs(a) < 0.004:
        return list(boxes)
    out = []
    for box in boxes:
        slope = a + b * box.yc
        shift = slope * (box.x0 + box.x1) / 2
        tight = box.height - abs(box.slope) * (box.x1 - box.x0)  # a tilted box's bounds overstate its height
        pad = (box.height - max(tight, box.height * 0.5)) / 2
        out.append(TextBox(box.text, box.x0, box.y0 - shift + pad, box.x1, box.y1 - shift - pad, box.score,
                           box.slope - slope))
    return out


def group_lines(boxes: Sequence[TextBox], *, min_overlap: float = 0.5) -> list[Line]:
    """Merge boxes into rows by vertical position; rows top to bottom, pieces left to right.

    A box joins a row when the vertical overlap is at least `min_overlap` of the smaller of
    the two heights, and it does not collide horizontally with a piece already in the row
    (two stacked boxes at the same x are different rows even if tall boxes overlap).
    """
    if not boxes:
        return []
    # deskewed copies decide the rows; the originals are what the evidence points at
    straight = deskew(boxes)
    original = {id(d): b for d, b in zip(straight, boxes, strict=True)}
    boxes = straight
    typical = median(b.height for b in boxes)
    rows: list[tuple[Line, list[TextBox]]] = []
    for box in sorted(boxes, key=lambda b: (b.yc, b.x0)):
        best, best_score = None, 0.0
        # only rows near the bottom can still take this box: boxes arrive sorted by centre
        for line, members in rows[-6:]:
            height = min(box.height, line.y1 - line.y0 if line.y1 > line.y0 else typical, typical * 1.5)
            ratio = _overlap(box.y0, box.y1, line.y0, line.y1) / max(height, 1.0)
            if ratio < min_overlap:
                continue
            if any(_overlap(box.x0, box.x1, m.x0, m.x1) > 0.3 * min(box.x1 - box.x0, m.x1 - m.x0) for m in members):
                continue
            if ratio > best_score:
                best, best_score = (line, members), ratio
        if best is None:
            rows.append((Line(y0=box.y0, y1=box.y1), [box]))
        else:
            line, members = best
            members.append(box)
            # the row's band follows its first (anchor) boxes, not the union, so a tall or
            # slanted neighbour does not swallow the next row
            line.y0 = median(m.y0 for m in members)
            line.y1 = median(m.y1 for m in members)
    lines = []
    for line, members in rows:
        members.sort(key=lambda b: b.x0)
        line.segments = [Segment(clean_text(m.text), m.x0, m.x1, _bounds(original[id(m)]), m.score) for m in members]
        lines.append(line)
    lines.sort(key=lambda ln: (ln.y0 + ln.y1) / 2)
    return lines


def _bounds(box: TextBox) -> tuple[float, float, float, float]:
    return (box.x0, box.y0, box.x1, box.y1)


def lines_from_strings(texts: Iterable[str]) -> list[Line]:
    """Plain strings as lines (tests, and engines that already give lines)."""
    out = []
    for i, text in enumerate(texts):
        text = text.strip()
        if text:
            out.append(Line(segments=[Segment(text, 0.0, float(len(text)))], y0=float(i), y1=float(i) + 1))
    return out

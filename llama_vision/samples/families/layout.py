"""Drawing a family document's operations onto paper, recording where each field's value went.

A family builder describes the page as operations, top to bottom, each drawn inside a frame (the
whole text width, or one half of a `split`):

    ("center" | "left" | "right", segs, style)      one line, aligned in the frame
    ("lr", left_segs, right_segs, style)            label at the left edge, value at the right
    ("cols", [segs, ...], style, spec)              cells at fixed columns; spec = [(fraction, "l"|"r")]
    ("table", rows, spec[, header])                 a bordered grid (first row bold unless header is False);
                                                    spec = [(left fraction, right fraction, "l"|"r")]
    ("split", left_ops, right_ops[, fraction])      two blocks side by side, each with its own cursor
    ("boxed", ops)                                  ops inside a drawn rectangle
    ("rule",) | ("dashes",) | ("double",) | ("gap", pixels)

`segs` is a string or a list of (text, field) pieces drawn one after the other; a piece with a
field name records its pixel box (the union when a field is printed in several pieces) and its
text, so the truth can say where the value was drawn. Styles: None, "small", "bold", "heading",
"title", "big" (a large bold total).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = ["FACES", "Canvas", "as_segs", "render_page"]

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_LIBERATION = Path("/usr/share/fonts/truetype/liberation")
#: face name -> (regular, bold); the generator picks among them per document.
FACES: dict[str, tuple[Path, Path]] = {
    "dejavu-mono": (_DEJAVU / "DejaVuSansMono.ttf", _DEJAVU / "DejaVuSansMono-Bold.ttf"),
    "liberation-mono": (_LIBERATION / "LiberationMono-Regular.ttf", _LIBERATION / "LiberationMono-Bold.ttf"),
    "dejavu-sans": (_DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"),
    "liberation-sans": (_LIBERATION / "LiberationSans-Regular.ttf", _LIBERATION / "LiberationSans-Bold.ttf"),
    "dejavu-condensed": (_DEJAVU / "DejaVuSansCondensed.ttf", _DEJAVU / "DejaVuSansCondensed-Bold.ttf"),
    "liberation-narrow": (_LIBERATION / "LiberationSansNarrow-Regular.ttf",
                          _LIBERATION / "LiberationSansNarrow-Bold.ttf"),
    "dejavu-serif": (_DEJAVU / "DejaVuSerif.ttf", _DEJAVU / "DejaVuSerif-Bold.ttf"),
    "liberation-serif": (_LIBERATION / "LiberationSerif-Regular.ttf", _LIBERATION / "LiberationSerif-Bold.ttf"),
}
_STYLE_DELTA = {None: (False, 0), "small": (False, -3), "bold": (True, 0), "heading": (True, 4),
                "title": (True, 9), "big": (True, 6)}


@lru_cache(maxsize=128)
def _font(face: str, bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    regular, heavy = FACES[face]
    try:
        return ImageFont.truetype(str(heavy if bold else regular), size)
    except OSError:  # the face is not installed here (fonts-dejavu-core, fonts-liberation): Pillow's own
        return ImageFont.load_default(size=size)


def as_segs(value: Any) -> list[tuple[str, str | None]]:
    return [(value, None)] if isinstance(value, str) else [(str(text), name) for text, name in value]


def _text_of(segs: Any) -> str:
    return "".join(text for text, _ in as_segs(segs))


class Canvas:
    """A tall sheet of paper with a pen; `render_page` crops it to what was drawn."""

    def __init__(self, style: dict[str, Any], width: int) -> None:
        self.style = style
        self.size = style["size"]
        self.margin = max(26, int(self.size * 1.4))
        self.width = width
        self.image = Image.new("RGB", (width, 9000), style["paper"])
        self.draw = ImageDraw.Draw(self.image)
        self.ink = style["ink"]
        self.boxes: dict[str, list[float]] = {}
        self.texts: dict[str, str] = {}

    def font(self, style: str | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        bold, delta = _STYLE_DELTA[style]
        return _font(self.style["face"], bold, max(14, self.size + delta))

    def line_height(self, style: str | None) -> int:
        font = self.font(style)
        ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (font.size, 0)
        return int((ascent + descent) * self.style.get("leading", 1.3))

    def length(self, segs: Any, style: str | None) -> float:
        return self.draw.textlength(_text_of(segs), font=self.font(style))

    def run(self, x: float, y: float, segs: Any, style: str | None) -> None:
        """Draw the pieces one after another from (x, y), recording the boxes of tagged pieces."""
        font = self.font(style)
        for text, name in as_segs(segs):
            self.draw.text((x, y), text, font=font, fill=self.ink)
            if name and text.strip():
                box = list(self.draw.textbbox((x, y), text, font=font))
                old = self.boxes.get(name)
                self.boxes[name] = box if old is None else [min(old[0], box[0]), min(old[1], box[1]),
                                                            max(old[2], box[2]), max(old[3], box[3])]
                self.texts[name] = (self.texts[name] + " " + text.strip()) if old else text.strip()
            x += self.draw.textlength(text, font=font)

    # -- operations ------------------------------------------------------------------------
    def ops(self, ops: list[tuple], x0: float, x1: float, y: float) -> float:
        for op in ops:
            y = self.op(op, x0, x1, y)
        return y

    def op(self, op: tuple, x0: float, x1: float, y: float) -> float:  # noqa: C901 - one switch
        kind = op[0]
        if kind == "gap":
            return y + op[1]
        if kind in ("rule", "dashes", "double"):
            return self._rule(kind, x0, x1, y)
        if kind == "split":
            fraction = op[3] if len(op) > 3 else 0.5
            middle = x0 + (x1 - x0) * fraction
            return max(self.ops(op[1], x0, middle - self.size, y), self.ops(op[2], middle + self.size, x1, y))
        if kind == "boxed":
            pad = self.size // 2
            end = self.ops(op[1], x0 + pad, x1 - pad, y + pad) + pad
            self.draw.rectangle([x0 - pad, y, x1 + pad, end], outline=self.ink, width=2)
            return end + pad
        if kind == "table":
            return self._table(op[1], op[2], op[3] if len(op) > 3 else True, x0, x1, y)
        style = op[-1] if kind in ("center", "left", "right", "lr") and len(op) > (3 if kind == "lr" else 2) else None
        if kind == "center":
            self.run((x0 + x1 - self.length(op[1], style)) / 2, y, op[1], style)
        elif kind == "left":
            self.run(x0, y, op[1], style)
        elif kind == "right":
            self.run(x1 - self.length(op[1], style), y, op[1], style)
        elif kind == "lr":
            self.run(x0, y, op[1], style)
            self.run(x1 - self.length(op[2], style), y, op[2], style)
        elif kind == "cols":
            style = op[2]
            for cell, (fraction, align) in zip(op[1], op[3]):
                edge = x0 + (x1 - x0) * fraction
                self.run(edge - (self.length(cell, style) if align == "r" else 0), y, cell, style)
        else:
            raise ValueError(f"unknown layout operation {kind!r}")
        return y + self.line_height(style if kind != "cols" else op[2])

    def _rule(self, kind: str, x0: float, x1: float, y: float) -> float:
        height = self.size
        if kind == "dashes":
            font = self.font(None)
            dash = "-" * int((x1 - x0) / max(1.0, self.draw.textlength("-", font=font)))
            self.draw.text((x0, y), dash, font=font, fill=self.ink)
            return y + self.line_height(None)
        mid = y + height // 2
        self.draw.line([(x0, mid), (x1, mid)], fill=self.ink, width=2)
        if kind == "double":
            self.draw.line([(x0, mid + 4), (x1, mid + 4)], fill=self.ink, width=2)
        return y + height

    def _table(self, rows: list[list], spec: list[tuple], header: bool, x0: float, x1: float, y: float) -> float:
        """A grid with cell borders; the first row is the (bold) header unless `header` is False."""
        pad = max(6, self.size // 3)
        top = y
        edges = sorted({x0 + (x1 - x0) * left for left, _, _ in spec} | {x1})
        for number, row in enumerate(rows):
            row_style = "bold" if number == 0 and header else None
            height = self.line_height(row_style) + pad
            for cell, (left, right, align) in zip(row, spec):
                a, b = x0 + (x1 - x0) * left + pad, x0 + (x1 - x0) * right - pad
                self.run(b - self.length(cell, row_style) if align == "r" else a, y + pad // 2 + 2, cell, row_style)
            self.draw.line([(x0, y), (x1, y)], fill=self.ink, width=2)
            y += height
        self.draw.line([(x0, y), (x1, y)], fill=self.ink, width=2)
        for edge in edges:
            self.draw.line([(edge, top), (edge, y)], fill=self.ink, width=2)
        return y + pad


def _needed_width(canvas: Canvas, ops: list[tuple]) -> float:
    """The widest single-line operation at the top level (so a long line widens the paper)."""
    needed = 0.0
    for op in ops:
        if op[0] in ("center", "left", "right"):
            needed = max(needed, canvas.length(op[1], op[2] if len(op) > 2 else None))
        elif op[0] == "lr":
            style = op[3] if len(op) > 3 else None
            needed = max(needed, canvas.length(op[1], style) + canvas.length(op[2], style) + 2 * canvas.size)
    return needed


def render_page(ops: list[tuple], style: dict[str, Any]) -> tuple[Image.Image, dict[str, list[float]], dict[str, str]]:
    """The paper (RGB), the field boxes in its pixels and the text printed in each box."""
    probe = Canvas(style, 10)
    width = int(max(style["width"], _needed_width(probe, ops) + 2 * probe.margin))
    canvas = Canvas(style, width)
    end = canvas.ops(ops, canvas.margin, width - canvas.margin, canvas.margin)
    height = int(end + canvas.margin)
    if style.get("sheet"):
        height = max(height, int(width * style.get("aspect", 1.35)))  # a sheet of paper, not a strip
    page = canvas.image.crop((0, 0, width, min(height, canvas.image.height)))
    return page, canvas.boxes, canvas.texts

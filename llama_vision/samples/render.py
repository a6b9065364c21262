"""Drawing a generated document: fonts, layout, paper, and the phone-photo look.

The content arrives as `doc.lines`, top to bottom: ("center"|"left", text[, style]),
("lr", left, right[, style]), ("cols", [description, qty, unit, amount][, style]), ("rule",),
("gap", pixels); styles are None, "small", "bold", "heading", "title". `doc.style` (from
`choose_style`) picks the font, paper, background, rotation, blur and size. Every random choice
comes from the seeded `rng`, never from Pillow's own noise, so output is deterministic.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["FONT_DIR", "choose_style", "render_document", "save_as_pdf"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
FONT_FAMILIES = {
    "mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    "sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "condensed": ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
    "serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
}


@lru_cache(maxsize=64)
def _font(family: str, bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    regular, heavy = FONT_FAMILIES[family]
    path = FONT_DIR / (heavy if bold else regular)
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # no DejaVu (fonts-dejavu-core) on this machine: Pillow's bundled font
        return ImageFont.load_default(size=size)


def choose_style(rng: random.Random, kind: str) -> dict[str, Any]:
    receipt = kind in ("cafe", "supermarket", "hardware", "fuel")
    family = rng.choices(["mono", "sans", "condensed", "serif"], weights=[55, 20, 15, 10] if receipt
                         else [10, 45, 25, 20])[0]
    photo = rng.random() < (0.7 if receipt else 0.4)
    large = rng.random() < 0.2
    return {
        "family": family,
        "size": rng.randint(22, 27) if receipt else rng.randint(21, 25),
        "width": rng.randint(540, 640) if receipt else rng.randint(1150, 1280),
        "paper": rng.choice([(255, 255, 255), (250, 248, 240), (246, 244, 236)]) if receipt else (255, 255, 255),
        "ink": rng.choice([(20, 20, 20), (45, 45, 50), (60, 55, 70)]),
        "photo": photo,
        "background": rng.choice([(128, 94, 62), (92, 92, 98), (205, 205, 200), (52, 54, 60), (160, 140, 120)]),
        "angle": rng.uniform(-3.0, 3.0) if photo else rng.uniform(-0.8, 0.8),
        "blur": rng.choice([0.0, 0.0, 0.4, 0.7, 1.0]),
        "long_side": rng.randint(3000, 4032) if large else rng.randint(1300, 2000),
        "format": "png" if rng.random() < 0.2 else "jpg",
        "quality": rng.randint(55, 92),
        "specks": rng.randint(0, 120),
        "shade": rng.uniform(0.0, 0.12) if photo else 0.0,
    }


def _font_key(line: tuple) -> str | None:
    """Lines are (kind, text..., style?): center/left/cols carry the style third, lr fourth."""
    if line[0] in ("center", "left", "cols"):
        return line[2] if len(line) > 2 else None
    if line[0] == "lr":
        return line[3] if len(line) > 3 else None
    return None


def _line_height(font) -> int:  # noqa: ANN001
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (font.size, 0)
    return int((ascent + descent) * 1.3)


def render_document(doc: Any, rng: random.Random, *, long_side: int | None = None) -> Image.Image:
    """The page (and, for photos, the table around it) as an RGB image."""
    style = doc.style
    size = style["size"]
    fonts = {
        None: _font(style["family"], False, size),
        "small": _font(style["family"], False, max(16, size - 3)),
        "bold": _font(style["family"], True, size),
        "heading": _font(style["family"], True, size + 4),
        "title": _font(style["family"], True, size + 8),
    }
    margin = max(24, size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def width_of(text: str, font) -> float:  # noqa: ANN001
        return measure.textlength(text, font=font)

    # Fit the paper to the widest line so nothing is clipped.
    needed = style["width"]
    for line in doc.lines:
        font = fonts[_font_key(line)]
        if line[0] in ("center", "left"):
            needed = max(needed, width_of(line[1], font) + 2 * margin)
        elif line[0] == "lr":
            needed = max(needed, width_of(line[1], font) + width_of(line[2], font) + 2 * margin + 3 * size)
        elif line[0] == "cols":
            needed = max(needed, width_of(line[1][0], fonts["bold"]) / 0.5 + 2 * margin)
    width = int(needed)

    heights = []
    for line in doc.lines:
        if line[0] == "gap":
            heights.append(line[1])
        elif line[0] == "rule":
            heights.append(size)
        else:
            heights.append(_line_height(fonts[_font_key(line)]))
    height = int(sum(heights) + 2 * margin)
    if doc.kind.startswith("invoice") or doc.kind == "bank_statement":
        height = max(height, int(width * style.get("aspect", 1.3)))  # a sheet of paper, not a strip

    page = Image.new("RGB", (width, height), style["paper"])
    draw = ImageDraw.Draw(page)
    ink = style["ink"]
    y = margin
    columns = (margin, 0.62, 0.79, None)  # description left; qty, unit, amount right-aligned
    for line, line_height in zip(doc.lines, heights):
        kind = line[0]
        font = fonts[_font_key(line)]
        if kind == "center":
            draw.text(((width - width_of(line[1], font)) / 2, y), line[1], font=font, fill=ink)
        elif kind == "left":
            draw.text((margin, y), line[1], font=font, fill=ink)
        elif kind == "lr":
            draw.text((margin, y), line[1], font=font, fill=ink)
            draw.text((width - margin - width_of(line[2], font), y), line[2], font=font, fill=ink)
        elif kind == "cols":
            cells = line[1]
            draw.text((margin, y), cells[0], font=font, fill=ink)
            for cell, right in zip(cells[1:], (columns[1] * width, columns[2] * width, width - margin)):
                draw.text((right - width_of(cell, font), y), cell, font=font, fill=ink)
        elif kind == "rule":
            mid = y + line_height // 2
            if style["family"] == "mono":
                dash = "-" * int((width - 2 * margin) / max(1, width_of("-", fonts[None])))
                draw.text((margin, y), dash, font=fonts[None], fill=ink)
            else:
                draw.line([(margin, mid), (width - margin, mid)], fill=ink, width=2)
        y += line_height

    for _ in range(style["specks"]):  # faint dust, from the seeded generator (not Pillow's noise)
        x0, y0 = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(150, 215)
        draw.point((x0, y0), fill=(shade, shade, shade))

    return _photograph(page, rng, style, long_side or style["long_side"])


def _photograph(page: Image.Image, rng: random.Random, style: dict[str, Any], long_side: int) -> Image.Image:
    if style["photo"]:
        pad_x = int(page.width * rng.uniform(0.06, 0.25))
        pad_y = int(page.height * rng.uniform(0.03, 0.10))
        canvas = Image.new("RGB", (page.width + 2 * pad_x, page.height + 2 * pad_y), style["background"])
        canvas.paste(page, (pad_x + rng.randint(-pad_x // 3, pad_x // 3), pad_y))
        page = canvas
    if abs(style["angle"]) > 0.05:
        fill = style["background"] if style["photo"] else (255, 255, 255)
        page = page.rotate(style["angle"], resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    if style["shade"] > 0:  # uneven light across a phone photo
        gradient = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize(page.size)
        dark = Image.new("RGB", page.size, (0, 0, 0))
        mask = gradient.point(lambda v: int(v * style["shade"]))
        page = Image.composite(dark, page, mask)
    scale = long_side / max(page.size)
    new_size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
    page = page.resize(new_size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    if style["blur"] > 0:
        page = page.filter(ImageFilter.GaussianBlur(style["blur"] * max(1.0, scale)))
    return page


def save_as_pdf(images: list[Image.Image] | Image.Image, path: str | Path, *, resolution: float = 200.0) -> Path:
    """Write one or more pages to a PDF (Pillow), e.g. to test the PDF path with a generated document."""
    pages = [images] if isinstance(images, Image.Image) else list(images)
    if not pages:
        raise ValueError("no pages to write")
    rgb = [page.convert("RGB") for page in pages]
    path = Path(path)
    rgb[0].save(path, "PDF", save_all=True, append_images=rgb[1:], resolution=resolution)
    return path

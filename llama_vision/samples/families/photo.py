"""The look of a family document: fonts and sizes, then the photo effects, with the field boxes
carried through every geometric step.

Effects (each recorded in the truth's generator block): thermal fade (ink faded in bands),
crumple (crease shading), perspective (a phone held at an angle: a homography, which also covers
rotation), shadow (a soft dark shape over part of the page), uneven light, blur, low resolution
(a small long side) and JPEG (low quality). Geometry is one 3x3 matrix from paper pixels to
output pixels; the boxes' corners go through the same matrix and the enclosing box is kept.
All randomness comes from the seeded `rng` (never Pillow's noise), so output is deterministic.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["EFFECTS", "choose_family_style", "clean_style", "photograph"]

EFFECTS = ("thermal_fade", "crumple", "perspective", "shadow", "low_resolution", "jpeg")
_RECEIPT_FACES = ["dejavu-mono", "liberation-mono", "dejavu-condensed", "liberation-narrow", "dejavu-sans"]
_SHEET_FACES = ["dejavu-sans", "liberation-sans", "dejavu-serif", "liberation-serif", "dejavu-condensed",
                "liberation-narrow"]


def choose_family_style(rng: random.Random, *, sheet: bool, thermal: bool) -> dict[str, Any]:
    """Fonts, sizes and effects for one document (a sheet: A4 invoice or statement; else a strip)."""
    photo = rng.random() < (0.45 if sheet else 0.7)
    effects = {
        "thermal_fade": thermal and rng.random() < 0.35,
        "crumple": (not sheet) and photo and rng.random() < 0.3,
        "perspective": photo and rng.random() < 0.6,
        "shadow": photo and rng.random() < 0.3,
        "low_resolution": rng.random() < 0.15,
        "jpeg": rng.random() < 0.25,
    }
    return {
        "face": rng.choice(_SHEET_FACES if sheet else _RECEIPT_FACES),
        "size": rng.randint(20, 26) if sheet else rng.randint(21, 28),
        "leading": rng.uniform(1.2, 1.45),
        "width": rng.randint(1150, 1300) if sheet else rng.randint(520, 660),
        "sheet": sheet,
        "aspect": rng.uniform(1.3, 1.42),
        "paper": (255, 255, 255) if sheet else rng.choice([(255, 255, 255), (250, 248, 240), (244, 242, 236)]),
        "ink": rng.choice([(20, 20, 20), (40, 40, 48), (55, 50, 68)]),
        "photo": photo,
        "background": rng.choice([(128, 94, 62), (92, 92, 98), (205, 205, 200), (52, 54, 60), (160, 140, 120)]),
        "angle": rng.uniform(-4.0, 4.0) if photo else rng.uniform(-0.8, 0.8),
        "tilt": rng.uniform(0.015, 0.05),
        "blur": rng.choice([0.0, 0.0, 0.0, 0.4, 0.8]),
        "shade": rng.uniform(0.0, 0.15) if photo else 0.0,
        "long_side": rng.randint(700, 950) if effects["low_resolution"] else rng.randint(1300, 2100),
        "format": "png" if rng.random() < 0.15 and not effects["jpeg"] else "jpg",
        "quality": rng.randint(30, 55) if effects["jpeg"] else rng.randint(70, 92),
        "effects": effects,
    }


def clean_style(style: dict[str, Any]) -> dict[str, Any]:
    """The same document as a straight, clean scan (for tests that read the boxes back)."""
    clean = dict(style, photo=False, angle=0.0, blur=0.0, shade=0.0, format="png")
    clean["effects"] = {name: False for name in EFFECTS}
    return clean


# ---------------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------------
def _homography(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> np.ndarray:
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    solution = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))
    return np.append(solution, 1.0).reshape(3, 3)


def _apply(matrix: np.ndarray, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for x, y in points:
        u, v, w = matrix @ np.array([x, y, 1.0])
        out.append((u / w, v / w))
    return out


def _warp(image: Image.Image, rng: random.Random, style: dict[str, Any], fill: tuple) -> tuple[Image.Image, np.ndarray]:
    """Rotate (and with perspective, tilt) the image; the matrix from its pixels to the result's."""
    w, h = image.size
    corners = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
    angle = math.radians(style["angle"])
    cx, cy = w / 2, h / 2
    moved = [(cx + (x - cx) * math.cos(angle) + (y - cy) * math.sin(angle),
              cy - (x - cx) * math.sin(angle) + (y - cy) * math.cos(angle)) for x, y in corners]
    if style["effects"]["perspective"]:
        jitter = style["tilt"] * min(w, h)
        moved = [(x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)) for x, y in moved]
    left, top = min(x for x, _ in moved), min(y for _, y in moved)
    moved = [(x - left, y - top) for x, y in moved]
    size = (math.ceil(max(x for x, _ in moved)), math.ceil(max(y for _, y in moved)))
    forward = _homography(corners, moved)
    inverse = np.linalg.inv(forward)
    inverse = inverse / inverse[2, 2]
    warped = image.transform(size, Image.Transform.PERSPECTIVE, tuple(inverse.flatten()[:8]),
                             resample=Image.Resampling.BICUBIC, fillcolor=fill)
    return warped, forward


# ---------------------------------------------------------------------------------------------
# paper and light
# ---------------------------------------------------------------------------------------------
def _thermal_fade(page: Image.Image, rng: random.Random, paper: tuple) -> Image.Image:
    """Thermal paper fades in bands: blend towards the paper colour under a soft mask."""
    strength = rng.uniform(0.25, 0.5)
    faded = Image.blend(page, Image.new("RGB", page.size, paper), strength)
    mask = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize(page.size)
    return Image.composite(faded, page, mask)


def _crumple(page: Image.Image, rng: random.Random) -> Image.Image:
    """Creases: soft light and dark lines across the paper."""
    mask = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(mask)
    w, h = page.size
    for _ in range(rng.randint(2, 5)):
        a = (rng.uniform(0, w), 0.0) if rng.random() < 0.5 else (0.0, rng.uniform(0, h))
        b = (rng.uniform(0, w), float(h)) if a[1] == 0 else (float(w), rng.uniform(0, h))
        draw.line([a, b], fill=rng.randint(25, 55), width=rng.randint(2, 6))
    mask = mask.filter(ImageFilter.GaussianBlur(3))
    return Image.composite(Image.new("RGB", page.size, (90, 90, 90)), page, mask)


def _shadow(image: Image.Image, rng: random.Random) -> Image.Image:
    """A soft shadow (a hand or a phone) over one corner of the photo."""
    w, h = image.size
    mask = Image.new("L", image.size, 0)
    corner_x, corner_y = rng.choice([0, w]), rng.choice([0, h])
    reach_x, reach_y = w * rng.uniform(0.3, 0.6), h * rng.uniform(0.25, 0.5)
    points = [(corner_x, corner_y), (abs(corner_x - reach_x), corner_y), (abs(corner_x - reach_x * 0.7),
              abs(corner_y - reach_y)), (corner_x, abs(corner_y - reach_y))]
    ImageDraw.Draw(mask).polygon(points, fill=int(255 * rng.uniform(0.2, 0.35)))
    mask = mask.filter(ImageFilter.GaussianBlur(max(8, min(w, h) // 25)))
    return Image.composite(Image.new("RGB", image.size, (0, 0, 0)), image, mask)


def _uneven_light(image: Image.Image, rng: random.Random, shade: float) -> Image.Image:
    gradient = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize(image.size)
    return Image.composite(Image.new("RGB", image.size, (0, 0, 0)), image, gradient.point(lambda v: int(v * shade)))


def photograph(page: Image.Image, boxes: dict[str, list[float]], rng: random.Random, style: dict[str, Any],
               long_side: int) -> tuple[Image.Image, dict[str, list[int]]]:
    """The final image and the field boxes in its pixels (clipped to it)."""
    effects = style["effects"]
    if effects["thermal_fade"]:
        page = _thermal_fade(page, rng, style["paper"])
    if effects["crumple"]:
        page = _crumple(page, rng)
    matrix = np.eye(3)
    if style["photo"]:
        pad_x, pad_y = int(page.width * rng.uniform(0.06, 0.22)), int(page.height * rng.uniform(0.03, 0.09))
        offset = (pad_x + rng.randint(-pad_x // 3, pad_x // 3), pad_y)
        canvas = Image.new("RGB", (page.width + 2 * pad_x, page.height + 2 * pad_y), style["background"])
        canvas.paste(page, offset)
        page = canvas
        matrix = np.array([[1.0, 0, offset[0]], [0, 1.0, offset[1]], [0, 0, 1.0]])
    if abs(style["angle"]) > 0.05 or effects["perspective"]:
        page, warp = _warp(page, rng, style, style["background"] if style["photo"] else (255, 255, 255))
        matrix = warp @ matrix
    if effects["shadow"]:
        page = _shadow(page, rng)
    if style["shade"] > 0:
        page = _uneven_light(page, rng, style["shade"])
    scale = min(long_side / max(page.size), 2.0)  # a short receipt is not blown up to poster size
    before = page.size
    size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
    page = page.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    matrix = np.diag([size[0] / before[0], size[1] / before[1], 1.0]) @ matrix
    if style["blur"] > 0:
        page = page.filter(ImageFilter.GaussianBlur(style["blur"] * max(1.0, scale)))
    out: dict[str, list[int]] = {}
    for name, (x0, y0, x1, y1) in boxes.items():
        corners = _apply(matrix, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        out[name] = [max(0, math.floor(min(xs))), max(0, math.floor(min(ys))),
                     min(page.width, math.ceil(max(xs))), min(page.height, math.ceil(max(ys)))]
    return page, out

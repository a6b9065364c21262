"""Any Pillow image mode -> RGB, done properly.

Transparency is composited on white (a receipt photographed on a transparent background must not
turn black), CMYK goes through the embedded ICC profile when there is one (print-ready scans),
and 16/32-bit greyscale has its used range stretched to 0-255 (Pillow's own convert would clip
it to white). `documents` uses it for every page it decodes or renders.
"""

from __future__ import annotations

import io

from PIL import Image

from llama_vision.errors import DocumentError

__all__ = ["to_rgb"]


def to_rgb(image: Image.Image, name: str) -> Image.Image:
    """Any Pillow mode -> RGB, with transparency on white and high bit depths scaled, not clipped."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode in ("1", "L"):
        return image.convert("RGB")
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_rgb(image)
    try:
        return image.convert("RGB")
    except MemoryError:
        raise
    except Exception as error:
        raise DocumentError(
            f"'{name}' uses the colour mode {mode}, which cannot be converted to RGB ({str(error).strip()[:80] or type(error).__name__}).",
            hint="Save it as an ordinary RGB JPEG or PNG.",
        ) from None


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """Use the embedded ICC profile when there is one (print-ready scans), else Pillow's formula."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except Exception:
            pass
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    """16/32-bit greyscale: stretch the used range to 0-255 (Pillow's convert("L") would clip)."""
    if image.mode not in ("I", "F"):
        image = image.convert("I")  # I;16, I;16B, I;16L... -> 32-bit int, values kept
    low, high = image.getextrema()
    if low >= 0 and high <= 255:
        scaled = image
    elif high == low:
        scaled = image.point(lambda _v: 255 if high > 0 else 0)
    else:
        scale = 255.0 / (high - low)
        scaled = image.point(lambda v: (v - low) * scale)
    return scaled.convert("L").convert("RGB")

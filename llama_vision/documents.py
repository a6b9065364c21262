"""File -> pages: every input document becomes a list of RGB PIL images.

Supported, detected by content (magic bytes), never by extension: JPEG, PNG, WebP, TIFF (first
page), BMP, GIF (first frame) and PDF (every page, rendered with pypdfium2 at about 200 dpi, the
longest side and the area capped in pixels, at most `settings.max_pages` pages).

The decoding and rendering run in a child process with a memory and a time limit
(`document_worker`), within pixel budgets per page and per document (`page_budget`): a file that
would cost more is one `DocumentError`, never a crash of the caller.

Every bad input raises ONE `DocumentError` whose single line names the file and says what to do:
missing, a folder, empty, over the size cap (checked before reading), not a document (text, HTML,
ZIP, HEIC...), truncated or corrupt (we force a full decode), a decompression bomb, too small to
read, an encrypted or damaged PDF, a PDF with no pages or over the page cap.

Images are returned upright (EXIF orientation applied) and in RGB: transparency is composited on
white, CMYK, palette, greyscale and 16-bit images are converted properly.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from llama_vision import page_budget
from llama_vision.errors import DocumentError
from llama_vision.image_modes import to_rgb as _to_rgb
from llama_vision.schema import DOCUMENT_EXTENSIONS, DOCUMENT_FORMATS

if TYPE_CHECKING:
    from llama_vision.config import Settings

__all__ = [
    "DOCUMENT_EXTENSIONS",
    "MIN_SIDE",
    "PDF_DPI",
    "PDF_MAX_SIDE",
    "SUPPORTED_TYPES",
    "detect_kind",
    "load_pages",
    "load_pages_from_bytes",
    "prepare_for_ocr",
]

#: "JPEG, PNG, WebP, TIFF, BMP, GIF or PDF". Loading ignores extensions and looks at the content;
#: DOCUMENT_EXTENSIONS (from the schema) only decide what pickers offer and folder scans pick up.
SUPPORTED_TYPES = ", ".join(list(DOCUMENT_FORMATS)[:-1]) + " or " + list(DOCUMENT_FORMATS)[-1]
#: An image whose shorter side is below this cannot hold readable text.
MIN_SIDE = 32
#: PDF pages are rendered at about 200 dpi, the longest side and the area capped; the pixel
#: budgets per page and per document live in page_budget.
PDF_DPI, PDF_MAX_SIDE = page_budget.PDF_DPI, page_budget.PDF_MAX_SIDE
#: Pillow's own default, used only if someone switched the guard off (MAX_IMAGE_PIXELS = None).
_FALLBACK_MAX_PIXELS = 89_478_485

# Pillow's format names, so Image.open tries only the decoder the magic bytes point to.
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP"}

# pdfium is not thread-safe; the UI and batch may load several documents at once.
_PDFIUM_LOCK = threading.Lock()


# ---------------------------------------------------------------------------------------------
# detection
# ---------------------------------------------------------------------------------------------
def detect_kind(data: bytes) -> str | None:
    """The document kind the content says (jpeg, png, gif, webp, tiff, bmp, pdf), else None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM" and len(data) >= 26:
        return "bmp"
    # The PDF header may follow some junk; readers accept it within the first 1 KiB.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


def _describe_unsupported(data: bytes) -> str:
    """A short guess at what a non-document file is, for the error message."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "an HTML page, not an image or PDF (was a web page saved instead of the file?)"
    if head.startswith((b"<?xml", b"<svg")):
        return "an XML/SVG file, not an image or PDF"
    if data[:4] == b"PK\x03\x04":
        return "a ZIP archive, not a single document (use the batch command or tab for archives)"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"):
        return "a HEIC/AVIF photo, which is not supported (export it as JPEG or PNG)"
    sample = data[:1024]
    try:
        sample.decode("utf-8")
        is_text = b"\x00" not in sample
    except UnicodeDecodeError as error:  # a multibyte character cut at the boundary is still text
        is_text = error.start >= len(sample) - 3 and b"\x00" not in sample
    if is_text:
        return "a text file, not an image or PDF"
    return "not a supported document type"


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def load_pages(path: str | Path, *, settings: Settings | None = None, name: str | None = None) -> list[Image.Image]:
    """Read one document file into RGB pages (one for an image, one per page for a PDF).

    `name` is how the file is called in error messages (default: the file name; the UI passes the
    name the user uploaded rather than Gradio's temporary path). Raises `DocumentError`.
    """
    settings = _settings(settings)
    file = Path(path)
    label = name or file.name or str(file)
    try:
        if not file.exists():
            raise DocumentError(f"File not found: '{label}'.", hint="Check the path and the spelling, then try again.")
        if file.is_dir():
            raise DocumentError(
                f"'{label}' is a folder, not a document.",
                hint="Pass a file, or use the batch command or tab to process a folder.",
            )
        if not file.is_file():
            raise DocumentError(f"'{label}' is not a regular file.", hint="Pass an image or PDF file.")
        size = file.stat().st_size
        _check_size(size, label, settings)  # before reading a single byte
        with file.open("rb") as handle:
            data = handle.read(settings.max_file_bytes + 1)
    except PermissionError:
        raise DocumentError(
            f"'{label}' cannot be read: permission denied.", hint="Check the file's permissions."
        ) from None
    except OSError as error:
        raise DocumentError(
            f"'{label}' cannot be read ({error.strerror or error}).", hint="Check the path and the disk."
        ) from None
    return load_pages_from_bytes(data, label, settings=settings)


def load_pages_from_bytes(data: bytes, name: str, *, settings: Settings | None = None) -> list[Image.Image]:
    """Like `load_pages` for content already in memory (uploads); `name` is used in messages."""
    settings = _settings(settings)
    _check_size(len(data), name, settings)
    kind = detect_kind(data)
    if kind is not None:
        # Decoding and rendering run in a child process with a memory and a time limit: one
        # hostile file must cost that child, never this process (see document_worker).
        from llama_vision.document_worker import load_in_worker

        return load_in_worker(data, name, kind, settings)
    raise DocumentError(
        f"'{name}' is {_describe_unsupported(data)}.", hint=f"Use a {SUPPORTED_TYPES} file."
    )


def prepare_for_ocr(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale (never upscale) for the OCR engine: detection time grows with the pixel count."""
    return _fit(image, max_side)


def iter_pages(data: bytes, name: str, kind: str, *, max_pages: int) -> Iterator[Image.Image]:
    """Decode in this process, one page at a time, within the pixel budgets of `page_budget`.

    What the document worker runs; everything else calls `load_pages`, which runs it in the
    worker. `kind` is what `detect_kind` said. Raises `DocumentError`.
    """
    if kind == "pdf":
        yield from _render_pdf(data, name, max_pages)
    else:
        yield _open_image(data, name, kind)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from llama_vision.config import get_settings

    return get_settings()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _check_size(size: int, name: str, settings: Settings) -> None:
    if size == 0:
        raise DocumentError(f"'{name}' is empty (0 bytes).", hint="Export or upload the file again.")
    limit = settings.max_file_bytes
    if size > limit:
        raise DocumentError(
            f"'{name}' is {_megabytes(size)} ({size:,} bytes), over the {settings.max_file_mb:g} MB limit.",
            hint="Shrink or split the file, or raise LLAMA_VISION_MAX_FILE_MB.",
        )


def _too_small(name: str, width: int, height: int, page: int | None = None) -> DocumentError:
    where = f"'{name}' page {page}" if page else f"'{name}'"
    return DocumentError(
        f"{where} is too small to read ({width}x{height} px; at least {MIN_SIDE} px a side is needed).",
        hint="Use the original photo or scan, not a thumbnail.",
    )


def _bomb(name: str, width: int | None = None, height: int | None = None) -> DocumentError:
    limit = Image.MAX_IMAGE_PIXELS or _FALLBACK_MAX_PIXELS
    size = f" ({width}x{height} px)" if width and height else ""
    return DocumentError(
        f"'{name}' declares an image too large to decode safely{size}, over {limit / 1e6:.0f} megapixels.",
        hint="It may be a decompression bomb; if it is a genuine photo, downscale it first.",
    )


def _over_budget(name: str, width: int, height: int) -> DocumentError:
    return DocumentError(
        f"'{name}' declares an image too large to decode safely ({width}x{height} px, "
        f"{width * height / 1e6:.0f} megapixels): over the {page_budget.IMAGE_MAX_PIXELS / 1e6:.0f}-megapixel"
        " budget per page and too narrow to shrink to it.",
        hint="It may be malicious; if it is a genuine scan, crop or downscale it first.",
    )


def _open_image(data: bytes, name: str, kind: str) -> Image.Image:
    """Decode fully (truncation shows only on load), upright and RGB."""
    limit = Image.MAX_IMAGE_PIXELS or _FALLBACK_MAX_PIXELS
    label = _PIL_FORMATS[kind]
    with warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that, and only raises above; a warning is
        # easy to miss, so both are errors here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[label])
            width, height = image.size
            if width * height > limit:  # also covers MAX_IMAGE_PIXELS = None
                raise _bomb(name, width, height)
            if min(width, height) < MIN_SIDE:
                raise _too_small(name, width, height)
            factor = page_budget.reduction_factor(width, height)
            if factor > 1 and min(width, height) // factor < MIN_SIDE:
                raise _over_budget(name, width, height)
            image.seek(0)  # first frame (GIF) or first page (TIFF)
            if factor > 1 and kind == "jpeg":  # the decoder scales by 1/2, 1/4 or 1/8 for free
                image.draft(None, (-(-width // factor), -(-height // factor)))
            image.load()
            factor = page_budget.reduction_factor(*image.size)
            if factor > 1:  # other formats: one cheap box reduction after decoding
                if image.mode in ("1", "P") or image.mode.startswith("I;"):  # modes reduce() refuses
                    image = _to_rgb(image, name) if image.mode == "P" else image.convert("L" if image.mode == "1" else "I")
                image = image.reduce(factor)
        except DocumentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb(name) from None
        except MemoryError:  # the worker's limit, not a damaged file: the worker reports it
            raise
        except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, EOFError...
            raise DocumentError(
                f"'{name}' looks like a {label} image but cannot be decoded: "
                f"it is truncated or corrupt ({_short(error)}).",
                hint="Export, download or upload the file again.",
            ) from None
    try:
        image = ImageOps.exif_transpose(image) or image
    except MemoryError:
        raise
    except Exception:  # a broken EXIF block must not lose an otherwise good page
        pass
    return _to_rgb(image, name)


def _short(error: BaseException) -> str:
    text = str(error).strip().rstrip(".") or type(error).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _render_pdf(data: bytes, name: str, max_pages: int) -> Iterator[Image.Image]:
    """Pages one at a time: only the page being drawn is held, never the whole document."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            raise _pdf_open_error(data, name, error, pdfium) from None
        try:
            count = len(pdf)
            if count == 0:
                raise _no_pages(name)
            if count > max_pages:
                raise DocumentError(
                    f"'{name}' has {count} pages, over the {max_pages}-page limit.",
                    hint="Split the PDF, or raise LLAMA_VISION_MAX_PAGES.",
                )
            scales = page_budget.pdf_scales([pdf.get_page_size(index) for index in range(count)])
            if scales is None:
                raise DocumentError(
                    f"'{name}' has {count} pages too large to draw at a readable size within the "
                    f"{page_budget.DOCUMENT_MAX_PIXELS / 1e6:.0f}-megapixel budget per document.",
                    hint="Split the PDF into smaller files.",
                )
            for index, scale in enumerate(scales):
                yield _render_page(pdf, index, name, scale)
        finally:
            pdf.close()


def _pdf_open_error(data: bytes, name: str, error: Exception, pdfium) -> DocumentError:  # noqa: ANN001
    # pdfium's error code is thread-local state that is not reset by every failure (a PDF with no
    # pages fails with the previous call's code), so confirm it from the bytes: every encrypted
    # PDF names /Encrypt in its trailer or uncompressed xref-stream dictionary.
    code = getattr(error, "err_code", None)
    encrypted = re.search(rb"/Encrypt\b", data) is not None
    if encrypted and code == pdfium.raw.FPDF_ERR_SECURITY:
        return DocumentError(
            f"'{name}' uses a PDF security handler that cannot be opened.",
            hint="Export it to an unprotected PDF and try again.",
        )
    if encrypted:
        return DocumentError(
            f"'{name}' is a password-protected PDF.",
            hint="Remove the password (print or export to a new PDF) and try again.",
        )
    if re.search(rb"/Count\s+0\b", data) and not re.search(rb"/Type\s*/Page\b", data):
        return _no_pages(name)
    detail = _short(error)
    detail = "" if "Success" in detail else f" ({detail})"  # "Failed to load (PDFium: Success)" helps nobody
    return DocumentError(
        f"'{name}' is a damaged or incomplete PDF{detail}.",
        hint="Download or export the PDF again.",
    )


def _no_pages(name: str) -> DocumentError:
    return DocumentError(f"'{name}' is a PDF with no pages.", hint="Export the document to PDF again.")


def _render_page(pdf, index: int, name: str, scale: float) -> Image.Image:  # noqa: ANN001 - pypdfium2 is lazy
    import pypdfium2 as pdfium

    try:
        page = pdf[index]
        try:
            bitmap = page.render(scale=scale, may_draw_forms=True)
            image = bitmap.to_pil()
        finally:
            page.close()
    except pdfium.PdfiumError as error:
        raise DocumentError(
            f"'{name}': page {index + 1} of the PDF cannot be rendered ({_short(error)}).",
            hint="Export the PDF again, or print it to a new PDF.",
        ) from None
    if min(image.size) < MIN_SIDE:
        raise _too_small(name, *image.size, page=index + 1)
    return _to_rgb(image, name)


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    if image.mode != "RGB":
        image = _to_rgb(image, "image")
    width, height = image.size
    longest = max(width, height)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: a fast integer box reduction first, then LANCZOS for the last step; the
    # result is indistinguishable for text and several times faster on phone photos.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)

"""documents.py: every supported format loads to upright RGB pages; every bad input gives one
DocumentError line that names the file. The corpus is generated in tmp_path at test time."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from llama_vision import documents
from llama_vision.config import load_settings
from llama_vision.documents import (
    MIN_SIDE,
    PDF_MAX_SIDE,
    detect_kind,
    load_pages,
    load_pages_from_bytes,
)
from llama_vision.errors import DocumentError

ODD_NAMES = [
    "plain.jpg",
    "my receipt (1).jpg",
    "café 收据 ünïcødé.jpg",
    "a;b&c$HOME`x` 'q' \"dq\" |p*?.jpg",
    "-starts-with-dash.jpg",
]


@pytest.fixture()
def settings():
    return load_settings(max_file_mb=1, max_pages=3)


# -------------------------------------------------------------------------------------------
# corpus builders
# -------------------------------------------------------------------------------------------
def page_image(size=(200, 120), colour=(30, 120, 200), mode="RGB") -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 10, size[0] // 2, size[1] // 2], fill=colour)
    draw.text((12, size[1] - 30), "TAX INVOICE $12.30", fill="black")
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares `width` x `height` (valid CRC) and holds no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + body + end


def build_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF with a correct xref from numbered object bodies (object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A genuinely encrypted one-page PDF (standard security handler, revision 2, 40-bit RC4)."""
    file_id = hashlib.md5(b"llama_vision test").digest()
    permissions = -4
    owner_key = hashlib.md5((owner_password + _PDF_PAD)[:32]).digest()[:5]
    o_value = _rc4(owner_key, (user_password + _PDF_PAD)[:32])
    key = hashlib.md5(
        (user_password + _PDF_PAD)[:32] + o_value + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    u_value = _rc4(key, _PDF_PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + o_value.hex().encode() + b"> /U <"
        + u_value.hex().encode() + b"> /P %d >>" % permissions,
    ]
    return build_pdf(objects, b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode()))


def pdf_with_pages(count: int, size=(300, 400)) -> bytes:
    images = [page_image(size, colour=(20 * i % 255, 80, 160)) for i in range(count)]
    return encode(images[0], "PDF", save_all=True, append_images=images[1:], resolution=72)


def assert_names_file(error: pytest.ExceptionInfo, name: str) -> str:
    message = str(error.value)
    assert name in message, message
    assert "\n" not in message, message
    return message


# -------------------------------------------------------------------------------------------
# good inputs
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fmt, kind, options",
    [
        ("JPEG", "jpeg", {"quality": 90}),
        ("PNG", "png", {}),
        ("WEBP", "webp", {"quality": 90}),
        ("TIFF", "tiff", {}),
        ("BMP", "bmp", {}),
        ("GIF", "gif", {}),
    ],
)
def test_each_image_format_loads_as_one_rgb_page(tmp_path, settings, fmt, kind, options):
    data = encode(page_image(), fmt, **options)
    assert detect_kind(data) == kind
    pages = load_pages(write(tmp_path, f"doc.{fmt.lower()}", data), settings=settings)
    assert len(pages) == 1
    assert pages[0].mode == "RGB"
    assert pages[0].size == (200, 120)
    red, green, blue = pages[0].getpixel((20, 20))
    assert blue > 150 and red < 80  # the coloured block survived


def test_detection_is_by_content_not_extension(tmp_path, settings):
    png = encode(page_image(), "PNG")
    pages = load_pages(write(tmp_path, "actually-a-png.pdf", png), settings=settings)
    assert pages[0].size == (200, 120)
    pdf = pdf_with_pages(1)
    assert len(load_pages(write(tmp_path, "actually-a-pdf.jpg", pdf), settings=settings)) == 1


def test_multipage_tiff_gives_first_page(tmp_path, settings):
    first = Image.new("RGB", (100, 100), (255, 0, 0))
    second = Image.new("RGB", (100, 100), (0, 0, 255))
    path = write(tmp_path, "scan.tiff", encode(first, "TIFF", save_all=True, append_images=[second]))
    pages = load_pages(path, settings=settings)
    assert len(pages) == 1
    assert pages[0].getpixel((50, 50)) == (255, 0, 0)


def test_animated_gif_gives_first_frame(tmp_path, settings):
    frames = [Image.new("RGB", (64, 64), colour) for colour in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    pages = load_pages(write(tmp_path, "anim.gif", data), settings=settings)
    assert len(pages) == 1 and pages[0].mode == "RGB"
    red, green, blue = pages[0].getpixel((32, 32))
    assert red > 200 and green < 50 and blue < 50


def test_cmyk_jpeg_becomes_rgb(tmp_path, settings):
    cmyk = Image.new("CMYK", (80, 80), (0, 255, 255, 0))  # pure red in CMYK
    path = write(tmp_path, "print.jpg", encode(cmyk, "JPEG", quality=95))
    page = load_pages(path, settings=settings)[0]
    assert page.mode == "RGB"
    red, green, blue = page.getpixel((40, 40))
    assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path, settings):
    image = Image.new("I;16", (256, 64))
    image.putdata([x * 256 for _y in range(64) for x in range(256)])  # 0..65280 left to right
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    page = load_pages(write(tmp_path, "deep.png", data), settings=settings)[0]
    assert page.mode == "RGB"
    left, middle, right = (page.getpixel((x, 10))[0] for x in (0, 128, 255))
    assert left < 10 and 100 < middle < 160 and right > 245  # a gradient, not all white


def test_thirty_two_bit_tiff_is_scaled(tmp_path, settings):
    image = Image.new("I", (64, 64))
    image.putdata([x * 1000 for _y in range(64) for x in range(64)])
    page = load_pages(write(tmp_path, "deep.tif", encode(image, "TIFF")), settings=settings)[0]
    assert page.mode == "RGB"
    assert page.getpixel((0, 0))[0] < 10 and page.getpixel((63, 0))[0] > 245


def test_rgba_png_transparency_is_white(tmp_path, settings):
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # transparent *black*
    ImageDraw.Draw(image).rectangle([0, 0, 31, 63], fill=(0, 0, 255, 255))
    page = load_pages(write(tmp_path, "alpha.png", encode(image, "PNG")), settings=settings)[0]
    assert page.mode == "RGB"
    assert page.getpixel((48, 32)) == (255, 255, 255)
    assert page.getpixel((16, 32)) == (0, 0, 255)


@pytest.mark.parametrize("mode", ["LA", "L", "1", "P"])
def test_other_modes_become_rgb(tmp_path, settings, mode):
    image = page_image(mode=mode if mode != "LA" else "L")
    if mode == "LA":
        image = image.convert("LA")
    page = load_pages(write(tmp_path, f"{mode}.png", encode(image, "PNG")), settings=settings)[0]
    assert page.mode == "RGB" and page.size == (200, 120)


def test_palette_png_with_transparency_is_white(tmp_path, settings):
    image = Image.new("P", (64, 64), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    ImageDraw.Draw(image).rectangle([0, 0, 31, 63], fill=1)
    data = encode(image, "PNG", transparency=0)
    page = load_pages(write(tmp_path, "pal.png", data), settings=settings)[0]
    assert page.getpixel((48, 32)) == (255, 255, 255)
    assert page.getpixel((16, 32)) == (255, 0, 0)


def test_exif_orientation_is_applied(tmp_path, settings):
    # Stored landscape 120x60 with a red block top-left; orientation 6 means "rotate 90° clockwise
    # to display", so the upright page is portrait 60x120 with the block at the top right.
    stored = Image.new("RGB", (120, 60), "white")
    ImageDraw.Draw(stored).rectangle([0, 0, 29, 19], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path, "phone.jpg", encode(stored, "JPEG", quality=95, exif=exif.tobytes()))
    page = load_pages(path, settings=settings)[0]
    assert page.size == (60, 120)
    red, green, _ = page.getpixel((55, 5))
    assert red > 200 and green < 60
    assert page.getpixel((5, 115))[1] > 200  # bottom-left is white


def test_pdf_renders_every_page_at_about_200_dpi(tmp_path, settings):
    path = write(tmp_path, "statement.pdf", pdf_with_pages(3, size=(300, 400)))  # 300x400 pt
    pages = load_pages(path, settings=settings)
    assert len(pages) == 3
    for page in pages:
        assert page.mode == "RGB"
        assert abs(page.size[0] - 300 * 200 / 72) <= 2 and abs(page.size[1] - 400 * 200 / 72) <= 2


def test_huge_pdf_page_is_capped_in_pixels(tmp_path, settings):
    # 2000x3000 pt (about A0): 200 dpi would be 8,333 px tall.
    data = encode(Image.new("RGB", (200, 300), "white"), "PDF", resolution=7.2)
    pages = load_pages(write(tmp_path, "poster.pdf", data), settings=settings)
    assert max(pages[0].size) <= PDF_MAX_SIDE
    assert max(pages[0].size) >= PDF_MAX_SIDE - 2


def test_load_pages_from_bytes(settings):
    pages = load_pages_from_bytes(encode(page_image(), "PNG"), "upload.png", settings=settings)
    assert pages[0].size == (200, 120)
    with pytest.raises(DocumentError) as error:
        load_pages_from_bytes(b"hello there, not an image", "upload 1.jpg", settings=settings)
    assert_names_file(error, "upload 1.jpg")


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_load(tmp_path, settings, name):
    path = write(tmp_path, name, encode(page_image(), "JPEG"))
    assert load_pages(path, settings=settings)[0].size == (200, 120)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_are_named_in_errors(tmp_path, settings, name):
    path = write(tmp_path, name, encode(page_image(), "JPEG")[:300])
    with pytest.raises(DocumentError) as error:
        load_pages(path, settings=settings)
    assert_names_file(error, name)


def test_display_name_overrides_the_temporary_path(tmp_path, settings):
    path = write(tmp_path, "tmpab12cd.jpg", b"")
    with pytest.raises(DocumentError) as error:
        load_pages(path, settings=settings, name="Receipt March.jpg")
    assert_names_file(error, "Receipt March.jpg")


# -------------------------------------------------------------------------------------------
# bad inputs: one line, names the file, says what to do
# -------------------------------------------------------------------------------------------
def expect_error(path: Path, settings, *fragments: str, name: str | None = None) -> str:
    with pytest.raises(DocumentError) as error:
        load_pages(path, settings=settings)
    message = assert_names_file(error, name or path.name)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


def test_missing_file(tmp_path, settings):
    expect_error(tmp_path / "nowhere.jpg", settings, "not found")


def test_directory(tmp_path, settings):
    (tmp_path / "a folder").mkdir()
    expect_error(tmp_path / "a folder", settings, "folder", "batch")


def test_zero_byte_file(tmp_path, settings):
    expect_error(write(tmp_path, "empty.jpg", b""), settings, "empty")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(tmp_path, settings, fmt):
    noisy = Image.effect_noise((300, 300), 60).convert("RGB")  # incompressible: truncation bites
    data = encode(noisy, fmt)
    path = write(tmp_path, f"cut.{fmt.lower()}", data[: len(data) // 2])
    expect_error(path, settings, "truncated or corrupt", "again")


def test_text_named_jpg(tmp_path, settings):
    expect_error(write(tmp_path, "notes.jpg", b"Total $12.30\nThanks!\n"), settings, "text file")


def test_html_named_jpg(tmp_path, settings):
    html = b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>"
    expect_error(write(tmp_path, "download.jpg", html), settings, "HTML")


def test_zip_and_random_bytes_are_unsupported(tmp_path, settings):
    expect_error(write(tmp_path, "bundle.jpg", b"PK\x03\x04" + b"\x00" * 40), settings, "ZIP")
    expect_error(write(tmp_path, "blob.bin", bytes(range(256)) * 4), settings, "not a supported")


def test_decompression_bomb_over_twice_the_limit(tmp_path, settings):
    expect_error(write(tmp_path, "bomb.png", png_header_only(100_000, 100_000)), settings, "too large")


def test_decompression_bomb_warning_range_is_an_error(tmp_path, settings):
    # 10,000 x 10,000 = 100 MP: over MAX_IMAGE_PIXELS (89.5 MP) but under twice it, where Pillow
    # only warns.
    assert Image.MAX_IMAGE_PIXELS < 100_000_000 < 2 * Image.MAX_IMAGE_PIXELS
    expect_error(write(tmp_path, "big.png", png_header_only(10_000, 10_000)), settings, "too large")


def test_bomb_guard_kept(monkeypatch, tmp_path, settings):
    # Even if some other code switched Pillow's guard off, we keep a limit.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    expect_error(write(tmp_path, "bomb.png", png_header_only(100_000, 100_000)), settings, "too large")


@pytest.mark.parametrize("size", [(1, 1), (MIN_SIDE - 1, 400)])
def test_tiny_image(tmp_path, settings, size):
    path = write(tmp_path, "pixel.png", encode(Image.new("RGB", size, "white"), "PNG"))
    expect_error(path, settings, "too small to read")


def test_smallest_readable_image_is_accepted(tmp_path, settings):
    path = write(tmp_path, "small.png", encode(Image.new("RGB", (MIN_SIDE, MIN_SIDE), "white"), "PNG"))
    assert load_pages(path, settings=settings)[0].size == (MIN_SIDE, MIN_SIDE)


def test_over_the_size_cap_is_refused_before_reading(monkeypatch, tmp_path, settings):
    path = tmp_path / "huge scan.jpg"
    with path.open("wb") as handle:
        handle.truncate(settings.max_file_bytes + 1)  # sparse: no real disk use

    def no_reading(*_args, **_kwargs):
        raise AssertionError("the file was opened although it is over the cap")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    message = expect_error(path, settings, "over the 1 MB limit", "LLAMA_VISION_MAX_FILE_MB")
    assert "1.0 MB" in message


def test_over_the_size_cap_from_bytes(settings):
    with pytest.raises(DocumentError) as error:
        load_pages_from_bytes(b"\xff\xd8\xff" + b"\x00" * settings.max_file_bytes, "big.jpg", settings=settings)
    assert_names_file(error, "big.jpg")


def test_encrypted_pdf(tmp_path, settings):
    import pypdfium2 as pdfium

    data = encrypted_pdf()
    assert len(pdfium.PdfDocument(data, password="secret")) == 1  # really encrypted, really valid
    expect_error(write(tmp_path, "locked.pdf", data), settings, "password", "remove")


def test_pdf_with_only_an_owner_password_opens(tmp_path, settings):
    # Bank statements are often "protected" against editing only: the empty user password opens them.
    path = write(tmp_path, "statement.pdf", encrypted_pdf(user_password=b""))
    pages = load_pages(path, settings=settings)
    assert len(pages) == 1 and pages[0].mode == "RGB"


def test_pdf_with_no_pages(tmp_path, settings):
    data = build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])
    expect_error(write(tmp_path, "blank.pdf", data), settings, "no pages")


def test_pdf_over_the_page_cap(tmp_path, settings):
    path = write(tmp_path, "long.pdf", pdf_with_pages(4))
    message = expect_error(path, settings, "4 pages", "LLAMA_VISION_MAX_PAGES")
    assert "3-page" in message


def test_damaged_pdf(tmp_path, settings):
    expect_error(write(tmp_path, "broken.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 10), settings, "damaged")


def test_errors_are_document_errors_with_a_fix(tmp_path, settings):
    with pytest.raises(DocumentError) as error:
        load_pages(write(tmp_path, "empty.png", b""), settings=settings)
    assert error.value.hint  # every message says what to do


def test_loading_does_not_import_heavy_packages():
    import subprocess
    import sys

    code = (
        "import sys, llama_vision.documents as d; "
        "assert not {'torch', 'gradio', 'transformers'} & set(sys.modules), sys.modules.keys()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert documents.SUPPORTED_TYPES

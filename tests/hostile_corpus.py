"""The hostile corpus of issue 10, generated at test time (never committed as binaries).

Every builder returns bytes (or writes a file) small enough to keep the tests fast; what makes
each one hostile is what it costs to *draw*, not its size on disk. Never load one of these
without the document worker's limits: unguarded, the XObject PDFs eat all the memory there is.
`watched` and `page_workers` are what the tests measure with.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import psutil
from PIL import Image

#: The document worker's memory limit in these tests, and the resident memory the app may reach.
LIMIT_MB = 256
RSS_CAP = 1.5 * 1024**3  # a fresh app process, whole
GROWTH_CAP = 1.0 * 1024**3  # what one hostile file may add to a process that is already running


def grown_cap() -> float:
    """The RSS this (test) process may reach during the next call: its size now plus GROWTH_CAP.
    A whole-suite run has loaded models and engines before these tests, so an absolute cap would
    measure the suite, not the file."""
    return psutil.Process().memory_info().rss + GROWTH_CAP


def build_pdf(objects: list[bytes]) -> bytes:
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
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _stream(dictionary: bytes, content: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def self_drawing_pdf() -> bytes:
    """One page whose Form XObject /X draws itself (`/X Do` in its own content stream)."""
    form = _stream(
        b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> >>",
        b"0 0 1 rg 10 10 100 100 re f q 0.9 0 0 0.9 5 5 cm /X Do Q /X Do",
    )
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        form,
        _stream(b"", b"/X Do"),
    ])


def fan_out_pdf(levels: int = 8, width: int = 10) -> bytes:
    """Nested Form XObjects, each drawing the next level `width` times: width**levels draws."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /L0 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        _stream(b"", b"/L0 Do"),
    ]
    for level in range(levels):
        number = 5 + level
        if level + 1 < levels:
            resources = b"/Resources << /XObject << /L%d %d 0 R >> >>" % (level + 1, number + 1)
            content = b" ".join(b"q 1 0 0 1 %d 0 cm /L%d Do Q" % (i, level + 1) for i in range(width))
        else:
            resources = b""
            content = b"0 0 0 rg 0 0 600 780 re f 1 0 0 rg 100 100 300 300 re f"
        objects.append(_stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources, content))
    return build_pdf(objects)


def giant_pages_pdf(pages: int = 20, side_pt: int = 14_400) -> bytes:
    """`pages` pages of `side_pt` x `side_pt` points (200 inches a side), each with a little ink."""
    count = pages
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count]
    for i in range(count):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R >>" % (side_pt, side_pt, 4 + 2 * i)
        )
        objects.append(_stream(b"", b"0 0 0 rg 100 100 %d %d re f" % (side_pt // 3, side_pt // 4)))
    return build_pdf(objects)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def wide_png(width: int = 2_796_000, height: int = 32) -> bytes:
    """A real, fully decodable white 1-bit PNG of `width` x `height` (about 10 KB for the default:
    89.5 megapixels, just under Pillow's bomb guard, 268 MB once in RGB)."""
    row = b"\x00" + b"\xff" * -(-width // 8)  # filter byte + 8 pixels a byte
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def zeros_zip(path: Path, members: int = 4_095, member_bytes: int = 1024 * 1024, suffix: str = ".pdf") -> Path:
    """A ZIP of `members` members of `member_bytes` zeros each, written without compressing
    gigabytes: one deflate stream is computed once and repeated (the headers are written by hand,
    exactly as zipfile would: version 20, deflate, sizes and CRC in the local header)."""
    data = bytes(member_bytes)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    crc = zlib.crc32(data)
    central = bytearray()
    with path.open("wb") as out:
        for index in range(members):
            name = b"receipt-%05d%s" % (index, suffix.encode())
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), len(data), len(name), 0))
            out.write(name + packed)
            central += struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(packed), len(data),
                len(name), 0, 0, 0, 0, 0o100644 << 16, offset,
            ) + name
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, len(central), start, 0))
    return path


def corrupt_member_zip(path: Path, good: bytes) -> Path:
    """A ZIP whose second member's deflate data is garbage (CRC and sizes still claim a real file)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("good.png", good)
        archive.writestr("bad.png", good)
    raw = bytearray(path.read_bytes())
    second = raw.find(b"PK\x03\x04", 4)
    name_len, extra_len = struct.unpack("<HH", raw[second + 26:second + 30])
    data_at = second + 30 + name_len + extra_len
    raw[data_at:data_at + 16] = b"\xff" * 16  # an invalid deflate block type
    path.write_bytes(bytes(raw))
    return path


def broken_zips(good: bytes) -> dict[str, bytes]:
    """Seven ways a ZIP is damaged, each holding one member 'a.png' (or 'bad.png') of `good`."""
    import io
    import tempfile
    import zipfile

    def archive(compression: int = zipfile.ZIP_STORED, data: bytes = good) -> bytearray:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            zf.writestr("a.png", data)
        return bytearray(buffer.getvalue())

    kinds: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder:
        kinds["corrupt deflate data"] = corrupt_member_zip(Path(folder) / "c.zip", good).read_bytes()
    raw = archive()
    raw[40] ^= 0xFF  # a byte of the stored member: the CRC no longer matches
    kinds["bad checksum"] = bytes(raw)
    raw = archive()
    kinds["cut in half"] = bytes(raw[: len(raw) // 2])
    raw = archive()
    raw[8] = 9  # deflate64, which zipfile cannot read, in the local and the central header
    raw[raw.find(b"PK\x01\x02") + 10] = 9
    kinds["unsupported method"] = bytes(raw)
    raw = archive()
    raw[30] = ord("b")  # the local header's name no longer matches the directory's
    kinds["header mismatch"] = bytes(raw)
    raw = archive()
    kinds["bad local signature"] = bytes(b"XXXX" + raw[4:])
    raw = archive(zipfile.ZIP_DEFLATED, good * 10)
    directory = raw.find(b"PK\x01\x02")
    kinds["member cut short"] = bytes(raw[:200] + raw[directory:])
    return kinds


def watched(call: Callable[[], object], pid: int | None = None) -> tuple[object, float, int]:
    """(what `call` returned or raised, seconds, peak RSS of process `pid` (default: this one))."""
    process = psutil.Process(pid or os.getpid())
    peak = [process.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            try:
                peak[0] = max(peak[0], process.memory_info().rss)
            except psutil.Error:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        outcome: object = call()
    except Exception as error:  # noqa: BLE001 - the test inspects it
        outcome = error
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return outcome, seconds, peak[0]


def page_workers(parent: int) -> list[int]:
    """The live page worker processes of process `parent`."""
    found = []
    for child in psutil.Process(parent).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "page_worker" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.Error:  # ended while we looked
            continue
    return found


def good_png(path: Path, text_colour=(0, 0, 0)) -> Path:
    image = Image.new("RGB", (160, 96), "white")
    image.paste(text_colour, (10, 10, 90, 40))
    image.save(path)
    return path

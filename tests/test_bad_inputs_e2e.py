"""Every kind of bad (and awkward-but-good) input, end to end through the real command line.

The corpus is generated in tmp_path at test time (`build_corpus`); tests/test_documents.py checks
each kind against `load_pages` in-process, this file checks what a user sees:

- `python -m llama_vision extract FILE` in a subprocess, one per bad file: exactly one stderr
  line naming the file, no traceback, a non-zero exit; the good-but-awkward files (animated
  GIF, CMYK, 16-bit, RGBA, EXIF-rotated, odd names) give an `ok` Result and exit 0;
- `batch` over a ZIP holding the whole corpus (unsafe ZIPs nested inside): one row per file, an error row
  for each bad one, the run goes on (exit 0), and nothing is written outside the output folder;
- `batch` on an unsafe ZIP itself (../, absolute path, bomb): one line, non-zero, nothing written.

The caps are lowered for the run (LLAMA_VISION_MAX_FILE_MB=1, MAX_PAGES=3) so "over the cap"
files stay small. The corpus table is also the source of the README's "Limits and security" list.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.test_documents import build_pdf, encrypted_pdf, png_header_only

REPO = Path(__file__).resolve().parents[1]
MAX_FILE_MB = 1
MAX_PAGES = 3


# -------------------------------------------------------------------------------------------
# the corpus
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One kind of input: its file name, bytes, and what must happen (ok, or an error naming it)."""

    kind: str
    name: str
    data: bytes
    ok: bool
    expect: str = ""  # a fragment of the one-line error (lower case), for bad kinds
    is_zip: bool = False


def _page(size: tuple[int, int] = (240, 120), mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, size[0] // 3, size[1] // 3], fill=(30, 120, 200))
    draw.text((10, size[1] - 30), "TAX INVOICE TOTAL $12.30", fill="black")
    return image.convert(mode) if mode != "RGB" else image


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [_page().convert("P") for _ in range(3)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _sixteen_bit_png() -> bytes:
    image = Image.new("I;16", (256, 64))
    image.putdata([x * 256 for _y in range(64) for x in range(256)])
    return _encode(image, "PNG")


def _rgba_png() -> bytes:
    image = _page().convert("RGBA")
    image.putalpha(Image.new("L", image.size, 128))
    return _encode(image, "PNG")


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display, as phones write it
    return _encode(_page(), "JPEG", quality=90, exif=exif.tobytes())


def _pdf(pages: int) -> bytes:
    images = [_page((180, 240)) for _ in range(pages)]  # 500 x 667 px at 200 dpi: quick to OCR
    return _encode(images[0], "PDF", save_all=True, append_images=images[1:], resolution=72)


def _encrypted_zip() -> bytes:
    """A ZIP whose member is flagged as encrypted (zipfile cannot encrypt, so set the flag bits)."""
    data = bytearray(_zip({"secret.png": b"\x89PNG not really"}, compression=zipfile.ZIP_STORED))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_offset] |= 0x01
    return bytes(data)


def _multipage_tiff() -> bytes:
    return _encode(_page(), "TIFF", save_all=True, append_images=[_page((240, 120))])


def _zip_bomb() -> bytes:
    # 64 MiB of zeros deflate to ~64 KiB: a 1000x ratio (the guard refuses > 100x above 1 MiB).
    return _zip({"bomb.png": bytes(64 * 1024 * 1024)})


def build_corpus(folder: Path, outside: Path) -> list[Kind]:
    """Write every kind into `folder`; `outside` is where an escaping ZIP member would land."""
    folder.mkdir(parents=True, exist_ok=True)
    good_jpeg = _encode(_page(), "JPEG", quality=90)
    good_png = _encode(_page(), "PNG")
    truncated_jpeg = good_jpeg[: len(good_jpeg) // 2]
    truncated_png = good_png[: len(good_png) // 2]
    # Random bytes do not compress, so the file is over the cap inside a ZIP too (no bomb alarm).
    oversized = b"\xff\xd8\xff\xe0" + os.urandom(MAX_FILE_MB * 1024 * 1024 + 200_000)
    escape_name = f"escaped-{uuid.uuid4().hex[:8]}.png"
    kinds = [
        Kind("zero-byte file", "empty.jpg", b"", False, "empty (0 bytes)"),
        Kind("truncated JPEG", "truncated.jpg", truncated_jpeg, False, "truncated or corrupt"),
        Kind("truncated PNG", "truncated.png", truncated_png, False, "truncated or corrupt"),
        Kind("text file named .jpg", "notes.jpg", b"Milk 2.50\nBread 4.00\nTotal 6.50\n", False, "a text file"),
        Kind("HTML page named .jpg", "download.jpg", b"<!DOCTYPE html><html><body>404</body></html>", False,
             "an html page"),
        Kind("decompression bomb (100,000 x 100,000 px PNG)", "bomb.png", png_header_only(100_000, 100_000),
             False, "decompression bomb"),
        Kind("1x1 image", "pixel.png", _encode(Image.new("RGB", (1, 1), "white"), "PNG"), False, "too small to read"),
        Kind(f"image over the size cap ({MAX_FILE_MB} MB here)", "huge scan.jpg", oversized, False,
             f"over the {MAX_FILE_MB} mb limit"),
        Kind("random binary named .png", "blob.png", bytes(range(256)) * 8, False, "not a supported document"),
        Kind("SVG named .png", "vector.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', False,
             "an xml/svg file"),
        Kind("HEIC photo named .jpg", "iphone.jpg", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
             False, "heic/avif"),
        Kind("encrypted PDF", "locked.pdf", encrypted_pdf(), False, "password-protected"),
        Kind("PDF with no pages", "blank.pdf", build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                                          b"<< /Type /Pages /Kids [] /Count 0 >>"]),
             False, "no pages"),
        Kind(f"PDF over the page cap ({MAX_PAGES} pages here)", "long.pdf", _pdf(MAX_PAGES + 1), False,
             f"over the {MAX_PAGES}-page limit"),
        Kind("damaged PDF", "damaged.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 50, False, "damaged or incomplete pdf"),
        Kind("ZIP with a ../ member", "slip.zip", _zip({f"../{escape_name}": good_png, "ok.png": good_png}),
             False, "zip", is_zip=True),
        Kind("ZIP with an absolute path", "absolute.zip",
             _zip({str(outside / escape_name): good_png, "ok.png": good_png}), False, "zip", is_zip=True),
        Kind("ZIP bomb", "zipbomb.zip", _zip_bomb(), False, "zip", is_zip=True),
        Kind("encrypted ZIP", "encrypted.zip", _encrypted_zip(), False, "zip", is_zip=True),
        Kind("nested ZIP", "nested.zip", _zip({"inner.zip": _zip({"a.png": good_png})}), False, "zip",
             is_zip=True),
        Kind("animated GIF (first frame)", "animated.gif", _animated_gif(), True),
        Kind("multi-page TIFF (first page)", "scan.tiff", _multipage_tiff(), True),
        Kind("CMYK JPEG", "cmyk.jpg", _encode(_page(mode="CMYK"), "JPEG", quality=90), True),
        Kind("16-bit greyscale PNG", "deep16.png", _sixteen_bit_png(), True),
        Kind("RGBA PNG (transparency on white)", "alpha.png", _rgba_png(), True),
        Kind("EXIF-rotated phone photo", "phone.jpg", _exif_rotated_jpeg(), True),
        Kind("two-page PDF", "two pages.pdf", _pdf(2), True),
        Kind("file name with spaces", "my receipt (1).jpg", good_jpeg, True),
        Kind("file name with unicode", "café 收据 ünïcødé.png", good_png, True),
        Kind("file name with shell characters", "a;b&c$HOME`id` 'q' \"dq\" |p*?.jpg", good_jpeg, True),
    ]
    for kind in kinds:
        (folder / kind.name).write_bytes(kind.data)
    return kinds


# -------------------------------------------------------------------------------------------
# running the CLI
# -------------------------------------------------------------------------------------------
def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_VISION_")}
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        LLAMA_VISION_ENGINE="ocr", LLAMA_VISION_MAX_FILE_MB=str(MAX_FILE_MB), LLAMA_VISION_MAX_PAGES=str(MAX_PAGES),
        OMP_NUM_THREADS="1", TMPDIR=str(tmp), PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llama_vision", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def snapshot(folder: Path) -> set[str]:
    # onnxruntime (under the OCR engine) drops a ".ses" session-id file into TMPDIR: not ours.
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.name != ".ses"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[Kind], Path]:
    root = tmp_path_factory.mktemp("bad-inputs")
    outside = root / "outside"
    outside.mkdir()
    kinds = build_corpus(root / "corpus", outside)
    return root / "corpus", kinds, root


def test_the_corpus_has_at_least_twenty_kinds(corpus):
    _, kinds, _ = corpus
    assert len({k.kind for k in kinds}) >= 20
    assert len({k.name for k in kinds}) == len(kinds)
    assert sum(not k.ok for k in kinds) >= 15


def test_extract_each_bad_file_one_line_no_traceback_non_zero(corpus):
    folder, kinds, root = corpus
    work = root / "cli-bad"
    work.mkdir()
    env = cli_env(work)
    bad = [k for k in kinds if not k.ok]

    def one(kind: Kind) -> tuple[Kind, subprocess.CompletedProcess]:
        return kind, run_cli(["extract", str(folder / kind.name)], work, env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, bad))
    problems = []
    for kind, done in outcomes:
        lines = done.stderr.splitlines()
        if done.returncode == 0 or len(lines) != 1 or "Traceback" in done.stderr + done.stdout:
            problems.append(f"{kind.kind}: rc={done.returncode} stderr={done.stderr!r}")
            continue
        line = lines[0]
        if not line.startswith("error: ") or kind.name not in line or kind.expect not in line.lower():
            problems.append(f"{kind.kind}: unexpected message {line!r}")
        if done.stdout.strip():
            problems.append(f"{kind.kind}: printed a result for a bad file: {done.stdout!r}")
    assert not problems, "\n".join(problems)
    assert snapshot(work) == set(), "extract wrote files (or left temporary files) in its working folder"


def test_extract_good_but_awkward_files_give_ok_results(corpus):
    import json

    folder, kinds, root = corpus
    work = root / "cli-good"
    work.mkdir()
    good = [k for k in kinds if k.ok]
    # One process for all of them (the OCR engine loads once), every file its own JSON line.
    done = run_cli(["extract", "--json", *(str(folder / k.name) for k in good)], work, cli_env(work), timeout=240)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [Path(r["file"]).name for r in results] == [k.name for k in good]
    for kind, result in zip(good, results, strict=True):
        assert result["status"] == "ok", (kind.kind, result["error"])
        assert result["engine"] == "ocr" and result["compliance"]["verdict"]
        assert result["pages"] == (2 if kind.name.endswith(".pdf") else 1), kind.kind


def _batch_rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_name = {Path(r["file"]).name: r for r in rows}
    assert len(by_name) == len(rows), "a file appears twice"
    return by_name


def _check_corpus_rows(rows: dict[str, dict[str, str]], kinds: list[Kind]) -> None:
    assert set(rows) == {k.name for k in kinds}, "every file of the corpus is one row, no more, no less"
    problems = []
    for kind in kinds:
        row = rows[kind.name]
        if kind.ok and row["status"] != "ok":
            problems.append(f"{kind.kind}: {row['status']} {row['error']}")
        if not kind.ok:
            message = (row["error"] or "").lower()
            wanted = "nested zip" if kind.is_zip else kind.expect
            if row["status"] != "error" or wanted not in message or "\n" in message:
                problems.append(f"{kind.kind}: status={row['status']} error={row['error']!r}")
    assert not problems, "\n".join(problems)


def test_batch_over_a_zip_of_the_whole_corpus(corpus):
    """One ZIP upload holding every kind (the unsafe ZIPs ride along as nested members): one row
    per file, an error row per bad one, exit 0, nothing written outside the output folder."""
    folder, kinds, root = corpus
    work = root / "batch"
    (work / "out").mkdir(parents=True)
    (work / "tmp").mkdir()
    archive = work / "corpus upload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind in kinds:
            # the nested ZIP bomb is stored, not re-deflated, so the outer archive stays small
            zf.write(folder / kind.name, kind.name,
                     compress_type=zipfile.ZIP_STORED if kind.is_zip else zipfile.ZIP_DEFLATED)
    before = snapshot(root)
    out = work / "out" / "results.csv"
    done = run_cli(["batch", str(archive), "--out", str(out), "--quiet"], work, cli_env(work / "tmp"), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert f"{sum(not k.ok for k in kinds)} errors" in done.stdout
    _check_corpus_rows(_batch_rows(out), kinds)
    new = {p for p in snapshot(root) - before if not p.startswith("batch/out")}
    assert new == set(), f"written outside the output folder: {sorted(new)}"


@pytest.mark.parametrize(("archive", "expect"), [
    ("slip.zip", "escapes the folder"),
    ("absolute.zip", "absolute path"),
    ("zipbomb.zip", "zip bomb"),
    ("encrypted.zip", "encrypted"),
])
def test_batch_on_an_unsafe_zip_is_one_line_and_writes_nothing(corpus, archive, expect):
    folder, _, root = corpus
    work = root / f"unsafe-{archive}"
    (work / "tmp").mkdir(parents=True)
    before = snapshot(root)
    out = work / "results.csv"
    done = run_cli(["batch", str(folder / archive), "--out", str(out)], work, cli_env(work / "tmp"))
    lines = done.stderr.splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and archive in lines[0] and expect in lines[0].lower()
    assert "Traceback" not in done.stderr
    assert snapshot(root) == before, "an unsafe archive wrote something (TMPDIR is inside root too)"


# -------------------------------------------------------------------------------------------
# the same files uploaded to the running app
# -------------------------------------------------------------------------------------------
UI_KINDS = ["notes.jpg", "locked.pdf", "empty.jpg", "truncated.png", "bomb.png", "long.pdf", "absolute.zip"]


@pytest.mark.slow
def test_bad_uploads_are_one_clear_gr_error_through_the_api(corpus):
    pytest.importorskip("gradio_client")
    from gradio_client import Client, handle_file

    from tests.ui_helpers import launch_app, page_event

    folder, kinds, root = corpus
    app = launch_app("ocr", root / "ui")  # the UI tests' app (default caps: 20 MB, 20 pages)
    client = Client(app.url, verbose=False, download_files=str(root / "ui" / "downloads"))
    by_name = {k.name: k for k in kinds}
    uploads = root / "ui" / "uploads"
    uploads.mkdir(parents=True)
    long_pdf = uploads / "long.pdf"
    long_pdf.write_bytes(_pdf(21))  # over the app's default 20-page cap
    problems = []
    for name in UI_KINDS:
        path = long_pdf if name == "long.pdf" else folder / name
        expect = {"long.pdf": "over the 20-page limit", "absolute.zip": "invalid file type"}.get(name, by_name[name].expect)
        try:
            client.predict(handle_file(str(path)), 1, "key_value", fn_index=page_event(client, "single_extract"))
            problems.append(f"{name}: no error")
            continue
        except Exception as error:  # noqa: BLE001 - the message is what we check
            message = str(error)
        if name not in message and not name.endswith(".zip") or expect not in message.lower() or "Traceback" in message or "\n" in message.strip():
            problems.append(f"{name}: {message!r}")
    # An unsafe ZIP uploaded to the batch tab is refused as a whole, with the reason.
    for name, expect in (("slip.zip", "escapes the folder"), ("zipbomb.zip", "zip bomb")):
        try:
            client.predict([handle_file(str(folder / name))], None, "all", fn_index=page_event(client, "batch_run"))
            problems.append(f"batch {name}: no error")
        except Exception as error:  # noqa: BLE001
            if expect not in str(error).lower() or "Traceback" in str(error):
                problems.append(f"batch {name}: {error!r}")
    assert not problems, "\n".join(problems)
    # ...and the app still serves a good document afterwards.
    result = client.predict(handle_file(str(folder / "cmyk.jpg")), 1, "key_value", api_name="/extract")
    assert result["status"] == "ok"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_special_files_never_hang_extract_or_batch(tmp_path):
    """A FIFO named .jpg (reading it would block for ever) and /dev/zero (endless bytes)."""
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    (folder / "real.png").write_bytes(_encode(Image.new("RGB", (1, 1)), "PNG"))  # bad, but a real file
    env = cli_env(tmp_path)
    for target in (folder / "pipe.jpg", Path("/dev/zero")):
        done = run_cli(["extract", str(target)], tmp_path, env, timeout=60)
        lines = done.stderr.splitlines()
        assert done.returncode != 0 and len(lines) == 1 and "not a regular file" in lines[0], done.stderr
    out = tmp_path / "out.csv"
    done = run_cli(["batch", str(folder), "--out", str(out), "--quiet"], tmp_path, env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert list(_batch_rows(out)) == ["real.png"]  # the FIFO is not a document file: skipped, not read

"""Hostile file names and links in a batch folder (issue 10, items 6 and 8).

- Names with a newline, a leading space, an ESC sequence, a tab, a backslash: a batch and two
  `--resume` runs keep exactly one row per file (the resume key and the CSV's `file` column are one
  escaped key), and nothing the CLI prints holds a raw control character.
- Links: a file linking outside the batch folder becomes an error row that names only the file;
  a linked folder is noted and never walked; the UI's folder picker does not list it.

Everything runs through the real CLI, collect_inputs, run_batch and pipeline with FakeEngine.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from llama_vision import cli
from llama_vision.batch import collect_inputs, input_keys, read_rows, run_batch
from llama_vision.names import escape_name, is_unsafe, printable, unescape_name
from tests.fakes import FakeEngine, fake_settings

KEY_VALUE = (
    "DOCUMENT_TYPE: TAX INVOICE\nSUPPLIER_NAME: Acme Hardware Pty Ltd\nSUPPLIER_ABN: 51 824 753 556\n"
    "DATE: 15/03/2024\nSUBTOTAL: $100.00\nGST: $10.00\nTOTAL: $110.00\n"
)
GOOD_NAMES = ["new\nline.png", " leading space.png", "esc\x1b[31mred.png", "tab\there.png", "plain.png",
              "back\\slash.png", "=formula.png"]
BAD_NAME = "bad\x1b]0;pwned\x07.png"  # not an image: its error row quotes the name (an OSC title sequence)
OUTSIDE_SIZE = (333, 222)  # only the files outside the batch folder have this size


def png(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path, format="PNG")
    return path


def raw_controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if is_unsafe(c) and c != "\n"})


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    for name in GOOD_NAMES:
        png(folder / name)
    (folder / BAD_NAME).write_text("this is not an image")
    return folder


@given(st.text())
def test_escape_name_round_trips_and_leaves_nothing_unsafe(name: str) -> None:
    key = escape_name(name)
    assert unescape_name(key) == name
    assert not any(is_unsafe(c) for c in key)
    assert printable(key) == key  # an escaped key passes the terminal filter unchanged


def test_escape_name_is_visible_and_keeps_ordinary_names() -> None:
    assert escape_name("a\nb\tc\x1b[0m\u202ed.png") == "a\\nb\\tc\\x1b[0m\\u202ed.png"
    assert escape_name(" café 🧾 a;b&c$HOME.png ") == " café 🧾 a;b&c$HOME.png "
    assert escape_name("a\\nb") != escape_name("a\nb")  # a backslash-n name never shares a key


def test_batch_then_resume_twice_keeps_one_row_per_file_and_prints_no_control_characters(
    tmp_path, hostile_folder, monkeypatch, capsys
):
    settings = fake_settings(tmp_path)
    engine = FakeEngine(settings, responder=lambda prompt: KEY_VALUE)
    monkeypatch.setattr(cli, "_engine", lambda settings: engine)
    out, xlsx = tmp_path / "results.csv", tmp_path / "results.xlsx"
    names = sorted(GOOD_NAMES + [BAD_NAME])
    terminal = ""
    for extra in ([], ["--resume"], ["--resume"]):
        code = cli.main(["batch", str(hostile_folder), "--out", str(out), "--xlsx", str(xlsx), *extra])
        captured = capsys.readouterr()
        terminal += captured.out + captured.err
        assert code == 0, captured.err
        rows = read_rows(out)
        assert sorted(unescape_name(r["file"]) for r in rows) == names  # exactly one row per file
    assert "0 documents processed, 8 already done" in terminal  # the resumes redo nothing
    assert raw_controls(terminal) == [], terminal
    assert "esc\\x1b[31mred.png" in terminal and "new\\nline.png" in terminal

    raw = out.read_text(encoding="utf-8")
    assert raw_controls(raw) == [] and raw.count("\n") == 1 + len(names)  # header + one line per file
    assert " leading space.png" in {r["file"] for r in csv_rows(out)}  # kept: it is part of the key
    by_file = {r["file"]: r for r in read_rows(out)}
    assert set(by_file) == {escape_name(n) for n in names}
    bad = by_file[escape_name(BAD_NAME)]
    assert bad["status"] == "error" and "\\x1b]0;pwned\\x07" in bad["error"]
    assert all(by_file[escape_name(n)]["status"] == "ok" for n in GOOD_NAMES)
    assert xlsx.is_file()  # openpyxl refuses raw control characters; nothing raw reached it


def test_extract_prints_no_control_characters(tmp_path, hostile_folder, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_engine", lambda settings: FakeEngine(settings, responder=lambda p: KEY_VALUE))
    files = [str(hostile_folder / "esc\x1b[31mred.png"), str(hostile_folder / BAD_NAME),
             str(hostile_folder / "missing\x1b[2J.png")]
    assert cli.main(["extract", *files]) == 1
    captured = capsys.readouterr()
    assert raw_controls(captured.out + captured.err) == []
    assert "esc\\x1b[31mred.png" in captured.out and "missing\\x1b[2J.png" in captured.err


def test_extract_json_carries_the_name_with_no_raw_control_character(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.setattr(cli, "_engine", lambda settings: FakeEngine(settings, responder=lambda p: KEY_VALUE))
    name = "csi\x9b31m \u202eesc\x1b.png"  # C1 CSI and a bidi override: json.dumps leaves both raw
    png(tmp_path / name)
    assert cli.main(["extract", "--json", str(tmp_path / name)]) == 0
    out = capsys.readouterr().out
    assert raw_controls(out) == [] and Path(json.loads(out)["file"]).name == name  # the same value


def test_input_keys_are_the_escaped_relative_names(tmp_path):
    paths = [tmp_path / "a" / "x\ny.png", tmp_path / "a" / " z.png"]
    assert input_keys(paths, tmp_path) == ["a/x\\ny.png", "a/ z.png"]


# -- links ----------------------------------------------------------------------------------


@pytest.fixture
def linked_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    png(folder / "a.png")
    png(tmp_path / "outside" / "secret.png", OUTSIDE_SIZE)
    png(tmp_path / "sibling" / "b.png", OUTSIDE_SIZE)
    links = {
        "link-out.png": tmp_path / "outside" / "secret.png",
        "passwd.png": Path("/etc/passwd"),
        "sibling.png": tmp_path / "sibling" / "b.png",
        "dangling.png": tmp_path / "nowhere" / "gone.png",  # refused without looking at the target
        "inside.png": folder / "a.png",  # a link that stays inside the folder is read
    }
    try:
        for name, target in links.items():
            os.symlink(target, folder / name)
        os.symlink(tmp_path / "outside", folder / "linked-dir", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("this file system cannot make symbolic links")
    return folder


def test_files_linking_outside_the_folder_become_error_rows_and_linked_folders_are_not_walked(
    tmp_path, linked_folder
):
    settings = fake_settings(tmp_path)
    engine = FakeEngine(settings, responder=lambda prompt: KEY_VALUE)
    found = collect_inputs(linked_folder, settings=settings, work_dir=tmp_path / "work")
    assert any("linked-dir" in note and "link" in note for note in found.notes)
    summary = run_batch(found, engine=engine, out_csv=tmp_path / "out.csv")
    rows = {r["file"]: r for r in read_rows(tmp_path / "out.csv")}
    assert sorted(rows) == ["a.png", "dangling.png", "inside.png", "link-out.png", "passwd.png", "sibling.png"]
    assert rows["a.png"]["status"] == rows["inside.png"]["status"] == "ok"
    for name in ("link-out.png", "passwd.png", "sibling.png", "dangling.png"):
        error = rows[name]["error"]
        assert rows[name]["status"] == "error" and "outside the batch folder" in error and name in error
        assert str(tmp_path) not in error and "/etc" not in error and "secret" not in error  # no target named
    assert summary.errors == 4
    assert OUTSIDE_SIZE not in {size for _, size in engine.calls}  # nothing outside was ever read
    assert engine.calls  # while the files inside were


def test_the_ui_folder_picker_lists_no_linked_folder(tmp_path, linked_folder):
    pytest.importorskip("gradio")
    import gradio as gr

    from llama_vision.ui.tab_batch import folder_choices, resolve_folder

    (linked_folder / "march").mkdir()
    choices = folder_choices(str(linked_folder))
    assert "march" in choices and not any("linked-dir" in c for c in choices)
    with pytest.raises(gr.Error):  # typed by hand, it still resolves outside and is refused
        resolve_folder(str(linked_folder), "linked-dir")

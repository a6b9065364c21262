"""File names and other untrusted text made safe to show: one visible escape for control characters.

A file may be called "a\\nb.png", " x.png" or "\\x1b[31mred.png". Such a name must not break a CSV
line, rewrite the user's terminal, or stop `--resume` from recognising the file. So:

- `escape_name` is the one normalisation of a file's key (the batch CSV's `file` column and the
  resume key, see `batch.input_keys`): control characters become visible escapes (`\\n`, `\\t`,
  `\\x1b`, `\\u202e`) and a backslash becomes `\\\\`, so two different names never share a key and
  `unescape_name` gives the original name back. Spaces, unicode letters and emoji stay as they
  are: only what a terminal or a CSV reader would act on is escaped.
- `printable` escapes the same characters in free text (error messages, fields read from a
  document) for terminal lines and CSV cells. It leaves backslashes alone, so it is idempotent and
  an escaped key passes through it unchanged.
- `json_safe` does it for JSON text (`\\u001b`), which still loads to the same value.
- `file_stem` goes the other way, for a name the app writes: one plain file name stem (letters,
  digits, "-", "_" and inner dots) that no shell, file system or spreadsheet treats specially.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FILE_STEM_MAX", "escape_name", "file_stem", "is_unsafe", "json_safe", "printable", "unescape_name"]

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LONG = {v: k for k, v in _SHORT.items()} | {"\\\\": "\\"}
# Bidirectional embeddings, overrides, isolates and marks: they reorder what a terminal or a
# spreadsheet shows ("Trojan Source"), so "txt.exe\u202egnp" could pass for a harmless name.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc: C0, DEL and C1 controls (ESC, CSI, ...); Cs: lone surrogates (undecodable bytes in a POSIX
# name), which cannot even be written as UTF-8; Zl/Zp: U+2028/U+2029, line breaks to some readers.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_ESCAPE = re.compile(r"\\(?:\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def is_unsafe(char: str) -> bool:
    """True for a character that must never reach a terminal or a CSV cell raw."""
    return char in _BIDI or unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escape_char(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every unsafe character written as a visible escape (backslashes kept as they are)."""
    if not any(is_unsafe(c) for c in text):
        return text
    return "".join(_escape_char(c) if is_unsafe(c) else c for c in text)


def json_safe(text: str) -> str:
    """JSON text with every unsafe character as a JSON escape: `json.dumps(..., ensure_ascii=False)`
    escapes C0 controls but leaves C1 controls (CSI), U+2028 and bidi overrides raw. Outside
    strings only JSON's own whitespace (newlines and tabs of `indent=`) occurs, which stays; inside
    strings `\\uXXXX` means the same character."""
    return "".join(f"\\u{ord(c):04x}" if c not in _SHORT and is_unsafe(c) else c for c in text)


def escape_name(name: str) -> str:
    """A file name as one safe, visible line that maps back to exactly this name."""
    return printable(name.replace("\\", "\\\\"))


def _unescape_one(match: re.Match[str]) -> str:
    token = match.group(0)
    if token in _LONG:
        return _LONG[token]
    return chr(int(token[2:], 16))


def unescape_name(key: str) -> str:
    """The inverse of `escape_name`: `unescape_name(escape_name(n)) == n` for every name."""
    return _ESCAPE.sub(_unescape_one, key)


FILE_STEM_MAX = 100  # characters: room for an extension and a folder within every file system's limits
# Names Windows reserves whatever the extension (a dataset folder may be copied there)
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})
_STEM_OTHER = re.compile(r"[^\w.-]+")  # \w is unicode: "Café_Ōsaka" stays readable


def file_stem(text: str) -> str:
    """A safe file name stem from free text ("Coles receipt (March)" -> "Coles_receipt_March").

    Letters (any script, NFKC-folded), digits, "-", "_" and inner dots are kept; every other run
    (spaces, slashes, quotes, control characters, emoji) becomes one "_"; leading dots and
    underscores go (no hidden files, no ".."), the result is cut to FILE_STEM_MAX characters and a
    Windows device name gets a "_" in front. Returns "" when nothing usable is left.
    """
    text = unicodedata.normalize("NFKC", text)
    stem = _STEM_OTHER.sub("_", "".join("_" if is_unsafe(c) else c for c in text))
    stem = re.sub(r"_{2,}", "_", stem).strip("._-")[:FILE_STEM_MAX].rstrip("._-")
    return "_" + stem if stem.split(".")[0].lower() in _RESERVED else stem

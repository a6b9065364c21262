"""Optional ABN Lookup: the Australian Business Register's JSON web service (`AbnDetails`).

A valid checksum is not a live ABN: a GST credit needs a supplier whose ABN was active, and who was
registered for GST, on the invoice date. The ABR answers both. This module asks it, only when
LLAMA_VISION_ABR_GUID is set (nothing leaves the machine without it):

    GET {LLAMA_VISION_ABR_URL}/AbnDetails.aspx?abn=51824753556&guid=...&callback=callback
    -> callback({"Abn": "51824753556", "AbnStatus": "Active", "AbnStatusEffectiveFrom": "2000-11-01",
                 "EntityName": "...", "BusinessName": ["..."], "Gst": "2000-11-01", "Message": ""})

`Gst` is the date the current GST registration started, empty when there is none. An unknown ABN
comes back with an empty `Abn` and the reason in `Message`; a GUID the ABR does not know comes
back the same way with "GUID" in the message (a refusal, not an answer about the ABN).

`AbnLookup.lookup(abn)` never raises: offline, refused, malformed or slow answers give a
`LookupAnswer` with no record and a warning that says what to do. Answers (also "unknown ABN") are
kept in a local SQLite cache for LLAMA_VISION_ABR_CACHE_DAYS, and concurrent lookups of one ABN
wait for a single request, so a batch asks the ABR once per ABN. One `AbnLookup` serves every
thread of the app. The GUID never appears in a warning, a log line or the cache.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_vision.config import Settings

__all__ = ["DEFAULT_ABR_URL", "AbnLookup", "AbnRecord", "LookupAnswer", "lookup_for", "lookup_supplier",
           "parse_answer"]

DEFAULT_ABR_URL = "https://abr.business.gov.au/json"
DEFAULT_CACHE = Path("~/.cache/llama_vision/abn_lookup.sqlite")
_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((.*)\)\s*;?\s*$", re.DOTALL)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_REFUSAL = re.compile(r"guid|not registered for the requested service|system problems|unknown web services", re.I)


class AbrAnswerError(ValueError):
    """The ABR's answer could not be read (not JSONP/JSON, or not the shape AbnDetails returns)."""


@dataclass(frozen=True)
class AbnRecord:
    """What the ABR holds for one ABN; `found` is False for an ABN the register does not know."""

    abn: str
    found: bool
    status: str | None = None  # "Active" or "Cancelled"
    status_from: str | None = None  # ISO date the status took effect
    entity_name: str | None = None
    business_names: tuple[str, ...] = ()
    gst_from: str | None = None  # ISO date the current GST registration started; None: not registered
    message: str | None = None

    @property
    def active(self) -> bool:
        return self.found and (self.status or "").strip().lower() == "active"

    def names(self) -> list[str]:
        return [n for n in (self.entity_name, *self.business_names) if n]


@dataclass(frozen=True)
class LookupAnswer:
    record: AbnRecord | None
    warning: str | None = None
    from_cache: bool = False


def _iso_date(value: Any) -> str | None:
    text = str(value or "").strip()[:10]
    try:
        return date.fromisoformat(text).isoformat() if text else None
    except ValueError:
        raise AbrAnswerError(f"'{text}' is not a date") from None


def _names(value: Any) -> tuple[str, ...]:
    """BusinessName is a list of strings; some versions send {"OrganisationName": ...} objects."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise AbrAnswerError("BusinessName is not a list")
    names = [v.get("OrganisationName") if isinstance(v, dict) else v for v in value]
    return tuple(str(n).strip() for n in names if isinstance(n, str) and n.strip())


def parse_answer(text: str, abn: str) -> AbnRecord:
    """An AbnDetails answer (JSONP or JSON) -> AbnRecord. Raises AbrAnswerError for anything else,
    and PermissionError when the ABR refused the request (an unknown GUID) rather than the ABN."""
    match = _JSONP.match(text)
    try:
        data = json.loads(match.group(1) if match else text)
    except (json.JSONDecodeError, RecursionError):
        raise AbrAnswerError("not JSON") from None
    if not isinstance(data, dict) or "Abn" not in data:
        raise AbrAnswerError("no 'Abn' key")
    message = str(data.get("Message") or "").strip() or None
    number = re.sub(r"\D", "", str(data.get("Abn") or ""))
    if not number:
        if message and _REFUSAL.search(message):
            raise PermissionError(message)
        return AbnRecord(abn=abn, found=False, message=message or "No record found.")
    if number != abn:
        raise AbrAnswerError(f"the answer is for ABN {number}, not {abn}")
    entity = str(data.get("EntityName") or "").strip() or None
    return AbnRecord(abn=abn, found=True, status=str(data.get("AbnStatus") or "").strip() or None,
                     status_from=_iso_date(data.get("AbnStatusEffectiveFrom")), entity_name=entity,
                     business_names=_names(data.get("BusinessName")), gst_from=_iso_date(data.get("Gst")),
                     message=message)


class _Cache:
    """abn -> (fetched at, record) in SQLite; one connection shared under a lock. A cache that
    cannot be opened or written is skipped (lookups still work, only uncached)."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.problem: str | None = None
        if path is None:
            return
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
            self._db.execute("CREATE TABLE IF NOT EXISTS abn (abn TEXT PRIMARY KEY, fetched REAL, record TEXT)")
            self._db.commit()
        except (OSError, sqlite3.Error) as error:
            self._db, self.problem = None, f"the ABN Lookup cache '{path}' cannot be used ({error})"

    def get(self, abn: str, oldest: float) -> AbnRecord | None:
        if self._db is None:
            return None
        try:
            with self._lock:
                row = self._db.execute("SELECT fetched, record FROM abn WHERE abn = ?", (abn,)).fetchone()
            if row is None or row[0] < oldest:
                return None
            data = json.loads(row[1])
            data["business_names"] = tuple(data.get("business_names") or ())
            return AbnRecord(**data)
        except (sqlite3.Error, ValueError, TypeError):
            return None  # a damaged row is asked again

    def put(self, record: AbnRecord, now: float) -> None:
        if self._db is None:
            return
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO abn VALUES (?, ?, ?)",
                                 (record.abn, now, json.dumps(asdict(record))))
                self._db.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


@dataclass
class AbnLookup:
    """A thread-safe ABN Lookup client with a cache (see the module docstring)."""

    guid: str
    base_url: str = DEFAULT_ABR_URL
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.5
    cache_path: Path | None = None
    cache_seconds: float = 7 * 86400
    clock: Callable[[], float] = time.time
    requests: int = field(init=False, default=0)  # requests sent: shows what the cache saves
    _cache: _Cache = field(init=False, repr=False)
    _locks: dict[str, threading.Lock] = field(init=False, repr=False, default_factory=dict)
    _guard: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cache = _Cache(self.cache_path if self.cache_seconds > 0 else None)

    def __repr__(self) -> str:  # never the GUID
        return f"AbnLookup(base_url={self.base_url!r}, cache_path={self.cache_path!s})"

    def lookup(self, abn: str) -> LookupAnswer:
        """The ABR's record of `abn` (11 digits), from the cache when it is fresh enough."""
        with self._guard:
            lock = self._locks.setdefault(abn, threading.Lock())
        with lock:  # a second thread asking for the same ABN waits for the first answer
            cached = self._cache.get(abn, self.clock() - self.cache_seconds)
            if cached is not None:
                return LookupAnswer(cached, from_cache=True)
            answer = self._ask(abn)
            if answer.record is not None:
                self._cache.put(answer.record, self.clock())
            if self._cache.problem and answer.warning is None:
                answer = LookupAnswer(answer.record, f"ABN Lookup: {self._cache.problem}; set "
                                      "LLAMA_VISION_ABR_CACHE to a writable file.")
            return answer

    def _url(self, abn: str) -> str:
        query = urllib.parse.urlencode({"abn": abn, "guid": self.guid, "callback": "callback"})
        return f"{self.base_url.rstrip('/')}/AbnDetails.aspx?{query}"

    def _ask(self, abn: str) -> LookupAnswer:
        problem = "no answer"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            with self._guard:
                self.requests += 1
            try:
                with urllib.request.urlopen(self._url(abn), timeout=self.timeout) as response:  # noqa: S310
                    body = response.read(1_000_000).decode("utf-8", errors="replace")
            except urllib.error.HTTPError as error:
                problem = f"the ABR answered HTTP {error.code}"
                if error.code not in _RETRY_STATUS:
                    break
                continue
            except TimeoutError:
                problem = f"no answer within {self.timeout:g} s"
                continue
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                problem = f"cannot reach {urllib.parse.urlsplit(self.base_url).netloc} ({reason})"
                continue
            try:
                return LookupAnswer(parse_answer(body, abn))
            except PermissionError as error:
                return LookupAnswer(None, f"ABN Lookup refused the request ({error}); check "
                                          "LLAMA_VISION_ABR_GUID. The other checks still ran.")
            except AbrAnswerError as error:
                return LookupAnswer(None, f"ABN Lookup gave an answer that cannot be read ({error}); the ABN's "
                                          "status and GST registration were not checked. Try again later.")
        tries = self.retries + 1
        return LookupAnswer(None, f"ABN Lookup did not answer ({problem}, {tries} tr{'y' if tries == 1 else 'ies'}): "
                                  "the ABN's status and GST registration were not checked. Check the network or "
                                  "LLAMA_VISION_ABR_URL, or unset LLAMA_VISION_ABR_GUID to work offline.")

    def close(self) -> None:
        self._cache.close()


_SHARED: dict[tuple[Any, ...], AbnLookup] = {}
_SHARED_LOCK = threading.Lock()


def lookup_for(settings: Settings) -> AbnLookup | None:
    """The process-wide AbnLookup for these settings, or None when LLAMA_VISION_ABR_GUID is unset."""
    guid = settings.abr_guid.get_secret_value().strip()
    if not guid:
        return None
    cache = Path(settings.abr_cache).expanduser() if settings.abr_cache else DEFAULT_CACHE.expanduser()
    key = (guid, settings.abr_url, str(cache), settings.abr_timeout, settings.abr_retries, settings.abr_cache_days)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = AbnLookup(guid, base_url=settings.abr_url, timeout=settings.abr_timeout,
                                     retries=settings.abr_retries, cache_path=cache,
                                     cache_seconds=settings.abr_cache_days * 86400)
        return _SHARED[key]


def lookup_supplier(settings: Settings, abn: Any) -> LookupAnswer | None:
    """The ABR's answer for a supplier's ABN; None when ABN Lookup is off (LLAMA_VISION_ABR_GUID
    unset) or there is no ABN that passes the checksum (nothing to ask)."""
    from llama_vision.fields import abn_is_valid

    if not abn or getattr(settings, "abr_guid", None) is None or not abn_is_valid(str(abn)):
        return None
    lookup = lookup_for(settings)
    return lookup.lookup(str(abn)) if lookup is not None else None

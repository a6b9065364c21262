"""Failed sign-ins per client address: after a few, each further try waits longer (bounded).

`FREE_FAILURES` wrong passwords in a row are answered at once (people mistype); after that the
address's next try is checked only `BASE_SECONDS * 2**(n - FREE_FAILURES)` seconds after the last
failure, at most `MAX_SECONDS` (`ui.web_guard` holds the try that long, one at a time per address).
A correct sign-in resets the count; so does an hour without a failure. Tries refused unchecked
(too many waiting) do not count, so a person sharing an address with a guesser still gets in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
BASE_SECONDS = 1.0
MAX_SECONDS = 60.0
FORGET_AFTER = 3600.0  # seconds without a failure before an address starts afresh
MAX_CLIENTS = 10_000  # addresses remembered; the stalest are dropped beyond it


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Thread-safe; `clock` is injectable for tests."""

    def __init__(self, *, free_failures: int = FREE_FAILURES, base_seconds: float = BASE_SECONDS,
                 max_seconds: float = MAX_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> float:
        """How long `client` must still wait before its next try is checked (0: go ahead)."""
        with self._lock:
            record = self._records.get(client)
            if record is None:
                return 0.0
            now = self.clock()
            if now - record.last > FORGET_AFTER:
                del self._records[client]
                return 0.0
            return max(0.0, record.locked_until - now)

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            record = self._records.setdefault(client, _Record())
            record.failures += 1
            record.last = now
            extra = record.failures - self.free_failures
            if extra >= 0:
                record.locked_until = now + min(self.base_seconds * 2 ** min(extra, 32), self.max_seconds)
            if len(self._records) > MAX_CLIENTS:
                stalest = min(self._records, key=lambda key: self._records[key].last)
                del self._records[stalest]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._records.pop(client, None)

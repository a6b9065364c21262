"""A loopback stand-in for the ABR's JSON web service (`/json/AbnDetails.aspx`), stdlib only.

It answers the way the real service does: JSONP `callback({...})` with Abn, AbnStatus,
AbnStatusEffectiveFrom, EntityName, BusinessName, Gst and Message; an unknown ABN has an empty
Abn and a Message; an unknown GUID is refused in Message. Tests register records, a delay, a raw
body or an HTTP status per ABN, and read `requests` to see what reached it.

    with FakeAbrServer(guid=GUID) as abr:
        abr.add("51824753556", entity="BUNNINGS GROUP LIMITED", gst="2000-07-01")
        lookup = AbnLookup(GUID, base_url=abr.url)
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeAbrServer:
    def __init__(self, guid: str) -> None:
        self.guid = guid
        self.records: dict[str, dict[str, Any]] = {}
        self.delays: dict[str, float] = {}
        self.raw: dict[str, str] = {}
        self.statuses: dict[str, list[int]] = {}  # HTTP statuses to send first, one per request
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/json"

    def add(self, abn: str, *, entity: str, status: str = "Active", status_from: str = "2000-07-01",
            gst: str | None = "2000-07-01", business_names: tuple[str, ...] = ()) -> None:
        self.records[abn] = {
            "Abn": abn, "AbnStatus": status, "AbnStatusEffectiveFrom": status_from, "Acn": "",
            "AddressDate": "2020-01-01", "AddressPostcode": "3000", "AddressState": "VIC",
            "BusinessName": list(business_names), "EntityName": entity, "EntityTypeCode": "PUB",
            "EntityTypeName": "Australian Public Company", "Gst": gst, "Message": "",
        }

    def count(self, abn: str) -> int:
        with self._lock:
            return sum(r.get("abn") == abn for r in self.requests)

    def _answer(self, query: dict[str, str]) -> tuple[int, str]:
        abn = query.get("abn", "")
        with self._lock:
            self.requests.append(query)
            pending = self.statuses.get(abn)
            status = pending.pop(0) if pending else 200
        if abn in self.delays:
            time.sleep(self.delays[abn])
        if status != 200:
            return status, "Server error"
        if abn in self.raw:
            return 200, self.raw[abn]
        callback = query.get("callback", "callback")
        if query.get("guid") != self.guid:
            body: dict[str, Any] = {"Abn": "", "Message": "The GUID entered is not recognised as a Registered Party"}
        elif abn in self.records:
            body = self.records[abn]
        else:
            body = {"Abn": "", "AbnStatus": "", "BusinessName": [], "EntityName": "", "Gst": None,
                    "Message": "Search text is not a valid ABN or ACN"}
        return 200, f"{callback}({json.dumps(body)})"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                parts = urllib.parse.urlsplit(self.path)
                if parts.path != "/json/AbnDetails.aspx":
                    self.send_error(404)
                    return
                query = dict(urllib.parse.parse_qsl(parts.query))
                status, body = fake._answer(query)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/javascript; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeAbrServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

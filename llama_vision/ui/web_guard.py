"""An ASGI middleware around the FastAPI app Gradio builds: what Gradio itself does not do.

- security headers on every answer (CSP, frame-ancestors / X-Frame-Options, nosniff, Referrer-Policy);
- with a login on, only the login page's own routes answer without one (Gradio leaves a few API
  routes open: /gradio_api/heartbeat/..., /token, /user, /app_id, /startup-events, /cancel, ...);
- a per-client slowdown after repeated failed sign-ins (`login_throttle`): tries wait, one at a
  time per address;
- one cap on the body of any request (all files of an upload together), on top of Gradio's
  per-file cap;
- a cap on long-lived streams (heartbeat, queue data) per client address.

Installed through `launch(app_kwargs={"middleware": [...]})` (see `ui.launch_options`), so it runs
inside Gradio's CORS and compression layers and sees every route, static files included.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from llama_vision.ui.login_throttle import LoginThrottle

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Gradio's page needs inline scripts (its config is inlined in the HTML), inline styles (Svelte,
# the theme) and data:/blob: images (previews, plots). Nothing is loaded from another site.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",  # eval: Gradio 6's gr.HTML renders its templates with it
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)

# What answers without a login when LLAMA_VISION_AUTH is set: the login page and what it loads.
# /config and /gradio_api/login_check answer 401 themselves (the page reads that to show the form).
OPEN_PATHS = frozenset({
    "/", "/login", "/login/", "/logout", "/config", "/config/", "/gradio_api/login_check",
    "/gradio_api/login_check/", "/theme.css", "/gradio_api/theme.css", "/favicon.ico", "/manifest.json",
    "/robots.txt",
})
OPEN_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/static/")
STREAM_PREFIXES = ("/gradio_api/heartbeat/", "/gradio_api/queue/data")
STREAMS_PER_CLIENT = 64  # a browser tab holds 2; gradio_client 1-2 per Client
SIGN_INS_WAITING = 2  # tries of one address queued behind its pause; more are refused at once


class RequestTooLarge(Exception):
    """Raised from `receive` when a body without Content-Length runs over the cap."""


class WebGuard:
    """The middleware. `max_request_bytes` caps any request body; `throttle` slows failed sign-ins."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, max_request_bytes: int,
                 throttle: LoginThrottle | None = None, streams_per_client: int = STREAMS_PER_CLIENT) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.throttle = throttle or LoginThrottle()
        self.streams_per_client = streams_per_client
        self.open_streams: defaultdict[str, int] = defaultdict(int)
        self.sign_ins_waiting: defaultdict[str, int] = defaultdict(int)
        self.sign_in_locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and _login_required(scope) and not _signed_in(scope):
            await send({"type": "websocket.close", "code": 1008})  # none today; refused if one appears
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        path = _route_path(scope)
        client = (scope.get("client") or ("unknown", 0))[0]
        if _login_required(scope) and not _is_open(path, scope) and not _signed_in(scope):
            await _answer(send, 401, {"error": "Not authenticated", "auth_message": "Sign in to llama_vision."})
            return
        length = _content_length(scope)
        if length is not None and length > self.max_request_bytes:
            await _answer(send, 413, self._too_large_message(length))
            return
        receive = self._capped(receive)
        if scope["method"] == "POST" and path in ("/login", "/login/"):
            await self._sign_in(scope, receive, send, client)
        elif scope["method"] == "GET" and path.startswith(STREAM_PREFIXES):
            await self._stream(scope, receive, send, client)
        else:
            await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except RequestTooLarge:
            if not started:
                await _answer(send, 413, self._too_large_message(None))

    async def _sign_in(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        """One try at a time per address, each after the address's current pause: a browser just
        waits a little longer for its answer, and a guesser gets one try per pause however many
        connections it opens (beyond SIGN_INS_WAITING waiting tries: 429 at once, unchecked)."""
        if self.sign_ins_waiting[client] >= SIGN_INS_WAITING:
            wait = max(self.throttle.wait_seconds(client), 1.0)
            await _answer(send, 429, f"Too many failed sign-ins from this address. Wait {wait:.0f} s and "
                          "try again.", extra=[(b"retry-after", str(round(wait)).encode())])
            return
        self.sign_ins_waiting[client] += 1
        try:
            async with self.sign_in_locks.setdefault(client, asyncio.Lock()):
                if (wait := self.throttle.wait_seconds(client)) > 0:
                    await asyncio.sleep(wait)
                await self._check_sign_in(scope, receive, send, client)
        finally:
            self.sign_ins_waiting[client] -= 1
            if self.sign_ins_waiting[client] <= 0:
                del self.sign_ins_waiting[client]
                self.sign_in_locks.pop(client, None)

    async def _check_sign_in(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        status: list[int] = []

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self._run(scope, receive, watching_send)
        if status and status[0] == 200:
            self.throttle.succeeded(client)
        elif status and status[0] in (400, 401, 403):
            self.throttle.failed(client)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        if self.open_streams[client] >= self.streams_per_client:
            await _answer(send, 429, f"Too many open connections from this address (limit "
                          f"{self.streams_per_client}). Close other tabs of this app and reload.")
            return
        self.open_streams[client] += 1
        try:
            await self._run(scope, receive, send)
        finally:
            self.open_streams[client] -= 1
            if self.open_streams[client] <= 0:
                del self.open_streams[client]

    def _capped(self, receive: Receive) -> Receive:
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_request_bytes:
                    raise RequestTooLarge
            return message

        return capped_receive

    def _too_large_message(self, length: int | None) -> str:
        cap = self.max_request_bytes / 1024 / 1024
        size = f"{length / 1024 / 1024:.0f} MB" if length is not None else "more"
        return (f"This upload is {size}, over the {cap:.0f} MB limit for one request "
                "(LLAMA_VISION_MAX_REQUEST_MB): upload fewer files at a time.")


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _HEADER_NAMES]
            message["headers"] = headers + list(SECURITY_HEADERS)
        await send(message)

    return sending


_HEADER_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "/")
    root = scope.get("root_path") or ""
    return path[len(root):] or "/" if root and path.startswith(root) else path


def _is_open(path: str, scope: Scope) -> bool:
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return True
    # Gradio's launch() calls this once itself, without credentials, to run the startup events;
    # after that it would only say "already started".
    return path == "/gradio_api/startup-events" and not getattr(scope.get("app"), "startup_events_triggered", True)


def _login_required(scope: Scope) -> bool:
    app = scope.get("app")
    return getattr(app, "auth", None) is not None or getattr(app, "auth_dependency", None) is not None


def _signed_in(scope: Scope) -> bool:
    """The same check as Gradio's own: the access-token cookie names a session of a signed-in user."""
    app = scope.get("app")
    cookies = _cookies(scope)
    cookie_id = getattr(app, "cookie_id", "")
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return bool(token) and token in getattr(app, "tokens", {})


def _cookies(scope: Scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header signs nobody in
                continue
            jar.update({key: morsel.value for key, morsel in parsed.items()})
    return jar


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Send, status: int, detail: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    if status == 413:  # Gradio's page shows an upload's answer as "HTTP 413: <text>": plain words read best
        body, kind = str(detail).encode(), b"text/plain; charset=utf-8"
    else:
        body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})

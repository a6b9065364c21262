"""A small OpenAI-compatible server for tests and benchmarks (stdlib only, loopback only).

It speaks the chat-completions wire format the way Ollama and vLLM do (`flavor="ollama"` or
`"vllm"`: response bodies, SSE chunks and error bodies shaped like theirs), and adds what tests
need: a per-request delay, a per-token delay for streaming, failure injection (an HTTP status for
the next N requests, the one-image 400, the unknown-model 404, a model without vision), an
in-flight counter that records its maximum (shareable between servers, to measure a client's total
concurrency), a record of every request body, and `kill()` to die mid-run like a crashed server.

    with FakeOpenAIServer(delay=0.2) as server:
        settings = load_settings(api_base=server.url, engine="openai")
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ANSWER = (
    "DOCUMENT_TYPE: TAX INVOICE\n"
    "SUPPLIER: Bunnings Warehouse\n"
    "ABN: 51 824 753 556\n"
    "DATE: 15/03/2024\n"
    "SUBTOTAL: $40.00\n"
    "GST: $4.00\n"
    "TOTAL: $44.00\n"
)

Responder = Callable[[str, int, dict[str, Any]], str]  # (prompt text, image count, body) -> answer


class InFlight:
    """Thread-safe count of requests being served, with the maximum ever seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.max = 0
        self.total = 0

    def enter(self) -> None:
        with self._lock:
            self.current += 1
            self.total += 1
            self.max = max(self.max, self.current)

    def leave(self) -> None:
        with self._lock:
            self.current -= 1

    def reset(self) -> None:
        with self._lock:
            self.max = self.current
            self.total = 0


def _default_responder(prompt: str, images: int, body: dict[str, Any]) -> str:
    # "ECHO <marker>" in a prompt comes back in the answer, so tests can check order and routing.
    match = re.search(r"ECHO (\S+)", prompt)
    return f"ECHO {match.group(1)}\n{DEFAULT_ANSWER}" if match else DEFAULT_ANSWER


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: FakeOpenAIServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed server's handlers fail on closed sockets; that is the point


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers; streams use chunked encoding
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    # -- plumbing -------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        owner = self.server.owner
        if owner.flavor == "vllm":
            body: dict[str, Any] = {"object": "error", "message": message, "type": kind, "param": None, "code": status}
        else:
            body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        self._send_json(status, body, headers)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # -- routes ---------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        owner = self.server.owner
        if self.path.rstrip("/") == "/fake/stats":  # for a server run in another process
            self._send_json(200, owner.stats())
            return
        owner.model_list_calls += 1
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(404, f"no route {self.path}", "NotFoundError")
            return
        if not owner._authorised(self.headers.get("Authorization")):
            self._send_error(401, "Invalid API key", "invalid_request_error")
            return
        created = int(time.time())
        if owner.flavor == "vllm":
            data = [
                {"id": m, "object": "model", "created": created, "owned_by": "vllm", "root": m, "parent": None,
                 "max_model_len": 8192, "permission": []}
                for m in owner.models
            ]
        else:
            data = [{"id": m, "object": "model", "created": created, "owned_by": "library"} for m in owner.models]
        self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") == "/fake/reset":
            owner.in_flight.reset()
            self._send_json(200, owner.stats())
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"no route {self.path}", "NotFoundError")
            return
        owner.in_flight.enter()
        try:
            self._chat(owner, raw)
        finally:
            owner.in_flight.leave()

    def _chat(self, owner: FakeOpenAIServer, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send_error(400, "invalid JSON body", "BadRequestError")
            return
        with owner._lock:
            owner.requests.append(body)
            owner.request_count += 1
            injected = owner._failures.popleft() if owner._failures else None
        if not owner._authorised(self.headers.get("Authorization")):
            self._send_error(401, "Invalid API key", "invalid_request_error")
            return
        if injected is not None:
            status, message, kind, headers = injected
            if owner._sleep(owner.error_delay):
                return
            self._send_error(status, message, kind, headers)
            return
        model = body.get("model", "")
        if not owner.has_model(model):
            if owner.flavor == "vllm":
                self._send_error(404, f"The model `{model}` does not exist.", "NotFoundError")
            else:
                self._send_error(404, f'model "{model}" not found, try pulling it first', "api_error")
            return
        prompt, images, bad = _read_content(body.get("messages") or [])
        if bad:
            self._send_error(400, bad, "BadRequestError")
            return
        if images and not owner.vision:
            if owner.flavor == "vllm":
                self._send_error(400, "At most 0 image(s) may be provided in one prompt.", "BadRequestError")
            else:
                self._send_error(400, f"{model} does not support images", "invalid_request_error")
            return
        if images > owner.max_images:
            if owner.flavor == "vllm":
                message = f"At most {owner.max_images} image(s) may be provided in one prompt."
            else:
                message = "vision model only supports a single image per message"
            self._send_error(400, message, "BadRequestError" if owner.flavor == "vllm" else "invalid_request_error")
            return
        if body.get("logprobs") and owner.logprobs == "reject":
            self._send_error(400, "logprobs is not supported by this server", "BadRequestError")
            return
        if owner._sleep(owner.delay):
            return  # killed while "generating": drop the connection without an answer
        answer = owner.responder(prompt, images, body)
        pieces = re.findall(r"\S+\s*|\s+", answer)
        cap = int(body.get("max_tokens") or body.get("max_completion_tokens") or 1 << 30)
        finish = "stop"
        if len(pieces) > cap:
            pieces, finish = pieces[:cap], "length"
        text = "".join(pieces)
        usage = {"prompt_tokens": 20 + 6 * images + len(prompt.split()), "completion_tokens": len(pieces)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(owner, model, pieces, finish, usage if include_usage else None, body)
        else:
            # Counted before the last write so a test that got the answer sees it counted; a
            # write that fails (killed) takes the count back.
            owner._count_served(+1)
            try:
                self._send_json(200, owner._with_logprobs(owner._completion(model, text, finish, usage), pieces, body))
            except OSError:
                owner._count_served(-1)
                raise

    def _stream(self, owner: FakeOpenAIServer, model: str, pieces: list[str], finish: str, usage: dict | None,
                body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        ident = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        chunks = owner._stream_chunks(ident, created, model, pieces, finish, usage)
        if body.get("logprobs") and owner.logprobs == "return":
            entries = iter(owner._logprob_entries(pieces))
            for chunk in chunks:  # each piece's chunk carries that piece's logprob, as vLLM sends them
                for choice in chunk["choices"]:
                    if choice["delta"].get("content"):
                        choice["logprobs"] = {"content": [next(entries)]}
        for number, chunk in enumerate(chunks):
            if number and owner._sleep(owner.token_delay):
                return
            if owner.kill_stream_after is not None and number >= owner.kill_stream_after:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        owner._count_served(+1)
        try:
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
        except OSError:
            owner._count_served(-1)
            raise


def _read_content(messages: list[dict[str, Any]]) -> tuple[str, int, str | None]:
    """(prompt text, number of images, problem) of the chat messages; images must be data URLs."""
    texts: list[str] = []
    images = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content or []:
            if part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                images += 1
                url = (part.get("image_url") or {}).get("url", "")
                match = re.match(r"^data:image/(jpeg|png);base64,(.+)$", url, re.S)
                if not match:
                    return "", images, "image_url must be a data:image/jpeg or image/png base64 URL"
                try:
                    base64.b64decode(match.group(2), validate=True)
                except binascii.Error:
                    return "", images, "image_url holds invalid base64"
            else:
                return "", images, f"Unknown part type: {part.get('type')}"
    return "\n".join(texts), images, None


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        *,
        model: str = "llama3.2-vision",
        models: list[str] | None = None,
        flavor: str = "ollama",
        delay: float = 0.0,
        token_delay: float = 0.0,
        error_delay: float = 0.0,
        api_key: str | None = None,
        vision: bool = True,
        max_images: int = 1,
        responder: Responder | None = None,
        in_flight: InFlight | None = None,
        keep_requests: int | None = None,
        logprobs: str = "ignore",
        logprob: Callable[[str], float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the fake server binds to loopback only")
        if flavor not in ("ollama", "vllm"):
            raise ValueError("flavor is ollama or vllm")
        if logprobs not in ("ignore", "return", "reject"):
            raise ValueError("logprobs is ignore (send none), return (when asked) or reject (400 when asked)")
        # logprobs="return": each answer piece (one "token") gets `logprob(piece)` (default -0.01)
        self.logprobs = logprobs
        self.logprob = logprob or (lambda piece: -0.01)
        self.flavor = flavor
        self.models = list(models) if models is not None else ([f"{model}:latest"] if flavor == "ollama" else [model])
        self.delay = delay
        self.token_delay = token_delay
        self.error_delay = error_delay
        self.api_key = api_key
        self.vision = vision
        self.max_images = max_images
        self.responder: Responder = responder or _default_responder
        self.in_flight = in_flight or InFlight()
        self.kill_stream_after: int | None = None  # drop the connection after N stream chunks
        # Every request body (the newest `keep_requests` when set: a long demo must not grow forever).
        self.requests: deque[dict[str, Any]] = deque(maxlen=keep_requests)
        self.request_count = 0
        self.served = 0  # answers sent in full
        self.model_list_calls = 0
        self._failures: deque[tuple[int, str, str, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._killed = threading.Event()
        self._httpd = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        return self._httpd.server_address[:2]  # type: ignore[return-value]

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def kill(self) -> None:
        """Die like a crashed server: stop accepting, drop every open connection mid-answer."""
        if self._killed.is_set():
            return
        self._killed.set()
        if self._thread is not None:
            self._httpd.shutdown()  # blocks until serve_forever returns: only when it runs
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    stop = kill

    @property
    def alive(self) -> bool:
        return not self._killed.is_set()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()

    # -- failure injection ----------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503, message: str = "Service Unavailable", *,
                  kind: str = "ServiceUnavailableError", headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, message, kind, dict(headers or {}))] * count)

    def fail_one_image(self, count: int = 1) -> None:
        """The 400 a server sends when a request carries more images than it allows."""
        message = ("At most 1 image(s) may be provided in one prompt." if self.flavor == "vllm"
                   else "vision model only supports a single image per message")
        self.fail_next(count, 400, message, kind="BadRequestError")

    def fail_unknown_model(self, count: int = 1) -> None:
        model = self.models[0] if self.models else "model"
        message = (f"The model `{model}` does not exist." if self.flavor == "vllm"
                   else f'model "{model}" not found, try pulling it first')
        self.fail_next(count, 404, message, kind="NotFoundError")

    # -- used by the handler --------------------------------------------------------------
    def has_model(self, name: str) -> bool:
        return name in self.models or f"{name}:latest" in self.models

    def _authorised(self, header: str | None) -> bool:
        return not self.api_key or header == f"Bearer {self.api_key}"

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless killed; True when killed (the handler then drops the request)."""
        if seconds <= 0:
            return self._killed.is_set()
        return self._killed.wait(seconds)

    def stats(self) -> dict[str, int]:
        """Counters, also served at GET /fake/stats (POST /fake/reset restarts max_in_flight)."""
        with self._lock:
            return {"served": self.served, "requests": self.request_count, "in_flight": self.in_flight.current,
                    "max_in_flight": self.in_flight.max}

    def _count_served(self, delta: int) -> None:
        with self._lock:
            self.served += delta

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _completion(self, model: str, text: str, finish: str, usage: dict[str, int]) -> dict[str, Any]:
        ident = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        if self.flavor == "vllm":
            return {
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None, "annotations": None,
                                "audio": None, "function_call": None, "tool_calls": [], "reasoning_content": None},
                    "logprobs": None, "finish_reason": finish, "stop_reason": None,
                }],
                "service_tier": None, "system_fingerprint": None,
                "usage": {**usage, "prompt_tokens_details": None},
                "prompt_logprobs": None, "kv_transfer_params": None,
            }
        return {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": usage,
        }

    def _logprob_entries(self, pieces: list[str]) -> list[dict[str, Any]]:
        return [{"token": p, "logprob": self.logprob(p), "bytes": list(p.encode()), "top_logprobs": []}
                for p in pieces]

    def _with_logprobs(self, completion: dict[str, Any], pieces: list[str], body: dict[str, Any]) -> dict[str, Any]:
        if body.get("logprobs") and self.logprobs == "return":
            completion["choices"][0]["logprobs"] = {"content": self._logprob_entries(pieces)}
        return completion

    def _stream_chunks(self, ident: str, created: int, model: str, pieces: list[str], finish: str,
                       usage: dict | None) -> list[dict[str, Any]]:
        base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
        chunks: list[dict[str, Any]] = []
        if self.flavor == "vllm":
            chunks.append({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                "logprobs": None, "finish_reason": None}]})
            for number, piece in enumerate(pieces):
                last = number == len(pieces) - 1
                chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None,
                                                    "finish_reason": finish if last else None,
                                                    **({"stop_reason": None} if last else {})}]})
            if not pieces:
                chunks.append({**base, "choices": [{"index": 0, "delta": {"content": ""}, "logprobs": None,
                                                    "finish_reason": finish, "stop_reason": None}]})
        else:
            base = {**base, "system_fingerprint": "fp_ollama"}
            for piece in pieces:
                chunks.append({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece},
                                                    "finish_reason": None}]})
            chunks.append({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                "finish_reason": finish}]})
        if usage is not None:
            chunks.append({**base, "choices": [], "usage": usage})
        return chunks


def start_servers(count: int, **options: Any) -> list[FakeOpenAIServer]:
    """Start `count` servers sharing one InFlight counter (the client's total concurrency)."""
    shared = options.pop("in_flight", None) or InFlight()
    return [FakeOpenAIServer(in_flight=shared, **options).start() for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    """Serve from the command line, for demos of the app without a GPU:

        python -m tests.openai_fake_server --port 11500 --delay 0.5 --token-delay 0.02
        LLAMA_VISION_ENGINE=openai LLAMA_VISION_API_BASE=http://127.0.0.1:11500/v1 ./run.sh
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--flavor", choices=["ollama", "vllm"], default="ollama")
    parser.add_argument("--model", default="llama3.2-vision")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between streamed pieces")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(port=args.port, flavor=args.flavor, model=args.model, keep_requests=10,
                              delay=args.delay, token_delay=args.token_delay).start()
    print(server.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.kill()
    print(f"served {server.served} answers; max in flight {server.in_flight.max}", flush=True)


if __name__ == "__main__":
    main()

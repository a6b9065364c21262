"""Shared pieces of the openai engine tests: loopback fake servers, an engine on them, pages."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from PIL import Image

from llama_vision.config import load_settings
from llama_vision.engines import create_engine
from llama_vision.engines.base import GenerationRequest
from tests.openai_fake_server import FakeOpenAIServer, start_servers

SECRET = "sk-test-DO-NOT-LEAK-7f3a9c"


@pytest.fixture(name="servers")
def servers_fixture() -> Any:
    """Factory for started fake servers; every one is killed at the end of the test."""
    started: list[FakeOpenAIServer] = []

    def make(count: int = 1, **options: Any) -> list[FakeOpenAIServer]:
        new = start_servers(count, **options)
        started.extend(new)
        return new

    yield make
    for server in started:
        server.kill()


def make_engine(*servers: FakeOpenAIServer | str, **overrides: Any) -> Any:
    urls = [s if isinstance(s, str) else s.url for s in servers]
    overrides.setdefault("api_retries", 3)
    settings = load_settings(env_file=None, engine="openai", api_base=",".join(urls), **overrides)
    engine = create_engine(settings)
    # Keep tests fast: tiny backoff and cool-downs (the logic is the same).
    engine.tuning.backoff_base_s = 0.01
    engine.tuning.backoff_max_s = 0.05
    engine.tuning.cooldown_base_s = 0.5
    engine.tuning.cooldown_max_s = 2.0
    return engine


def page(size: tuple[int, int] = (320, 400), mode: str = "RGB") -> Image.Image:
    color: Any = (255, 255, 255, 0) if mode == "RGBA" else "white"
    image = Image.new(mode, size, color)
    for x in range(20, 120):
        image.putpixel((x, 30), (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    return image


def requests(prompts: Iterable[str]) -> list[GenerationRequest]:
    """One request per prompt, all about the same page (as a batch of one document's questions)."""
    image = page()
    return [GenerationRequest(image, prompt) for prompt in prompts]


def decode_data_url(url: str) -> tuple[str, Image.Image]:
    header, data = url.split(",", 1)
    return header, Image.open(io.BytesIO(base64.b64decode(data)))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_users(names: Iterable[str], work: Callable[[str, threading.Barrier], None], *, timeout: float = 60.0) -> None:
    """Run `work(name, together)` for every user at once, each on its own thread; `together` is a
    barrier over all of them, for lining up rounds. Re-raises the first failure of any user."""
    names = list(names)
    together = threading.Barrier(len(names), timeout=timeout)
    failures: list[BaseException] = []

    def user(name: str) -> None:
        try:
            work(name, together)
        except BaseException as error:  # noqa: BLE001 - re-raised below, in the test's thread
            failures.append(error)
            together.abort()  # the others stop waiting for this one

    threads = [threading.Thread(target=user, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * timeout)
    assert not any(thread.is_alive() for thread in threads), "a user is still running"
    if failures:
        raise failures[0]

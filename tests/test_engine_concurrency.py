"""Two users, one engine: neither Result ever holds the other's answer (ARCHITECTURE.md §10).

The app has one engine object for every user. A fake streaming engine answers from the page it
is given (a red page is Alpha's receipt, a blue one Beta's) and uses barriers to force the worst
interleaving: both answers are mid-stream at once, and neither caller may read its final answer
until both answers are complete. Any answer kept on the engine between calls (the old
`engine.last_generation`) would then be the same for both callers, so one of them would get the
other's fields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from llama_vision import pipeline
from llama_vision.engines.base import Capabilities, Engine, Generation, GenerationRequest, GenerationStream
from llama_vision.result import Result
from tests.fakes import fake_settings

ANSWERS = {
    "red": "SUPPLIER_NAME: Alpha Hardware Pty Ltd\nDATE: 01/02/2024\nTOTAL: $11.00\nGST: $1.00",
    "blue": "SUPPLIER_NAME: Beta Bakery\nDATE: 03/04/2024\nTOTAL: $22.00\nGST: $2.00",
}
EXPECTED = {
    "red": {"supplier_name": "Alpha Hardware Pty Ltd", "date": "01/02/2024", "total": "11.00"},
    "blue": {"supplier_name": "Beta Bakery", "date": "03/04/2024", "total": "22.00"},
}
WAIT = 10  # seconds a barrier waits before the test fails instead of hanging


class InterleavingEngine(Engine):
    """Streams the page's answer word by word; two concurrent streams are held in lock step."""

    name = "interleaving"
    capabilities = Capabilities(follows_prompts=True, streams=True, batches=False)

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.both_streaming = threading.Barrier(2, timeout=WAIT)
        self.both_answered = threading.Barrier(2, timeout=WAIT)
        self.order: list[str] = []  # which page each piece came from, across both users
        self._order_lock = threading.Lock()

    def _load(self) -> None:
        pass

    @staticmethod
    def page_colour(image: Image.Image) -> str:
        return "red" if image.getpixel((0, 0))[0] > 128 else "blue"

    def _generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return [Generation(text=ANSWERS[self.page_colour(r.image)]) for r in requests]

    def _stream(self, request: GenerationRequest) -> GenerationStream:
        colour = self.page_colour(request.image)
        text = ANSWERS[colour]
        words = text.split(" ")

        def pieces() -> Iterator[str]:
            for index, word in enumerate(words):
                if index == 1:
                    self.both_streaming.wait()  # both users are mid-answer from here on
                with self._order_lock:
                    self.order.append(colour)
                yield word if index == len(words) - 1 else word + " "

        def finish() -> Generation:
            self.both_answered.wait()  # neither reads its answer before both answers are complete
            return Generation(text=text, generated_tokens=len(words))

        return GenerationStream(pieces(), finish)


def page(colour: str) -> Image.Image:
    return Image.new("RGB", (200, 300), colour)


def side_by_side(run: Callable[[str], tuple[str, Result]]) -> dict[str, tuple[str, Result]]:
    """Run `run(colour)` for both pages at once, each in its own thread."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {colour: pool.submit(run, colour) for colour in ANSWERS}
        return {colour: future.result(timeout=WAIT * 3) for colour, future in futures.items()}


def assert_own_answers(engine: InterleavingEngine, outcomes: dict[str, tuple[str, Result]]) -> None:
    for colour, (tokens, result) in outcomes.items():
        assert result.status == "ok", result.error
        assert tokens == ANSWERS[colour]
        assert result.raw_output == ANSWERS[colour]
        assert {key: result.fields[key] for key in EXPECTED[colour]} == EXPECTED[colour]
    assert sorted(engine.order) == sorted(["red"] * len(ANSWERS["red"].split(" ")) +
                                          ["blue"] * len(ANSWERS["blue"].split(" ")))


@pytest.fixture
def engine(tmp_path: Path) -> InterleavingEngine:
    built = InterleavingEngine(fake_settings(tmp_path))
    built.initialize()
    return built


def test_two_users_streaming_through_extract_get_their_own_results(engine: InterleavingEngine) -> None:
    attributes = set(vars(engine))

    def run(colour: str) -> tuple[str, Result]:
        pieces: list[str] = []
        result = pipeline.extract(page(colour), engine=engine, document_type="receipt", on_token=pieces.append,
                                  file_name=f"{colour}.png")
        return "".join(pieces), result

    assert_own_answers(engine, side_by_side(run))
    assert set(vars(engine)) == attributes  # nothing about a request was left on the engine


def test_two_users_iterating_extract_events_get_their_own_results(engine: InterleavingEngine) -> None:
    def run(colour: str) -> tuple[str, Result]:
        pieces: list[str] = []
        results: list[Result] = []
        for event in pipeline.extract_events(page(colour), engine=engine, document_type="receipt"):
            if isinstance(event, pipeline.TokenEvent):
                assert not results, "a token arrived after the Result"
                pieces.append(event.text)
            else:
                results.append(event.result)
        assert len(results) == 1
        return "".join(pieces), results[0]

    assert_own_answers(engine, side_by_side(run))


def test_the_pieces_really_interleaved(engine: InterleavingEngine) -> None:
    """The barriers hold both streams open together, so the window the test needs is there."""

    def run(colour: str) -> tuple[str, Result]:
        pieces: list[str] = []
        return "", pipeline.extract(page(colour), engine=engine, document_type="receipt", on_token=pieces.append)

    side_by_side(run)
    assert set(engine.order[:2]) == {"red", "blue"}  # each user's first piece came before either's second

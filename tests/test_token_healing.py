"""Token healing with the real tokenizer and model: a prompt that ends inside a word."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.backends.local.token_healing import HealedText, StartsWith, Vocabulary
from codestral_ls.config import Settings

WEEKDAY = (
    "import datetime\n\n\n"
    "def weekday(year, month, day):\n"
    '    """Return weekday (0-6 ~ Mon-Sun) for year, month (1-12), day (1-31)."""\n'
    "    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:\n"
    "        year = 2000 + year % 400\n"
    "    ret"
)


def test_the_healed_bytes_are_stripped_from_the_answer() -> None:
    stream = HealedText(" ret")
    assert [stream.feed(p) for p in (" re", "turn", " x")] == ["", "urn", " x"]
    assert HealedText("").feed(" x") == " x"
    stopped = HealedText(" ret")
    assert stopped.feed(" r") == ""  # the answer ended inside the typed word: nothing to add


def test_only_tokens_that_agree_with_the_removed_bytes_stay_possible() -> None:
    vocabulary = Vocabulary([b" ret", b" return", b" re", b"t", b"urn", b" if", b""])
    scores = np.zeros(7, dtype=np.single)
    first = StartsWith(vocabulary, b" ret", prompt_tokens=3)(np.array([9, 9, 9]), scores.copy())
    assert list(np.isfinite(first)) == [True, True, True, False, False, False, False]
    # after " re" only "t" (or a token starting with "t") may follow; then anything
    after_re = StartsWith(vocabulary, b" ret", 3)(np.array([9, 9, 9, 2]), scores.copy())
    assert list(np.isfinite(after_re)) == [False, False, False, True, False, False, False]
    done = StartsWith(vocabulary, b" ret", 3)(np.array([9, 9, 9, 0]), scores.copy())
    assert np.isfinite(done).all()


@pytest.fixture(scope="module")
def backend(embedded_model: Path) -> Iterator[LocalBackend]:
    local = LocalBackend(Settings(n_threads=1))
    asyncio.run(local.start(lambda message, pct: None))
    yield local
    asyncio.run(local.aclose())


async def answer(backend: LocalBackend, prefix: str) -> str:
    request = FimRequest(prefix=prefix, suffix="", max_tokens=16)
    return "".join([piece async for piece in backend.stream(request)])


async def test_a_word_being_typed_is_continued(backend: LocalBackend) -> None:
    text = await answer(backend, WEEKDAY)
    assert text.startswith("urn"), text  # `ret` + `urn ...`, never a new line's indentation

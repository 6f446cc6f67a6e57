"""KV states per place with the real model: reading another window keeps the one read before."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.config import Settings

SOURCE = Path(argparse.__file__).read_text()
CURSOR = SOURCE.index("    def _print_message(self, message, file=None):")


@pytest.fixture(scope="module")
def backend(embedded_model: Path) -> Iterator[LocalBackend]:
    local = LocalBackend(Settings(n_threads=1))
    asyncio.run(local.start(lambda message, pct: None))
    yield local
    asyncio.run(local.aclose())


def window(chars: int) -> FimRequest:
    return FimRequest(prefix=SOURCE[CURSOR - chars : CURSOR], suffix="")


async def test_a_small_window_survives_reading_the_full_one(backend: LocalBackend) -> None:
    small, full = window(400), window(3000)
    await backend.warm(small)
    assert backend.uncached_tokens(small) <= 1
    assert backend.uncached_tokens(full) > 500
    await backend.warm(full)
    # both are kept: the next keystroke at either window reads only what changed
    assert backend.uncached_tokens(full) <= 1
    assert backend.uncached_tokens(small) <= 1
    typed = FimRequest(prefix=small.prefix + "    def", suffix="")
    assert backend.uncached_tokens(typed) <= 4

"""Token healing with the real tokenizer and model: a prompt that ends inside a word."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.backends.local.token_healing import (
    HealedText,
    StartsWith,
    Vocabulary,
    split_last_word,
)
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


def test_a_word_known_to_go_on_allows_no_token_that_ends_it() -> None:
    vocabulary = Vocabulary([b"tex", b"text", b"tex(", b" is", b"t", b"(", b"te", b"\xc3\xa9"])
    scores = np.zeros(8, dtype=np.single)
    first = StartsWith(vocabulary, b"tex", 3, word_after=True)(np.array([9, 9, 9]), scores.copy())
    assert list(np.isfinite(first)) == [True, True, False, False, True, False, True, False]
    # "tex" typed again in full: the next token must go on with the word
    after = StartsWith(vocabulary, b"tex", 3, True)(np.array([9, 9, 9, 0]), scores.copy())
    assert list(np.isfinite(after)) == [True, True, True, False, True, False, True, True]
    went_on = StartsWith(vocabulary, b"tex", 3, True)(np.array([9, 9, 9, 0, 4]), scores.copy())
    assert np.isfinite(went_on).all()
    # nothing healed: the first token itself must start with a word character
    bare = StartsWith(vocabulary, b"", 3, word_after=True)(np.array([9, 9, 9]), scores.copy())
    assert list(np.isfinite(bare)) == [True, True, True, False, True, False, True, True]
    # without word_after the word may end where the user paused
    plain = StartsWith(vocabulary, b"tex", 3)(np.array([9, 9, 9]), scores.copy())
    assert list(np.isfinite(plain)) == [True, True, True, False, True, False, True, False]


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


async def test_an_open_word_is_never_ended_by_the_answer(backend: LocalBackend) -> None:
    prefix = "def add(a, b):\n    return a"
    ended = "".join([p async for p in backend.stream(FimRequest(prefix, "\n", max_tokens=6))])
    assert ended.startswith(" "), ended  # the model's own choice: `a` is a whole word
    request = FimRequest(prefix, "\n", max_tokens=6, word_open=True)
    went_on = "".join([p async for p in backend.stream(request)])
    assert went_on[:1].isalnum() or went_on[:1] == "_", went_on


def test_healing_backs_up_over_the_whole_word(embedded_model: Path) -> None:
    import llama_cpp

    llama = llama_cpp.Llama(str(embedded_model), vocab_only=True, verbose=False)
    pieces = [bytes(llama.detokenize([i])) for i in range(llama.n_vocab())]
    # `` contex`` is two tokens (`` cont`` + ``ex``): both go, so `` context`` can be chosen
    assert len(llama.tokenize(b" contex", add_bos=False)) == 2
    assert split_last_word("    if contex", llama, pieces) == ("    if", b" contex")
    assert split_last_word("    ret", llama, pieces) == ("   ", b" ret")
    assert split_last_word("x = (a + b", llama, pieces) == ("x = (a +", b" b")
    assert split_last_word("x = a + ", llama, pieces) == ("x = a + ", b"")  # no word to heal
    assert split_last_word("ret", llama, pieces) == ("ret", b"")  # all of it: nothing before
    assert split_last_word("ret", llama, pieces, whole=True) == ("", b"ret")

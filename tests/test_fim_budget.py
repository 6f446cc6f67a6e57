"""Cutting prefix and suffix to token budgets at line boundaries, fast on huge files."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest

from fim import cut_prefix, cut_suffix, snap_window_start, split_budget

_PIECES = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


def word_tokens(text: str) -> int:
    """A tokenizer stand-in: words, whitespace runs and punctuation are one token each."""
    return len(_PIECES.findall(text))


def byte_tokens(text: str) -> int:
    """The worst case of byte-level BPE: every UTF-8 byte is a token (emoji = 4 tokens)."""
    return len(text.encode("utf-8", "surrogatepass"))


class CountingTokens:
    """Counts calls and characters seen, to prove the cutters stay cheap on huge input."""

    def __init__(self) -> None:
        self.calls = 0
        self.chars = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        self.chars += len(text)
        return len(text.encode("utf-8")) // 3


def numbered_lines(count: int, width: int = 10) -> str:
    return "".join(f"{i:0{width - 1}d}\n" for i in range(count))


def flags_before(text: str, index: int) -> int:
    """How many regional indicators (flag halves) directly precede ``index``."""
    run = 0
    while index - run > 0 and "\U0001f1e6" <= text[index - run - 1] <= "\U0001f1ff":
        run += 1
    return run


# ---------------------------------------------------------------- prefix


def test_prefix_that_fits_is_kept_whole() -> None:
    text = "import os\n\ndef f():\n    return os"
    assert cut_prefix(text, 1000, word_tokens) == text


def test_prefix_keeps_the_end_from_a_line_start_and_as_many_lines_as_fit() -> None:
    text = "".join(f"line number {i}\n" for i in range(100)) + "    value = "
    budget = 50
    kept = cut_prefix(text, budget, word_tokens)
    assert text.endswith(kept)
    start = len(text) - len(kept)
    assert text[start - 1] == "\n"
    assert word_tokens(kept) <= budget
    previous_line_start = text.rfind("\n", 0, start - 1) + 1
    assert word_tokens(text[previous_line_start:]) > budget


def test_prefix_with_crlf_starts_after_the_whole_line_break() -> None:
    text = "".join(f"row {i}\r\n" for i in range(40)) + "x = "
    kept = cut_prefix(text, 30, word_tokens)
    assert kept.startswith("row ")
    assert text.endswith(kept)
    assert text[len(text) - len(kept) - 2 : len(text) - len(kept)] == "\r\n"


def test_prefix_keeps_tail_of_an_overlong_cursor_line() -> None:
    text = "short\n" + "a = b + c; " * 200
    kept = cut_prefix(text, 21, word_tokens)
    assert kept
    assert "\n" not in kept
    assert text.endswith(kept)
    assert word_tokens(kept) <= 21
    assert word_tokens(text[len(text) - len(kept) - 3 :]) > 21


@pytest.mark.parametrize(
    "line",
    [
        "家族👨‍👩‍👧‍👦 " * 50,  # ZWJ family sequences and CJK
        "👍🏽 ok " * 60,  # skin-tone modifiers
        "é" * 300,  # e + COMBINING ACUTE ACCENT
        "🇫🇷🇩🇪" * 80,  # flags: pairs of regional indicators
        "\ud83d\ude00x" * 100,  # a surrogate pair as decoded with surrogatepass
    ],
)
def test_prefix_char_cut_never_starts_inside_a_character_or_cluster(line: str) -> None:
    text = "first line\n" + line
    for budget in (5, 17, 33, 64):
        kept = cut_prefix(text, budget, byte_tokens)
        assert text.endswith(kept)
        assert byte_tokens(kept) <= budget
        if kept:
            head = kept[0]
            assert not ("\udc00" <= head <= "\udfff")
            assert head != "\u200d"
            assert not ("\U0001f3fb" <= head <= "\U0001f3ff")
            assert unicodedata.combining(head) == 0
            assert flags_before(text, len(text) - len(kept)) % 2 == 0


def test_prefix_ending_with_newline_may_keep_nothing_of_a_huge_last_line() -> None:
    text = "x" * 1000 + "\n"
    assert cut_prefix(text, 10, word_tokens) == ""


def test_zero_or_negative_budget_gives_empty_text() -> None:
    assert cut_prefix("abc\ndef", 0, word_tokens) == ""
    assert cut_suffix("abc\ndef", -3, word_tokens) == ""
    assert cut_prefix("", 10, word_tokens) == ""
    assert cut_suffix("", 10, word_tokens) == ""


# ---------------------------------------------------------------- suffix


def test_suffix_that_fits_is_kept_whole_even_without_final_newline() -> None:
    text = ")\n    return x\n\nprint(f())"
    assert cut_suffix(text, 1000, word_tokens) == text


def test_suffix_keeps_the_start_up_to_a_line_end_with_its_newline() -> None:
    text = "".join(f"line number {i}\n" for i in range(100))
    budget = 40
    kept = cut_suffix(text, budget, word_tokens)
    assert text.startswith(kept)
    assert kept.endswith("\n")
    assert word_tokens(kept) <= budget
    next_end = text.index("\n", len(kept)) + 1
    assert word_tokens(text[:next_end]) > budget


def test_suffix_with_crlf_ends_after_the_whole_line_break() -> None:
    text = "".join(f"row {i}\r\n" for i in range(40))
    kept = cut_suffix(text, 25, word_tokens)
    assert kept.endswith("\r\n")
    assert text.startswith(kept)


def test_suffix_is_empty_when_the_cursor_line_rest_does_not_fit() -> None:
    assert cut_suffix("a + " * 500 + "\nnext\n", 10, word_tokens) == ""
    assert cut_suffix("z" * 10_000, 10, byte_tokens) == ""


def test_suffix_with_wide_characters() -> None:
    text = "".join(f"值 = '😀{i}'\n" for i in range(50))
    kept = cut_suffix(text, 60, byte_tokens)
    assert kept.endswith("\n")
    assert byte_tokens(kept) <= 60
    assert text.startswith(kept)


# ---------------------------------------------------------------- huge input


def test_twenty_megabytes_are_cut_in_well_under_a_second() -> None:
    text = numbered_lines(1000) * 2000  # 20 MB, 2 million lines
    assert len(text) == 20_000_000
    for cut in (cut_prefix, cut_suffix):
        counter = CountingTokens()
        started = time.perf_counter()
        kept = cut(text, 2048, counter)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5, f"{cut.__name__} took {elapsed:.3f}s"
        assert counter.calls <= 40
        assert counter.chars <= 40 * 2048 * 8
        assert counter(kept) <= 2048
        assert kept.count("\n") > 100


def test_one_huge_line_is_cut_quickly() -> None:
    text = "q" * 20_000_000
    counter = CountingTokens()
    started = time.perf_counter()
    kept = cut_prefix(text, 1000, counter)
    assert time.perf_counter() - started < 0.5
    assert kept and counter(kept) <= 1000
    assert cut_suffix(text, 1000, counter) == ""


# ---------------------------------------------------------------- grid and split


def test_snap_window_start_rounds_up_to_the_grid() -> None:
    assert snap_window_start(0, 100) == 0
    assert snap_window_start(1, 100) == 16
    assert snap_window_start(16, 100) == 16
    assert snap_window_start(17, 100, grid=8) == 24
    assert snap_window_start(17, 20) == 20  # never past the cursor's line
    assert snap_window_start(5, 100, grid=1) == 5
    assert snap_window_start(-3, 100) == 0


def test_grid_keeps_the_prompt_start_stable_while_typing_new_lines() -> None:
    document = numbered_lines(300)
    budget = 400  # with len() as the counter: 40 lines of 10 characters

    def starts(grid: int) -> set[int]:
        seen = set()
        for extra in range(16):
            prefix = document + "y = 10000\n" * extra + "x"
            kept = cut_prefix(prefix, budget, len, grid=grid)
            assert len(kept) <= budget
            start = len(prefix) - len(kept)
            line = prefix.count("\n", 0, start)
            if grid > 1:
                assert line % grid == 0
            seen.add(start)
        return seen

    assert len(starts(16)) <= 2
    assert len(starts(1)) >= 15


def test_grid_falls_back_to_the_cursor_line() -> None:
    text = "a\n" * 20 + "b" * 50
    assert cut_prefix(text, 52, len, grid=16) == "b" * 50


@pytest.mark.parametrize(
    ("total", "share", "expected"),
    [
        (1000, 0.25, (750, 250)),
        (1001, 0.5, (501, 500)),
        (100, 0.0, (100, 0)),
        (100, 1.5, (0, 100)),
        (100, -1.0, (100, 0)),
        (-5, 0.3, (0, 0)),
    ],
)
def test_split_budget(total: int, share: float, expected: tuple[int, int]) -> None:
    assert split_budget(total, share) == expected

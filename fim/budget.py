"""Cut the prefix and suffix to token budgets at line boundaries, cheaply on huge files.

Counting tokens is the expensive part (a real tokenizer walks the whole string), so the text
is first narrowed to a generous character window (``MAX_CHARS_PER_TOKEN`` characters per
budget token - no tokenizer packs more than that into a token on ordinary code), then the
line boundary is found by binary search: O(log lines) tokenizer calls on at most
``budget * MAX_CHARS_PER_TOKEN`` characters, whatever the file size.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Callable

CountTokens = Callable[[str], int]

MAX_CHARS_PER_TOKEN = 8
"""Upper bound on characters per token used to pre-cut the text before any counting."""

DEFAULT_GRID = 16
"""Line grid used by ``snap_window_start``: the prompt start moves in steps of this many lines."""


def split_budget(total: int, suffix_share: float) -> tuple[int, int]:
    """(prefix_tokens, suffix_tokens) splitting ``total``; ``suffix_share`` is clamped to 0..1.

    The prefix gets the rounding remainder: text before the cursor predicts the middle best.
    """
    total = max(0, total)
    share = min(1.0, max(0.0, suffix_share))
    suffix = int(total * share)
    return total - suffix, suffix


def snap_window_start(first_line: int, cursor_line: int, grid: int = DEFAULT_GRID) -> int:
    """The prompt's first line: ``first_line`` rounded UP to a multiple of ``grid``.

    ``first_line`` is the earliest line that fits the budget; ``cursor_line`` the last line
    of the prefix (the start never passes it). Rounding up keeps the prompt within budget,
    and because the start only moves once every ``grid`` lines, successive keystrokes give
    prompts with the same beginning, so llama.cpp can reuse its KV cache instead of
    re-reading the whole prompt each time the window slides by one line.
    """
    if grid <= 1:
        return min(max(first_line, 0), cursor_line)
    snapped = -(-max(first_line, 0) // grid) * grid
    return min(snapped, cursor_line)


def cut_prefix(text: str, budget_tokens: int, count_tokens: CountTokens, *, grid: int = 1) -> str:
    """The end of ``text`` that fits ``budget_tokens``, starting at a line start.

    When even the cursor's line (the text after the last newline) does not fit, its tail is
    kept by characters, never starting inside a surrogate pair, a ``\\r\\n`` or a combining
    sequence. ``grid`` > 1 snaps the first kept line (counted from the start of ``text``, so
    pass the whole prefix from the document start) to a multiple of ``grid``; see
    ``snap_window_start``.
    """
    if budget_tokens <= 0 or not text:
        return ""
    limit = budget_tokens * MAX_CHARS_PER_TOKEN
    base = 0
    if len(text) > limit:
        base = len(text) - limit
        # Start the window at a line start (after a newline), or at the cursor's line.
        newline = text.find("\n", base - 1)
        # No newline in the window: it lies inside the cursor's line; start at that line.
        base = text.rfind("\n") + 1 if newline == -1 else newline + 1
    starts = _line_starts(text, base)
    # Candidate starts, in increasing position; the last one is the cursor's line (which is
    # empty when the text ends with a newline).
    if grid > 1:
        starts = _snapped_starts(text, starts, grid)
    index = _first_fitting(len(starts), lambda i: count_tokens(text[starts[i] :]) <= budget_tokens)
    if index < len(starts):
        return text[starts[index] :]
    return _tail_by_chars(text[starts[-1] :], budget_tokens, count_tokens)


def cut_suffix(text: str, budget_tokens: int, count_tokens: CountTokens) -> str:
    """The start of ``text`` that fits ``budget_tokens``, ending after a newline.

    The text's last line may end without a newline if it fits whole. When the first line
    alone does not fit the result is "" - half a line after the cursor misleads the model
    more than no suffix at all.
    """
    if budget_tokens <= 0 or not text:
        return ""
    limit = budget_tokens * MAX_CHARS_PER_TOKEN
    ends: list[int] = []
    position = text.find("\n", 0, limit)
    while position != -1:
        ends.append(position + 1)
        position = text.find("\n", position + 1, limit)
    if len(text) <= limit and (not ends or ends[-1] != len(text)):
        ends.append(len(text))
    if not ends:
        return ""
    # Longest fitting end = last index i where text[:ends[i]] fits; search from the end.
    reversed_fits = _first_fitting(
        len(ends), lambda i: count_tokens(text[: ends[len(ends) - 1 - i]]) <= budget_tokens
    )
    if reversed_fits == len(ends):
        return ""
    return text[: ends[len(ends) - 1 - reversed_fits]]


def _line_starts(text: str, base: int) -> list[int]:
    starts = [base]
    position = text.find("\n", base)
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _snapped_starts(text: str, starts: list[int], grid: int) -> list[int]:
    """Keep only starts whose line number is a multiple of ``grid``, plus the cursor's line."""
    first_line = text.count("\n", 0, starts[0])
    cursor_line = first_line + len(starts) - 1
    keep: list[int] = []
    for offset, start in enumerate(starts):
        line = first_line + offset
        if line % grid == 0 or line == cursor_line:
            keep.append(start)
    return keep


def _first_fitting(n: int, fits: Callable[[int], bool]) -> int:
    """Smallest i in [0, n) with fits(i), assuming fits is monotone (False... then True).

    Returns n when none fits. ``bisect`` over a lazy key calls ``fits`` O(log n) times.
    """
    return bisect_left(range(n), True, key=fits)


def _tail_by_chars(line: str, budget_tokens: int, count_tokens: CountTokens) -> str:
    """The longest tail of one line that fits, cut at a safe character boundary."""
    line = line[_safe_cut(line, max(0, len(line) - budget_tokens * MAX_CHARS_PER_TOKEN)) :]
    lo = _first_fitting(
        len(line), lambda i: count_tokens(line[_safe_cut(line, i) :]) <= budget_tokens
    )
    if lo >= len(line):
        return ""
    return line[_safe_cut(line, lo) :]


def _safe_cut(text: str, index: int) -> int:
    """Move ``index`` forward so text[index:] does not start mid-character or mid-cluster."""
    n = len(text)
    while 0 < index < n:
        previous, current = text[index - 1], text[index]
        if previous == "\r" and current == "\n":
            index += 1
        elif "\udc00" <= current <= "\udfff" and "\ud800" <= previous <= "\udbff":
            index += 1  # low half of a surrogate pair (text decoded with surrogatepass)
        elif _joins_previous(current) or previous == "\u200d":
            index += 1
        elif _is_regional(current) and _regional_run_before(text, index) % 2 == 1:
            index += 1  # second half of a flag: both regional indicators go together
        else:
            break
    return index


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _regional_run_before(text: str, index: int) -> int:
    run = 0
    while index - run - 1 >= 0 and _is_regional(text[index - run - 1]):
        run += 1
    return run


def _joins_previous(char: str) -> bool:
    """Combining marks, variation selectors, emoji modifiers and ZWJ attach to the char before."""
    if char == "\u200d" or "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff":
        return True
    if "\U000e0020" <= char <= "\U000e007f":  # emoji tag sequences (flags of subdivisions)
        return True
    return unicodedata.combining(char) != 0 or unicodedata.category(char) in ("Mn", "Me", "Mc")

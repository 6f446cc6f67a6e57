"""The prefix and suffix the model sees: token-budgeted, cut at line boundaries.

The cut is computed on a bounded slice around the cursor so that a 20 MB file costs the same
as a small one: no budget here ever needs more than ``_CHARS_PER_TOKEN_MAX`` characters a token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fim import cut_prefix, cut_suffix

_CHARS_PER_TOKEN_MAX = 16


@dataclass(frozen=True)
class Window:
    prefix: str
    suffix: str


def build_window(
    text: str,
    offset: int,
    prefix_tokens: int,
    suffix_tokens: int,
    count_tokens: Callable[[str], int],
) -> Window:
    start = max(0, offset - prefix_tokens * _CHARS_PER_TOKEN_MAX)
    head = text[start:offset]
    if start > 0:
        # The slice began mid-line: start at the next whole line instead.
        head = head[_after_first_break(head) :]
    end = offset + suffix_tokens * _CHARS_PER_TOKEN_MAX
    tail = text[offset:end]
    if end < len(text):
        tail = tail[: _after_last_break(tail)]
    prefix = cut_prefix(head, prefix_tokens, count_tokens)
    suffix = cut_suffix(tail, suffix_tokens, count_tokens) if suffix_tokens > 0 else ""
    return Window(prefix, suffix)


def _after_first_break(s: str) -> int:
    for i, ch in enumerate(s):
        if ch == "\n":
            return i + 1
        if ch == "\r":
            return i + 2 if s[i + 1 : i + 2] == "\n" else i + 1
    return len(s)


def _after_last_break(s: str) -> int:
    i = max(s.rfind("\n"), s.rfind("\r"))
    return i + 1 if i >= 0 else 0

"""The prefix and suffix the model sees: token-budgeted, cut at line boundaries, and stable.

Stability is what makes a keystroke cheap: the model's KV cache is reused up to the first token
that differs from the previous prompt, so the window must not slide a line per keystroke. The
slice we cut from starts at an aligned character offset and the first kept line snaps to a grid
of ``grid`` lines (both relative to that aligned start), so the prompt's beginning changes only
when the cursor has moved a whole grid step. The slice is bounded, so a 20 MB file costs the same
as a small one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fim import cut_prefix, cut_suffix, scope_header

_CHARS_PER_TOKEN_MAX = 16
_ALIGN = 4096
#: Characters above a window searched for the definitions enclosing it (``scope_header``).
_SCOPE_CHARS = 200_000


@dataclass(frozen=True)
class Window:
    prefix: str
    suffix: str
    #: Text between the anchor and the cursor (see ``build_window``); the model continues it.
    middle: str = ""


def build_window(
    text: str,
    offset: int,
    prefix_tokens: int,
    suffix_tokens: int,
    count_tokens: Callable[[str], int],
    grid: int = 1,
    anchor: int | None = None,
    family: str = "",
) -> Window:
    """The window around ``offset``; with ``anchor`` (a line start at or before the cursor)
    the prefix ends at the anchor and the text from there to the cursor is the ``middle``, so
    that typing after the anchor never changes the prefix or the suffix.

    A prefix cut inside a definition starts with the first lines of the definitions around it
    (``fim.scope_header``; ``family`` is the language's block grammar, see languages.py)."""
    if anchor is not None and 0 <= anchor < offset:
        upper = build_window(text, anchor, prefix_tokens, 0, count_tokens, grid, None, family)
        after = build_window(text, offset, 0, suffix_tokens, count_tokens).suffix
        return Window(upper.prefix, after, text[anchor:offset])
    start = max(0, offset - prefix_tokens * _CHARS_PER_TOKEN_MAX)
    if start > 0:
        start = start // _ALIGN * _ALIGN
    head = text[start:offset]
    if start > 0:
        # The slice began mid-line: start at the next whole line instead.
        head = head[_after_first_break(head) :]
    end = offset + suffix_tokens * _CHARS_PER_TOKEN_MAX
    tail = text[offset:end]
    if end < len(text):
        tail = tail[: _after_last_break(tail)]
    prefix = cut_prefix(head, prefix_tokens, count_tokens, grid=max(1, grid))
    suffix = cut_suffix(tail, suffix_tokens, count_tokens) if suffix_tokens > 0 else ""
    starts_at = offset - len(prefix)
    if family and starts_at > 0 and prefix:
        above = text[max(0, starts_at - _SCOPE_CHARS) : starts_at]
        prefix = scope_header(above, prefix, family) + prefix
    return Window(prefix, suffix)


def heal_prefix(prefix: str) -> tuple[str, str]:
    """Split trailing spaces/tabs of the cursor's line off the prompt.

    BPE vocabularies attach a space to the following word (" return"), so a prompt that ends in
    spaces is one the model never saw in training and it answers by repeating the indentation.
    The model gets the prompt without them; ``unheal`` removes them from its answer.
    """
    stripped = prefix.rstrip(" \t")
    if len(stripped) == len(prefix):
        return prefix, ""
    return stripped, prefix[len(stripped) :]


def unheal(answer: str, healed: str) -> str:
    """The answer as inserted after the whitespace the user already typed."""
    if not healed:
        return answer
    if answer.startswith(healed):
        return answer[len(healed) :]
    if answer[:1] in (" ", "\t"):
        return answer.lstrip(" \t")
    return answer


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

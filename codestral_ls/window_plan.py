"""Which prompt window a request can afford: the full one, or a smaller one read in time.

Reading a prompt is most of what the user waits for at a place the model has not read yet
(~110 tokens/s on a 2-core laptop CPU: the default 1,400-token window is 13 s). The engine asks
the backend what each candidate window would cost *now* (tokens no kept KV state holds), takes
the first that fits the budget, and reads the full window in the background so that the next
keystroke there is both cheap and exact. Candidates come from a fixed ladder, so the same
place gives the same windows keystroke after keystroke (the KV cache and the answer cache
depend on that).
"""

from __future__ import annotations

from dataclasses import dataclass

#: (prefix tokens, suffix tokens) of the smaller windows, largest first; the suffix is used only
#: where the layout has one.
SMALLER_WINDOWS = ((512, 128), (256, 64), (128, 32), (64, 0))
#: Suffix budgets tried with the full prefix, largest first (the prefix is usually cached; a
#: PSM suffix is read again after every keystroke).
SUFFIX_STEPS = (256, 128, 64, 0)
#: Prompt-reading speed assumed before the backend has measured one (tokens/s).
DEFAULT_SPEED = 100.0


@dataclass(frozen=True)
class WindowSize:
    prefix_tokens: int
    suffix_tokens: int
    #: Full-size windows carry other files' snippets; smaller ones leave them out.
    with_context: bool
    grid: int


#: Suffix tokens a gap keeps in every window (see ``candidates``).
GAP_SUFFIX = 64


def candidates(
    prefix_tokens: int, suffix_tokens: int, grid: int, *, gap: bool = False
) -> list[WindowSize]:
    """The full window first, then cheaper ones in the order the engine tries them.

    At a gap (``gap``) the code below is what the answer must lead back to: without it the
    model writes the next line of a new block (HumanEval's ``return True`` where ``return
    False`` was cut), so a gap's windows keep at least ``GAP_SUFFIX`` suffix tokens and shrink
    the prefix instead.
    """
    keep = min(GAP_SUFFIX, suffix_tokens) if gap else 0
    out = [WindowSize(prefix_tokens, suffix_tokens, True, grid)]
    for suffix in SUFFIX_STEPS:
        if keep <= suffix < suffix_tokens:
            out.append(WindowSize(prefix_tokens, suffix, True, grid))
    for prefix, suffix in SMALLER_WINDOWS:
        if prefix < prefix_tokens:
            # A small window's start must still be stable, but a 16-line grid step would drop
            # most of a 10-line window: the step shrinks with the window.
            step = max(1, min(grid, prefix // 32))
            out.append(WindowSize(prefix, max(keep, min(suffix, suffix_tokens)), False, step))
    return out


def budget_tokens(speed: float | None, budget_ms: int) -> int:
    """Prompt tokens the backend reads within ``budget_ms`` at its measured speed."""
    return int((speed or DEFAULT_SPEED) * budget_ms / 1000)

"""Where the prompt's middle starts: the line at which the user began writing at this place.

A PSM prompt puts the suffix after the prefix, so a keystroke in the prefix makes the model
read the whole suffix again (hundreds of tokens: seconds on a laptop CPU). Written after the
middle marker instead, the typed text only appends to the prompt. The anchor is the start of
the cursor's line, and it stays where it was while the user writes on below it (a line typed
and Enter pressed), so the pause on the next line costs that line's tokens, not the suffix's.
It moves when the text before it changed, the cursor went above it, or the middle grew past a
few lines (then the prefix takes them in, one suffix read, and the middle starts afresh).
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache

#: A middle longer than this starts afresh at the cursor's line.
MAX_MIDDLE_LINES = 8
MAX_MIDDLE_CHARS = 1200
#: Characters before the anchor compared to tell that the text above it is unchanged.
_CHECKED = 256


@dataclass(frozen=True)
class _Anchor:
    offset: int
    before: str


class Anchors:
    """The kept anchor of each document."""

    def __init__(self, documents: int = 64) -> None:
        self._kept: LRUCache[str, _Anchor] = LRUCache(maxsize=documents)

    def choose(self, uri: str, text: str, offset: int) -> int | None:
        """The kept anchor when it still holds for this text and cursor, else the cursor's
        line start; ``None`` (no middle) when there is text right of the cursor. Looking never
        changes what is kept (speculative states look too).

        A suffix that starts in the middle of the cursor's line, after a middle that starts at
        a line start, is a prompt the 0.5B model answers with garbage (it wrote the file's
        first line again in a test), so there the prefix runs to the cursor as before.
        """
        line_end = text.find("\n", offset)
        if text[offset : len(text) if line_end < 0 else line_end].strip():
            return None
        line_start = text.rfind("\n", 0, offset) + 1
        kept = self._kept.get(uri)
        if kept is None or kept.offset > line_start:
            return line_start
        if text[max(0, kept.offset - _CHECKED) : kept.offset] != kept.before:
            return line_start
        middle = text[kept.offset : offset]
        if middle.count("\n") > MAX_MIDDLE_LINES or len(middle) > MAX_MIDDLE_CHARS:
            return line_start
        return kept.offset

    def keep(self, uri: str, text: str, anchor: int) -> None:
        self._kept[uri] = _Anchor(anchor, text[max(0, anchor - _CHECKED) : anchor])

    def forget(self, uri: str) -> None:
        self._kept.pop(uri, None)

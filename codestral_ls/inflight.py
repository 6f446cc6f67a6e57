"""The model call made while the user types on: keep it while the typing agrees with it.

A keystroke used to cancel the call under way and wait for a quiet moment (the debounce)
before calling again, so a user typing at a steady 10 keys/s saw nothing until they stopped.
But most keystrokes at a place only add characters at the cursor, and the call under way may
already be writing them: its answer, less what was typed meanwhile, is the suggestion for the
newest keystroke (type-through, as the editor does with a suggestion on screen). So such a
keystroke waits for that call, and the call is stopped as soon as what it writes contradicts
what was typed; only then is a new one made, at once (no debounce: the user is writing here).
"""

from __future__ import annotations

from dataclasses import dataclass

from .suggestion_cache import typed_at_cursor

#: (uri, cursor offset, document text) of a request.
State = tuple[str, int, str]

#: Typed characters a waiting request may be ahead of the call it waits for.
MAX_TYPED = 128


def typed_since(old: State | None, new: State) -> str | None:
    """What was typed at the cursor between ``old`` and ``new``, when that is all that changed
    (``None`` otherwise: another document, a deletion, a move or an edit elsewhere)."""
    if old is None:
        return None
    uri, offset, text = new
    old_uri, old_offset, old_text = old
    typed = offset - old_offset
    if uri != old_uri or not 0 < typed <= MAX_TYPED or len(text) != len(old_text) + typed:
        return None
    return typed_at_cursor(
        (old_text[:old_offset], old_text[old_offset:]), (text[:offset], text[offset:])
    )


@dataclass
class Watch:
    """What the newest waiting request typed since the call's state; the call reads it per
    piece of text and stops once its answer cannot be what is being typed."""

    typed: str = ""

    def contradicted(self, so_far: str) -> bool:
        n = min(len(so_far), len(self.typed))
        return so_far[:n] != self.typed[:n]

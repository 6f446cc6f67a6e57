"""Answers that need no model call: the cache, and type-through of the suggestion on screen."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cachetools import LRUCache, TTLCache

from .backends.base import BackendInfo, FimRequest
from .modes import Mode

_TTL_SECONDS = 600.0
_ENTRY_OVERHEAD = 200  # bytes a key and the bookkeeping cost, so entries are bounded too


class SuggestionCache:
    """Answers keyed by exactly what the model saw; bounded in bytes and entries, with a TTL."""

    def __init__(self, entries: int, ttl: float = _TTL_SECONDS) -> None:
        budget = max(1, entries) * (_ENTRY_OVERHEAD + 256)
        self._cache: TTLCache[str, str] = TTLCache(
            maxsize=budget, ttl=ttl, getsizeof=lambda v: _ENTRY_OVERHEAD + len(v)
        )

    @staticmethod
    def key(info: BackendInfo, request: FimRequest, mode: Mode, healed: str = "") -> str:
        """``healed`` is the indentation left out of the prompt: the answer is cleaned for it."""
        h = hashlib.sha256()
        parts = [
            healed,
            info.backend,
            info.model,
            info.template,
            mode.value,
            str(request.max_tokens),
            repr(request.temperature),
            repr(request.stop),
            request.path,
            request.prefix,
            request.suffix,
            request.middle,
            *(f"{c.path}\0{c.text}" for c in request.context),
        ]
        for part in parts:
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00\x01")
        return h.hexdigest()

    def get(self, key: str) -> str | None:
        return self._cache.get(key)

    def put(self, key: str, text: str) -> None:
        if _ENTRY_OVERHEAD + len(text) <= self._cache.maxsize:
            self._cache[key] = text

    def clear(self) -> None:
        self._cache.clear()


class StateAnswers:
    """Answers computed ahead for exact document states: the speculative next suggestion.

    Keyed by the whole text around the cursor, not by the prompt, so looking one up needs no
    prompt window (well under a millisecond) and cannot match a state the answer was not for.
    """

    def __init__(self, entries: int = 16) -> None:
        self._answers: LRUCache[str, tuple[str, str]] = LRUCache(maxsize=entries)

    @staticmethod
    def _key(uri: str, prefix: str, suffix: str) -> str:
        h = hashlib.sha256()
        for part in (uri, prefix, suffix):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00\x01")
        return h.hexdigest()

    def put(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        self._answers[self._key(uri, prefix, suffix)] = (uri, text)

    def get(self, uri: str, prefix: str, suffix: str) -> str | None:
        found = self._answers.get(self._key(uri, prefix, suffix))
        return None if found is None else found[1]

    def forget(self, uri: str) -> None:
        for key in [k for k, (u, _) in self._answers.items() if u == uri]:
            del self._answers[key]


def typed_at_cursor(before: tuple[str, str], now: tuple[str, str]) -> str | None:
    """What was typed at the cursor between two (prefix, suffix) states, when that is all that
    changed (``None`` otherwise: a deletion, a move, an edit elsewhere)."""
    (before_prefix, before_suffix), (prefix, suffix) = before, now
    if suffix != before_suffix or not prefix.startswith(before_prefix):
        return None
    return prefix[len(before_prefix) :]


def rest_after(text: str, typed: str) -> str | None:
    """What is left of a suggestion once ``typed`` is written, when it began with it."""
    return text[len(typed) :] if text.startswith(typed) else None


@dataclass
class _Anchor:
    prefix: str
    suffix: str
    text: str


class TypeThrough:
    """Serve the rest of the shown suggestion while the user types its first characters.

    The anchor stays at the position where the suggestion was first shown, so backspacing over
    just-typed characters serves the longer remainder again.
    """

    def __init__(self) -> None:
        self._anchors: dict[str, _Anchor] = {}

    def remember(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        anchor = self._anchors.get(uri)
        if anchor and self._remainder(anchor, prefix, suffix) == text:
            return  # already anchored earlier in the same suggestion
        self._anchors[uri] = _Anchor(prefix, suffix, text)

    def serve(self, uri: str, prefix: str, suffix: str) -> str | None:
        anchor = self._anchors.get(uri)
        if anchor is None:
            return None
        rest = self._remainder(anchor, prefix, suffix)
        if rest is None:
            return None
        if not rest:
            del self._anchors[uri]  # fully typed: nothing left to show
            return None
        return rest

    @staticmethod
    def _remainder(anchor: _Anchor, prefix: str, suffix: str) -> str | None:
        typed = typed_at_cursor((anchor.prefix, anchor.suffix), (prefix, suffix))
        return None if typed is None else rest_after(anchor.text, typed)

    def forget(self, uri: str) -> None:
        self._anchors.pop(uri, None)

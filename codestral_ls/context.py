"""Short snippets from the user's other open documents, shown to the model before the FIM block.

A 0.5B model cannot guess the names defined in a sibling file; a compact outline of that file
(imports and definition lines) is usually enough to get calls right. Snippets come from
documents of the same language, most recently edited first, deduplicated, and stay within
their own token budget. They are deterministic for unchanged documents, so the prompt's head
stays identical between keystrokes and remains in the model's KV cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from .backends.base import ContextSnippet
from .languages import context_group

#: Lines that say what a file defines or uses, across the supported languages.
_OUTLINE_LINE = re.compile(
    r"^\s*(?:@\w|#include\b|#define\b|(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?"
    r"(?:async\s+)?(?:unsafe\s+)?(?:abstract\s+|final\s+|static\s+|public\s+|private\s+"
    r"|protected\s+|local\s+)*"
    r"(?:def|class|function|fn|func|struct|enum|trait|impl|interface|type|module|mod"
    r"|const|let|var|import|from|use|package|record|typedef|namespace)\b)"
)
_MAX_SNIPPETS = 3
_MIN_USEFUL_TOKENS = 24
_MAX_LINE_CHARS = 240
_MAX_SCAN_LINES = 3000


def snippets_for(
    current_uri: str,
    language: str,
    documents: Iterable[tuple[str, str, str, float]],
    budget_tokens: int,
    count_tokens: Callable[[str], int],
) -> tuple[ContextSnippet, ...]:
    """Snippets of other open documents of ``language``, within ``budget_tokens`` in total.

    ``documents`` holds (uri, language id, text, monotonic time of the last edit).
    """
    if budget_tokens < _MIN_USEFUL_TOKENS:
        return ()
    group = context_group(language)
    candidates = sorted(
        (doc for doc in documents if doc[0] != current_uri and context_group(doc[1]) == group),
        key=lambda doc: doc[3],
        reverse=True,
    )
    per_snippet = max(_MIN_USEFUL_TOKENS, budget_tokens // _MAX_SNIPPETS)
    out: list[ContextSnippet] = []
    seen_uris: set[str] = set()
    seen_texts: set[str] = set()
    remaining = budget_tokens
    for uri, doc_language, text, _ in candidates:
        if uri in seen_uris or not text.strip():
            continue
        seen_uris.add(uri)
        snippet = _snippet_text(text, doc_language, min(per_snippet, remaining), count_tokens)
        if not snippet or snippet in seen_texts:
            continue
        seen_texts.add(snippet)
        out.append(ContextSnippet(path=_display_path(uri), text=snippet))
        remaining -= count_tokens(snippet)
        if len(out) >= _MAX_SNIPPETS or remaining < _MIN_USEFUL_TOKENS:
            break
    return tuple(out)


@lru_cache(maxsize=64)
def _snippet_text(text: str, language: str, budget: int, count_tokens: Callable[[str], int]) -> str:
    """The file's outline (or its head when it has little outline), cut at whole lines."""
    lines = [line.rstrip() for line in text.splitlines()[:_MAX_SCAN_LINES]]
    lines = [line for line in lines if len(line) <= _MAX_LINE_CHARS]
    outline = [line for line in lines if _OUTLINE_LINE.match(line)]
    chosen = outline if len(outline) >= 3 else [line for line in lines if line.strip()]
    kept: list[str] = []
    used = 0
    for line in chosen:
        cost = count_tokens(line + "\n")
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept) + "\n" if kept else ""


def _display_path(uri: str) -> str:
    """A short, stable path for the snippet header (last three path parts)."""
    parts = urlsplit(uri)
    path = unquote(parts.path) if parts.scheme in ("file", "") else unquote(parts.path or uri)
    pieces = [p for p in path.replace("\\", "/").split("/") if p]
    return "/".join(pieces[-3:]) if pieces else uri

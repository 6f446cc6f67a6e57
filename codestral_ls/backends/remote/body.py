"""Parts of request bodies that several APIs share: context as comments, stop strings."""

from __future__ import annotations

from ..base import FimRequest


def prefix_with_context(request: FimRequest) -> str:
    """The prefix preceded by the context snippets as comments, for APIs with no context field.

    The same commented "Path: ..." layout the FIM templates use for families without a
    repository format, so the model sees other files as part of the current one.
    """
    if not request.context:
        return request.prefix
    from fim import comment_block

    language = request.language or None
    path = request.path or None
    parts: list[str] = []
    for snippet in request.context:
        parts.append(comment_block(f"Path: {snippet.path}", language, path))
        parts.append(comment_block(snippet.text, language, path))
    if path:
        parts.append(comment_block(f"Path: {path}", language, path))
    return "".join(parts) + request.prefix


def string_list(values: tuple[str, ...]) -> list[str]:
    """Stop strings for a JSON body: unique, non-empty, order kept."""
    return list(dict.fromkeys(v for v in values if v))

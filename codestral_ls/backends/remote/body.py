"""Parts of request bodies that several APIs share: context as comments, the optional fields."""

from __future__ import annotations

from typing import Any

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


def optional_model(model: str) -> dict[str, Any]:
    """``{"model": model}``; nothing when no model is named (the server uses the one it has)."""
    return {"model": model} if model else {}


def stop_and_seed(
    request: FimRequest, *, seed_key: str = "seed", more_stop: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The fields sent only when given: ``stop`` (the request's stop strings, then `more_stop`)
    when there are any, and the seed, under `seed_key`, when one is set."""
    fields: dict[str, Any] = {}
    stop = string_list(request.stop + more_stop)
    if stop:
        fields["stop"] = stop
    if request.seed is not None:
        fields[seed_key] = request.seed
    return fields

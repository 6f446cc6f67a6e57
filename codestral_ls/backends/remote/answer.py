"""Reading what a server answered: JSON objects, error messages, and the text of one event.

Everything here treats the answer as untrusted: a wrong shape is a ``MalformedResponse`` or
"no text", never a crash, and an error message never echoes the request back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class MalformedResponse(Exception):
    """The server's answer could not be understood."""


def parse_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedResponse(f"invalid JSON ({len(text)} characters)") from None
    if not isinstance(value, dict):
        raise MalformedResponse("JSON value is not an object")
    return value


def error_text(body: Any) -> str | None:
    """The human message inside the error shapes remote APIs use, or None."""
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, list):
        # FastAPI/Mistral validation errors: [{"loc": [...], "msg": "..."}]; never echo "input".
        msgs = []
        for item in body[:3]:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
                msgs.append(f"{where}: {item['msg']}" if where else item["msg"])
        return "; ".join(msgs) or None
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            if key in body:
                found = error_text(body[key])
                if found:
                    return found
    return None


def choice_field(event: Mapping[str, Any], *path: str) -> Any:
    """``event["choices"][0][path...]`` or None when the shape differs."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    value: Any = choices[0]
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def chat_piece(event: Mapping[str, Any]) -> Piece:
    """One streamed event of the chat shape: ``choices[0].delta.content``, and a
    ``finish_reason`` on the last."""
    return Piece.of(
        choice_field(event, "delta", "content"), bool(choice_field(event, "finish_reason"))
    )


def chat_whole(body: Mapping[str, Any]) -> str:
    """A whole answer of the chat shape: ``choices[0].message.content``."""
    text = choice_field(body, "message", "content")
    return text if isinstance(text, str) else ""


@dataclass(frozen=True)
class Piece:
    """What one streamed event contributed: text and whether generation ended."""

    text: str = ""
    done: bool = False

    @classmethod
    def of(cls, text: Any, done: bool) -> Piece:
        """A piece from an untrusted JSON value: anything but a string counts as no text."""
        return cls(text if isinstance(text, str) else "", done)

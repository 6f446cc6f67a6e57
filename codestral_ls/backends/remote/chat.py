"""Chat-only gateways: ``POST /v1/chat/completions`` asked for the middle in plain words.

A chat model is not trained for fill-in-the-middle, so it wraps code in fences and repeats
code around the cursor. The whole answer is therefore collected, cleaned by
``clean_chat_answer`` (a pure function), and yielded once. A FIM endpoint is better where one
exists: faster, cheaper, and it does not need this guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...config import Settings
from ..base import FimRequest
from .answer import Piece, chat_piece, chat_whole
from .body import optional_model
from .http_backend import HttpBackend

SYSTEM_PROMPT = (
    "You are a code completion engine. The user shows a file with a hole marked <CURSOR>. "
    "Reply with only the text that belongs at <CURSOR>: no explanation, no code fences, "
    "and do not repeat code that is already before or after the cursor. "
    "Reply with nothing if nothing belongs there."
)

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*$", re.MULTILINE)
#: A suffix line shorter than this is too common ("}", "end") to mark an echo.
_MIN_ECHO_LINE = 4


def user_prompt(request: FimRequest) -> str:
    where = f" ({request.language})" if request.language else ""
    name = request.path or "the file"
    return (
        f"File {name}{where}:\n<FILE>\n{request.prefix}<CURSOR>{request.suffix}\n</FILE>\n"
        "Write only the text that replaces <CURSOR>."
    )


def _unfence(answer: str) -> str:
    """The inside of the first fenced block, or the answer itself when it has no fence."""
    opening = _FENCE.search(answer)
    if opening is None:
        return answer
    start = opening.end() + 1 if opening.end() < len(answer) else opening.end()
    closing = _FENCE.search(answer, start)
    inner = answer[start : closing.start() if closing else len(answer)]
    return inner[:-1] if inner.endswith("\n") else inner


def _drop_prefix_echo(answer: str, prefix: str) -> str:
    """Remove a repeat of the prefix's last lines (with or without their indentation)."""
    if not answer:
        return answer
    # Longest tail of the prefix, starting at a line start, that the answer begins with.
    starts = [0] + [i + 1 for i, ch in enumerate(prefix) if ch == "\n"]
    for start in starts:
        tail = prefix[start:]
        if tail.strip() and answer.startswith(tail):
            return answer[len(tail) :]
    current = prefix[starts[-1] :]
    head = current.strip()
    unindented = answer.lstrip(" \t")
    if head and unindented.startswith(head):
        rest = unindented[len(head) :]
        # The prefix already typed the space after the echoed words.
        return rest.lstrip(" ") if current[-1:].isspace() else rest
    return answer


def _drop_suffix_echo(answer: str, suffix: str) -> str:
    """Cut the answer where it starts repeating the code after the cursor."""
    first = next((line.strip() for line in suffix.splitlines() if line.strip()), "")
    if len(first) >= _MIN_ECHO_LINE:
        lines = answer.splitlines(keepends=True)
        for index, line in enumerate(lines):
            if index > 0 and line.strip() == first:
                return "".join(lines[:index]).rstrip("\n")
    # The answer may end with the rest of the cursor's line (the model rewrote the line).
    cursor_line_rest = suffix.split("\n", 1)[0]
    if len(cursor_line_rest.strip()) >= 2 and answer.endswith(cursor_line_rest):
        return answer[: -len(cursor_line_rest)]
    return answer


def clean_chat_answer(answer: str, prefix: str, suffix: str) -> str:
    """What a chat model's answer contributes between ``prefix`` and ``suffix``."""
    text = _unfence(answer.replace("\r\n", "\n"))
    if not text.strip():
        return ""
    text = _drop_prefix_echo(text, prefix)
    text = _drop_suffix_echo(text, suffix)
    if not text.strip():
        return ""
    return text.rstrip()


class ChatBackend(HttpBackend):
    name = "chat"
    path = "/v1/chat/completions"
    default_api_base = "http://127.0.0.1:8000"
    buffer_whole_answer = True

    def model_label(self) -> str:
        return self.model or "(server default)"

    def body(self, request: FimRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            **optional_model(self.model),
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(request)},
            ],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": True,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def piece(self, event: Mapping[str, Any]) -> Piece:
        return chat_piece(event)

    def whole(self, body: Mapping[str, Any]) -> str:
        return chat_whole(body)

    def finish(self, text: str, request: FimRequest) -> str:
        return clean_chat_answer(text, request.prefix, request.suffix)


def create(settings: Settings) -> ChatBackend:
    return ChatBackend(settings)

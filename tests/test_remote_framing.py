"""Streamed answers as real servers write them: every SSE and NDJSON habit gives the same text.

Servers differ in line endings, keep-alive comments, ``id:``/``retry:`` fields, where their
writes cut the stream, and whether the last event gets its blank line; none of that may change
the completion the user sees. A completion holding a Unicode line separator must arrive whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from codestral_ls.backends.base import BackendTransientError, FimRequest
from codestral_ls.backends.remote.mistral import MistralBackend
from codestral_ls.backends.remote.ollama import OllamaBackend
from codestral_ls.config import Settings
from remote_helpers import MistralStandIn, OllamaStandIn, Reply, StandInServer, mistral_events

KEY = "sk-framing-test-key"
REQUEST = FimRequest(prefix="x = ", suffix="\n")
#: Multi-byte characters (2, 3 and 4 bytes in UTF-8) so that cut writes split characters.
COMPLETION = "naïve(x) → ü + 😀"
#: Characters ``str.splitlines`` breaks at but SSE and NDJSON do not.
SEPARATORS = "a\u2028b\x85c\u2029d"


def payloads(text: str) -> list[str]:
    """Mistral's SSE payloads for ``text``, non-ASCII written raw (as most servers do)."""
    return [
        p if p == "[DONE]" else json.dumps(json.loads(p), ensure_ascii=False)
        for p in mistral_events(text, "codestral-latest")
    ]


def sse_reply(chunks: list[bytes]) -> Reply:
    """One write per chunk; a short pause between writes keeps them apart on the wire."""
    headers = {"Content-Type": "text/event-stream"}
    return Reply("stream", headers=headers, events=chunks, delay=0.002 if len(chunks) < 50 else 0)


def one_chunk_each(template: str) -> Callable[[list[str]], list[bytes]]:
    return lambda ps: [template.format(p).encode() for p in ps]


def cut_every(size: int, template: str) -> Callable[[list[str]], list[bytes]]:
    def render(ps: list[str]) -> list[bytes]:
        wire = "".join(template.format(p) for p in ps).encode()
        return [wire[i : i + size] for i in range(0, len(wire), size)]

    return render


def multi_line_data(ps: list[str]) -> list[bytes]:
    out = []
    for p in ps:
        text = p if p == "[DONE]" else json.dumps(json.loads(p), indent=1, ensure_ascii=False)
        out.append(("".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode())
    return out


def comments_ids_and_retry(ps: list[str]) -> list[bytes]:
    out = [b": connected\n\n", b"retry: 3000\n\n"]
    for n, p in enumerate(ps):
        out.append(f": keep-alive\nid: {n}\nevent: message\ndata: {p}\n\n\n".encode())
    return out


def last_event_unterminated(ps: list[str]) -> list[bytes]:
    """No [DONE], and the final event (with finish_reason) lacks its blank line."""
    body = [f"data: {p}\n\n" for p in ps[:-2]] + [f"data: {ps[-2]}"]
    return [b.encode() for b in body]


def done_unterminated(ps: list[str]) -> list[bytes]:
    return [f"data: {p}\n\n".encode() for p in ps[:-1]] + [b"data: [DONE]"]


WIRES = {
    "lf": one_chunk_each("data: {}\n\n"),
    "no-space-crlf": one_chunk_each("data:{}\r\n\r\n"),
    "bare-cr": one_chunk_each("data: {}\r\r"),
    "cut-every-7-bytes-crlf": cut_every(7, "data: {}\r\n\r\n"),
    "cut-every-byte": cut_every(1, "data: {}\n\n"),
    "multi-line-data": multi_line_data,
    "comments-ids-retry": comments_ids_and_retry,
    "last-event-unterminated": last_event_unterminated,
    "done-unterminated": done_unterminated,
}


def mistral(url: str) -> MistralBackend:
    return MistralBackend(Settings(backend="mistral", api_base=url, api_key=KEY))


async def collect(backend: MistralBackend | OllamaBackend) -> str:
    return "".join([p async for p in backend.stream(REQUEST)])


@pytest.mark.parametrize("wire", list(WIRES))
async def test_every_sse_habit_gives_the_same_completion(wire: str) -> None:
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(sse_reply(WIRES[wire](payloads(COMPLETION))))
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        assert await collect(backend) == COMPLETION
        await backend.aclose()


async def test_line_separators_inside_an_sse_completion_arrive_whole() -> None:
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(sse_reply(one_chunk_each("data: {}\n\n")(payloads(SEPARATORS))))
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        assert await collect(backend) == SEPARATORS
        await backend.aclose()


async def test_a_named_error_event_is_reported_with_its_message() -> None:
    stand_in = MistralStandIn(KEY)
    first = payloads("a + b")[1]
    error = '{"message": "model overloaded", "type": "internal_error"}'
    stand_in.queue.append(
        sse_reply([f"data: {first}\n\n".encode(), f"event: error\ndata: {error}\n\n".encode()])
    )
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        with pytest.raises(BackendTransientError, match="model overloaded"):
            await collect(backend)
        await backend.aclose()


async def test_an_empty_data_line_is_no_event() -> None:
    stand_in = MistralStandIn(KEY)
    chunks = one_chunk_each("data: {}\n\n")(payloads(COMPLETION))
    stand_in.queue.append(sse_reply([b"data:\n\n", b"event: ping\n\n", *chunks]))
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        assert await collect(backend) == COMPLETION
        await backend.aclose()


@pytest.mark.parametrize("size", [1, 5, 1000], ids=["cut-every-byte", "cut-every-5", "whole"])
async def test_ndjson_lines_cut_anywhere_give_the_same_completion(size: int) -> None:
    text = COMPLETION + SEPARATORS
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    lines = [{"model": "m", "response": piece, "done": False} for piece in pieces]
    lines.append({"model": "m", "response": "", "done": True})
    wire = "\r\n\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    stand_in = OllamaStandIn()
    stand_in.queue.append(
        Reply(
            "stream",
            headers={"Content-Type": "application/x-ndjson"},
            events=[wire[i : i + size] for i in range(0, len(wire), size)],
            delay=0.002 if size > 1 else 0,
        )
    )
    async with StandInServer(stand_in) as server:
        backend = OllamaBackend(Settings(backend="ollama", api_base=server.url, remote_model="m"))
        assert await collect(backend) == text
        await backend.aclose()

"""Stand-in HTTP servers on 127.0.0.1 for the remote backend tests.

``StandInServer`` is a small HTTP/1.1 server (keep-alive, chunked streaming) written on raw
asyncio streams so tests can see what a real server would: the exact request body, how many
streamed events were written before the client hung up, and whether the client dropped the
connection. Handlers turn a recorded request into a ``Reply``.

``MistralStandIn`` follows Mistral's documented FIM API: ``POST /v1/fim/completions`` with a
Bearer key; the answer in the chat shape (``choices[0].message.content``, or SSE chunks with
``choices[0].delta.content``, ``finish_reason`` on the last, then ``data: [DONE]``); errors as
JSON bodies with ``message`` (401 ``{"message": "Unauthorized", "request_id": ...}``, 429
``rate_limited`` with Retry-After, 422 validation ``detail`` lists). The other stand-ins
answer the OpenAI completions, llama.cpp ``/infill``, Ollama ``/api/generate`` and chat
completions shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What the server does with one request.

    kind: "whole" (status + body), "stream" (chunked events, ``delay`` apart), "hang" (never
    answer), "drop" (close without answering), "raw" (bytes as given, then close).
    """

    kind: str = "whole"
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] = field(default_factory=list)
    delay: float = 0.0
    truncate: bool = False  # stream: close without the final zero-length chunk
    stall_after: int | None = None  # stream: stop writing (but stay connected) after N events
    close_after: bool = False  # close the kept-alive connection silently after answering

    @staticmethod
    def json(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
        return Reply(
            "whole",
            status,
            json.dumps(obj).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @staticmethod
    def sse(payloads: list[str], delay: float = 0.0, truncate: bool = False) -> Reply:
        """Each payload becomes one ``data: ...`` event (a chunk of its own)."""
        return Reply(
            "stream",
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
            events=[f"data: {p}\n\n".encode() for p in payloads],
            delay=delay,
            truncate=truncate,
        )

    @staticmethod
    def ndjson(objects: list[Any], delay: float = 0.0) -> Reply:
        return Reply(
            "stream",
            headers={"Content-Type": "application/x-ndjson"},
            events=[(json.dumps(o) + "\n").encode() for o in objects],
            delay=delay,
        )

    @staticmethod
    def hang() -> Reply:
        return Reply("hang")

    @staticmethod
    def drop() -> Reply:
        return Reply("drop")


Handler = Callable[[Recorded], Reply]


class StandInServer:
    """``async with StandInServer(handler) as server:`` — serves on ``server.url``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Recorded] = []
        self.request_times: list[float] = []
        self.connections = 0
        #: Streamed events written by the most recent streamed reply.
        self.events_sent = 0
        #: Set when a client closed the connection while a streamed reply was still going.
        self.disconnected = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> StandInServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                recorded = await _read_request(reader)
                if recorded is None:
                    return
                self.requests.append(recorded)
                self.request_times.append(time.monotonic())
                reply = self.handler(recorded)
                keep_open = await self._answer(reply, reader, writer)
                if not keep_open or reply.close_after:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # the server is shutting down; asyncio would log a cancelled handler
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if reply.kind == "drop":
            return False
        if reply.kind == "hang":
            await reader.read()  # until the client gives up
            return False
        if reply.kind == "raw":
            writer.write(reply.body)
            await writer.drain()
            return False
        reason = _REASONS.get(reply.status, "Status")
        head = [f"HTTP/1.1 {reply.status} {reason}"]
        headers = dict(reply.headers)
        if reply.kind == "whole":
            headers["Content-Length"] = str(len(reply.body))
            head += [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + reply.body)
            await writer.drain()
            return True
        headers["Transfer-Encoding"] = "chunked"
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        self.events_sent = 0
        client_gone = asyncio.ensure_future(reader.read(1))
        try:
            for index, event in enumerate(reply.events):
                if index == reply.stall_after:
                    await client_gone  # a server stuck mid-answer, until the client hangs up
                if reply.delay:
                    await asyncio.wait({client_gone}, timeout=reply.delay)
                if client_gone.done():
                    self.disconnected.set()
                    return False
                writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                await writer.drain()
                self.events_sent += 1
            if reply.truncate:
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return not client_gone.done()
        except ConnectionError:
            self.disconnected.set()
            return False
        finally:
            if not client_gone.done():
                client_gone.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await client_gone


_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


async def _read_request(reader: asyncio.StreamReader) -> Recorded | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Recorded(method, path, headers, body)


# --------------------------------------------------------------------------- API stand-ins


def split_text(text: str, size: int = 3) -> list[str]:
    """The answer cut into pieces the way a model streams tokens."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class ScriptedStandIn:
    """A handler answering from ``queue`` first (one reply per request), then normally."""

    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()

    def __call__(self, request: Recorded) -> Reply:
        if self.queue:
            return self.queue.popleft()
        return self.answer(request)

    def answer(self, request: Recorded) -> Reply:
        raise NotImplementedError


class MistralStandIn(ScriptedStandIn):
    """Mistral's FIM API as documented, answering ``completion`` to every valid request."""

    PATH = "/v1/fim/completions"

    def __init__(self, key: str, completion: str = "a + b", delay: float = 0.0) -> None:
        super().__init__()
        self.key = key
        self.completion = completion
        self.delay = delay

    def answer(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != self.PATH:
            return Reply.json(404, {"detail": "Not Found"})
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return Reply.json(401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex})
        try:
            body = request.json()
        except ValueError:
            return mistral_validation_error("body", "JSON decode error", None)
        for name in ("model", "prompt"):
            if not isinstance(body.get(name), str):
                return mistral_validation_error(name, "Field required", body)
        if not body.get("stream"):
            return Reply.json(200, mistral_whole(self.completion, body["model"]))
        return Reply.sse(mistral_events(self.completion, body["model"]), delay=self.delay)


def mistral_validation_error(name: str, msg: str, given: Any) -> Reply:
    detail = [{"type": "missing", "loc": ["body", name], "msg": msg, "input": given}]
    return Reply.json(
        422,
        {
            "object": "error",
            "message": {"detail": detail},
            "type": "invalid_request_message_error",
            "param": None,
            "code": None,
        },
    )


def mistral_rate_limited(retry_after: str | None = "2") -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply.json(
        429,
        {
            "object": "error",
            "message": "Requests rate limit exceeded",
            "type": "rate_limited",
            "param": None,
            "code": "1300",
        },
        headers,
    )


def mistral_server_error(status: int = 503) -> Reply:
    return Reply.json(
        status,
        {"object": "error", "message": "Service unavailable", "type": "internal_error"},
    )


def _chunk_id() -> str:
    return uuid.uuid4().hex


def mistral_whole(text: str, model: str) -> dict[str, Any]:
    return {
        "id": _chunk_id(),
        "object": "chat.completion",
        "model": model,
        "usage": {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12},
        "created": int(time.time()),
        "choices": [
            {
                "index": 0,
                "message": {
                    "content": text,
                    "tool_calls": None,
                    "prefix": False,
                    "role": "assistant",
                },
                "finish_reason": "stop",
            }
        ],
    }


def mistral_events(text: str, model: str, pieces: list[str] | None = None) -> list[str]:
    """The SSE payloads Mistral streams for ``text`` (role chunk, content chunks, [DONE])."""
    ident, created = _chunk_id(), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None, usage: bool = False) -> str:
        obj: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage:
            obj["usage"] = {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12}
        return json.dumps(obj)

    parts = pieces if pieces is not None else split_text(text)
    out = [chunk({"role": "assistant", "content": ""}, None)]
    out += [chunk({"content": p}, None) for p in parts[:-1]]
    out.append(chunk({"content": parts[-1]}, "stop", usage=True))
    out.append("[DONE]")
    return out


class OpenAICompletionsStandIn(ScriptedStandIn):
    """``POST /v1/completions`` answering ``choices[0].text`` SSE chunks."""

    def __init__(self, completion: str = "a + b") -> None:
        super().__init__()
        self.completion = completion

    def answer(self, request: Recorded) -> Reply:
        if request.path != "/v1/completions":
            return Reply.json(404, {"error": {"message": "not found", "type": "not_found"}})
        pieces = split_text(self.completion)
        payloads = [
            json.dumps(
                {
                    "id": "cmpl-1",
                    "object": "text_completion",
                    "choices": [
                        {
                            "index": 0,
                            "text": p,
                            "finish_reason": "stop" if i == len(pieces) - 1 else None,
                        }
                    ],
                }
            )
            for i, p in enumerate(pieces)
        ]
        return Reply.sse([*payloads, "[DONE]"])


class ChatStandIn(ScriptedStandIn):
    """``POST /v1/chat/completions`` streaming ``answer`` as ``delta.content`` chunks."""

    def __init__(self, answer_text: str) -> None:
        super().__init__()
        self.answer_text = answer_text

    def answer(self, request: Recorded) -> Reply:
        if request.path != "/v1/chat/completions":
            return Reply.json(404, {"error": {"message": "not found"}})
        return Reply.sse(mistral_events(self.answer_text, "chat-model"))


class LlamaServerStandIn(ScriptedStandIn):
    """llama.cpp ``POST /infill``: SSE events ``{"content": ..., "stop": bool}``."""

    def __init__(self, completion: str = "a + b") -> None:
        super().__init__()
        self.completion = completion

    def answer(self, request: Recorded) -> Reply:
        if request.path != "/infill":
            return Reply.json(404, {"error": {"code": 404, "message": "File Not Found"}})
        pieces = split_text(self.completion)
        payloads = [json.dumps({"index": 0, "content": p, "stop": False}) for p in pieces]
        payloads.append(json.dumps({"index": 0, "content": "", "stop": True}))
        return Reply.sse(payloads)


class OllamaStandIn(ScriptedStandIn):
    """Ollama ``POST /api/generate``: NDJSON lines with ``response`` and ``done``."""

    def __init__(self, completion: str = "a + b", models: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.completion = completion
        self.models = models

    def answer(self, request: Recorded) -> Reply:
        body = request.json()
        if self.models and body.get("model") not in self.models:
            message = f"model '{body.get('model')}' not found, try pulling it first"
            return Reply.json(404, {"error": message})
        lines: list[Any] = [
            {"model": body.get("model"), "response": p, "done": False}
            for p in split_text(self.completion)
        ]
        lines.append({"model": body.get("model"), "response": "", "done": True})
        return Reply.ndjson(lines)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

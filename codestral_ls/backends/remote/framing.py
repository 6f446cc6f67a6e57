"""How a streamed answer is cut into events: Server-Sent Events or NDJSON lines.

SSE uses httpx-sse's decoders (the WHATWG rules, and lines split only at CR/LF, so a
completion holding U+2028 or NEL is not cut in two), with two habits of real servers on top:
llama.cpp's server reports failures as ``error: {...}`` lines, and a stream may end without
the blank line after its last event. The decoders are httpx-sse's internals because its public
``aiter_sse`` can do neither (and refuses a stream not labelled text/event-stream);
pyproject pins the minor version for that reason.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder


@dataclass(slots=True)
class SseEvent:
    """One event of a streamed answer: its name (``message`` unless the server named it)."""

    event: str
    data: str


class SseParser:
    """Server-Sent Events fed one line at a time; an event without data is no event."""

    def __init__(self) -> None:
        self._decoder = SSEDecoder()

    def feed(self, line: str) -> SseEvent | None:
        if line.startswith("error"):
            name, sep, value = line.partition(":")
            if name == "error":
                # llama.cpp's server writes "error: {...}" lines; treat them as an error event.
                self._decoder.decode("event:error")
                self._decoder.decode(f"data:{value}" if sep else "data")
                return None
        sse = self._decoder.decode(line)
        if sse is None or not sse.data:
            return None
        return SseEvent(sse.event, sse.data)

    def flush(self) -> SseEvent | None:
        """The last event when the stream ended without its blank line (lenient)."""
        return self.feed("")


async def sse_events(response: httpx.Response) -> AsyncGenerator[SseEvent, None]:
    """The events of an SSE answer as they arrive, the unterminated last one included."""
    lines = SSELineDecoder()
    parser = SseParser()
    chunks = response.aiter_text()
    try:
        async for chunk in chunks:
            for line in lines.decode(chunk):
                event = parser.feed(line)
                if event is not None:
                    yield event
    finally:
        await _close(chunks)
    for line in lines.flush():
        event = parser.feed(line)
        if event is not None:
            yield event
    event = parser.flush()
    if event is not None:
        yield event


async def ndjson_events(response: httpx.Response) -> AsyncGenerator[SseEvent, None]:
    """One ``message`` event per non-blank line of an NDJSON answer (split at ``\\n`` only)."""
    partial: list[str] = []
    chunks = response.aiter_text()
    try:
        async for chunk in chunks:
            if "\n" not in chunk:
                partial.append(chunk)
                continue
            first, *middle, last = chunk.split("\n")
            for line in ("".join([*partial, first]), *middle):
                if line.strip():
                    yield SseEvent("message", line.strip())
            partial = [last]
    finally:
        await _close(chunks)
    rest = "".join(partial).strip()
    if rest:
        yield SseEvent("message", rest)


async def _close(iterator: AsyncIterator[str]) -> None:
    """Close httpx's text iterator at once (it is an async generator under its type)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()

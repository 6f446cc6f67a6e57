"""A deterministic backend for engine tests: a real object behind the Backend protocol.

It answers from a function of the request, streams the answer in small pieces with a
configurable delay, and records every call, how far each got and whether it was closed early,
so tests can see supersede and cancellation from the backend's side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from codestral_ls.backends.base import (
    BackendInfo,
    BackendNotReady,
    DoctorCheck,
    FimRequest,
    ProgressCallback,
    estimate_tokens,
)


@dataclass
class Call:
    request: FimRequest
    pieces_sent: int = 0
    finished: bool = False
    closed_early: bool = False


@dataclass
class ScriptedBackend:
    answer: Callable[[FimRequest], str]
    piece_delay: float = 0.0
    piece_size: int = 2
    load_delay: float = 0.0
    ready: bool = True
    calls: list[Call] = field(default_factory=list)

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(backend="scripted", model="scripted-model", template="qwen")

    async def start(self, progress: ProgressCallback) -> None:
        progress("loading the scripted model", 0)
        await asyncio.sleep(self.load_delay)
        self.ready = True

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    async def stream(self, request: FimRequest) -> AsyncIterator[str]:
        if not self.ready:
            raise BackendNotReady("loading")
        call = Call(request)
        self.calls.append(call)
        text = self.answer(request)
        try:
            for i in range(0, len(text), self.piece_size):
                await asyncio.sleep(self.piece_delay)
                call.pieces_sent += 1
                yield text[i : i + self.piece_size]
            call.finished = True
        finally:
            if not call.finished:
                call.closed_early = True

    async def doctor(self) -> list[DoctorCheck]:
        return [DoctorCheck("scripted", True, "always answers")]

    async def aclose(self) -> None:
        self.ready = False

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

    #: Behaves like a model evaluated on this machine (PSM suffix read again per keystroke).
    rereads_suffix: bool = True
    #: Claims to honour ``FimRequest.branch`` (the answer function sees it), as the local model.
    branches: bool = False

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(
            backend="scripted",
            model="scripted-model",
            template="qwen",
            rereads_suffix=self.rereads_suffix,
            branches=self.branches,
        )

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


@dataclass
class ReadingBackend(ScriptedBackend):
    """Reads prompts at a fixed speed and keeps what it read, like the local model's KV cache.

    A prompt costs the characters no earlier prompt shares as its beginning (a "token" is
    ``chars_per_token`` characters), read at ``speed`` tokens/s of real time; ``warm`` reads in
    batches and stops at the next one when cancelled. ``read`` lists what each read covered.
    """

    speed: float = 1000.0
    chars_per_token: int = 4
    batch: int = 16
    kept: list[str] = field(default_factory=list)
    warmed: list[str] = field(default_factory=list)
    warm_cancelled: int = 0

    def _prompt(self, request: FimRequest) -> str:
        context = "".join(c.text for c in request.context)
        return f"{context}<P>{request.prefix}<S>{request.suffix}<M>{request.middle}"

    def _held(self, prompt: str) -> int:
        best = 0
        for old in self.kept:
            n = 0
            for a, b in zip(old, prompt, strict=False):
                if a != b:
                    break
                n += 1
            best = max(best, n)
        return best

    def uncached_tokens(self, request: FimRequest) -> int:
        prompt = self._prompt(request)
        return (len(prompt) - self._held(prompt)) // self.chars_per_token

    def prompt_speed(self) -> float | None:
        return self.speed

    async def _read(self, prompt: str, cancellable: bool) -> int:
        start = self._held(prompt)
        done = start
        step = self.batch * self.chars_per_token
        try:
            while done < len(prompt):
                await asyncio.sleep(self.batch / self.speed)
                done = min(len(prompt), done + step)
        finally:
            if done > start:
                self.kept = [k for k in self.kept if not prompt.startswith(k)][-3:]
                self.kept.append(prompt[:done])
        return (done - start) // self.chars_per_token

    async def warm(self, request: FimRequest) -> int:
        prompt = self._prompt(request)
        try:
            read = await self._read(prompt, True)
        except asyncio.CancelledError:
            self.warm_cancelled += 1
            raise
        self.warmed.append(prompt)
        return read

    async def stream(self, request: FimRequest) -> AsyncIterator[str]:
        await self._read(self._prompt(request), False)
        async for piece in super().stream(request):
            yield piece

"""Typing on while the model writes: the call under way serves the keystrokes that agree with it."""

from __future__ import annotations

import asyncio

from codestral_ls.backends.base import FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from codestral_ls.inflight import Watch, typed_since
from codestral_ls.suggestion_cache import rest_after
from fake_backend import ReadingBackend

URI = "file:///w/m.py"
ABOVE = "def final(values):\n    "
BELOW = "\n"


def state(typed: str) -> tuple[str, int, str]:
    return (URI, len(ABOVE) + len(typed), ABOVE + typed + BELOW)


def test_typed_since_is_only_an_insertion_at_the_cursor() -> None:
    assert typed_since(state("to"), state("total")) == "tal"
    assert typed_since(state("total"), state("tot")) is None  # deleted
    assert typed_since(state("to"), state("to")) is None  # nothing typed
    assert typed_since(None, state("to")) is None
    _, offset, text = state("to")
    assert typed_since(state("to"), ("file:///w/other.py", offset + 1, text + "x")) is None
    moved = (URI, offset + 1, "#" + text)  # typed somewhere else
    assert typed_since(state("to"), moved) is None


def test_a_watch_is_contradicted_only_by_a_different_character() -> None:
    watch = Watch("tot")
    assert not watch.contradicted("to")
    assert not watch.contradicted("total = 0")
    assert watch.contradicted("tx")
    assert rest_after("total = 0", "tot") == "al = 0"
    assert rest_after("tot", "tot") == ""  # nothing left: the engine shows no suggestion
    assert rest_after("sum", "tot") is None


def request(typed: str) -> CompletionRequest:
    uri, offset, text = state(typed)
    return CompletionRequest(uri, text, offset, "python", TriggerKind.AUTOMATIC, "/w/m.py")


def typed_on_line(r: FimRequest) -> str:
    return (r.prefix + r.middle).rsplit("\n", 1)[-1].strip()


async def engine_with(line: str, piece_delay: float) -> tuple[Engine, ReadingBackend]:
    """A model that writes the rest of ``line`` after whatever is typed of it (or, where the
    typed text is not its beginning, ``line`` itself)."""

    def answer(r: FimRequest) -> str:
        typed = typed_on_line(r)
        return line[len(typed) :] if line.startswith(typed) else line

    backend = ReadingBackend(answer, speed=4000.0, piece_delay=piece_delay)
    settings = Settings(speculate=False, context_tokens=0, candidates=1)  # default debounce
    engine = Engine(settings, backend)
    await engine.start()
    return engine, backend


async def type_line(engine: Engine, line: str, gap: float) -> list[asyncio.Task[object]]:
    """One request per keystroke, ``gap`` seconds apart, never waiting for answers."""
    tasks: list[asyncio.Task[object]] = []
    for i in range(1, len(line) + 1):
        tasks.append(asyncio.ensure_future(engine.complete(request(line[:i]))))
        await asyncio.sleep(gap)
    return tasks


async def test_keystrokes_that_agree_with_the_call_under_way_get_its_answer() -> None:
    # the model writes 2 characters every 40 ms: 0.4 s for the line, 4 keystrokes meanwhile
    engine, backend = await engine_with("total = sum(values)", piece_delay=0.04)
    before = engine.model_calls
    tasks = await type_line(engine, "tota", gap=0.1)
    results = [await t for t in tasks]
    last = results[-1]
    assert last.text == "l = sum(values)"  # type: ignore[attr-defined]
    assert last.source in ("inflight", "typethrough")  # type: ignore[attr-defined]
    # typed at 10 keys/s: the first keystroke waits for a quiet moment, the second types on and
    # is called at once, and that call is not cancelled by the next ones: no other is made
    assert engine.model_calls - before == 1
    assert not backend.calls[-1].closed_early


async def test_a_call_that_writes_something_else_is_stopped_at_once() -> None:
    engine, backend = await engine_with("return sum(values)", piece_delay=0.05)  # not "to..."
    before = len(backend.calls)
    tasks = await type_line(engine, "tota", gap=0.1)
    for t in tasks:
        await t
    calls = backend.calls[before:]
    # the call for "to" wrote "re..." while "t" was typed after it: stopped well before its end
    assert calls[0].closed_early
    assert calls[0].pieces_sent < len("return sum(values)") // 2
    assert engine.counters["inflightStops"] >= 1


async def test_a_remote_api_still_waits_for_a_quiet_moment() -> None:
    backend = ReadingBackend(lambda _: "total = 0", speed=4000.0, rereads_suffix=False)
    remote = _RemoteLike(backend)
    engine = Engine(Settings(speculate=False, context_tokens=0, candidates=1), remote)
    await engine.start()
    tasks = await type_line(engine, "tota", gap=0.05)
    for t in tasks:
        await t
    assert len(backend.calls) == 1  # only the last keystroke, after the debounce


class _RemoteLike:
    """A backend that does not read prompts on this machine (no ``ReadsPrompts``)."""

    def __init__(self, inner: ReadingBackend) -> None:
        self._inner = inner
        self.info = inner.info

    async def start(self, progress: object) -> None:
        await self._inner.start(lambda m, p: None)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def stream(self, request: FimRequest):  # type: ignore[no-untyped-def]
        return self._inner.stream(request)

    async def doctor(self) -> list[object]:
        return []

    async def aclose(self) -> None:
        await self._inner.aclose()

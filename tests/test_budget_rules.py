"""What the user waits for: windows that fit the reading budget, what is cached, reading ahead.

The backend here reads prompts at a fixed speed and keeps what it read (fake_backend's
ReadingBackend), so the tests see the engine's choices the way the local model would feel them.
"""

from __future__ import annotations

import asyncio
import time

from codestral_ls.backends.base import FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind, next_line_indent
from fake_backend import ReadingBackend, ScriptedBackend

#: A large module: 3,000 lines, the cursor on an empty line at the end of a body near the end.
BODY = "".join(
    f"def step_{i}(value):\n    total = value * {i}\n    return total + {i}\n\n" for i in range(750)
)
HOLE = "def final(values):\n    "
DOC = BODY + HOLE + "\n"
CURSOR = len(BODY + HOLE)


def at(text: str = DOC, offset: int = CURSOR, **kw: object) -> CompletionRequest:
    base: dict[str, object] = {
        "uri": "file:///w/big.py",
        "text": text,
        "offset": offset,
        "language": "python",
        "trigger": TriggerKind.INVOKED,
        "path": "/w/big.py",
    }
    base.update(kw)
    return CompletionRequest(**base)  # type: ignore[arg-type]


async def started(backend: ScriptedBackend, **settings: object) -> Engine:
    base = Settings(debounce_ms=0, speculate=False, context_tokens=0, candidates=1)
    engine = Engine(base.merged(settings, "test"), backend)
    await engine.start()
    return engine


async def settle(engine: Engine, backend: ReadingBackend, seconds: float = 5.0) -> None:
    """Wait until background work is done (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        if engine._background is None or engine._background.done():
            return


def returns_total(_: FimRequest) -> str:
    return "return sum(values)\n"


async def test_a_cold_place_gets_a_smaller_window_now_and_the_full_one_next() -> None:
    # 1,024 prefix tokens at 200 tokens/s would be 5 s of reading: more than the 1.5 s budget.
    backend = ReadingBackend(returns_total, speed=200.0)
    engine = await started(backend)
    began = time.monotonic()
    first = await engine.complete(at(trigger=TriggerKind.AUTOMATIC))
    assert first.text == "return sum(values)"
    assert time.monotonic() - began < 2.5
    small = backend.calls[0].request.prefix
    assert len(small) < 1024  # far less than the full window's ~4,000 characters
    # the full window is read in the background; the next keystroke there gets it, cheaply
    await settle(engine, backend, 30)
    assert backend.warmed, "the full window was not read in the background"
    typed = DOC[:CURSOR] + "t" + DOC[CURSOR:]  # not the suggestion's start: a model call
    began = time.monotonic()
    await engine.complete(at(typed, CURSOR + 1))
    assert time.monotonic() - began < 1.0
    assert len(backend.calls) == 2
    full = backend.calls[-1].request.prefix
    assert len(full) > 3 * len(small) and full.endswith(HOLE + "t")


async def test_an_explicit_request_may_read_twice_as_much_as_a_keystroke() -> None:
    # 200 tokens/s: a keystroke's request may read 300 tokens (1.5 s), an explicit one 600
    sizes = []
    for trigger in (TriggerKind.AUTOMATIC, TriggerKind.INVOKED):
        backend = ReadingBackend(returns_total, speed=200.0)
        engine = await started(backend)
        await engine.complete(at(trigger=trigger))
        sizes.append(len(backend.calls[0].request.prefix))
    keystroke, explicit = sizes
    assert explicit > 1.5 * keystroke
    assert explicit < 4 * 600  # still a smaller window than the full one (~4,000 chars)


async def test_a_warm_place_gets_the_full_window_at_once() -> None:
    backend = ReadingBackend(returns_total, speed=200.0)
    engine = await started(backend)
    await engine.complete(at())
    await settle(engine, backend, 30)
    calls = len(backend.calls)
    await engine.complete(at(DOC[:CURSOR] + "t" + DOC[CURSOR:], CURSOR + 1))
    assert len(backend.calls) == calls + 1
    assert len(backend.calls[-1].request.prefix) > 2000


async def test_a_remote_backend_always_gets_the_full_window() -> None:
    backend = ScriptedBackend(returns_total)  # reads nothing itself: no cost to weigh
    engine = await started(backend)
    await engine.complete(at())
    assert len(backend.calls[0].request.prefix) > 2000


def slow_block(_: FimRequest) -> str:
    return "\n".join(f"    step_{i}(values)" for i in range(12)) + "\n"


async def test_the_time_budget_never_empties_an_answer_and_a_cut_answer_is_not_cached() -> None:
    # A busy machine: the first line takes longer than the whole generation budget.
    text = "def final(values):\n"
    backend = ScriptedBackend(slow_block, piece_delay=0.03, piece_size=2)
    engine = await started(backend, timeout_ms=100, type_through=False)
    first = await engine.complete(at(text, len(text)))
    assert first.text.startswith("    step_0(values)")  # a whole line, not a fragment
    assert first.text.strip()
    second = await engine.complete(at(text, len(text)))
    assert second.source == "model"  # asked again: the cut answer was not remembered
    assert len(backend.calls) == 2


async def test_an_answer_the_model_finished_is_cached() -> None:
    backend = ScriptedBackend(returns_total)
    engine = await started(backend, type_through=False)
    await engine.complete(at())
    again = await engine.complete(at())
    assert again.source == "cache" and len(backend.calls) == 1


async def test_an_explicit_request_does_not_settle_for_a_cached_nothing() -> None:
    answers = iter(["\n", "return sum(values)\n"])
    backend = ScriptedBackend(lambda r: next(answers))
    engine = await started(backend)
    automatic = await engine.complete(at(trigger=TriggerKind.AUTOMATIC))
    assert automatic.text == ""
    again = await engine.complete(at(trigger=TriggerKind.AUTOMATIC))
    assert again.source == "cache" and again.text == ""  # typing on: no new call for nothing
    invoked = await engine.complete(at(trigger=TriggerKind.INVOKED))
    assert invoked.text == "return sum(values)" and len(backend.calls) == 2


async def test_focus_reads_the_place_ahead_and_a_request_for_the_model_stops_it() -> None:
    backend = ReadingBackend(returns_total, speed=200.0)
    engine = await started(backend)
    engine.focus(at())
    await asyncio.sleep(0.3)
    assert not backend.calls  # reading ahead never generates
    # a keystroke whose request needs the model: reading ahead stops at its next batch
    typed = DOC[:CURSOR] + "t" + DOC[CURSOR:]
    result = await engine.complete(at(typed, CURSOR + 1))
    assert result.text
    assert backend.warm_cancelled == 1
    assert backend.kept, "what focus read is kept"


async def test_after_focus_the_first_keystroke_is_answered_without_reading_much() -> None:
    backend = ReadingBackend(returns_total, speed=200.0)
    engine = await started(backend)
    engine.focus(at())
    await asyncio.sleep(2.0)  # the user rests 2 s: the small window is read, the full one begun
    began = time.monotonic()
    result = await engine.complete(at(DOC[:CURSOR] + "t" + DOC[CURSOR:], CURSOR + 1))
    waited = time.monotonic() - began
    assert result.text
    assert waited < 0.5, f"{waited:.2f} s after focus"


async def test_accepting_the_suggestion_is_answered_ahead_of_time() -> None:
    def answer(r: FimRequest) -> str:
        if r.prefix.endswith("):\n"):
            return "return sum(values)\n"
        return "print(values)\n" if r.prefix.endswith("\n") else "\n"

    backend = ReadingBackend(answer, speed=100_000.0)
    engine = await started(backend, speculate=True)
    shown = await engine.complete(at(trigger=TriggerKind.AUTOMATIC))
    assert shown.text == "return sum(values)"
    await asyncio.sleep(0.3)  # the user looks at the suggestion
    accepted = DOC[:CURSOR] + shown.text + DOC[CURSOR:]
    began = time.perf_counter()
    after = await engine.complete(
        at(accepted, CURSOR + len(shown.text), trigger=TriggerKind.AUTOMATIC)
    )
    assert (time.perf_counter() - began) * 1000 < 5
    assert after.source == "speculation"
    calls = len(backend.calls)
    # and after pressing Enter too (the editor indents the new line like the one above)
    entered = accepted[: CURSOR + len(shown.text)] + "\n    " + DOC[CURSOR:]
    later = await engine.complete(
        at(entered, CURSOR + len(shown.text) + 5, trigger=TriggerKind.AUTOMATIC)
    )
    assert later.source == "speculation" and len(backend.calls) == calls
    assert later.text == "print(values)"


def test_the_next_line_is_indented_like_an_editor_would() -> None:
    assert next_line_indent("def f(x):\n    y = 1", "python") == "    "
    assert next_line_indent("def f(x):\n    if y:", "python") == "        "
    assert next_line_indent("function f() {\n\tif (x) {", "javascript") == "\t\t"
    assert next_line_indent("a = {\n  b: 1,\n  c: {", "javascript") == "    "


async def test_a_remote_api_is_never_asked_ahead_of_the_user() -> None:
    backend = ScriptedBackend(returns_total)  # a remote API: it does not read prompts here
    engine = await started(backend, speculate=True)
    await engine.complete(at(trigger=TriggerKind.AUTOMATIC))
    await asyncio.sleep(0.3)
    assert len(backend.calls) == 1


async def test_enter_at_a_finished_line_is_answered_ahead_of_time() -> None:
    # nothing is suggested at the end of a finished line; the user presses Enter: the next
    # line was worked out while they decided
    source = "def area(w, h):\n    w = abs(w)\n    return w * h\n"
    cursor = source.index("abs(w)") + len("abs(w)")

    def answer(r: FimRequest) -> str:
        written = r.prefix + r.middle
        return "    h = abs(h)\n" if written.endswith("w = abs(w)\n") else ""

    backend = ReadingBackend(answer, speed=100_000.0)
    engine = await started(backend, speculate=True)
    auto = TriggerKind.AUTOMATIC
    first = await engine.complete(at(source, cursor, trigger=auto))
    assert first.text == ""
    await settle(engine, backend)
    calls = len(backend.calls)
    entered = source[:cursor] + "\n    " + source[cursor:]
    after = await engine.complete(at(entered, cursor + 5, trigger=auto))
    assert after.source == "speculation" and len(backend.calls) == calls
    assert after.text.strip() == "h = abs(h)"


async def test_a_line_still_being_written_is_not_worked_out_past_enter() -> None:
    source = "def area(w, h):\n    w = ab\n    return w * h\n"
    cursor = source.index("= ab") + len("= ab")
    backend = ReadingBackend(lambda r: "s(w)\n", speed=100_000.0)
    engine = await started(backend, speculate=True)
    shown = await engine.complete(at(source, cursor, trigger=TriggerKind.AUTOMATIC))
    assert shown.text == "s(w)"
    await settle(engine, backend)
    # ahead: the state after accepting (and after accepting and Enter), not "ab" + Enter
    assert not any((c.request.prefix + c.request.middle).endswith("= ab\n") for c in backend.calls)


async def test_while_typing_a_gap_answer_ends_with_its_first_statement() -> None:
    # The model writes statement after statement and never comes back to `return result`: the
    # clean-up keeps the first one either way, and a user who is typing gets it without waiting
    # for the rest (here 40 pieces; acorn.js:623 ran 4 s to max_tokens). An explicit request
    # still reads on: the answer might come back to the code below later.
    source = "def f(xs):\n    result = []\n\n    return result\n"
    gap = source.index("\n\n") + 1
    rambling = "    if not xs:\n        return []\n" + "    xs.sort()\n    print(xs)\n" * 6
    shown = {}
    for trigger in (TriggerKind.AUTOMATIC, TriggerKind.INVOKED):
        backend = ScriptedBackend(lambda _r: rambling)
        engine = await started(backend, speculate=False, candidates=1)
        result = await engine.complete(at(source, gap, trigger=trigger))
        shown[trigger] = (result.text, backend.calls[0].closed_early)
    assert shown[TriggerKind.AUTOMATIC] == ("    if not xs:\n        return []", True)
    assert shown[TriggerKind.INVOKED] == ("    if not xs:\n        return []", False)


async def test_at_the_end_of_the_file_the_rest_of_a_body_comes_on_request() -> None:
    # Writing a function at the end of a file: after a statement of it, "suggest" gets the rest
    # of the body (up to the next top-level code); while typing, its first statement at once.
    source = "def mean(values):\n    total = sum(values)\n    "
    rest = "if not values:\n        return 0.0\n    return total / len(values)\n\n\nprint(1)\n"
    shown = {}
    for trigger in (TriggerKind.AUTOMATIC, TriggerKind.INVOKED):
        backend = ScriptedBackend(lambda _r: rest)
        engine = await started(backend, speculate=False, candidates=1)
        result = await engine.complete(at(source, len(source), trigger=trigger))
        shown[trigger] = (result.text, backend.calls[0].closed_early)
    assert shown[TriggerKind.AUTOMATIC] == ("if not values:\n        return 0.0", True)
    assert shown[TriggerKind.INVOKED] == (
        "if not values:\n        return 0.0\n    return total / len(values)",
        True,  # closed at `print(1)`: out of the function
    )


async def test_a_small_window_inside_a_long_method_still_shows_whose_body_it_is() -> None:
    # At a cold place on a slow machine the window read in time is a few lines of the body:
    # the model also sees the class and the method around them, not a nameless body.
    steps = "".join(f"        total = total * {i} + values[{i}]\n" for i in range(400))
    text = (
        "class Ledger:\n    def balance(self, values):\n        total = 0\n" + steps + "        \n"
    )
    backend = ReadingBackend(returns_total, speed=200.0)
    engine = await started(backend)
    await engine.complete(at(text, len(text) - 1, trigger=TriggerKind.AUTOMATIC))
    prefix = backend.calls[0].request.prefix
    assert prefix.startswith("class Ledger:\n    def balance(self, values):\n        total = total")
    assert len(prefix) < 1500  # a smaller window, with its two header lines
    assert prefix.endswith("values[399]\n")  # the cursor line's spaces are healed

"""Keystroke-speed policy: layout choice, stable windows, healing, adaptive debounce, toggles."""

from __future__ import annotations

import asyncio

from codestral_ls.backends.base import estimate_tokens
from codestral_ls.config import Settings
from codestral_ls.engine import (
    AdaptiveDebounce,
    CompletionRequest,
    Engine,
    TriggerKind,
    choose_layout,
)
from codestral_ls.modes import Mode
from codestral_ls.windows import build_window, heal_prefix, unheal
from fake_backend import ScriptedBackend


def test_layout_policy() -> None:
    text = "x = compute(\n    a, b)\nreturn x\n"
    end_of_line = text.index("\n")
    assert choose_layout("auto", text, end_of_line, Mode.LINE) == "prefix_only"
    assert choose_layout("auto", text, text.index("("), Mode.LINE) == "psm"  # text to the right
    # a new block (after an opener) does not need the suffix; a gap between lines of code does
    assert choose_layout("auto", text, end_of_line, Mode.BLOCK) == "prefix_only"
    assert choose_layout("auto", text, end_of_line + 1, Mode.GAP) == "psm"
    # at the start of a line, the text on its right is a whole line below the insertion
    assert choose_layout("auto", text, text.index("return"), Mode.LINE) == "prefix_only"
    assert choose_layout("psm", text, end_of_line, Mode.LINE) == "psm"
    assert choose_layout("prefix_only", text, 1, Mode.BLOCK) == "prefix_only"


def test_prompt_window_start_is_stable_while_typing() -> None:
    lines = [f"value_{i} = compute({i}, 'some text to make lines long')\n" for i in range(2000)]
    text = "".join(lines)
    cursor = len("".join(lines[:1500]))
    starts = set()
    for typed in range(40):
        doc = text[:cursor] + "y" * typed + text[cursor:]
        w = build_window(doc, cursor + typed, 256, 0, estimate_tokens, grid=16)
        starts.add(w.prefix.split("\n", 1)[0])
        assert w.prefix.endswith("y" * typed)
    assert len(starts) == 1  # 40 keystrokes, one prompt beginning: the KV cache stays valid
    sliding = {
        build_window(text[: cursor + 60 * n], cursor + 60 * n, 256, 0, estimate_tokens, 1).prefix[
            :30
        ]
        for n in range(3)
    }
    assert len(sliding) > 1  # without the grid the beginning moves with the cursor


def test_window_respects_budgets_and_line_boundaries() -> None:
    text = "".join(f"line {i}\n" for i in range(1000))
    cursor = text.index("line 500")
    w = build_window(text, cursor, 100, 40, estimate_tokens)
    assert estimate_tokens(w.prefix) <= 100 and estimate_tokens(w.suffix) <= 40
    assert w.prefix.startswith("line ") and w.suffix.endswith("\n")
    assert text[:cursor].endswith(w.prefix) and text[cursor:].startswith(w.suffix)


def test_healing_trailing_whitespace() -> None:
    assert heal_prefix("def f():\n    ") == ("def f():\n", "    ")
    assert heal_prefix("x = ") == ("x =", " ")
    assert heal_prefix("x = 1") == ("x = 1", "")
    assert unheal("    return 1", "    ") == "return 1"
    assert unheal("        deeper()", "    ") == "    deeper()"
    assert unheal(" 1", " ") == "1"
    assert unheal("1", " ") == "1"
    assert unheal("  shallower", "    ") == "shallower"


def test_debounce_follows_typing_rhythm_and_backend_latency() -> None:
    d = AdaptiveDebounce()
    assert d.delay(120) == 0.12  # nothing known yet: the setting
    t = 0.0
    for _ in range(10):
        t += 0.15  # a slow typist: 150 ms between keys
        d.keystroke(t)
    assert 0.2 < d.delay(120) <= 0.3  # waits longer than the gap, within bounds
    d.keystroke(t + 5)  # a pause is not a typing gap
    assert 0.2 < d.delay(120) <= 0.3
    fast = AdaptiveDebounce()
    for i in range(10):
        fast.keystroke(i * 0.03)
    assert fast.delay(120) == 0.12  # never below the setting
    fast.model_latency(2.0)  # a slow backend: each wasted call costs more, wait longer
    assert abs(fast.delay(120) - 0.22) < 1e-9
    fast.model_latency(8.0)
    fast.model_latency(8.0)
    assert abs(fast.delay(120) - 0.3) < 1e-9  # capped at 300 ms
    assert abs(fast.delay(600) - 0.6) < 1e-9  # or at the setting when that is higher


SRC = "def add(a, b):\n    \n"
CURSOR = SRC.index("    \n") + 4


async def test_cache_and_type_through_can_be_turned_off() -> None:
    backend = ScriptedBackend(lambda r: "return a + b\n")
    settings = Settings(debounce_ms=0, cache_entries=0, type_through=False, speculate=False)
    engine = Engine(settings, backend)
    await engine.start()
    req = CompletionRequest("file:///a.py", SRC, CURSOR, "python", TriggerKind.INVOKED, "/a.py")
    await engine.complete(req)
    await engine.complete(req)
    typed = SRC[:CURSOR] + "re" + SRC[CURSOR:]
    r = await engine.complete(
        CompletionRequest("file:///a.py", typed, CURSOR + 2, "python", TriggerKind.INVOKED, "/a.py")
    )
    assert r.source == "model"
    assert engine.counters["modelCalls"] == 3
    assert engine.counters["cacheHits"] == engine.counters["typeThroughHits"] == 0


async def test_counters_in_status() -> None:
    backend = ScriptedBackend(lambda r: "return a + b\n")
    engine = Engine(Settings(debounce_ms=0, speculate=False), backend)
    await engine.start()
    req = CompletionRequest("file:///a.py", SRC, CURSOR, "python", TriggerKind.INVOKED, "/a.py")
    await engine.complete(req)
    typed = SRC[:CURSOR] + "ret" + SRC[CURSOR:]
    await engine.complete(
        CompletionRequest(
            "file:///a.py", typed, CURSOR + 3, "python", TriggerKind.AUTOMATIC, "/a.py"
        )
    )
    st = engine.status()
    assert (st["requests"], st["modelCalls"], st["typeThroughHits"]) == (2, 1, 1)


class PrefillingBackend(ScriptedBackend):
    """Records prefills, like the local backend's evaluation ahead of generation."""

    prefilled: list[str]

    async def prefill(self, request: object) -> bool:
        self.prefilled.append(getattr(request, "prefix", ""))
        return True


async def test_debounce_wait_is_used_to_prefill_the_prompt() -> None:
    backend = PrefillingBackend(lambda r: "return a + b\n")
    backend.prefilled = []
    engine = Engine(Settings(debounce_ms=50, speculate=False), backend)
    await engine.start()
    auto = CompletionRequest("file:///a.py", SRC, CURSOR, "python", TriggerKind.AUTOMATIC, "/a.py")
    result = await engine.complete(auto)
    assert result.text == "return a + b"
    assert backend.prefilled == [backend.calls[0].request.prefix]
    assert engine.counters["prefills"] == 1
    invoked = CompletionRequest(
        "file:///b.py", SRC + "\n", CURSOR, "python", TriggerKind.INVOKED, "/b.py"
    )
    await engine.complete(invoked)  # explicit requests do not wait, so nothing to prefill
    assert engine.counters["prefills"] == 1


class SlowPrefillBackend(PrefillingBackend):
    async def prefill(self, request: object) -> bool:
        await asyncio.sleep(0.15)  # a few tokens on a CPU: longer than a burst of keys
        return await super().prefill(request)


async def test_after_a_burst_the_last_keystrokes_prompt_is_prefilled() -> None:
    # Keys come faster than a prefill takes: the one running finishes, then the newest waiting
    # prompt goes next (older ones are skipped), so the prompt the generation needs is ready.
    backend = SlowPrefillBackend(lambda r: "return a + b\n")
    backend.prefilled = []
    engine = Engine(Settings(debounce_ms=250, speculate=False), backend)
    await engine.start()
    tasks = []
    for typed in range(6):
        text = SRC[:CURSOR] + "x" * typed + SRC[CURSOR:]
        req = CompletionRequest(
            "file:///a.py", text, CURSOR + typed, "python", TriggerKind.AUTOMATIC, "/a.py"
        )
        tasks.append(asyncio.ensure_future(engine.complete(req)))
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks)
    assert [r.source for r in results[:-1]] == ["none"] * 5  # superseded
    assert len(backend.calls) == 1
    assert backend.prefilled[-1] == backend.calls[0].request.prefix
    assert backend.prefilled[-1].endswith("x" * 5)
    assert len(backend.prefilled) < 6  # not one per keystroke

"""The prompt's middle: typing after the anchor line leaves the prefix and the suffix as read."""

from __future__ import annotations

import asyncio

from codestral_ls.anchors import MAX_MIDDLE_LINES, Anchors
from codestral_ls.backends.base import FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from codestral_ls.windows import build_window
from fake_backend import ReadingBackend

URI = "file:///w/big.py"
BODY = "".join(
    f"def step_{i}(value):\n    total = value * {i}\n    return total + {i}\n\n" for i in range(300)
)
ABOVE = BODY + "def final(values):\n    total = 0\n"
BELOW = "\n    return total\n\n\ndef after():\n    pass\n"


def doc(typed: str) -> tuple[str, int]:
    """The document with ``typed`` written on the (indented) empty line of ``final``."""
    text = ABOVE + "    " + typed + BELOW
    return text, len(ABOVE) + 4 + len(typed)


def count(text: str) -> int:
    return len(text) // 4


def test_the_middle_is_the_text_from_the_anchor_to_the_cursor() -> None:
    text, offset = doc("for v in values:\n        total += v")
    anchor = len(ABOVE)
    window = build_window(text, offset, 200, 50, count, anchor=anchor)
    plain = build_window(text, offset, 200, 50, count)
    assert window.middle == "    for v in values:\n        total += v"
    assert window.prefix.endswith("    total = 0\n")
    assert window.suffix == plain.suffix
    assert (window.prefix + window.middle).endswith(plain.prefix)


def test_the_anchor_stays_while_the_user_writes_on_below_it() -> None:
    anchors = Anchors()
    text, offset = doc("")
    first = anchors.choose(URI, text, offset)
    assert first == len(ABOVE)  # the cursor's line start
    anchors.keep(URI, text, first)
    text, offset = doc("total = sum(values)\n    ")
    assert anchors.choose(URI, text, offset) == first


def test_the_anchor_moves_when_the_text_above_changed_or_the_cursor_went_elsewhere() -> None:
    anchors = Anchors()
    text, offset = doc("")
    anchors.keep(URI, text, anchors.choose(URI, text, offset))
    # a line inserted above: the anchor's offset no longer points after the same text
    edited = "import os\n" + text
    line_start = edited.rfind("\n", 0, offset + 10) + 1
    assert anchors.choose(URI, edited, offset + 10) == line_start
    # the cursor above the anchor
    up = len(ABOVE) - 1  # the end of the line above
    assert anchors.choose(URI, text, up) == text.rfind("\n", 0, up) + 1
    # too many lines typed since: the middle starts afresh at the cursor's line
    many = "".join(f"x{i} = {i}\n    " for i in range(MAX_MIDDLE_LINES + 1))
    text, offset = doc(many)
    assert anchors.choose(URI, text, offset) == text.rfind("\n", 0, offset) + 1
    # another document has its own anchor
    assert anchors.choose("file:///w/other.py", text, offset) == text.rfind("\n", 0, offset) + 1


async def test_after_a_line_and_enter_only_the_typed_line_is_read() -> None:
    """The end pause at a gap: the suffix read on arrival is not read again (issue 14)."""

    def answer(request: FimRequest) -> str:
        return "total *= 2\n" if request.middle.endswith("\n") else "total = sum(values)"

    backend = ReadingBackend(answer, speed=4000.0)
    settings = Settings(debounce_ms=0, speculate=False, context_tokens=0, candidates=1)
    engine = Engine(settings, backend)
    await engine.start()
    text, offset = doc("")
    request = CompletionRequest(URI, text, offset, "python", TriggerKind.AUTOMATIC, "/w/big.py")
    engine.focus(request)
    for _ in range(200):  # until the place is read
        await asyncio.sleep(0.02)
        if engine._background is None or engine._background.done():
            break
    arrival = backend.warmed[-1]
    # the line typed (its requests have no suffix: nothing is to the right of the cursor)
    for i in range(1, 6):
        text, offset = doc("total = sum(values)"[:i])
        await engine.complete(CompletionRequest(URI, text, offset, "python", path="/w/big.py"))
    # Enter: the next line at the same indentation, code below it
    text, offset = doc("total = sum(values)\n    ")
    before = len(backend.calls)
    result = await engine.complete(
        CompletionRequest(URI, text, offset, "python", TriggerKind.AUTOMATIC, "/w/big.py")
    )
    assert result.text == "total *= 2"
    asked = backend.calls[before].request
    assert asked.middle == "    total = sum(values)\n"
    assert backend._prompt(asked).startswith(arrival)
    # what was read for it beyond the arrival's prompt: the typed line
    assert len(backend._prompt(asked)) - len(arrival) == len(asked.middle)


def test_no_middle_where_text_is_right_of_the_cursor() -> None:
    anchors = Anchors()
    text = 'def greet(name):\n    return "hello " n+ \n'
    offset = text.index("n+") + 1
    assert anchors.choose(URI, text, offset) is None

"""A line of its own gets a suggestion when the model's best answer was the code below again.

At an empty line between two statements a small model most often writes the next line once
more; the clean-up drops that (it never repeats the code after the cursor), which left the user
who made room for a line with nothing. The engine then asks for the next most likely answers
from the prompt already read (``FimRequest.branch``), only where that costs no new reading.
"""

from __future__ import annotations

import asyncio

import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from fake_backend import ReadingBackend, ScriptedBackend

SOURCE = "def area(w, h):\n    w = abs(w)\n\n    h = abs(h)\n    return w * h\n"
GAP = SOURCE.index("\n\n") + 1

#: Branch 0 writes the line below again; branch 1 the two lines below; branch 2 new code.
BY_BRANCH = {
    0: "    h = abs(h)\n",
    1: "    h = abs(h)\n    return w * h\n",
    2: "    assert w >= 0\n",
}


def by_branch(request: FimRequest) -> str:
    return BY_BRANCH.get(request.branch, "")


async def complete(
    backend: ScriptedBackend, text: str = SOURCE, offset: int = GAP
) -> tuple[Engine, str]:
    engine = Engine(Settings(debounce_ms=0, speculate=False, candidates=1), backend)
    await engine.start()
    result = await engine.complete(
        CompletionRequest("file:///w/a.py", text, offset, "python", TriggerKind.AUTOMATIC)
    )
    return engine, result.text


async def test_an_empty_line_gets_the_next_answer_that_is_not_the_code_below() -> None:
    backend = ScriptedBackend(by_branch, branches=True)
    engine, text = await complete(backend)
    assert text.strip() == "assert w >= 0"
    assert [c.request.branch for c in backend.calls] == [0, 1, 2]
    assert engine.counters["retryCalls"] == 2


async def test_an_answer_that_would_strand_the_code_below_gives_way_to_the_next() -> None:
    # HumanEval/113 (multi-line, L0_L0): ``return res`` above the function's own loop
    # (the cursor at column 0 of the loop's line, as the benchmark cuts the hole, and on an
    # empty line above it)
    answers = {0: "    return res\n", 1: "    res = []\n"}
    for source in (
        'def f(lst):\n    """Doc."""\n█    for arr in lst:\n        res.append(arr)\n',
        'def f(lst):\n    """Doc."""\n█\n    for arr in lst:\n        res.append(arr)\n',
    ):
        backend = ScriptedBackend(lambda r: answers.get(r.branch, ""), branches=True)
        engine, text = await complete(backend, source.replace("█", ""), source.index("█"))
        assert text.strip() == "res = []"
        assert engine.counters["retryCalls"] == 1


async def test_a_backend_that_cannot_branch_is_not_asked_again() -> None:
    # a remote API would read the whole prompt again (and be billed for it)
    backend = ScriptedBackend(by_branch, branches=False)
    _, text = await complete(backend)
    assert text == "" and len(backend.calls) == 1


async def test_text_on_the_cursor_line_keeps_an_empty_answer() -> None:
    # mid-line, nothing to add is a fine answer: the model is not asked for something else
    source = "def area(w, h):\n    w = abs(w)\n    h = abs(h)\n    return w * h\n"
    offset = source.index("return w * h") + len("return w * h")
    backend = ScriptedBackend(lambda r: "" if r.branch == 0 else " + 1\n", branches=True)
    _, text = await complete(backend, source, offset)
    assert text == "" and len(backend.calls) == 1


async def test_an_answer_that_is_kept_is_not_asked_again() -> None:
    backend = ScriptedBackend(lambda r: "    assert h >= 0\n", branches=True)
    _, text = await complete(backend)
    assert text.strip() == "assert h >= 0" and len(backend.calls) == 1


@pytest.mark.usefixtures("embedded_model")
async def test_the_local_models_other_answers_keep_the_indentation_of_its_best() -> None:
    # the cursor on an empty line in a body, no indentation typed: the best answer starts with
    # indentation, and an alternative with another first token at column 0 would be no use
    backend = LocalBackend(Settings(n_ctx=1024))
    await backend.start(lambda m, p: None)
    prefix = "def scale(values, factor):\n    result = []\n"
    suffix = "\n    for v in values:\n        result.append(v * factor)\n    return result\n"
    answers = []
    for branch in (0, 1, 2):
        request = FimRequest(prefix=prefix, suffix=suffix, max_tokens=12, branch=branch)
        answers.append("".join([piece async for piece in backend.stream(request)]))
    await backend.aclose()
    print(answers)
    assert answers[0].startswith("    ") and answers[0][4] != " "
    assert len(set(answers)) == 3
    for other in answers[1:]:
        assert other.startswith("    ") and other[4].strip(), other


async def test_the_suggestion_after_enter_is_worked_out_ahead_with_the_same_rule() -> None:
    # the user accepts `w = abs(w)` and presses Enter: the line computed ahead of time for that
    # state must not be a remembered nothing because the best answer was `h = abs(h)` again
    source = "def area(w, h):\n    \n    h = abs(h)\n    return w * h\n"
    cursor = source.index("    \n") + 4

    def answer(request: FimRequest) -> str:
        written = request.prefix + request.middle
        if written.endswith("h):\n"):
            return "    w = abs(w)\n"
        return by_branch(request) if written.endswith("w = abs(w)\n") else ""

    backend = ReadingBackend(answer, branches=True, speed=100_000.0)  # reads like the local model
    engine = Engine(Settings(debounce_ms=0, candidates=1), backend)
    await engine.start()
    auto = TriggerKind.AUTOMATIC
    uri = "file:///w/a.py"
    shown = await engine.complete(CompletionRequest(uri, source, cursor, "python", auto))
    assert shown.text == "w = abs(w)"
    for _ in range(100):  # the work ahead runs while the user reads the suggestion
        await asyncio.sleep(0.01)
        if engine._background is None or engine._background.done():
            break
    entered = source[:cursor] + "w = abs(w)\n    " + source[cursor:]
    offset = cursor + len("w = abs(w)\n    ")
    calls = len(backend.calls)
    after = await engine.complete(CompletionRequest(uri, entered, offset, "python", auto))
    assert after.source == "speculation" and len(backend.calls) == calls
    assert after.text.strip() == "assert w >= 0"
    assert engine.counters["retryCalls"] == 2


async def test_right_after_an_opening_bracket_an_empty_subscript_is_not_the_last_word() -> None:
    # eslint's preserve-caught-error.js: `const errorsArg = args[` and the model's best is `];`
    source = "function f(args) {\n  const errorsArg = args[\n  return errorsArg;\n}\n"
    offset = source.index("args[") + len("args[")

    def answer(request: FimRequest) -> str:
        return "];\n" if request.branch == 0 else "0];\n"

    for text in (source, source[:offset] + "]" + source[offset:]):  # auto-closed or not
        backend = ScriptedBackend(answer, branches=True)
        engine = Engine(Settings(debounce_ms=0, speculate=False, candidates=1), backend)
        await engine.start()
        result = await engine.complete(
            CompletionRequest("file:///w/a.js", text, offset, "javascript", TriggerKind.AUTOMATIC)
        )
        assert result.text.startswith("0]") or result.text == "0", (text, result.text)
        assert [c.request.branch for c in backend.calls] == [0, 1]

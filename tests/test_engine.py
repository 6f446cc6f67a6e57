"""Engine behaviour a user notices: answers, reuse without model calls, and stale work dropped."""

from __future__ import annotations

import asyncio

import pytest

from codestral_ls.backends.base import (
    BackendConfigError,
    BackendError,
    BackendInfo,
    FimRequest,
    ProgressCallback,
)
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from fake_backend import ScriptedBackend

SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
CURSOR = SOURCE.index("    \n") + 4


def request(text: str = SOURCE, offset: int = CURSOR, **kw: object) -> CompletionRequest:
    base: dict[str, object] = {
        "uri": "file:///w/calc.py",
        "text": text,
        "offset": offset,
        "language": "python",
        "trigger": TriggerKind.INVOKED,
        "path": "/w/calc.py",
    }
    base.update(kw)
    return CompletionRequest(**base)  # type: ignore[arg-type]


async def make_engine(backend: ScriptedBackend, **settings: object) -> Engine:
    engine = Engine(
        Settings(debounce_ms=0, speculate=False, candidates=1).merged(settings, "test"), backend
    )
    await engine.start()
    return engine


def answer_return(_: FimRequest) -> str:
    return "return a + b\n\nprint(add(1, 2))\n"


async def test_answer_is_cleaned_model_output() -> None:
    backend = ScriptedBackend(answer_return)
    engine = await make_engine(backend)
    result = await engine.complete(request())
    assert result.source == "model"
    assert result.text == "return a + b"
    assert len(backend.calls) == 1
    # the model saw the text around the cursor, without the indentation the user already typed
    # (a prompt ending in spaces makes BPE models repeat them): it generates that itself
    assert backend.calls[0].request.prefix.endswith("def add(a, b):\n")
    # a new body: the code after it does not shape the answer, so it is left out of the
    # prompt (only the end of the prompt changes per keystroke); the clean-up still sees it
    assert backend.calls[0].request.suffix == ""


async def test_indentation_the_user_typed_is_not_inserted_twice() -> None:
    backend = ScriptedBackend(lambda r: "    return a + b\n")
    engine = await make_engine(backend)
    result = await engine.complete(request())
    assert result.text == "return a + b"


async def test_same_position_again_comes_from_cache() -> None:
    backend = ScriptedBackend(answer_return)
    engine = await make_engine(backend)
    first = await engine.complete(request())
    engine._typethrough.forget("file:///w/calc.py")  # force the cache path, not type-through
    second = await engine.complete(request())
    assert second.source == "cache"
    assert second.text == first.text
    assert len(backend.calls) == 1


async def test_typing_the_suggestion_serves_the_rest_without_a_model_call() -> None:
    backend = ScriptedBackend(answer_return)
    engine = await make_engine(backend)
    await engine.complete(request())
    typed = SOURCE[:CURSOR] + "ret" + SOURCE[CURSOR:]
    result = await engine.complete(request(typed, CURSOR + 3))
    assert (result.source, result.text) == ("typethrough", "urn a + b")
    # backspace over one typed character: the longer remainder comes back
    back = SOURCE[:CURSOR] + "re" + SOURCE[CURSOR:]
    result = await engine.complete(request(back, CURSOR + 2))
    assert (result.source, result.text) == ("typethrough", "turn a + b")
    # typing something else is not served from the old suggestion
    other = SOURCE[:CURSOR] + "x" + SOURCE[CURSOR:]
    result = await engine.complete(request(other, CURSOR + 1))
    assert result.source != "typethrough"
    assert len(backend.calls) == 2


async def test_burst_of_keystrokes_makes_one_model_call_for_the_last_position() -> None:
    backend = ScriptedBackend(answer_return)
    engine = await make_engine(backend, debounce_ms=80)
    texts = [SOURCE[:CURSOR] + "r"[:i] + SOURCE[CURSOR:] for i in range(2)]
    first = asyncio.ensure_future(
        engine.complete(request(texts[0], CURSOR, trigger=TriggerKind.AUTOMATIC))
    )
    await asyncio.sleep(0.02)
    second = await engine.complete(request(texts[1], CURSOR + 1, trigger=TriggerKind.AUTOMATIC))
    assert (await first).reason == "superseded"
    assert second.source == "model"
    assert len(backend.calls) == 1
    assert backend.calls[0].request.prefix.endswith("    r")


async def test_new_request_stops_generation_of_the_old_one() -> None:
    slow = ScriptedBackend(lambda r: "x" * 200, piece_delay=0.02)
    engine = await make_engine(slow)
    old = asyncio.ensure_future(engine.complete(request()))
    await asyncio.sleep(0.1)
    moved = SOURCE[:CURSOR] + "y" + SOURCE[CURSOR:]
    new_task = asyncio.ensure_future(engine.complete(request(moved, CURSOR + 1)))
    old_result = await old
    assert old_result.text == "" and old_result.reason == "superseded"
    assert slow.calls[0].closed_early
    assert slow.calls[0].pieces_sent < 50
    new_task.cancel()


async def test_client_cancel_stops_generation() -> None:
    slow = ScriptedBackend(lambda r: "x" * 200, piece_delay=0.02)
    engine = await make_engine(slow)
    task = asyncio.ensure_future(engine.complete(request()))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.05)
    assert slow.calls[0].closed_early


@pytest.mark.parametrize(
    ("settings", "req"),
    [
        ({"enabled": False}, {}),
        ({"disabled_languages": ["python"]}, {}),
        ({}, {"path": "/w/.env.local", "uri": "file:///w/.env.local"}),
        ({}, {"path": "/home/u/.ssh/id_rsa", "uri": "file:///home/u/.ssh/id_rsa"}),
    ],
)
async def test_disabled_or_excluded_never_reaches_the_backend(
    settings: dict[str, object], req: dict[str, object]
) -> None:
    backend = ScriptedBackend(answer_return)
    engine = await make_engine(backend, **settings)
    result = await engine.complete(request(**req))
    assert result.text == ""
    assert backend.calls == []


async def test_a_request_made_while_loading_is_answered_when_the_model_is_ready() -> None:
    # The first keystroke's suggestion must appear without another keystroke.
    backend = ScriptedBackend(answer_return, load_delay=0.3)
    engine = Engine(Settings(debounce_ms=0, speculate=False, candidates=1), backend)
    loading = asyncio.ensure_future(engine.start())
    await asyncio.sleep(0)
    result = await asyncio.wait_for(engine.complete(request()), 5)
    assert result.text == "return a + b"
    assert result.latency_ms >= 250  # it waited for the model, and did not answer empty
    await loading


async def test_a_request_waiting_for_the_model_gives_way_to_a_newer_one() -> None:
    backend = ScriptedBackend(answer_return, load_delay=0.3)
    engine = Engine(Settings(debounce_ms=0, speculate=False, candidates=1), backend)
    loading = asyncio.ensure_future(engine.start())
    await asyncio.sleep(0)
    older = asyncio.ensure_future(engine.complete(request()))
    await asyncio.sleep(0.05)
    newer = await asyncio.wait_for(engine.complete(request()), 5)
    assert (await older).reason == "superseded"
    assert newer.text == "return a + b"
    assert len(backend.calls) == 1
    await loading


async def test_a_backend_that_fails_to_load_ends_the_wait_at_once() -> None:
    class BrokenLoad(ScriptedBackend):
        async def start(self, progress: ProgressCallback) -> None:
            await asyncio.sleep(0.1)
            raise BackendConfigError("model file not found: /nowhere.gguf")

    engine = Engine(Settings(debounce_ms=0, candidates=1), BrokenLoad(answer_return))
    loading = asyncio.ensure_future(engine.start())
    await asyncio.sleep(0)
    result = await asyncio.wait_for(engine.complete(request()), 2)
    assert (result.text, result.reason) == ("", "model not ready")
    await loading


class FailingBackend(ScriptedBackend):
    async def stream(self, request: FimRequest):  # type: ignore[override]
        raise BackendConfigError("the API key is wrong: set MISTRAL_API_KEY")
        yield ""


async def test_backend_error_gives_empty_answer_and_one_report() -> None:
    errors: list[BackendError] = []
    backend = FailingBackend(answer_return)
    engine = Engine(Settings(debounce_ms=0, candidates=1), backend, on_error=errors.append)
    await engine.start()
    result = await engine.complete(request())
    assert result.text == ""
    assert "MISTRAL_API_KEY" in result.reason
    assert len(errors) == 1 and errors[0].notify


async def test_the_same_question_again_joins_the_running_generation() -> None:
    slow = ScriptedBackend(lambda r: "return a + b\n", piece_delay=0.05)
    engine = await make_engine(slow)
    first = asyncio.ensure_future(engine.complete(request()))
    await asyncio.sleep(0.08)
    again = await engine.complete(request())  # e.g. an editor retrying after its timeout
    assert again.text == "return a + b"
    assert (await first).text == "return a + b"
    assert len(slow.calls) == 1 and slow.calls[0].finished


async def test_block_cut_by_max_tokens_drops_its_half_written_line() -> None:
    text = "def f(x):\n"
    cursor = len(text)
    long_block = "    y = x + 1\n    z = y * 2\n    return z + some_very_long_name_that_goes_on"
    backend = LocalLikeBackend(lambda r: long_block)
    engine = await make_engine(backend, max_tokens=16)
    result = await engine.complete(request(text, cursor))
    assert "some_very_long_name" not in result.text
    assert result.text.rstrip().endswith("z = y * 2")


class LocalLikeBackend(ScriptedBackend):
    """Counts like the local backend: only there is a token count exact enough to trust."""

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(
            backend="local",
            model="scripted-model",
            template="qwen",
            exact_tokens=True,
            rereads_suffix=True,
        )


async def test_a_complete_remote_block_is_not_mistaken_for_a_cut_one() -> None:
    text = "def f(x):\n"
    block = "    y = x + 1\n    z = y * 2\n    return z + some_very_long_name_that_goes_on\n"
    engine = await make_engine(ScriptedBackend(lambda r: block), max_tokens=16)
    result = await engine.complete(request(text, len(text)))
    assert result.text.rstrip().endswith("some_very_long_name_that_goes_on")


async def test_status_reports_time_to_first_token_of_the_last_model_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The first piece comes after one piece delay, the answer after several: the status shows
    # the former (what the user waits for before anything can appear), and the debug log has
    # one line per model call that the latency benchmark reads.
    backend = ScriptedBackend(answer_return, piece_delay=0.05)
    engine = await make_engine(backend)
    assert engine.status()["lastFirstTokenMs"] is None
    with caplog.at_level("DEBUG", logger="codestral_ls.engine"):
        result = await engine.complete(request())
    status = engine.status()
    first = status["lastFirstTokenMs"]
    assert isinstance(first, int) and 40 <= first < 500
    assert status["lastLatencyMs"] is not None and result.latency_ms > first + 40
    calls = [r.getMessage() for r in caplog.records if r.getMessage().startswith("model call:")]
    assert len(calls) == 1 and f"first token {first}" in calls[0]


#: Four rows of a literal: a model that stops after them means them; one cut short by
#: ``max_tokens`` while writing them again and again has fallen into a loop.
ROWS = "        [0, 0, 0],\n" * 4
BOARD = "def board():\n    return [\n"


async def test_a_loop_cut_by_max_tokens_keeps_one_copy() -> None:
    text = BOARD + "\n    ]\n"
    backend = LocalLikeBackend(lambda r: ROWS * 3 + "        [0, 0")
    engine = await make_engine(backend, max_tokens=24)
    result = await engine.complete(request(text, len(BOARD)))
    assert result.text.strip() == "[0, 0, 0],"


async def test_repeated_lines_the_model_ended_itself_are_kept() -> None:
    text = BOARD + "\n    ]\n"
    backend = LocalLikeBackend(lambda r: ROWS)
    engine = await make_engine(backend, max_tokens=96)
    result = await engine.complete(request(text, len(BOARD)))
    assert result.text.count("[0, 0, 0],") == 4

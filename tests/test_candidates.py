"""Several suggestions on an explicit request: distinct, best first; automatic requests get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from fake_backend import ScriptedBackend
from lsp_session import inline, lsp_server, open_doc, wait_ready

SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
CURSOR = SOURCE.index("    \n") + 4

#: A remote API: the greedy answer without a seed, sampled ones per seed.
BY_SEED = {None: "return a + b\n", 1: "return b + a\n", 2: "return sum((a, b))\n"}


def sampled(request: FimRequest) -> str:
    return BY_SEED.get(request.seed, "return 0\n")


def at(trigger: TriggerKind) -> CompletionRequest:
    return CompletionRequest("file:///w/a.py", SOURCE, CURSOR, "python", trigger, "/w/a.py")


async def engine_for(backend: ScriptedBackend, **settings: object) -> Engine:
    base = Settings(debounce_ms=0, speculate=False).merged(settings, "test")
    engine = Engine(base, backend)
    await engine.start()
    return engine


async def test_an_explicit_request_gets_distinct_candidates_best_first() -> None:
    backend = ScriptedBackend(sampled)
    engine = await engine_for(backend)
    result = await engine.complete(at(TriggerKind.INVOKED))
    assert result.text == "return a + b"
    assert result.alternatives == ("return b + a", "return sum((a, b))")
    # the alternatives were sampled (a remote API cannot branch), the first one greedy
    assert backend.calls[0].request.temperature == 0.0
    assert all(c.request.temperature > 0 for c in backend.calls[1:])
    # asking again cycles through remembered candidates: no new model call
    calls = len(backend.calls)
    again = await engine.complete(at(TriggerKind.INVOKED))
    assert (again.text, again.alternatives) == (result.text, result.alternatives)
    assert len(backend.calls) == calls


async def test_an_automatic_request_gets_one_suggestion_and_one_call() -> None:
    backend = ScriptedBackend(sampled)
    engine = await engine_for(backend, type_through=False)
    result = await engine.complete(at(TriggerKind.AUTOMATIC))
    assert result.text == "return a + b" and result.alternatives == ()
    assert len(backend.calls) == 1
    # "next suggestion" after it: the first comes from the cache, only alternatives are new
    more = await engine.complete(at(TriggerKind.INVOKED))
    assert more.text == "return a + b" and len(more.alternatives) == 2
    assert all(c.request.seed is not None for c in backend.calls[1:])


async def test_a_remote_api_gets_no_more_requests_than_candidates() -> None:
    # the second sample repeats the first answer: it is dropped, and not asked again
    backend = ScriptedBackend(lambda r: "return a + b\n" if r.seed != 1 else "return b + a\n")
    engine = await engine_for(backend)
    result = await engine.complete(at(TriggerKind.INVOKED))
    assert result.alternatives == ("return b + a",)
    assert len(backend.calls) == 3


async def test_one_candidate_when_the_setting_says_so() -> None:
    backend = ScriptedBackend(sampled)
    engine = await engine_for(backend, candidates=1)
    result = await engine.complete(at(TriggerKind.INVOKED))
    assert result.alternatives == () and len(backend.calls) == 1


#: A local model's branches: the best answer is quick, the next runs on for seconds.
SLOW_SECOND = {0: "return a + b\n", 1: "return " + "a + " * 300 + "b\n", 2: "return b + a\n"}


async def test_alternatives_wait_no_longer_than_the_request_time_budget() -> None:
    backend = ScriptedBackend(
        lambda r: SLOW_SECOND[r.branch], branches=True, piece_delay=0.01, piece_size=2
    )
    engine = await engine_for(backend, timeout_ms=300)
    result = await engine.complete(at(TriggerKind.INVOKED))
    # the first suggestion comes, with no half-written alternative, long before the slow
    # branch could have finished (600 pieces: 6 s)
    assert result.text == "return a + b"
    assert result.alternatives == ()
    assert result.latency_ms < 3000
    assert backend.calls[1].closed_early
    assert len(backend.calls) == 2  # the budget was spent: no further branch was started
    # the user cycles again later: the first answer is known, its alternatives get a budget
    # of their own; what did not fit is still not offered as a fragment
    again = await engine.complete(at(TriggerKind.INVOKED))
    assert again.text == "return a + b" and again.alternatives == ()


async def test_alternatives_that_fit_the_budget_are_offered() -> None:
    backend = ScriptedBackend(
        lambda r: SLOW_SECOND.get(r.branch + (r.branch > 0), ""), branches=True, piece_delay=0.01
    )
    engine = await engine_for(backend, timeout_ms=5000)
    result = await engine.complete(at(TriggerKind.INVOKED))
    assert result.text == "return a + b"
    assert result.alternatives == ("return b + a",)


#: A gap between two statements (GAP mode), and branches that go on after their first statement.
GAP_SOURCE = "def add(a, b):\n    total = 0\n    \n    return total\n"
GAP_CURSOR = GAP_SOURCE.index("    \n") + 4
RAMBLING = "".join(f"    extra_{i} = {i}\n" for i in range(60))
GAP_BRANCHES = {
    0: "total = a + b\n    return total\n",
    1: "total += a + b\n" + RAMBLING,
    2: "total = b + a\n" + RAMBLING,
}


async def test_alternatives_to_a_one_line_gap_answer_end_with_their_first_statement() -> None:
    backend = ScriptedBackend(
        lambda r: GAP_BRANCHES.get(r.branch, ""), branches=True, piece_delay=0.002, piece_size=4
    )
    engine = await engine_for(backend)
    request = CompletionRequest(
        "file:///w/g.py", GAP_SOURCE, GAP_CURSOR, "python", TriggerKind.INVOKED, "/w/g.py"
    )
    result = await engine.complete(request)
    assert result.text == "total = a + b"
    assert result.alternatives == ("total += a + b", "total = b + a")
    # each alternative's stream was closed once its next statement showed, not run to the end
    assert all(call.closed_early for call in backend.calls[1:])
    assert all(call.pieces_sent < 30 for call in backend.calls[1:])


async def test_alternatives_to_a_gap_answer_of_several_lines_may_have_several() -> None:
    branches = {
        0: "x = a\n    total = x + b\n    return total\n",
        1: "y = b\n    total = a + y\n    return total\n",
    }
    backend = ScriptedBackend(lambda r: branches.get(r.branch, ""), branches=True)
    engine = await engine_for(backend)
    request = CompletionRequest(
        "file:///w/g.py", GAP_SOURCE, GAP_CURSOR, "python", TriggerKind.INVOKED, "/w/g.py"
    )
    result = await engine.complete(request)
    assert result.text == "x = a\n    total = x + b"
    assert result.alternatives == ("y = b\n    total = a + y",)


EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "stats.py").read_text()


@pytest.mark.usefixtures("embedded_model")
async def test_the_embedded_model_offers_three_different_suggestions(tmp_path: Path) -> None:
    uri = (tmp_path / "stats.py").as_uri()
    async with lsp_server(tmp_path) as (client, _):  # default settings: candidates = 3
        open_doc(client, uri, EXAMPLE)
        assert (await wait_ready(client))["state"] == "ready"
        items = await inline(client, uri, 9, 4)
        automatic = await inline(client, uri, 9, 4, invoked=False)
    texts = [str(item.insert_text) for item in items]
    print(texts)
    assert len(texts) == 3 and len(set(texts)) == 3
    assert all(t.strip() for t in texts)
    assert len(automatic) == 1 and automatic[0].insert_text == texts[0]

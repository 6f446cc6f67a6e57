"""Protocol abuse against the real server over stdio.

Every bad input must get a JSON-RPC error or an empty result (a request must never go
unanswered, an editor would wait for it forever), must not pop up a message per bad frame, and
the server must answer a normal request correctly afterwards. The backend is Mistral's API
served by a stand-in on 127.0.0.1, so the whole server runs but nothing waits for a model.

Like an editor session, one server suffers all the abuse in turn (each test checks it still
serves afterwards); only the test that may end the session gets a server of its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from robust_helpers import (
    RawServer,
    encode,
    frame,
    inline_params,
    mistral_session,
    peak_rss_kb,
    rss_kb,
    scan_for_planted_key,
)

__all__ = ["scan_for_planted_key"]
pytestmark = pytest.mark.asyncio(loop_scope="module")

GOOD_TEXT = "def add(a, b):\n    return \n"


@dataclass
class Session:
    server: RawServer
    stand: Any
    tmp: Path
    popups_before: int = 0

    def new_popups(self) -> list[str]:
        return popups(self.server)[self.popups_before :]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Session]:
    tmp = tmp_path_factory.mktemp("protocol")
    async with mistral_session(tmp) as (server, stand):
        yield Session(server, stand, tmp)


@pytest.fixture
def session(shared: Session) -> Session:
    assert shared.server.proc.returncode is None, "an earlier test killed the shared server"
    shared.popups_before = len(popups(shared.server))
    shared.stand.requests.clear()
    return shared


INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601


async def still_serves(server: RawServer, tmp: Path, tag: str) -> None:
    """A fresh document gets the stand-in's suggestion at the cursor: the server is healthy."""
    uri = (tmp / f"check_{tag}.py").as_uri()
    await server.open(uri, f"# {tag}\n{GOOD_TEXT}")
    answer = await server.inline(uri, 2, 11)
    items = answer["result"]["items"]
    assert [i["insertText"] for i in items] == ["a + b"], answer
    assert items[0]["range"]["start"] == {"line": 2, "character": 11}


def popups(server: RawServer) -> list[str]:
    return [p["message"] for p in server.notifications("window/showMessage")]


GARBAGE_FRAMES: dict[str, bytes] = {
    "not json": frame(b"{not json}"),
    "truncated json": frame(b'{"jsonrpc": "2.0", "id": 1, "method": "codes'),
    "invalid utf-8": frame(b'{"jsonrpc":"2.0","method":"x\xff\xfe"}'),
    "json array (batch)": frame(
        json.dumps([{"jsonrpc": "2.0", "id": 5, "method": "codestral/status"}]).encode()
    ),
    "json number": frame(b"5"),
    "json string": frame(b'"hello"'),
    "json null": frame(b"null"),
    "no jsonrpc member": encode({"id": 6, "method": "codestral/status", "params": None}),
    "wrong jsonrpc version": encode(
        {"jsonrpc": "1.0", "id": 7, "method": "codestral/status", "params": None}
    ),
    "empty object": frame(b"{}"),
    "non-numeric Content-Length": b"Content-Length: abc\r\n\r\n{}\r\n\r\n",
    "body with no header": b'{"jsonrpc":"2.0","method":"initialized","params":{}}\r\n\r\n',
    "Content-Length too short": b"Content-Length: 5\r\n\r\n"
    + json.dumps({"jsonrpc": "2.0", "id": 8, "method": "codestral/status"}).encode()
    + b"\r\n\r\n",
    "NUL bytes": frame(b"\x00" * 64),
}


async def test_garbage_frames_cause_no_popup_storm_and_the_server_keeps_serving(
    session: Session,
) -> None:
    server, tmp_path = session.server, session.tmp
    for _ in range(3):  # a broken client repeats itself
        for data in GARBAGE_FRAMES.values():
            await server.send_bytes(data)
    await still_serves(server, tmp_path, "garbage")
    # An answer to an unreadable frame can only be an error for id null (JSON-RPC 2.0 §5).
    for msg in server.messages:
        if "method" not in msg and msg.get("id") is None:
            assert "error" in msg, msg
    shown = session.new_popups()
    assert len(shown) <= 1, f"{len(shown)} pop-ups for one broken client: {shown[:3]}"
    assert server.proc.returncode is None


async def test_a_request_without_params_is_answered(session: Session) -> None:
    """JSON-RPC lets a request leave out ``params``; clients do for codestral/status."""
    server = session.server
    await server.send({"jsonrpc": "2.0", "id": "no-params", "method": "codestral/status"})
    answer = await server.response("no-params", timeout=10)
    assert answer.get("result", {}).get("state") == "ready", answer


WRONG_TYPES: dict[str, tuple[str, Any]] = {
    "line is a string": (
        "textDocument/inlineCompletion",
        {**inline_params("file:///x.py", 0, 0), "position": {"line": "a", "character": 0}},
    ),
    "character is null": (
        "textDocument/inlineCompletion",
        {**inline_params("file:///x.py", 0, 0), "position": {"line": 0, "character": None}},
    ),
    "negative line": ("textDocument/inlineCompletion", inline_params("file:///x.py", -1, 0)),
    "negative character": ("textDocument/inlineCompletion", inline_params("file:///x.py", 0, -5)),
    "uri is a number": (
        "textDocument/inlineCompletion",
        {**inline_params("file:///x.py", 0, 0), "textDocument": {"uri": 5}},
    ),
    "no position": (
        "textDocument/inlineCompletion",
        {"textDocument": {"uri": "file:///x.py"}, "context": {"triggerKind": 1}},
    ),
    "params is a list": ("textDocument/inlineCompletion", [1, 2, 3]),
    "params is a string": ("textDocument/completion", "oops"),
    "unknown trigger kind": (
        "textDocument/inlineCompletion",
        {**inline_params("file:///x.py", 0, 0), "context": {"triggerKind": 99}},
    ),
    "line beyond 2**31": (
        "textDocument/completion",
        {
            "textDocument": {"uri": "file:///x.py"},
            "position": {"line": 2**40, "character": 0},
        },
    ),
}


async def test_wrong_types_get_an_error_or_an_empty_result(session: Session) -> None:
    """Each request is answered: InvalidParams, or an empty result where the value still
    makes sense (a number as a URI names no open document)."""
    server, tmp_path = session.server, session.tmp
    await server.open("file:///x.py", GOOD_TEXT)
    sent = {case: await server.request(m, p) for case, (m, p) in WRONG_TYPES.items()}
    deadline = time.monotonic() + 10
    problems = []
    for case, msg_id in sent.items():
        try:
            answer = await server.response(msg_id, timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            problems.append(f"{case}: never answered (the editor would wait forever)")
            continue
        error = answer.get("error")
        if error is not None:
            if error["code"] != INVALID_PARAMS:
                problems.append(f"{case}: {error}")
        elif answer.get("result") not in ({"items": []}, None):
            problems.append(f"{case}: answered {answer['result']}")
    assert not problems, "\n".join(problems)
    await still_serves(server, tmp_path, "types")
    assert session.new_popups() == []


async def test_wrong_types_in_notifications_are_ignored_quietly(session: Session) -> None:
    server, tmp_path = session.server, session.tmp
    uri = (tmp_path / "n.py").as_uri()
    bad: list[tuple[str, Any]] = [
        ("textDocument/didOpen", {"textDocument": {"uri": uri, "text": 5}}),
        ("textDocument/didOpen", {"textDocument": "x"}),
        (
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": "x"},
        ),
        (
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [{"range": {"start": {"line": -1, "character": 0}}, "text": "z"}],
            },
        ),
        ("textDocument/didClose", {}),
        ("workspace/didChangeConfiguration", {"settings": "nope"}),
        ("workspace/didChangeConfiguration", {"settings": {"max_tokens": "many"}}),
        ("$/cancelRequest", {"id": {"nested": True}}),
        ("$/setTrace", {"value": 42}),
    ]
    await server.open(uri, GOOD_TEXT)
    for method, params in bad:
        await server.notify(method, params)
    await still_serves(server, tmp_path, "notifications")
    # The document itself survived the broken changes.
    answer = await server.inline(uri, 1, 11)
    assert [i["insertText"] for i in answer["result"]["items"]] == ["a + b"]
    # One message names the bad setting (the user must fix it); nothing else pops up.
    shown = session.new_popups()
    assert all("max_tokens" in m for m in shown), shown
    assert len(shown) <= 1, shown


async def test_unknown_methods(session: Session) -> None:
    server, tmp_path = session.server, session.tmp
    for method in ("foo/bar", "$/somethingNew", "textDocument/inlineCompletionX"):
        answer = await server.call(method, {})
        assert answer.get("error", {}).get("code") == METHOD_NOT_FOUND, answer
    for method in ("foo/bar", "$/somethingNew"):
        await server.notify(method, {})
    await still_serves(server, tmp_path, "unknown")
    assert session.new_popups() == []


async def test_requests_for_documents_that_are_not_open_answer_empty(session: Session) -> None:
    server, stand, tmp_path = session.server, session.stand, session.tmp
    uri = (tmp_path / "never-opened.py").as_uri()
    answer = await server.inline(uri, 0, 0)
    assert answer["result"] == {"items": []}, answer
    answer = await server.call(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    )
    assert answer["result"]["items"] == [], answer
    await server.open(uri, GOOD_TEXT)
    await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    answer = await server.inline(uri, 1, 11)
    assert answer["result"] == {"items": []}, "a closed document is not served"
    assert stand.requests == []
    await still_serves(server, tmp_path, "unopened")


async def test_positions_past_the_end(session: Session) -> None:
    """Past a line's end means its end (LSP); the suggestion's range must be a real position.
    A line the document does not have gets no suggestion (the editor's copy differs)."""
    server, tmp_path = session.server, session.tmp
    uri = (tmp_path / "p.py").as_uri()
    await server.open(uri, GOOD_TEXT)
    answer = await server.inline(uri, 1, 999)
    for item in answer["result"]["items"]:
        assert item["range"]["start"] == {"line": 1, "character": 11}, item
        assert item["range"]["end"] == item["range"]["start"]
    for line in (3, 99, 2**31 - 1):
        answer = await server.inline(uri, line, 5)
        assert answer["result"] == {"items": []}, (line, answer)
    answer = await server.call(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 99, "character": 0}},
    )
    assert "result" in answer, answer
    # edits with ranges past the end apply at the end, as the positions mean
    await server.change(uri, 2, (50, 0), (60, 3), "# tail\n")
    await server.change(uri, 3, (0, 500), (0, 900), "  # same line")
    await still_serves(server, tmp_path, "past-end")


async def test_binary_content(session: Session) -> None:
    """A file with NUL bytes, control characters and lone surrogates is just text to serve."""
    server, tmp_path = session.server, session.tmp
    uri = (tmp_path / "blob.py").as_uri()
    blob = "\x00\x01\x02\x7f\x1b[31m\ud800 \udfff\x00" * 500 + "\nx = \x00\n"
    await server.open(uri, blob)
    answer = await server.inline(uri, 1, 4)
    assert "result" in answer, answer
    await server.change(uri, 2, (0, 3), (0, 10), "\x00\x00\ufffe\uffff")
    answer = await server.inline(uri, 0, 7)
    assert "result" in answer, answer
    await still_serves(server, tmp_path, "binary")


async def test_a_20_mb_document(session: Session) -> None:
    """Opening, editing and completing in a 20 MB file; memory stays bounded over repeats."""
    server, stand, tmp_path = session.server, session.stand, session.tmp
    line = "    total = total + compute(value, 42)  # some ordinary code\n"
    text = "def big():\n    total = 0\n" + line * (20_000_000 // len(line)) + "    return "
    last = text.count("\n")
    before = rss_kb(server.pid)
    peaks = []
    for round_ in range(3):
        uri = (tmp_path / f"big{round_}.py").as_uri()
        started = time.monotonic()
        await server.open(uri, text)
        await server.change(uri, 2, (last, 11), (last, 11), "t")
        answer = await server.inline(uri, last, 12, timeout=120)
        elapsed = time.monotonic() - started
        assert "result" in answer, answer
        assert elapsed < 60, f"{elapsed:.1f} s for a 20 MB document"
        body = stand.requests[-1].json()
        assert body["prompt"].endswith("    return t")
        assert len(body["prompt"]) < 20_000, "the prompt is budgeted, not the whole file"
        await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await still_serves(server, tmp_path, f"big{round_}")
        peaks.append(rss_kb(server.pid))
    peak = peak_rss_kb(server.pid)
    print(
        f"\n20 MB document: RSS before {before // 1024} MB, after each of 3 rounds "
        f"{[p // 1024 for p in peaks]} MB, peak {peak // 1024} MB"
    )
    assert peak < before + 1_000_000, "over 1 GB more for a 20 MB document"
    assert peaks[2] < peaks[0] + 150_000, f"memory grows with each 20 MB file: {peaks}"


async def test_a_burst_of_1000_inline_requests(session: Session) -> None:
    server, stand, tmp_path = session.server, session.stand, session.tmp
    uri = (tmp_path / "burst.py").as_uri()
    await server.open(uri, GOOD_TEXT)
    before = rss_kb(server.pid)
    started = time.monotonic()
    ids = []
    for n in range(1000):
        ids.append(
            await server.request(
                "textDocument/inlineCompletion", inline_params(uri, 1, 11, invoked=n % 2 == 0)
            )
        )
    answers = [await server.response(i, timeout=120) for i in ids]
    elapsed = time.monotonic() - started
    assert all("result" in a for a in answers), [a for a in answers if "result" not in a][:3]
    assert all(isinstance(a["result"]["items"], list) for a in answers)
    last = answers[-1]["result"]["items"]
    assert [i["insertText"] for i in last] == ["a + b"], "the newest request is answered"
    assert len(stand.requests) < 100, f"{len(stand.requests)} backend calls for one position"
    after = rss_kb(server.pid)
    print(
        f"\n1000-request burst: {elapsed:.1f} s, {len(stand.requests)} backend calls, "
        f"RSS {before // 1024} -> {after // 1024} MB (peak {peak_rss_kb(server.pid) // 1024})"
    )
    assert after < before + 100_000
    await still_serves(server, tmp_path, "burst")


async def test_an_absurd_content_length_does_not_crash_the_server(tmp_path: Path) -> None:
    """pygls reads a frame in one call; a bogus length must not become a MemoryError crash.
    Ending the session cleanly is acceptable (the stream cannot be resynchronised)."""
    async with mistral_session(tmp_path) as (server, _):
        await server.send_bytes(b"Content-Length: 99999999999999\r\n\r\n{}")
        await asyncio.sleep(2)
        assert b"MemoryError" not in server.stderr, server.stderr.decode()[-500:]
        if server.proc.returncode is None:
            assert server.proc.stdin is not None
            server.proc.stdin.close()
            await asyncio.wait_for(server.proc.wait(), 5)
        assert b"Traceback" not in server.stderr, server.stderr.decode()[-800:]


async def test_closed_documents_give_their_memory_back(session: Session) -> None:
    """An editor opens and closes thousands of files over days: nothing may keep a copy of
    each closed file's text (8 files of 6 MB here: a kept copy each would be ~50 MB)."""
    server, tmp_path = session.server, session.tmp
    line = "value = compute(value, 42)  # an ordinary line of code here\n"
    text = line * (6_000_000 // len(line)) + "def add(a, b):\n    return "
    last = text.count("\n")
    readings = []
    for n in range(8):
        uri = (tmp_path / f"file{n}.py").as_uri()
        await server.open(uri, text)
        answer = await server.inline(uri, last, 11, timeout=60)
        assert [i["insertText"] for i in answer["result"]["items"]] == ["a + b"]
        await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await server.call("codestral/status")  # the close has been handled
        readings.append(rss_kb(server.pid))
    print(
        f"\nRSS after each open/complete/close of a 6 MB file: {[r // 1024 for r in readings]} MB"
    )
    assert readings[-1] - readings[1] < 30_000, f"kept closed files: {readings}"

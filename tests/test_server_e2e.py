"""The real codestral-ls over stdio with the real embedded model, as an editor drives it."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from lsp_session import capabilities, inline, insert, lsp_server, open_doc, status, wait_ready

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = (REPO / "examples" / "stats.py").read_text()
HOLE_LINE = 9  # 0-based: the empty body line of mean()
pytestmark = pytest.mark.usefixtures("embedded_model")

# Generous time budget: the tests check behaviour, and a loaded 2-core CI machine is slow.
SLOW_OK = {"timeout_ms": 120_000}
FAST = {"max_tokens": 24, "debounce_ms": 0, **SLOW_OK}


async def test_initialize_advertises_inline_and_completion(tmp_path: Path) -> None:
    async with lsp_server(tmp_path, FAST) as (_, result):
        caps = result.capabilities
        assert caps.inline_completion_provider is not None
        assert caps.completion_provider is not None
        sync = caps.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        assert caps.position_encoding in (None, types.PositionEncodingKind.Utf16)
        assert result.server_info is not None and result.server_info.name == "codestral-ls"


async def test_utf8_is_used_when_the_client_prefers_it(tmp_path: Path) -> None:
    caps = capabilities(encodings=["utf-8", "utf-16"])
    async with lsp_server(tmp_path, FAST, caps) as (_, result):
        assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8


async def test_inline_completion_fills_the_empty_body(tmp_path: Path) -> None:
    uri = (tmp_path / "stats.py").as_uri()
    async with lsp_server(tmp_path, {"max_tokens": 32, **SLOW_OK}) as (client, _):
        open_doc(client, uri, EXAMPLE)
        st = await wait_ready(client)
        assert st["state"] == "ready", st
        items = await inline(client, uri, HOLE_LINE, 4)
        # an explicit request: the best suggestion first, distinct alternatives after it
        assert items and len({i.insert_text for i in items}) == len(items)
        text = items[0].insert_text
        assert isinstance(text, str) and text.strip()
        assert "return" in text
        lines = EXAMPLE.splitlines(keepends=True)
        completed = "".join(lines[:HOLE_LINE]) + "    " + text + "".join(lines[HOLE_LINE:])[4:]
        ast.parse(completed)  # the suggestion makes the file valid Python
        assert items[0].range is not None
        assert items[0].range.start == types.Position(line=HOLE_LINE, character=4)
        # progress was reported while the model loaded, and closed
        kinds = [type(v).__name__ for vals in client.progress_reports.values() for v in vals]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_incremental_edits_and_emoji_positions(tmp_path: Path) -> None:
    uri = (tmp_path / "greet.py").as_uri()
    text = 'def greet(name):\n    return "👋 hello " + \n'
    async with lsp_server(tmp_path, FAST) as (client, _):
        open_doc(client, uri, text)
        assert (await wait_ready(client))["state"] == "ready"
        # the cursor is after '+ ' on line 1: 'return "👋 hello " + ' is 21 UTF-16 units
        insert(client, uri, 2, 1, 23, "n")
        items = await inline(client, uri, 1, 24)
        assert items, "expected a suggestion after the typed 'n'"
        suggestion = items[0].insert_text
        assert isinstance(suggestion, str)
        # the model saw '... + n' and continues the identifier 'name' instead of repeating it
        assert suggestion.startswith("ame"), suggestion


async def test_burst_of_keystrokes_answers_the_last_and_calls_the_model_once(
    tmp_path: Path,
) -> None:
    uri = (tmp_path / "burst.py").as_uri()
    src = "def area(width, height):\n    \n"
    async with lsp_server(tmp_path, {"max_tokens": 16, "debounce_ms": 150, **SLOW_OK}) as (
        client,
        _,
    ):
        open_doc(client, uri, src)
        assert (await wait_ready(client))["state"] == "ready"
        before = (await status(client))["modelCalls"]
        pending = []
        for i, ch in enumerate("return"):
            insert(client, uri, i + 2, 1, 4 + i, ch)
            pending.append(asyncio.ensure_future(inline(client, uri, 1, 5 + i, invoked=False)))
            await asyncio.sleep(0)  # a fast typist: all keys well inside one debounce window
        results = await asyncio.gather(*pending)
        assert all(r == [] for r in results[:-1])
        assert results[-1], "the last request must get the suggestion"
        # "r" waits for a quiet moment and is superseded; "re" types on and is called at once;
        # the keys after it wait for that call (one more only if it wrote something else)
        assert (await status(client))["modelCalls"] <= before + 2


async def test_cancel_request_stops_work_and_the_server_keeps_serving(tmp_path: Path) -> None:
    uri = (tmp_path / "c.py").as_uri()
    async with lsp_server(tmp_path, {"max_tokens": 96, "debounce_ms": 0, **SLOW_OK}) as (client, _):
        open_doc(client, uri, EXAMPLE)
        assert (await wait_ready(client))["state"] == "ready"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=HOLE_LINE, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        future = client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="to-cancel"
        )
        await asyncio.sleep(0.3)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(asyncio.wrap_future(future), 5)
        items = await inline(client, uri, HOLE_LINE, 4)
        assert items and "return" in str(items[0].insert_text)


async def test_completion_item_for_clients_without_inline(tmp_path: Path) -> None:
    uri = (tmp_path / "stats.py").as_uri()
    caps = capabilities(inline=False)
    async with lsp_server(tmp_path, FAST, caps) as (client, _):
        open_doc(client, uri, EXAMPLE)
        assert (await wait_ready(client))["state"] == "ready"
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=HOLE_LINE, character=4),
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        assert isinstance(result, types.CompletionList)
        assert result.is_incomplete
        assert len(result.items) == 1
        edit = result.items[0].text_edit
        assert isinstance(edit, types.TextEdit)
        assert "return" in edit.new_text
        assert edit.range.end == types.Position(line=HOLE_LINE, character=4)
        # this client declares no markdown documentation: the preview is plain code
        doc = result.items[0].documentation
        assert isinstance(doc, str) and "```" not in doc and "return" in doc


async def test_inline_clients_do_not_get_the_item_twice(tmp_path: Path) -> None:
    uri = (tmp_path / "stats.py").as_uri()
    async with lsp_server(tmp_path, FAST) as (client, _):
        open_doc(client, uri, EXAMPLE)
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=HOLE_LINE, character=4),
            )
        )
        assert result is not None and not isinstance(result, list)
        assert list(result.items) == []


async def test_missing_model_is_reported_once_and_the_server_stays_up(tmp_path: Path) -> None:
    uri = (tmp_path / "stats.py").as_uri()
    missing = str(tmp_path / "no-such-model.gguf")
    async with lsp_server(tmp_path, {"model": missing, "debounce_ms": 0, **SLOW_OK}) as (client, _):
        open_doc(client, uri, EXAMPLE)
        st = await wait_ready(client, 30)
        assert st["state"] == "error"
        assert "model file not found" in st["message"]
        for _ in range(5):
            assert await inline(client, uri, HOLE_LINE, 4) == []
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and "no-such-model.gguf" in errors[0].message
        # fixing the setting live brings suggestions back, without a restart
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"codestral": {"model": ""}})
        )
        assert (await wait_ready(client))["state"] == "ready"
        assert await inline(client, uri, HOLE_LINE, 4)


async def test_doctor_request_reports_the_model(tmp_path: Path) -> None:
    async with lsp_server(tmp_path, FAST) as (client, _):
        assert (await wait_ready(client))["state"] == "ready"
        from lsp_session import _plain

        report = _plain(await client.protocol.send_request_async("codestral/doctor", None))
        assert report["version"]
        names = {c["name"]: c for c in report["checks"]}
        assert names["model"]["ok"] and names["generation"]["ok"]

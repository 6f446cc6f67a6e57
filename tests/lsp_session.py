"""Start the real codestral-ls over stdio, the way an editor does, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import server_env

SERVER = str(Path(sys.executable).parent / "codestral-ls")


def capabilities(
    *, inline: bool = True, progress: bool = True, encodings: list[str] | None = None
) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind(e) for e in encodings]
            if encodings
            else None
        ),
        window=types.WindowClientCapabilities(work_done_progress=progress),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline else None,
            completion=types.CompletionClientCapabilities(),
        ),
    )


@contextlib.asynccontextmanager
async def lsp_server(
    tmp_path: Path,
    init_options: dict[str, Any] | None = None,
    caps: types.ClientCapabilities | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[LanguageClient, types.InitializeResult]]:
    config = ClientServerConfig(
        server_command=[SERVER, *args], server_env={**server_env(tmp_path), **(env or {})}
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=caps or capabilities(),
                initialization_options=init_options or {},
                root_uri=tmp_path.as_uri(),
            )
        )
        yield client, result
        await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        # A failed test must not hang on a server that never got 'exit'.
        process = client._server
        if process is not None and process.returncode is None:
            process.kill()
        await client.stop()


async def status(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("codestral/status", None)
    return _plain(result)


async def wait_ready(client: LanguageClient, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        st = await status(client)
        if st["state"] in ("ready", "error") or time.monotonic() > deadline:
            return st
        await asyncio.sleep(0.1)


def _plain(obj: Any) -> Any:
    """pygls gives unknown results as namedtuple-like objects; tests want dicts."""
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def insert(client: LanguageClient, uri: str, version: int, line: int, char: int, text: str) -> None:
    pos = types.Position(line=line, character=char)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=pos, end=pos), text=text
                )
            ],
        )
    )


async def inline(
    client: LanguageClient, uri: str, line: int, char: int, invoked: bool = True
) -> list[types.InlineCompletionItem]:
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=char),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)

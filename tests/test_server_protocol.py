"""The protocol edge itself: what pygls does per message must not accumulate."""

from __future__ import annotations

from lsprotocol import types

from codestral_ls.config import Settings
from codestral_ls.server import create_server


def test_notifications_leave_no_pending_futures_behind() -> None:
    # pygls keeps the future of every generator-based notification handler (didOpen/didChange)
    # forever; over a day of typing that is a steady memory leak (found by benchmarks/soak.py).
    server = create_server(Settings())
    protocol = server.protocol
    uri = "file:///w/a.py"
    protocol._handle_notification(
        types.TEXT_DOCUMENT_DID_OPEN,
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text="")
        ),
    )
    for i in range(200):
        pos = types.Position(line=0, character=i)
        protocol._handle_notification(
            types.TEXT_DOCUMENT_DID_CHANGE,
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=pos, end=pos), text="x"
                    )
                ],
            ),
        )
    doc = server.documents.get(uri)
    assert doc is not None and doc.text == "x" * 200
    assert len(protocol._request_futures) == 0

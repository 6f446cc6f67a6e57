"""The LSP edge: translate requests into engine calls and engine answers into LSP items.

Nothing here decides *what* to suggest; that is the engine's job, so that inline completion and
the completion-item fallback share one debounce, one cache and one clean-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from . import __version__
from .backends import create_backend
from .backends.base import BackendError
from .completion_item import CompletionFormat, completion_format, completion_list
from .config import ConfigError, Settings, lsp_options
from .documents import DocumentStore, PositionError, units
from .engine import CompletionRequest, CompletionResult, Engine, TriggerKind, needs_new_backend
from .logging_setup import ClientLogHandler, register_secret, set_level

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "codestral/status"
STATUS_REQUEST = "codestral/status"
DOCTOR_REQUEST = "codestral/doctor"
#: The cursor rests at a position (params: TextDocumentPositionParams): read the prompt there
#: ahead of the first keystroke. Copilot's language server has ``textDocument/didFocus``.
FOCUS_NOTIFICATION = "codestral/didFocus"
_PROGRESS_TOKEN = "codestral-ls/model"


class _UnreadableRequest:
    """A request whose params do not fit its method: it still gets an answer (an error)."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, method: str) -> None:
        self.id = msg_id
        self.method = method


class _Protocol(LanguageServerProtocol):
    """pygls drops a request it cannot read (wrong types, negative positions, no ``params``)
    without answering, so the editor would wait for it forever."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}  # JSON-RPC allows leaving params out
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if "id" in data and "method" in data:
                return _UnreadableRequest(data["id"], str(data["method"]))
            raise

    # The server keeps its own documents (documents.py). pygls' built-in copy would double the
    # memory and, worse, "clamps" positions past a line's end IN PLACE using its own line rules
    # (str.splitlines: form feeds, U+2028...) before our handler sees them, corrupting edits.
    def _to_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        # pygls files the future of every generator-based notification handler (didOpen,
        # didChange, didClose...) under a fresh id in ``_request_futures`` and never removes it:
        # one Future, Condition and RLock leaked per keystroke (~2 MB a minute of typing in the
        # soak benchmark). Drop the finished ones it added.
        before = set(self._request_futures)
        super()._handle_notification(method_name, params)
        for key in set(self._request_futures) - before:
            future = self._request_futures.get(key)
            if future is not None and future.done():
                del self._request_futures[key]

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _UnreadableRequest):
            error = JsonRpcInvalidParams(f"invalid params for {message.method}")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)


#: Seconds the server may take to leave after ``exit`` before it is ended by force.
EXIT_GRACE_SECONDS = 2.0


class CodestralServer(LanguageServer):
    def __init__(self, base_settings: Settings) -> None:
        super().__init__(
            "codestral-ls",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=_Protocol,
        )
        self.base_settings = base_settings
        self.settings = base_settings
        self.documents = DocumentStore()
        self.engine: Engine | None = None
        self.client_has_inline = False
        self.completion_format = CompletionFormat()
        self._shown_errors: set[str] = set()
        self._progress_open = False
        self._progress_supported = False
        self._engine_started: asyncio.Task[None] | None = None

    def shutdown(self) -> None:
        """End the session without waiting for the stdin reader thread.

        pygls reads stdin on its thread pool and joins that pool here; the reader sits in a
        blocking ``readline`` until the editor closes our stdin, and an editor that waits for
        the process to end before closing it (pygls' own client does) would wait forever.
        The process leaves right after this (cli.py), so nothing is lost by not joining.
        """
        pool = self._thread_pool
        self._thread_pool = None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        super().shutdown()  # type: ignore[no-untyped-call]

    # ---------------------------------------------------------------- engine wiring

    def build_engine(self, settings: Settings) -> Engine:
        try:
            backend = create_backend(settings)
        except BackendError as exc:
            self.show_error_once(exc.user_message)
            raise
        return Engine(
            settings,
            backend,
            documents=self._open_documents,
            on_status=self._on_status,
            on_error=self._on_engine_error,
        )

    def _open_documents(self) -> Iterable[tuple[str, str, str, float]]:
        return ((d.uri, d.language_id, d.text, d.last_edit) for d in self.documents)

    async def start_engine(self) -> None:
        engine = self.engine
        if engine is None:
            return
        await engine.start()
        self._end_progress(engine.status().get("message") or "ready")

    def _on_status(self, status: dict[str, object]) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, status)
        if status["state"] == "loading":
            self._report_progress(str(status["message"]), status.get("progress"))

    def _on_engine_error(self, exc: BackendError) -> None:
        if exc.notify:
            self.show_error_once(exc.user_message)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls pops up every message it cannot read in the editor (hundreds for a broken
        client); that is the client's problem, so log it once per message instead."""
        log.warning("ignored a message that could not be handled: %s", str(error)[:200])

    def show_error_once(self, message: str) -> None:
        """Errors the user must act on are shown once each, never once per keystroke."""
        if message in self._shown_errors:
            return
        self._shown_errors.add(message)
        self.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error, message=f"codestral-ls: {message}"
            )
        )

    # ---------------------------------------------------------------- progress

    def _report_progress(self, message: str, percentage: object) -> None:
        if not self._progress_supported:
            return
        pct = percentage if isinstance(percentage, int) else None
        if not self._progress_open:
            self._progress_open = True
            self.work_done_progress.begin(
                _PROGRESS_TOKEN,
                types.WorkDoneProgressBegin(
                    title="codestral-ls", message=message, percentage=pct, cancellable=False
                ),
            )
        else:
            self.work_done_progress.report(
                _PROGRESS_TOKEN, types.WorkDoneProgressReport(message=message, percentage=pct)
            )

    def _end_progress(self, message: object) -> None:
        if self._progress_open:
            self._progress_open = False
            self.work_done_progress.end(
                _PROGRESS_TOKEN, types.WorkDoneProgressEnd(message=str(message))
            )

    # ---------------------------------------------------------------- settings

    def apply_settings(self, settings: Settings) -> None:
        old = self.settings
        self.settings = settings
        set_level(settings.log_level)
        self._shown_errors.clear()
        engine = self.engine
        if engine is None:
            return
        if needs_new_backend(old, settings):
            self._engine_started = asyncio.ensure_future(self._replace_engine(engine, settings))
        else:
            engine.apply_settings(settings)

    async def _replace_engine(self, old: Engine, settings: Settings) -> None:
        await old.aclose()
        try:
            self.engine = self.build_engine(settings)
        except BackendError:
            self.engine = None
            return
        await self.start_engine()


def create_server(base_settings: Settings) -> CodestralServer:
    server = CodestralServer(base_settings)

    @server.feature(types.INITIALIZE)
    def initialize(ls: CodestralServer, params: types.InitializeParams) -> None:
        ls.documents = DocumentStore(str(ls.workspace.position_encoding or "utf-16"))
        caps = params.capabilities
        ls.client_has_inline = bool(caps.text_document and caps.text_document.inline_completion)
        ls.completion_format = completion_format(caps)
        ls._progress_supported = bool(caps.window and caps.window.work_done_progress)
        settings = ls.base_settings
        if isinstance(params.initialization_options, dict):
            try:
                settings = settings.merged(
                    lsp_options(params.initialization_options), "initializationOptions"
                )
            except ConfigError as exc:
                ls.show_error_once(str(exc))
        ls.settings = settings
        set_level(settings.log_level)
        register_secret(settings.api_key)  # a key from the editor is redacted from logs too
        _log_to_client(ls)
        try:
            ls.engine = ls.build_engine(settings)
        except BackendError:
            ls.engine = None

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodestralServer, params: types.InitializedParams) -> None:
        if ls._progress_supported:
            try:
                await ls.work_done_progress.create_async(_PROGRESS_TOKEN)
            except Exception:  # the client refused the token: no progress, still serve
                ls._progress_supported = False
        ls._engine_started = asyncio.ensure_future(ls.start_engine())

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: CodestralServer, params: None) -> None:
        if ls.engine is not None:
            await ls.engine.aclose()

    @server.feature(types.EXIT)
    def exit_(ls: CodestralServer, params: None) -> None:
        # pygls ends the session by closing stdout and raising SystemExit once that is done; a
        # client that no longer reads our output (pygls' own client stops reading once it has
        # sent exit) can leave that close waiting forever. Exit means exit: leave within 2 s.
        code = 0 if ls.protocol._shutdown else 1
        log.debug("exit: leaving within %.0f s", EXIT_GRACE_SECONDS)
        timer = threading.Timer(EXIT_GRACE_SECONDS, os._exit, (code,))
        timer.daemon = True
        timer.start()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodestralServer, params: types.DidOpenTextDocumentParams) -> None:
        d = params.text_document
        ls.documents.open(d.uri, d.language_id, d.version, d.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodestralServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                span = (r.start.line, r.start.character, r.end.line, r.end.character)
                try:
                    doc.apply_change(change.text, span)
                except PositionError as exc:
                    log.warning("ignored a change with an invalid range: %s", exc)
            else:
                doc.apply_change(change.text, None)
        doc.version = params.text_document.version

    @server.feature(FOCUS_NOTIFICATION)
    def did_focus(ls: CodestralServer, params: Any) -> None:
        try:
            uri = str(params.textDocument.uri)
            line, character = int(params.position.line), int(params.position.character)
        except (AttributeError, TypeError, ValueError):
            log.warning("ignored %s without a text document and position", FOCUS_NOTIFICATION)
            return
        doc = ls.documents.get(uri)
        if doc is None or ls.engine is None or not 0 <= line < len(doc.line_starts()):
            return
        try:
            offset = doc.offset_at(line, max(character, 0))
        except PositionError:
            return
        ls.engine.focus(
            CompletionRequest(
                uri=uri,
                text=doc.text,
                offset=offset,
                language=doc.language_id,
                path=_display_path(uri),
            )
        )

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodestralServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.close(params.text_document.uri)
        if ls.engine is not None:
            ls.engine.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: CodestralServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if not isinstance(params.settings, dict):
            return
        try:
            new = ls.settings.merged(
                lsp_options(params.settings), "workspace/didChangeConfiguration"
            )
        except ConfigError as exc:
            ls.show_error_once(str(exc))
            return
        register_secret(new.api_key)
        ls.apply_settings(new)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: CodestralServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        trigger = (
            TriggerKind.INVOKED
            if params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
            else TriggerKind.AUTOMATIC
        )
        doc = ls.documents.get(params.text_document.uri)
        pos = params.position
        if doc is not None and 0 <= pos.line < len(doc.line_starts()):
            # the range is where the suggestion goes: a cursor past the end of its line is there
            line, character = doc.position_at(doc.offset_at(pos.line, max(pos.character, 0)))
            pos = types.Position(line=line, character=character)
        answer = await _complete(ls, params.text_document.uri, params.position, trigger)
        if answer is None or not answer.text:
            return types.InlineCompletionList(items=[])
        cursor = types.Range(start=pos, end=pos)
        # An explicit request (or the editor's "next suggestion") gets the alternatives too.
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(insert_text=text, range=cursor)
                for text in (answer.text, *answer.alternatives)
            ]
        )

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: CodestralServer, params: types.CompletionParams
    ) -> types.CompletionList:
        mode = ls.settings.completion_item
        if mode == "never" or (mode == "auto" and ls.client_has_inline):
            return types.CompletionList(is_incomplete=False, items=[])
        invoked = params.context is not None and (
            params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        )
        trigger = TriggerKind.INVOKED if invoked else TriggerKind.AUTOMATIC
        answer = await _complete(ls, params.text_document.uri, params.position, trigger)
        doc = ls.documents.get(params.text_document.uri)
        if answer is None or not answer.text or doc is None:
            return types.CompletionList(is_incomplete=True, items=[])
        line = params.position.line
        start, end = doc.line_span(min(line, len(doc.line_starts()) - 1))
        offset = doc.offset_at(params.position.line, params.position.character)
        line_text = doc.text[start:end]
        encoding = doc.encoding
        return completion_list(
            answer.text,
            line_text=line_text,
            cursor_char=max(0, offset - start),
            line=line,
            language=doc.language_id,
            encoding_units=lambda s: units(s, encoding),
            adjust_indentation=ls.completion_format.adjust_indentation,
            markdown=ls.completion_format.markdown,
        )

    @server.feature(STATUS_REQUEST)
    def status(ls: CodestralServer, params: Any) -> dict[str, object]:
        if ls.engine is None:
            return {
                "state": "error",
                "backend": ls.settings.backend,
                "model": "",
                "message": "backend not configured",
                "progress": None,
                "lastLatencyMs": None,
            }
        return ls.engine.status()

    @server.feature(DOCTOR_REQUEST)
    async def doctor(ls: CodestralServer, params: Any) -> dict[str, object]:
        checks: list[dict[str, object]] = []
        if ls.engine is None:
            checks.append({"name": "backend", "ok": False, "detail": "not configured"})
        else:
            try:
                for check in await ls.engine.backend.doctor():
                    checks.append({"name": check.name, "ok": check.ok, "detail": check.detail})
            except BackendError as exc:
                checks.append({"name": "backend", "ok": False, "detail": exc.user_message})
        return {"version": __version__, "checks": checks}

    return server


async def _complete(
    ls: CodestralServer, uri: str, position: types.Position, trigger: TriggerKind
) -> CompletionResult | None:
    doc = ls.documents.get(uri)
    if doc is None or ls.engine is None:
        return None
    if position.line >= len(doc.line_starts()):
        return None  # a line the document does not have: the editor's copy differs from ours
    try:
        offset = doc.offset_at(position.line, position.character)
    except PositionError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    request = CompletionRequest(
        uri=uri,
        text=doc.text,
        offset=offset,
        language=doc.language_id,
        trigger=trigger,
        path=_display_path(uri),
    )
    result = await ls.engine.complete(request)
    log.debug("completion %s in %.0f ms (%s)", result.source, result.latency_ms, result.reason)
    return result


_LOG_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def _log_to_client(ls: CodestralServer) -> None:
    """Our log records also go to the editor's log channel (window/logMessage), redacted.
    Records can come from the model thread, so sending is handed to the event loop."""
    loop = asyncio.get_event_loop()

    def send(level: int, text: str) -> None:
        params = types.LogMessageParams(
            type=_LOG_TYPES.get(level, types.MessageType.Log), message=text
        )
        loop.call_soon_threadsafe(ls.window_log_message, params)

    root = logging.getLogger()
    if not any(isinstance(h, ClientLogHandler) for h in root.handlers):
        root.addHandler(ClientLogHandler(send, logging.INFO))


def _display_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).name and unquote(parsed.path)
    return uri

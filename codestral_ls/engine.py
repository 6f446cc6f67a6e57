"""The completion engine: from (document, cursor) to a cleaned suggestion, at keystroke speed.

The model is single-threaded and slow, so the engine's job is mostly deciding *not* to call it:
type-through and the cache answer at once, a debounce collapses bursts, and every new request
supersedes (cancels) the one in flight, because a suggestion for a position the user has typed
past is worthless. The LSP edge (server.py) only translates to and from this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .backends.base import Backend, BackendError, BackendNotReady, ContextSnippet, FimRequest
from .cleanup import CleanupContext, answer_complete, clean
from .config import Settings
from .context import snippets_for
from .exclusion import Exclusion
from .modes import Mode, choose_mode
from .suggestion_cache import SuggestionCache, TypeThrough
from .windows import build_window

log = logging.getLogger(__name__)

#: (uri, language id, text, monotonic time of the last edit) of every open document.
DocumentsProvider = Callable[[], Iterable[tuple[str, str, str, float]]]


class TriggerKind(enum.Enum):
    INVOKED = 1
    AUTOMATIC = 2


@dataclass(frozen=True)
class CompletionRequest:
    uri: str
    text: str
    offset: int
    language: str
    trigger: TriggerKind = TriggerKind.AUTOMATIC
    path: str = ""


@dataclass(frozen=True)
class CompletionResult:
    text: str
    source: str  # "model" | "cache" | "typethrough" | "none"
    latency_ms: float
    reason: str = ""

    @staticmethod
    def empty(reason: str, started: float) -> CompletionResult:
        return CompletionResult("", "none", (time.monotonic() - started) * 1000, reason)


class Superseded(Exception):
    """A newer request took over; the older one answers empty."""


class Engine:
    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        documents: DocumentsProvider | None = None,
        on_status: Callable[[dict[str, object]], None] | None = None,
        on_error: Callable[[BackendError], None] | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self._documents = documents
        self._on_status = on_status
        self._on_error = on_error
        self._exclusion = Exclusion(settings.exclude)
        self._cache = SuggestionCache(settings.cache_entries)
        self._typethrough = TypeThrough()
        self._generation = 0
        self._inflight: asyncio.Task[str] | None = None
        self._model_lock = asyncio.Lock()
        self._state = "loading"
        self._message = ""
        self._progress: int | None = None
        self.last_latency_ms: float | None = None
        self.model_calls = 0

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Prepare the backend; failures become an 'error' status and a user message."""
        self._set_status("loading", "starting", None)
        try:
            await self.backend.start(self._report_progress)
        except BackendError as exc:
            self._set_status("error", exc.user_message, None)
            if self._on_error:
                self._on_error(exc)
            return
        self._set_status("ready", "", None)

    async def aclose(self) -> None:
        if self._inflight and not self._inflight.done():
            self._inflight.cancel()
        await self.backend.aclose()

    @property
    def ready(self) -> bool:
        return self._state in ("ready", "working")

    def status(self) -> dict[str, object]:
        info = self.backend.info
        state = self._state if self.settings.enabled else "disabled"
        return {
            "state": state,
            "backend": info.backend,
            "model": info.model,
            "message": self._message,
            "progress": self._progress,
            "lastLatencyMs": None if self.last_latency_ms is None else round(self.last_latency_ms),
        }

    def _report_progress(self, message: str, percentage: int | None) -> None:
        self._set_status("loading", message, percentage)

    def _set_status(self, state: str, message: str, progress: int | None) -> None:
        changed = (state, message, progress) != (self._state, self._message, self._progress)
        self._state, self._message, self._progress = state, message, progress
        if changed and self._on_status:
            self._on_status(self.status())

    # ----------------------------------------------------------------- requests

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Answer one request; never raises for backend trouble (answers empty instead)."""
        started = time.monotonic()
        self._generation += 1
        generation = self._generation
        if self._inflight and not self._inflight.done():
            self._inflight.cancel()  # supersede: the model thread stops at its next token
        settings = self.settings
        if not settings.enabled:
            return CompletionResult.empty("disabled", started)
        if request.language in settings.disabled_languages:
            return CompletionResult.empty("language disabled", started)
        if self._exclusion.excludes(request.path or request.uri):
            return CompletionResult.empty("excluded file", started)
        offset = max(0, min(request.offset, len(request.text)))
        prefix_all = request.text[:offset]
        suffix_all = request.text[offset:]

        served = self._typethrough.serve(request.uri, prefix_all, suffix_all)
        if served is not None:
            return self._finish(CompletionResult(served, "typethrough", _ms(started)))

        mode = choose_mode(prefix_all, suffix_all, request.language)
        if mode is Mode.NONE:
            return CompletionResult.empty("no suggestion at this position", started)
        if not self.ready:
            return CompletionResult.empty("model not ready", started)

        count = self.backend.count_tokens
        window = build_window(
            request.text, offset, settings.prefix_tokens, settings.suffix_tokens, count
        )
        context: tuple[ContextSnippet, ...] = ()
        if settings.context_tokens > 0 and self._documents is not None:
            context = snippets_for(
                request.uri, request.language, self._documents(), settings.context_tokens, count
            )
        fim = FimRequest(
            prefix=window.prefix,
            suffix=window.suffix,
            language=request.language,
            path=request.path,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            context=context,
        )
        key = self._cache.key(self.backend.info, fim, mode)
        cached = self._cache.get(key)
        if cached is not None:
            self._typethrough.remember(request.uri, prefix_all, suffix_all, cached)
            return self._finish(CompletionResult(cached, "cache", _ms(started)))

        if request.trigger is TriggerKind.AUTOMATIC and settings.debounce_ms > 0:
            await asyncio.sleep(settings.debounce_ms / 1000)
            if generation != self._generation:
                return CompletionResult.empty("superseded", started)

        task = asyncio.ensure_future(self._generate(fim, mode, prefix_all, suffix_all, generation))
        self._inflight = task
        try:
            text = await task
        except asyncio.CancelledError:
            if task.cancelled() and not _current_task_cancelling():
                return CompletionResult.empty("superseded", started)
            task.cancel()
            raise
        except BackendNotReady:
            return CompletionResult.empty("model not ready", started)
        except BackendError as exc:
            log.warning("backend error: %s", exc.user_message)
            if self._on_error:
                self._on_error(exc)
            return CompletionResult.empty(exc.user_message, started)
        finally:
            if self._inflight is task:
                self._inflight = None
                if self._state == "working":
                    self._set_status("ready", "", None)
        self._cache.put(key, text)
        if text:
            self._typethrough.remember(request.uri, prefix_all, suffix_all, text)
        return self._finish(CompletionResult(text, "model", _ms(started)))

    async def _generate(
        self, fim: FimRequest, mode: Mode, prefix_all: str, suffix_all: str, generation: int
    ) -> str:
        ctx = CleanupContext(
            prefix=prefix_all[-4000:],
            suffix=suffix_all[:4000],
            language=fim.language,
            mode=mode,
            special_tokens=self._special_tokens(),
        )
        async with self._model_lock:
            if generation != self._generation:
                raise asyncio.CancelledError
            self._set_status("working", "", None)
            self.model_calls += 1
            deadline = time.monotonic() + self.settings.timeout_ms / 1000
            raw = ""
            pieces = self.backend.stream(fim)
            try:
                async for piece in pieces:
                    raw += piece
                    if answer_complete(raw, ctx) or time.monotonic() > deadline:
                        break
            finally:
                await pieces.aclose()  # type: ignore[attr-defined]
        return clean(raw, ctx)

    def _special_tokens(self) -> tuple[str, ...]:
        template = self.backend.info.template
        if not template:
            return ()
        from fim import get_template

        with contextlib.suppress(ValueError):
            return tuple(get_template(template).special_tokens)
        return ()

    def _finish(self, result: CompletionResult) -> CompletionResult:
        if result.source == "model":
            self.last_latency_ms = result.latency_ms
            if self._on_status:
                self._on_status(self.status())
        return result

    # ----------------------------------------------------------------- settings

    def apply_settings(self, settings: Settings) -> None:
        """Live changes that need no new backend (the server recreates it otherwise)."""
        self.settings = settings
        self._exclusion = Exclusion(settings.exclude)
        if self._on_status:
            self._on_status(self.status())


BACKEND_KEYS = (
    "backend",
    "model",
    "template",
    "n_ctx",
    "n_threads",
    "n_gpu_layers",
    "api_base",
    "api_key",
    "remote_model",
    "raw_prompt",
    "connect_timeout_ms",
    "request_timeout_ms",
    "allow_insecure_http",
)


def needs_new_backend(old: Settings, new: Settings) -> bool:
    return any(getattr(old, k) != getattr(new, k) for k in BACKEND_KEYS)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())

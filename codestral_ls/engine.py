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

from .backends.base import (
    Backend,
    BackendError,
    BackendNotReady,
    ContextSnippet,
    FimRequest,
    SupportsPrefill,
)
from .cleanup import CleanupContext, answer_complete, clean
from .config import Settings
from .context import snippets_for
from .exclusion import Exclusion
from .modes import Mode, choose_mode
from .suggestion_cache import SuggestionCache, TypeThrough
from .windows import build_window, heal_prefix, unheal

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
        self._inflight_for: tuple[str, int, str] | None = None
        self._model_lock = asyncio.Lock()
        self._state = "loading"
        self._message = ""
        self._progress: int | None = None
        self.last_latency_ms: float | None = None
        #: Milliseconds from the start of the last model call to its first piece of text.
        self.last_first_token_ms: float | None = None
        self.counters = {
            "requests": 0,
            "modelCalls": 0,
            "cacheHits": 0,
            "typeThroughHits": 0,
            "prefills": 0,
        }
        self._prefill: asyncio.Future[None] | None = None
        self._prefill_next: FimRequest | None = None
        self._debounce = AdaptiveDebounce()

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
    def model_calls(self) -> int:
        return self.counters["modelCalls"]

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
            "lastFirstTokenMs": (
                None if self.last_first_token_ms is None else round(self.last_first_token_ms)
            ),
            **self.counters,
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
        self.counters["requests"] += 1
        inflight = self._inflight
        if inflight and not inflight.done():
            if self._inflight_for == (request.uri, request.offset, request.text):
                # The same question again (an editor retrying after its own timeout): wait for
                # the answer being generated instead of starting over.
                return await self._join(inflight, started)
            inflight.cancel()  # supersede: the model thread stops at its next token
        self._generation += 1
        generation = self._generation
        self._debounce.keystroke(started)
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

        if settings.type_through:
            served = self._typethrough.serve(request.uri, prefix_all, suffix_all)
            if served is not None:
                self.counters["typeThroughHits"] += 1
                return self._finish(CompletionResult(served, "typethrough", _ms(started)))

        mode = choose_mode(prefix_all, suffix_all, request.language)
        if mode is Mode.NONE:
            return CompletionResult.empty("no suggestion at this position", started)
        if not self.ready:
            return CompletionResult.empty("model not ready", started)

        fim, healed = self._build_request(request, offset, mode)
        key = self._cache.key(self.backend.info, fim, mode)
        cached = self._cache.get(key) if settings.cache_entries else None
        if cached is not None:
            self.counters["cacheHits"] += 1
            self._remember(request.uri, prefix_all, suffix_all, cached)
            return self._finish(CompletionResult(cached, "cache", _ms(started)))

        if request.trigger is TriggerKind.AUTOMATIC and settings.debounce_ms > 0:
            self._start_prefill(fim)
            await asyncio.sleep(self._debounce.delay(settings.debounce_ms))
            if generation != self._generation:
                return CompletionResult.empty("superseded", started)

        ctx = CleanupContext(
            prefix=prefix_all[-4000:],
            suffix=suffix_all[:4000],
            language=request.language,
            mode=mode,
            special_tokens=self._special_tokens(),
        )
        task = asyncio.ensure_future(self._generate(fim, ctx, healed, generation))
        self._inflight = task
        self._inflight_for = (request.uri, request.offset, request.text)
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
            # Transient trouble (timeouts, rate limits, an open circuit) is logged once by the
            # backend itself; repeating it per keystroke would flood the log.
            log.log(
                logging.WARNING if exc.notify else logging.DEBUG, "backend: %s", exc.user_message
            )
            if self._on_error:
                self._on_error(exc)
            return CompletionResult.empty(exc.user_message, started)
        finally:
            if self._inflight is task:
                self._inflight = None
                self._inflight_for = None
                if self._state == "working":
                    self._set_status("ready", "", None)
        if settings.cache_entries:
            self._cache.put(key, text)
        self._remember(request.uri, prefix_all, suffix_all, text)
        result = CompletionResult(text, "model", _ms(started))
        self._debounce.model_latency(result.latency_ms / 1000)
        return self._finish(result)

    async def _join(self, task: asyncio.Task[str], started: float) -> CompletionResult:
        try:
            text = await asyncio.shield(task)
        except asyncio.CancelledError:
            if _current_task_cancelling():
                raise
            return CompletionResult.empty("superseded", started)
        except BackendError as exc:
            return CompletionResult.empty(exc.user_message, started)
        return self._finish(CompletionResult(text, "model", _ms(started)))

    def _build_request(
        self, request: CompletionRequest, offset: int, mode: Mode
    ) -> tuple[FimRequest, str]:
        """The prompt for this position, in the layout the policy picks (see ``choose_layout``)."""
        settings = self.settings
        count = self.backend.count_tokens
        layout = choose_layout(settings.layout, request.text, offset, mode)
        suffix_budget = settings.suffix_tokens if layout == "psm" else 0
        window = build_window(
            request.text, offset, settings.prefix_tokens, suffix_budget, count, settings.window_grid
        )
        prefix, healed = heal_prefix(window.prefix)
        context: tuple[ContextSnippet, ...] = ()
        if settings.context_tokens > 0 and self._documents is not None:
            # excluded files never travel, not even as another file's context
            shareable = (d for d in self._documents() if not self._exclusion.excludes(d[0]))
            context = snippets_for(
                request.uri, request.language, shareable, settings.context_tokens, count
            )
        fim = FimRequest(
            prefix=prefix,
            suffix=window.suffix,
            language=request.language,
            path=request.path,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            context=context,
        )
        return fim, healed

    def _start_prefill(self, fim: FimRequest) -> None:
        """Use the debounce wait to evaluate the changed tokens (see ``SupportsPrefill``).

        One prefill runs at a time (the model thread is single); a keystroke that arrives while
        one runs leaves its prompt as the next to do, replacing any older one, so after a burst
        the prompt of the last keystroke is the one in the KV cache when the debounce ends.
        """
        backend = self.backend
        if not isinstance(backend, SupportsPrefill):
            return
        self._prefill_next = fim
        if self._prefill is not None and not self._prefill.done():
            return

        async def run() -> None:
            while (wanted := self._prefill_next) is not None:
                self._prefill_next = None
                if self._model_lock.locked():
                    return  # a generation owns the model and brings the cache up to date
                try:
                    if await backend.prefill(wanted):
                        self.counters["prefills"] += 1
                except Exception as exc:  # a failed prefill only costs the head start
                    log.debug("prefill failed: %s", exc)

        self._prefill = asyncio.ensure_future(run())

    def _remember(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        if text and self.settings.type_through:
            self._typethrough.remember(uri, prefix, suffix, text)

    async def _generate(
        self, fim: FimRequest, ctx: CleanupContext, healed: str, generation: int
    ) -> str:
        async with self._model_lock:
            if generation != self._generation:
                raise asyncio.CancelledError
            self._set_status("working", "", None)
            self.counters["modelCalls"] += 1
            called = time.monotonic()
            deadline = called + self.settings.timeout_ms / 1000
            first: float | None = None
            raw = ""
            complete = False
            pieces = self.backend.stream(fim)
            try:
                async for piece in pieces:
                    if first is None:
                        first = time.monotonic()
                        self.last_first_token_ms = (first - called) * 1000
                    raw += piece
                    complete = answer_complete(unheal(raw, healed), ctx)
                    if complete or time.monotonic() > deadline:
                        break
            finally:
                await pieces.aclose()  # type: ignore[attr-defined]
            # One line per model call, the figures the latency benchmark reads (ms from the call:
            # the debounce wait is not in them).
            log.debug(
                "model call: first token %s ms, done %.0f ms, %d chars, %s%s",
                "-" if first is None else f"{(first - called) * 1000:.0f}",
                (time.monotonic() - called) * 1000,
                len(raw),
                ctx.mode.name.lower(),
                ", complete" if complete else "",
            )
        text = unheal(raw, healed)
        # Only the local backend counts tokens exactly; a remote estimate must not pass a
        # complete answer off as cut short.
        hit_max = self.backend.info.backend == "local" and (
            self.backend.count_tokens(raw) >= fim.max_tokens - 1
        )
        cut_short = time.monotonic() > deadline or hit_max
        if not complete and cut_short and ctx.mode in (Mode.BLOCK, Mode.GAP):
            # Stopped by max_tokens or the time budget: never insert a half-written last line.
            body = text.rstrip("\n")
            text = body[: body.rfind("\n") + 1] if "\n" in body else text
        return clean(text, ctx)

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

    def forget(self, uri: str) -> None:
        """The document closed: drop what was kept for it (type-through holds its whole text)."""
        self._typethrough.forget(uri)

    # ----------------------------------------------------------------- settings

    def apply_settings(self, settings: Settings) -> None:
        """Live changes that need no new backend (the server recreates it otherwise)."""
        self.settings = settings
        self._exclusion = Exclusion(settings.exclude)
        if self._on_status:
            self._on_status(self.status())


LOCAL_KEYS = ("model", "template", "n_ctx", "n_threads", "n_gpu_layers")
REMOTE_KEYS = (
    "template",
    "api_base",
    "api_key",
    "remote_model",
    "raw_prompt",
    "connect_timeout_ms",
    "request_timeout_ms",
    "allow_insecure_http",
)


def needs_new_backend(old: Settings, new: Settings) -> bool:
    """Only keys the backend was built from force a rebuild (an API key never reloads a model)."""
    if old.backend != new.backend:
        return True
    keys = LOCAL_KEYS if new.backend == "local" else REMOTE_KEYS
    return any(getattr(old, k) != getattr(new, k) for k in keys)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())


def choose_layout(setting: str, text: str, offset: int, mode: Mode) -> str:
    """Which exact prompt layout to use for this request.

    ``prefix_only`` costs a few tokens after a keystroke (only the end of the prompt changed);
    ``psm`` must re-evaluate the whole suffix, because for PSM-trained models every suffix token
    sits after the edited prefix. The suffix is worth that only where it shapes the answer: text
    to the right of the cursor on its line (fill it exactly) and a gap between lines of code
    (the answer must lead back to the code after it). Finishing a line and writing a new block
    are measured at least as good without the suffix (docs/quality.md); the clean-up still sees
    the whole document, so it still trims any overlap with the code after the cursor.
    """
    if setting != "auto":
        return setting
    if mode is Mode.GAP:
        return "psm"
    end = text.find("\n", offset)
    rest_of_line = text[offset : len(text) if end < 0 else end]
    before = text[text.rfind("\n", 0, offset) + 1 : offset]
    if rest_of_line.strip() and before.strip():
        return "psm"
    return "prefix_only"


class AdaptiveDebounce:
    """How long to wait after a keystroke before calling the model.

    A burst must collapse into one call, so the wait follows the user's own typing rhythm
    (1.5x the recent gap between keystrokes, gaps over a second being pauses, not typing); a slow
    backend makes each wasted call dearer, so 5 % of its recent latency is added. The result
    stays within 75-300 ms (the range leading tools use), or up to ``debounce_ms`` if set higher.
    """

    def __init__(self) -> None:
        self._last: float | None = None
        self._gap = 0.0
        self._latency = 0.0

    def keystroke(self, now: float) -> None:
        if self._last is not None:
            gap = now - self._last
            if gap < 1.0:
                self._gap = gap if self._gap == 0 else 0.7 * self._gap + 0.3 * gap
        self._last = now

    def model_latency(self, seconds: float) -> None:
        self._latency = seconds if self._latency == 0 else 0.7 * self._latency + 0.3 * seconds

    def delay(self, base_ms: int) -> float:
        base = base_ms / 1000
        wanted = max(base, 1.5 * self._gap) + 0.05 * self._latency
        return min(max(wanted, min(base, 0.075)), max(0.3, base))

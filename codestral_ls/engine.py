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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from cachetools import LRUCache

from .anchors import Anchors
from .backends.base import (
    Backend,
    BackendError,
    BackendNotReady,
    ContextSnippet,
    FimRequest,
    ReadsPrompts,
    SupportsPrefill,
)
from .cleanup import CleanupContext, answer_complete, clean, cut_loop, open_word
from .config import Settings
from .context import snippets_for
from .exclusion import Exclusion
from .inflight import State, Watch, typed_since
from .languages import block_family
from .modes import Mode, choose_mode, indent_width, opens_block, rules_for, split_cursor_line
from .suggestion_cache import StateAnswers, SuggestionCache, TypeThrough, rest_after
from .window_plan import WindowSize, budget_tokens, candidates
from .windows import build_window, heal_prefix, unheal

log = logging.getLogger(__name__)
#: Characters each side of the cursor the clean-up reads (the model's window is cut apart).
_CLEANUP_CHARS = 4000

#: An explicit request may read this many times ``eval_budget_ms`` of prompt.
EXPLICIT_READING_FACTOR = 2

#: (uri, language id, text, monotonic time of the last edit) of every open document.
DocumentsProvider = Callable[[], Iterable[tuple[str, str, str, float]]]


#: Sampling temperature of alternatives from backends that cannot branch (remote APIs).
ALTERNATIVE_TEMPERATURE = 0.7
#: Further answers tried where nothing is no answer and the clean-up dropped the best one.
RETRY_BRANCHES = 2
#: Seconds a request made while the model loads waits for it (within the request's life: a
#: newer request or the client's cancel ends the wait sooner).
LOAD_WAIT_SECONDS = 120.0


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
    #: Further distinct suggestions, best first, for an explicit request (``candidates``).
    alternatives: tuple[str, ...] = ()

    @staticmethod
    def empty(reason: str, started: float) -> CompletionResult:
        return CompletionResult("", "none", (time.monotonic() - started) * 1000, reason)


class Superseded(Exception):
    """A newer request took over; the older one answers empty."""


@dataclass(frozen=True)
class _Plan:
    """The prompt for one request, and what to read in the background after it."""

    fim: FimRequest
    healed: str
    key: str
    #: The full window, when ``fim`` is a smaller one chosen to answer in time.
    full: FimRequest | None = None
    #: Where the prompt's middle starts (``anchors.py``), when the prompt has one.
    anchor: int | None = None


@dataclass(frozen=True)
class _Answer:
    text: str
    #: The model ended the answer itself (stop token or a complete clean-up unit), rather than
    #: a budget, ``max_tokens`` or a cancel: only such answers are cached.
    finished: bool
    alternatives: tuple[str, ...] = ()
    #: The model wrote something (not stopped by a budget or by typing) and the clean-up
    #: dropped all of it.
    dropped: bool = False
    #: The alternative first token the answer started from (``FimRequest.branch``).
    branch: int = 0
    #: Monotonic time of the model's first token, when it wrote one.
    first_token: float | None = None


#: A unit of background work; it runs holding the model lock and may be cancelled any time.
_Job = Callable[[], Awaitable[None]]


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
        self._inflight: asyncio.Task[_Answer] | None = None
        self._inflight_for: State | None = None
        #: Set while the call under way may still serve requests typed after it (``inflight``).
        self._inflight_watch: Watch | None = None
        self._riders = 0
        self._last_state: State | None = None
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
            "warms": 0,
            "speculations": 0,
            "speculationHits": 0,
            "candidateCalls": 0,
            "retryCalls": 0,
            "inflightHits": 0,
            "inflightStops": 0,
        }
        self._prefill: asyncio.Future[None] | None = None
        self._prefill_next: FimRequest | None = None
        self._debounce = AdaptiveDebounce()
        self._speculated = StateAnswers()
        self._anchors = Anchors()
        #: Alternatives already generated for a prompt (cycling through them is free).
        self._alternatives: LRUCache[str, tuple[str, ...]] = LRUCache(maxsize=64)
        #: Set once the backend is ready or has failed: requests made while loading wait on it.
        self._settled = asyncio.Event()
        self._background: asyncio.Task[None] | None = None
        self._jobs: list[_Job] = []

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Prepare the backend; failures become an 'error' status and a user message."""
        self._set_status("loading", "starting", None)
        try:
            await self.backend.start(self._report_progress)
        except BackendError as exc:
            self._set_status("error", exc.user_message, None)
            self._settled.set()
            if self._on_error:
                self._on_error(exc)
            return
        self._set_status("ready", "", None)
        self._settled.set()

    async def aclose(self) -> None:
        if self._inflight and not self._inflight.done():
            self._inflight.cancel()
        self._jobs = []
        self.pause_background()
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
        state: State = (request.uri, request.offset, request.text)
        inflight = self._inflight
        typed_on = None  # typed since the state of a call under way that may still serve it
        if inflight and not inflight.done():
            if self._inflight_for == state:
                # The same question again (an editor retrying after its own timeout): wait for
                # the answer being generated instead of starting over.
                return await self._join(inflight, started)
            if self._inflight_watch is not None and request.trigger is TriggerKind.AUTOMATIC:
                typed_on = typed_since(self._inflight_for, state)
            if typed_on is None:
                inflight.cancel()  # supersede: the model thread stops at its next token
        # Typing on at the cursor (forward, no deletion or move): see ``inflight.py``.
        forward = typed_since(self._last_state, state) is not None
        self._last_state = state
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

        # An explicit request where a suggestion is shown asks for the others ("next").
        wants_more = request.trigger is TriggerKind.INVOKED and settings.candidates > 1
        if settings.type_through and not wants_more:
            served = self._typethrough.serve(request.uri, prefix_all, suffix_all)
            if served is not None:
                self.counters["typeThroughHits"] += 1
                self.resume_background()
                return self._finish(CompletionResult(served, "typethrough", _ms(started)))
        ahead = self._speculated.get(request.uri, prefix_all, suffix_all)
        if ahead is not None and (ahead or request.trigger is TriggerKind.AUTOMATIC):
            self.counters["speculationHits"] += 1
            self._remember(request.uri, prefix_all, suffix_all, ahead)
            self._after_answer(request, offset, ahead, None)
            return self._finish(CompletionResult(ahead, "speculation", _ms(started)))

        if inflight is not None and typed_on is not None:
            rest = await self._ride(inflight, typed_on)
            if generation != self._generation:
                return CompletionResult.empty("superseded", started)
            if rest is not None:
                self.counters["inflightHits"] += 1
                self._remember(request.uri, prefix_all, suffix_all, rest)
                self._after_answer(request, offset, rest, None)
                return self._finish(CompletionResult(rest, "inflight", _ms(started)))

        mode = choose_mode(prefix_all, suffix_all, request.language)
        if mode is Mode.NONE:
            return CompletionResult.empty("no suggestion at this position", started)
        if not self.ready:
            if self._state == "loading":
                # The first keystroke's suggestion comes when the model is ready, without
                # another keystroke; a newer request (or the client's cancel) ends the wait.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._settled.wait(), LOAD_WAIT_SECONDS)
                if generation != self._generation:
                    return CompletionResult.empty("superseded", started)
            if not self.ready:
                return CompletionResult.empty("model not ready", started)

        plan = self._plan(request, offset, mode)
        self._keep_anchor(request, plan)
        cached = self._cache.get(plan.key) if settings.cache_entries else None
        invoked = request.trigger is TriggerKind.INVOKED
        # An explicit request never settles for a remembered "nothing", and gets alternatives.
        more = settings.candidates - 1 if invoked else 0
        known = None
        if cached is not None and (cached or not invoked):
            # () when alternatives were looked for and none differed: not asked again.
            known_alternatives = self._alternatives.get(plan.key) if more and cached else ()
            alternatives = known_alternatives or ()
            if not more or not cached or known_alternatives is not None:
                self.counters["cacheHits"] += 1
                self._remember(request.uri, prefix_all, suffix_all, cached)
                self._after_answer(request, offset, cached, plan.full)
                return self._finish(
                    CompletionResult(cached, "cache", _ms(started), alternatives=alternatives)
                )
            known = cached  # only the alternatives are missing

        # A local model is called at once for typing on (the call is kept while the typing
        # agrees with it); other edits, and remote APIs, wait for a quiet moment.
        at_once = forward and isinstance(self.backend, ReadsPrompts)
        if request.trigger is TriggerKind.AUTOMATIC and settings.debounce_ms > 0 and not at_once:
            # Reading ahead goes on during the wait (most keystrokes are superseded before
            # they reach the model, and what it reads is this place's window).
            self._start_prefill(plan.fim)
            await asyncio.sleep(self._debounce.delay(settings.debounce_ms))
            if generation != self._generation:
                return CompletionResult.empty("superseded", started)
            if isinstance(self.backend, ReadsPrompts) and known is None:
                plan = self._plan(request, offset, mode)  # more may be read by now
                self._keep_anchor(request, plan)
        self.pause_background()  # the model is needed now; background work resumes after

        log.debug(
            "window: %d prefix, %d middle, %d suffix chars; %s",
            len(plan.fim.prefix),
            len(plan.fim.middle),
            len(plan.fim.suffix),
            mode.name.lower(),
        )
        ctx = self._cleanup_context(
            prefix_all, suffix_all, request.language, mode, brief=not invoked
        )
        watch = Watch() if not more and isinstance(self.backend, ReadsPrompts) else None
        task = asyncio.ensure_future(
            self._generate(
                plan.fim, ctx, plan.healed, generation, more=more, known=known, watch=watch
            )
        )
        self._inflight = task
        self._inflight_for = state
        self._inflight_watch = watch
        try:
            answer = await task
        except asyncio.CancelledError:
            if task.cancelled() and not _current_task_cancelling():
                return CompletionResult.empty("superseded", started)
            if not self._riders:  # a request typed after this one still waits for the call
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
            if self._inflight is task and (task.done() or not self._riders):
                self._inflight = None
                self._inflight_for = None
                self._inflight_watch = None
                if self._state == "working":
                    self._set_status("ready", "", None)
        if answer.finished and settings.cache_entries:
            self._cache.put(plan.key, answer.text)
            if more and answer.text:
                self._alternatives[plan.key] = answer.alternatives
        self._remember(request.uri, prefix_all, suffix_all, answer.text)
        if generation != self._generation:
            # Typed on meanwhile: the newest request took this answer (``_ride``).
            return CompletionResult.empty("superseded", started)
        self._after_answer(request, offset, answer.text, plan.full)
        result = CompletionResult(
            answer.text, "model", _ms(started), alternatives=answer.alternatives
        )
        self._debounce.model_latency(result.latency_ms / 1000)
        return self._finish(result)

    async def _ride(self, task: asyncio.Task[_Answer], typed: str) -> str | None:
        """Wait for the call under way; what is left of its answer after ``typed``, if it
        began with it (else ``None``, and the call stopped as soon as that was clear)."""
        if self._inflight_watch is not None:
            self._inflight_watch.typed = typed
        self._riders += 1
        try:
            answer = await asyncio.shield(task)
        except asyncio.CancelledError:
            if _current_task_cancelling():
                raise
            return None
        except BackendError:
            return None
        finally:
            self._riders -= 1
        return rest_after(answer.text, typed) or None  # nothing left to show is no suggestion

    async def _join(self, task: asyncio.Task[_Answer], started: float) -> CompletionResult:
        try:
            answer = await asyncio.shield(task)
        except asyncio.CancelledError:
            if _current_task_cancelling():
                raise
            return CompletionResult.empty("superseded", started)
        except BackendError as exc:
            return CompletionResult.empty(exc.user_message, started)
        return self._finish(CompletionResult(answer.text, "model", _ms(started)))

    def _cleanup_context(
        self, prefix: str, suffix: str, language: str, mode: Mode, *, brief: bool
    ) -> CleanupContext:
        return CleanupContext(
            prefix=prefix[-_CLEANUP_CHARS:],
            suffix=suffix[:_CLEANUP_CHARS],
            language=language,
            mode=mode,
            special_tokens=self._special_tokens(),
            brief=brief,
        )

    # ----------------------------------------------------------------- prompt windows

    def _plan(self, request: CompletionRequest, offset: int, mode: Mode) -> _Plan:
        """The full window when the backend can read what it lacks within ``eval_budget_ms``;
        otherwise the largest smaller window that it can, with the full one to read later.

        Backends that do not read prompts themselves (remote APIs) always get the full window.
        """
        settings = self.settings
        rereads = self.backend.info.rereads_suffix
        layout = choose_layout(settings.layout, request.text, offset, mode, rereads)
        suffix_budget = settings.suffix_tokens if layout == "psm" else 0
        anchor = None
        if layout == "psm" and rereads:
            anchor = self._anchors.choose(request.uri, request.text, offset)
        sizes = candidates(
            settings.prefix_tokens, suffix_budget, settings.window_grid, gap=mode is Mode.GAP
        )
        # What the clean-up will require, known before the model writes a token.
        word_open = bool(
            open_word(
                request.text[max(0, offset - _CLEANUP_CHARS) : offset],
                request.text[offset : offset + _CLEANUP_CHARS],
            )
        )
        full = self._window(request, offset, mode, sizes[0], anchor, word_open)
        backend = self.backend
        if not isinstance(backend, ReadsPrompts):
            return full
        budget_ms = settings.eval_budget_ms
        if request.trigger is TriggerKind.INVOKED:
            # The user asked and is waiting (for alternatives too): a larger window is worth
            # the wait there, never while they type.
            budget_ms *= EXPLICIT_READING_FACTOR
        budget = budget_tokens(backend.prompt_speed(), budget_ms)
        if backend.uncached_tokens(full.fim) <= budget:
            return full
        if settings.cache_entries and self._cache.get(full.key) is not None:
            return full  # answered before: the cache has it, nothing needs reading
        chosen = full
        for size in sizes[1:]:
            chosen = self._window(request, offset, mode, size, anchor, word_open)
            if backend.uncached_tokens(chosen.fim) <= budget:
                break
        return replace(chosen, full=full.fim)

    def _window(
        self,
        request: CompletionRequest,
        offset: int,
        mode: Mode,
        size: WindowSize,
        anchor: int | None = None,
        word_open: bool = False,
    ) -> _Plan:
        settings = self.settings
        count = self.backend.count_tokens
        window = build_window(
            request.text,
            offset,
            size.prefix_tokens,
            size.suffix_tokens,
            count,
            size.grid,
            anchor,
            block_family(request.language),
        )
        prefix, middle = window.prefix, window.middle
        if middle:
            middle, healed = heal_prefix(middle)
        else:
            prefix, healed = heal_prefix(prefix)
        context: tuple[ContextSnippet, ...] = ()
        if size.with_context and settings.context_tokens > 0 and self._documents is not None:
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
            middle=middle,
            word_open=word_open,
        )
        key = self._cache.key(self.backend.info, fim, mode, healed)
        return _Plan(fim, healed, key, anchor=anchor)

    def _keep_anchor(self, request: CompletionRequest, plan: _Plan) -> None:
        if plan.anchor is not None:
            self._anchors.keep(request.uri, request.text, plan.anchor)

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

    # ----------------------------------------------------------------- background work

    def focus(self, request: CompletionRequest) -> None:
        """The cursor rests here (``codestral/didFocus``): read the prompt while the user reads.

        First the window a request could afford now, so the first keystroke here is answered
        quickly, then the full window. Replaces whatever background work was queued before.
        """
        settings = self.settings
        if not (self.ready and settings.enabled) or request.language in settings.disabled_languages:
            return
        if self._exclusion.excludes(request.path or request.uri):
            return
        if not isinstance(self.backend, ReadsPrompts):
            return  # nothing to read ahead: a remote API reads the prompt itself
        offset = max(0, min(request.offset, len(request.text)))
        mode = choose_mode(request.text[:offset], request.text[offset:], request.language)
        if mode is Mode.NONE:
            mode = Mode.LINE  # mid-word now, but the same window serves the next keystroke
        plan = self._plan(request, offset, mode)
        self._keep_anchor(request, plan)
        jobs = [self._warm_job(plan.fim)]
        if plan.full is not None:
            jobs.append(self._warm_job(plan.full))
        self.pause_background()
        self._jobs = jobs
        self.resume_background()

    def pause_background(self) -> None:
        """Stop background work at its next batch or token; the queue is kept."""
        task = self._background
        if task is not None and not task.done():
            task.cancel()
        self._background = None

    def resume_background(self) -> None:
        if not self._jobs or (self._background is not None and not self._background.done()):
            return
        self._background = asyncio.ensure_future(self._run_background())

    async def _run_background(self) -> None:
        while self._jobs and self.ready:
            job = self._jobs[0]
            async with self._model_lock:
                try:
                    await job()
                except BackendError as exc:
                    log.debug("background work failed: %s", exc.user_message)
                except Exception:  # reading ahead is optional: it must never stop the server
                    log.exception("background work failed")
            if self._jobs and self._jobs[0] is job:
                self._jobs.pop(0)

    def _warm_job(self, fim: FimRequest) -> _Job:
        backend = self.backend
        assert isinstance(backend, ReadsPrompts)

        async def warm() -> None:
            started = time.monotonic()
            read = await backend.warm(fim)
            if read:
                self.counters["warms"] += 1
            log.debug("read ahead: %d tokens in %.0f ms", read, _ms(started))

        return warm

    def _after_answer(
        self, request: CompletionRequest, offset: int, text: str, full: FimRequest | None
    ) -> None:
        """Queue what the user will want next: the suggestion after accepting this one (and
        after accepting it and pressing Enter), then the full window if a smaller one served."""
        jobs: list[_Job] = []
        # Only where the model runs on this machine: a remote API is never sent requests the
        # user did not make (they cost money and rate limit).
        local = isinstance(self.backend, ReadsPrompts)
        if self.settings.speculate and local:
            prefix, suffix = request.text[:offset], request.text[offset:]
            line_end = not suffix or suffix.startswith(("\n", "\r"))
            if text:
                accepted = prefix + text
                jobs.append(self._speculation_job(request, accepted, suffix))
                if line_end and not text.endswith("\n"):
                    indent = next_line_indent(accepted, request.language)
                    jobs.append(self._speculation_job(request, accepted + "\n" + indent, suffix))
            finished = not text or text.startswith("\n")  # the model sees the line done
            if line_end and finished and split_cursor_line(prefix, suffix)[0].strip():
                # Enter at a finished line: the next line is worked out while the user
                # decides, unless the suggestion already starts with that very line break
                # (type-through then shows its rest).
                entered = "\n" + next_line_indent(prefix, request.language)
                if not text.startswith(entered):
                    jobs.append(self._speculation_job(request, prefix + entered, suffix))
        if full is not None and local:
            jobs.append(self._warm_job(full))
        if jobs:
            self.pause_background()
            self._jobs = jobs
        self.resume_background()

    def _speculation_job(self, request: CompletionRequest, prefix: str, suffix: str) -> _Job:
        state = replace(request, text=prefix + suffix, offset=len(prefix))

        async def speculate() -> None:
            if self._speculated.get(state.uri, prefix, suffix) is not None:
                return
            mode = choose_mode(prefix, suffix, state.language)
            if mode is Mode.NONE:
                self._speculated.put(state.uri, prefix, suffix, "")
                return
            plan = self._plan(state, len(prefix), mode)
            text = self._cache.get(plan.key) if self.settings.cache_entries else None
            if text is None:
                backend = self.backend
                if isinstance(backend, ReadsPrompts):
                    # Read in short batches first: a keystroke's request waits for the batch
                    # being read, and a generation's own batches are 512 tokens (0.9 s was
                    # seen in benchmarks/real_use.py behind a speculation).
                    await backend.warm(plan.fim)
                ctx = self._cleanup_context(prefix, suffix, state.language, mode, brief=True)
                answer = await self._call_model(plan.fim, ctx, plan.healed, "speculations")
                answer = await self._instead_of_nothing(
                    answer, plan.fim, ctx, plan.healed, None, "speculations"
                )
                if answer.finished and self.settings.cache_entries:
                    self._cache.put(plan.key, answer.text)
                text = answer.text
            self._speculated.put(state.uri, prefix, suffix, text)

        return speculate

    # ----------------------------------------------------------------- the model call

    async def _generate(
        self,
        fim: FimRequest,
        ctx: CleanupContext,
        healed: str,
        generation: int,
        *,
        more: int = 0,
        known: str | None = None,
        watch: Watch | None = None,
    ) -> _Answer:
        """The answer (unless ``known``), then up to ``more`` distinct alternatives to it.

        All the calls of one request share one ``timeout_ms``, from the first token: on a slow
        CPU three suggestions written one after another were 17-24 s of waiting for an explicit
        request (benchmarks/real_holes.py). Alternatives are what the budget gives up first.
        """
        async with self._model_lock:
            if generation != self._generation and not self._riders:
                raise asyncio.CancelledError
            self._set_status("working", "", None)
            if known is None:
                answer = await self._call_model(fim, ctx, healed, watch=watch)
                answer = await self._instead_of_nothing(answer, fim, ctx, healed, watch)
            else:
                answer = _Answer(known, finished=True)
            if more <= 0 or not answer.text:
                return answer
            until = self._request_end(answer.first_token)
            if ctx.mode is Mode.GAP and "\n" not in answer.text.strip("\n"):
                # The best answer is one line: alternatives to it end with their first
                # statement too, rather than each running to max_tokens in case it leads
                # back to the code below (4.9 and 3.1 s of 12.6 at httpx's _models.py:399).
                ctx = replace(ctx, brief=True)
            found: list[str] = []
            # A local model may try a few more than wanted (some alternatives clean up to the
            # same text); a remote API is sent no more requests than candidates asked for.
            tries = 2 * more if self.backend.info.branches else more
            for branch in range(answer.branch + 1, answer.branch + tries + 1):
                if len(found) >= more or time.monotonic() >= until:
                    break
                other = await self._call_model(
                    self._alternative(fim, branch),
                    ctx,
                    healed,
                    "candidateCalls",
                    until=until,
                    optional=True,
                )
                if other.text and other.text != answer.text and other.text not in found:
                    found.append(other.text)
            return replace(answer, alternatives=tuple(found))

    async def _instead_of_nothing(
        self,
        answer: _Answer,
        fim: FimRequest,
        ctx: CleanupContext,
        healed: str,
        watch: Watch | None,
        counter: str = "modelCalls",
    ) -> _Answer:
        """Where nothing is no answer, the model's next most likely answers when the clean-up
        dropped its best one: on a line of its own (most often the code below, written again: a
        user who made room for a line wants one), at the start of a line's text (lines above
        it: a ``return`` there would strand that code, HumanEval/113) and right after an
        opening bracket (``args[`` + ``];``). Only where the prompt is already read (a backend
        that branches)."""
        if answer.text or not answer.dropped or not self.backend.info.branches:
            return answer
        if not _wants_something(ctx):
            return answer
        until = self._request_end(answer.first_token)
        for branch in range(1, RETRY_BRANCHES + 1):
            self.counters["retryCalls"] += 1  # also counted as the call it is (``counter``)
            other = await self._call_model(
                replace(fim, branch=branch), ctx, healed, counter, watch=watch, until=until
            )
            if other.text:
                return replace(other, branch=branch, first_token=answer.first_token)
            if not other.dropped:  # cut short (typed otherwise, a budget): no use going on
                return other
        return answer

    def _request_end(self, first_token: float | None) -> float:
        """When a request's further calls must be done: ``timeout_ms`` after its first token."""
        return (first_token or time.monotonic()) + self.settings.timeout_ms / 1000

    def _alternative(self, fim: FimRequest, branch: int) -> FimRequest:
        """One more candidate: a backend that branches starts from another first token (the
        prompt is read once); others sample (a seed per candidate, so each is reproducible)."""
        if self.backend.info.branches:
            return replace(fim, branch=branch)
        return replace(fim, temperature=max(fim.temperature, ALTERNATIVE_TEMPERATURE), seed=branch)

    async def _call_model(
        self,
        fim: FimRequest,
        ctx: CleanupContext,
        healed: str,
        counter: str = "modelCalls",
        *,
        watch: Watch | None = None,
        until: float | None = None,
        optional: bool = False,
    ) -> _Answer:
        """One model call, holding the model lock.

        ``timeout_ms`` budgets the generation, from the first token (or it ends at ``until``,
        the end of the request this call serves): reading the prompt is budgeted when the
        window is chosen (``eval_budget_ms``). The budget never cuts an answer before its first
        whole line, so a slow machine gets a late line, not a fragment; an ``optional`` answer
        (an alternative) is cut anyway, and what it has not finished is dropped.
        """
        self.counters[counter] += 1  # requests' calls and speculative ones are counted apart
        called = time.monotonic()
        first: float | None = None
        deadline = float("inf")
        raw = so_far = ""
        complete = over_budget = False
        ending = ""  # why the call ended before the model did, for the log
        pieces = self.backend.stream(fim)
        try:
            async for piece in pieces:
                now = time.monotonic()
                if first is None:
                    first = now
                    deadline = min(now + self.settings.timeout_ms / 1000, until or float("inf"))
                    self.last_first_token_ms = (first - called) * 1000
                raw += piece
                so_far = unheal(raw, healed)
                complete = answer_complete(so_far, ctx)
                if complete:
                    ending = ", complete"
                    break
                if now > deadline and (optional or _has_whole_line(so_far, ctx.mode)):
                    over_budget, ending = True, ", cut by the time budget"
                    break
                if watch is not None and watch.contradicted(so_far):
                    # The user typed something else meanwhile: nobody will see this answer.
                    self.counters["inflightStops"] += 1
                    over_budget, ending = True, ", stopped: typed otherwise"
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
            ending,
        )
        if optional and over_budget and not _has_whole_line(so_far, ctx.mode):
            return _Answer("", finished=False, first_token=first)  # a fragment: not offered
        answer = self._finish_answer(raw, fim, ctx, healed, complete, over_budget)
        return replace(answer, first_token=first)

    def _finish_answer(
        self,
        raw: str,
        fim: FimRequest,
        ctx: CleanupContext,
        healed: str,
        complete: bool,
        over_budget: bool,
    ) -> _Answer:
        text = unheal(raw, healed)
        # Only a backend's own tokenizer counts exactly; an estimate must not pass a complete
        # answer off as cut short.
        hit_max = self.backend.info.exact_tokens and (
            self.backend.count_tokens(raw) >= fim.max_tokens - 1
        )
        cut_short = over_budget or hit_max
        if not complete and cut_short and ctx.mode in (Mode.BLOCK, Mode.GAP):
            # Stopped by max_tokens or the time budget: never insert a half-written last line,
            # nor the copies of a loop the model had fallen into.
            body = text.rstrip("\n")
            text = cut_loop(body[: body.rfind("\n") + 1] if "\n" in body else text)
        cleaned = clean(text, ctx)
        return _Answer(
            cleaned,
            finished=complete or not cut_short,
            # max_tokens is no reason to give up: the model wrote what it wanted to write
            dropped=not cleaned and not over_budget and bool(text.strip()),
        )

    def _special_tokens(self) -> tuple[str, ...]:
        return self.backend.info.special_tokens

    def _finish(self, result: CompletionResult) -> CompletionResult:
        if result.source == "model":
            self.last_latency_ms = result.latency_ms
            if self._on_status:
                self._on_status(self.status())
        return result

    def forget(self, uri: str) -> None:
        """The document closed: drop what was kept for it (type-through holds its whole text)."""
        self._typethrough.forget(uri)
        self._speculated.forget(uri)
        self._anchors.forget(uri)

    # ----------------------------------------------------------------- settings

    def apply_settings(self, settings: Settings) -> None:
        """Live changes that need no new backend (the server recreates it otherwise)."""
        self.settings = settings
        self._exclusion = Exclusion(settings.exclude)
        if self._on_status:
            self._on_status(self.status())


LOCAL_KEYS = ("model", "template", "n_ctx", "n_threads", "n_gpu_layers", "token_healing")
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


def _wants_something(ctx: CleanupContext) -> bool:
    """Only whitespace left of the cursor (the user made room for a new line, or is at the
    start of a line's text, where the answer is whole lines above it), or an opening bracket
    just typed with nothing but closing punctuation after the cursor (``args[█]``)."""
    before, after = split_cursor_line(ctx.prefix, ctx.suffix)
    if not before.strip():
        return True
    return before.endswith(("(", "[", "{")) and not after.strip(_CLOSING)


#: What an editor's auto-closing may have put right of the cursor.
_CLOSING = " \t)]}\"'`;,"


def _has_whole_line(answer: str, mode: Mode) -> bool:
    """A block answer with at least one finished line (what a budget cut may keep)."""
    return mode in (Mode.BLOCK, Mode.GAP) and "\n" in answer.lstrip()


def next_line_indent(text: str, language: str) -> str:
    """The indentation an editor's auto-indent gives the line after ``text``'s last line."""
    last = text[text.rfind("\n") + 1 :]
    indent = last[: len(last) - len(last.lstrip(" \t"))]
    if opens_block(last, rules_for(language)):
        return indent + _indent_unit(text)
    return indent


def _indent_unit(text: str) -> str:
    """The document's indentation step: a tab, or the smallest step between nearby lines."""
    widths = []
    previous = 0
    for line in text[-8000:].split("\n"):
        if not line.strip():
            continue
        if line.startswith("\t"):
            return "\t"
        width = indent_width(line)
        if width > previous:
            widths.append(width - previous)
        previous = width
    return " " * (min(widths) if widths else 4)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())


def choose_layout(
    setting: str, text: str, offset: int, mode: Mode, rereads_suffix: bool = True
) -> str:
    """Which exact prompt layout to use for this request.

    A backend that does not read the suffix again after every keystroke (a remote server, or a
    suffix-first format) always gets the whole FIM prompt: there the suffix costs nothing.

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
    if not rereads_suffix or mode is Mode.GAP:
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

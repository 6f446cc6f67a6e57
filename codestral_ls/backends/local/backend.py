"""The local backend: a GGUF model in-process through llama-cpp-python.

All model work runs on one thread (model_thread.py). Generation checks a cancel flag between
tokens, so closing the stream stops the model within one token. Only what follows the longest
beginning shared with a kept KV state is evaluated (kv_slots.py), which is what makes the next
keystroke cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from fim import FAMILIES, FimTemplate, detect_family, get_template

from ...config import Settings
from ...model_presets import preset_for, resolve_model
from ..base import (
    BackendConfigError,
    BackendError,
    BackendInfo,
    BackendNotReady,
    DoctorCheck,
    FimRequest,
    ProgressCallback,
    estimate_tokens,
)
from .branches import first_tokens
from .cpu_copy import cpu_copy
from .cpu_share import CpuShare, runnable_elsewhere, usable_cores
from .kv_slots import KvSlots
from .model_thread import ModelThread
from .token_healing import HealedText, StartsWith, Vocabulary, split_last_word

log = logging.getLogger(__name__)
T = TypeVar("T")
_END = object()
#: Prefill only when at most this many tokens must be evaluated (a keystroke's worth); a
#: re-evaluated suffix is seconds of work that must not block the model if the user types on.
_PREFILL_MAX = 48
#: Prompt tokens evaluated between two checks of the cancel flag. It is llama-cpp-python's own
#: batch size on purpose: smaller batches would split the evaluation differently from a fresh
#: one, and float results (so near-tie greedy choices) depend on the split (measured: a 64-token
#: batch changed one answer of five in tests/test_exact_reuse.py).
_EVAL_BATCH = 512
#: Background reading (``warm``) yields to a request between batches of about this many
#: seconds of work: a batch cannot be interrupted, and a keystroke's request waits for it (a
#: 64-token batch was 1.3 s on a busy machine, measured in benchmarks/real_use.py).
_WARM_BATCH_SECONDS = 0.15
_WARM_BATCH_MIN, _WARM_BATCH_MAX = 8, 64
#: Batches smaller than this say little about the prompt-reading speed (fixed costs dominate,
#: and small background batches read slower than a request's).
_SPEED_MIN_BATCH = 32


class LocalBackend:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._llama: Any = None
        self._template: FimTemplate | None = None
        self._model_path: Path | None = None
        self._thread = ModelThread()
        self._load_error: BackendError | None = None
        self._closed = False
        self._slots: KvSlots | None = None
        self._cpu: CpuShare | None = None
        self._threads_now = 0
        #: Prompt tokens read per second by thread count, measured (moving averages).
        self._speeds: dict[int, float] = {}
        #: Every token's bytes, for token healing and alternatives; built at load.
        self._vocabulary: Vocabulary | None = None

    @property
    def info(self) -> BackendInfo:
        name = self._model_path.name if self._model_path else (self._settings.model or "embedded")
        template = self._template
        return BackendInfo(
            backend="local",
            model=name,
            template=template.family if template else "",
            exact_tokens=True,
            branches=True,
            # Suffix-first formats (Codestral's) keep the edited prefix at the prompt's end.
            rereads_suffix=not (template and template.suffix_first),
            special_tokens=tuple(template.special_tokens) if template else (),
        )

    # ---------------------------------------------------------------- loading

    async def start(self, progress: ProgressCallback) -> None:
        loop = asyncio.get_running_loop()

        def report(message: str, pct: int | None) -> None:
            loop.call_soon_threadsafe(progress, message, pct)

        try:
            await asyncio.wrap_future(self._thread.submit(lambda: self._load(report)))
        except BackendError as exc:
            self._load_error = exc
            raise

    def _load(self, report: ProgressCallback) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise BackendConfigError(
                "llama-cpp-python is not installed: install codestral-ls with its local extra "
                "(see the README), or choose a remote backend"
            ) from None
        settings = self._settings
        # An empty setting is the embedded model, a preset name is looked up (never
        # downloaded here: `codestral-ls model pull`), anything else is a GGUF path.
        report("Preparing the model", 0)
        path = resolve_model(
            settings.model,
            lambda done, total: report("Preparing the model", int(done * 100 / max(total, 1))),
        )
        report("Preparing the model for this CPU", None)
        path = cpu_copy(path, preset_for(settings.model), llama_cpp)
        report(f"Loading {path.name}", None)
        started = time.monotonic()
        gpu_layers = settings.n_gpu_layers
        if gpu_layers < 0:
            gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        threads = settings.n_threads or min(usable_cores(), 8)
        try:
            llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=gpu_layers,
                # llama.cpp's own default; llama-cpp-python turns it off. Same answers but
                # for near-ties, prompts read ~10 % faster on a 2-core CPU (docs/engine.md).
                flash_attn=True,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendConfigError(
                f"cannot load model {path}: {exc} (is it a complete GGUF file?)"
            ) from None
        template = self._choose_template(llama)
        self._slots = KvSlots(llama, capacity=3)
        # An explicit n_threads is the user's choice; the default adapts to the machine's load.
        self._cpu = CpuShare(
            threads, busy_reader=(lambda: None) if settings.n_threads else runnable_elsewhere
        )
        self._threads_now = threads
        self._calibrate(llama)
        self._llama, self._template, self._model_path = llama, template, path
        self._build_vocabulary(llama)  # token healing and alternatives read it
        log.info(
            "loaded %s (template %s, %d threads, %d GPU layers) in %.2f s",
            path.name,
            template.family,
            threads,
            gpu_layers,
            time.monotonic() - started,
        )

    def _choose_template(self, llama: Any) -> FimTemplate:
        name = self._settings.template
        if name != "auto":
            try:
                return get_template(name)
            except ValueError as exc:
                raise BackendConfigError(str(exc)) from None
        metadata = {str(k): str(v) for k, v in (llama.metadata or {}).items()}
        found = detect_family(metadata, _single_tokens(llama))
        if found is None:
            raise BackendConfigError(
                "cannot tell which FIM format this model uses; set 'template' to one of: "
                + ", ".join(FAMILIES)
            )
        return get_template(found)

    def _calibrate(self, llama: Any) -> None:
        """Measure the prompt-reading speed once, so the first request's window fits its budget.

        The first decode also pages the weights in; it is left out of the measurement.
        """
        tokens = llama.tokenize(b"def mean(values):\n    return sum(values) / len(values)\n" * 6)
        self._use_threads(llama)
        llama.eval(tokens[:8])
        llama.n_tokens = 0
        self._read(llama, tokens[:64], batch=_EVAL_BATCH)
        llama.n_tokens = 0
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        assert self._slots is not None
        self._slots.publish()

    def _build_vocabulary(self, llama: Any) -> None:
        """~0.3 s for 150k tokens, once at load (answers must not depend on how soon they come)."""
        try:
            pieces = [bytes(llama.detokenize([i])) for i in range(llama.n_vocab())]
        except Exception as exc:  # healing is an improvement, never a requirement
            log.debug("no token healing: %s", exc)
            return
        self._vocabulary = Vocabulary(pieces)

    def _use_threads(self, llama: Any) -> None:
        """Before each model job: only as many threads as there are free cores right now."""
        if self._cpu is None:
            return
        threads = self._cpu.threads()
        if threads != self._threads_now:
            import llama_cpp

            llama_cpp.llama_set_n_threads(llama._ctx.ctx, threads, threads)
            log.debug("model threads: %d -> %d (machine load)", self._threads_now, threads)
            self._threads_now = threads

    # ---------------------------------------------------------------- generation

    def count_tokens(self, text: str) -> int:
        llama = self._llama
        if llama is None or self._closed or not text:
            return estimate_tokens(text)  # closed: the model is freed on its thread
        return len(llama.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    def _prompt(self, request: FimRequest) -> tuple[Any, FimTemplate, str, bytes]:
        """The rendered prompt, and the bytes token healing removed from its prefix (if any)."""
        if self._load_error is not None:
            raise self._load_error
        llama, template = self._llama, self._template
        if llama is None or template is None or self._closed:
            raise BackendNotReady("the model is still loading")
        prefix, middle, healed = request.prefix, request.middle, b""
        vocabulary = self._vocabulary
        if vocabulary is not None and self._settings.token_healing:
            if middle:
                # The middle marker before it is a token boundary: all of it may be healed.
                middle, healed = split_last_word(middle, llama, vocabulary.pieces, whole=True)
            else:
                prefix, healed = split_last_word(prefix, llama, vocabulary.pieces)
        prompt = template.render(
            prefix,
            request.suffix,
            context=[(c.path, c.text) for c in request.context],
            path=request.path or None,
        )
        return llama, template, prompt + middle, healed

    def _tokens(self, llama: Any, prompt: str) -> list[int]:
        """A keystroke's request tokenizes the same prompts several times (window plan,
        prefill, generation): the last few are kept."""
        return list(_tokenize(llama, prompt))

    def uncached_tokens(self, request: FimRequest) -> int:
        """Prompt tokens no kept KV state holds: what reading this prompt would cost now."""
        try:
            llama, _, prompt, _ = self._prompt(request)
        except BackendError:
            return 0
        tokens = self._tokens(llama, prompt)
        slots = self._slots
        return len(tokens) - (slots.best_start(tokens) if slots else 0)

    def prompt_speed(self) -> float | None:
        """Tokens/s at the thread count the next job will use: on a 2-core machine one thread
        reads about half as fast as two, and the count follows the machine's load."""
        threads = self._cpu.threads() if self._cpu is not None else self._threads_now
        speed = self._speeds.get(threads)
        if speed is not None or not self._speeds:
            return speed
        other, known = next(iter(self._speeds.items()))
        return known * threads / other

    async def warm(self, request: FimRequest) -> int:
        """Read the whole prompt into a KV state now, yielding to requests between batches.

        Cancelling stops at the next batch; what was read stays (a saved state), so the next
        warm of the same place continues where this one stopped.
        """
        try:
            llama, _, prompt, _ = self._prompt(request)
        except BackendError:
            return 0
        cancel = threading.Event()

        def run() -> int:
            if cancel.is_set():
                return 0
            tokens = self._tokens(llama, prompt)
            self._use_threads(llama)
            assert self._slots is not None
            self._slots.switch_for(tokens)
            batch = int((self._speeds.get(self._threads_now) or 100.0) * _WARM_BATCH_SECONDS)
            batch = max(_WARM_BATCH_MIN, min(_WARM_BATCH_MAX, batch))
            return self._read(llama, tokens, cancel=cancel, batch=batch) or 0

        future = self._thread.submit(run)
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            cancel.set()
            raise

    async def prefill(self, request: FimRequest) -> bool:
        """Evaluate the prompt now if only a few of its tokens are not in the KV cache yet.

        Afterwards the KV cache holds exactly the prompt, and llama-cpp-python's ``generate``
        samples the first token from the live logits without evaluating anything (an exact
        cache hit), so the answer is the same as a fresh evaluation's.
        """
        try:
            llama, _, prompt, _ = self._prompt(request)
        except BackendError:
            return False

        def run() -> bool:
            tokens = self._tokens(llama, prompt)
            assert self._slots is not None
            self._slots.switch_for(tokens)
            return self._read(llama, tokens, limit=_PREFILL_MAX) is not None

        return await asyncio.wrap_future(self._thread.submit(run))

    async def stream(self, request: FimRequest) -> AsyncIterator[str]:
        llama, template, prompt, healed = self._prompt(request)
        if healed:
            log.debug("token healing: the prompt ends %d bytes early", len(healed))
        stops = list(dict.fromkeys((*template.stop, *request.stop)))
        vocabulary = self._vocabulary
        answer = HealedText(healed.decode("utf-8"))

        def generate(put: Callable[[str], None], cancel: threading.Event) -> None:
            from llama_cpp import LogitsProcessorList

            tokens = self._tokens(llama, prompt)
            # Evaluate the prompt ourselves, in batches, so that a superseded request stops
            # within one batch instead of holding the model for the whole evaluation;
            # create_completion then finds the exact prompt cached and samples at once.
            started = time.monotonic()
            self._use_threads(llama)
            assert self._slots is not None
            self._slots.switch_for(tokens)
            evaluated = self._read(llama, tokens, cancel=cancel)
            if cancel.is_set():
                return
            log.debug(
                "prompt: %d tokens, %d evaluated in %.0f ms",
                len(tokens),
                evaluated or 0,
                (time.monotonic() - started) * 1000,
            )
            processors = None
            if (healed or request.word_open) and vocabulary is not None:
                # The answer must first type the removed token again (then it is stripped),
                # and go on with the word when the engine knows it is not finished.
                processors = LogitsProcessorList(
                    [StartsWith(vocabulary, healed, len(tokens), request.word_open)]
                )
            prompt_tokens = tokens
            if request.branch > 0:
                # An alternative: the branch-th next most likely first token, then greedy.
                start = self._branch_start(llama, request.branch, healed, request.word_open)
                if start is None:
                    return
                prompt_tokens = [*tokens, *start]
                for token in start:
                    text = answer.feed(self._piece(llama, token))
                    if text:
                        put(text)
            for chunk in llama.create_completion(
                prompt_tokens,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                seed=request.seed,
                stop=stops,
                stream=True,
                logits_processor=processors,
            ):
                if cancel.is_set():
                    break
                text = answer.feed(chunk["choices"][0]["text"])
                if text:
                    put(text)

        async for piece in self._produce(generate):
            yield piece

    async def _produce(
        self, work: Callable[[Callable[[T], None], threading.Event], None]
    ) -> AsyncIterator[T]:
        """Run ``work(put, cancel)`` on the model thread and yield what it puts, as it comes.

        Closing the iterator sets ``cancel``; a failure in ``work`` is raised here as a
        BackendError.
        """
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()

        def put(item: object) -> None:
            loop.call_soon_threadsafe(items.put_nowait, item)

        def run() -> None:
            try:
                work(put, cancel)
            except Exception as exc:
                put(BackendError(f"the model failed: {exc}"))
            finally:
                if self._slots is not None:
                    self._slots.publish()
                put(_END)

        future = self._thread.submit(run)
        try:
            while True:
                item = await items.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            cancel.set()
            task = asyncio.current_task()
            if not future.done() and not (task and task.cancelling()):
                # Closed early (the engine got its answer): wait for the thread to notice, so
                # the next request starts from a clean state. When cancelled (superseded, or
                # the editor went away and the loop is shutting down) do not wait: a prompt
                # evaluation cannot be interrupted and can take seconds, and the model thread
                # runs jobs one at a time anyway.
                with contextlib.suppress(Exception):
                    await asyncio.shield(asyncio.wrap_future(future))

    def _piece(self, llama: Any, token: int) -> str:
        vocabulary = self._vocabulary
        piece = vocabulary.pieces[token] if vocabulary else bytes(llama.detokenize([token]))
        return piece.decode("utf-8", "replace")

    def _branch_start(
        self, llama: Any, branch: int, healed: bytes, word_open: bool = False
    ) -> list[int] | None:
        """The tokens the ``branch``-th alternative starts with (model thread, the prompt's
        logits live): its own first token, after the best answer's indentation when that answer
        starts with indentation only (evaluated here; another indent is no alternative)."""
        vocabulary = self._vocabulary
        if vocabulary is None:
            return None
        firsts = first_tokens(self._prompt_logits(llama), vocabulary, branch + 1, healed, word_open)
        lead: list[int] = []
        if not healed and firsts and not vocabulary.pieces[firsts[0]].strip(b" \t"):
            lead = firsts[:1]
            llama.eval(lead)
            firsts = first_tokens(self._prompt_logits(llama), vocabulary, branch + 1, b"")
        return [*lead, firsts[branch]] if len(firsts) > branch else None

    @staticmethod
    def _prompt_logits(llama: Any) -> Any:
        import numpy as np

        return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))

    async def doctor(self) -> list[DoctorCheck]:
        checks = []
        if self._load_error is not None:
            return [DoctorCheck("model", False, self._load_error.user_message)]
        if self._llama is None:
            return [DoctorCheck("model", False, "still loading")]
        checks.append(DoctorCheck("model", True, f"{self.info.model} ({self.info.template})"))
        started = time.monotonic()
        text = ""
        stream = self.stream(
            FimRequest(prefix="def add(a, b):\n    return ", suffix="\n", max_tokens=4)
        )
        async for piece in stream:
            text += piece
        ms = (time.monotonic() - started) * 1000
        checks.append(DoctorCheck("generation", bool(text), f"{ms:.0f} ms for a 4-token answer"))
        return checks

    async def aclose(self) -> None:
        """Refuse new work, and free the model on its thread once the job under way (if any)
        is done: a backend replaced by a settings change must not keep its model in memory,
        and a model freed by the garbage collector at interpreter exit fails noisily."""
        self._closed = True
        self._thread.submit(self._release)
        self._thread.stop()

    def _release(self) -> None:
        llama, self._llama, self._slots = self._llama, None, None
        if llama is not None:
            llama.close()

    def _read(
        self,
        llama: Any,
        tokens: list[int],
        *,
        limit: int | None = None,
        cancel: threading.Event | None = None,
        batch: int = _EVAL_BATCH,
    ) -> int | None:
        """Bring the KV cache to exactly ``tokens``, evaluating only what is not cached yet.

        Returns how many tokens were evaluated, or None (doing nothing) when the cache already
        holds exactly ``tokens``, more than ``limit`` tokens would be needed or the prompt does
        not fit the context. Stops between batches when ``cancel`` is set; what was evaluated
        stays valid for the next prompt with the same beginning. Measures the reading speed.
        """
        if len(tokens) >= llama.n_ctx():
            return None
        cached = list(llama._input_ids)  # the tokens whose KV cells are valid
        common = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            common += 1
        if common == len(tokens) == len(cached) and not llama._requires_eval:
            return None
        if limit is not None and len(tokens) - common > limit:
            return None
        # At least the last token is evaluated again, so the logits are live for sampling.
        llama.n_tokens = start = min(common, len(tokens) - 1)
        while llama.n_tokens < len(tokens):
            if cancel is not None and cancel.is_set():
                break
            chunk = tokens[llama.n_tokens : llama.n_tokens + batch]
            began = time.monotonic()
            llama.eval(chunk)
            self._note_speed(len(chunk), time.monotonic() - began)
            if self._slots is not None and batch < _EVAL_BATCH:
                self._slots.publish()
        if self._slots is not None:
            self._slots.publish()
        return int(llama.n_tokens) - start

    def _note_speed(self, tokens: int, seconds: float) -> None:
        if tokens < _SPEED_MIN_BATCH or seconds <= 0:
            return
        speed = tokens / seconds
        old = self._speeds.get(self._threads_now)
        self._speeds[self._threads_now] = speed if old is None else 0.5 * old + 0.5 * speed


def _single_tokens(llama: Any) -> set[str]:
    """The special-token texts of every known family that this vocabulary has as one token."""
    found = set()
    for template in FAMILIES.values():
        for text in template.special_tokens:
            try:
                ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            except Exception:
                continue
            if len(ids) == 1:
                found.add(text)
    return found


@functools.lru_cache(maxsize=16)
def _tokenize(llama: Any, prompt: str) -> tuple[int, ...]:
    return tuple(llama.tokenize(prompt.encode("utf-8", "replace"), add_bos=True, special=True))


def create(settings: Settings) -> LocalBackend:
    return LocalBackend(settings)

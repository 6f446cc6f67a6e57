"""The one small interface every backend implements, and the errors it may raise.

The engine owns budgets, scheduling and clean-up; a backend only turns a FIM request into a
stream of text pieces. Cancelling is closing the stream (``aclose()``): a backend must stop the
model (or close the HTTP response) when its async iterator is closed early.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Reports preparation progress: (message, percentage or None when unknown).
ProgressCallback = Callable[[str, "int | None"], None]


@dataclass(frozen=True)
class ContextSnippet:
    """A piece of another file shown to the model before the FIM block."""

    path: str
    text: str


@dataclass(frozen=True)
class FimRequest:
    """What the model is asked: text before and after the hole, already cut to budget.

    ``suffix`` may be empty on purpose (the engine's no-suffix layout); the backend must then
    not invent one. ``stop`` holds extra stop strings on top of the template's own.
    """

    prefix: str
    suffix: str
    language: str = ""
    path: str = ""
    max_tokens: int = 64
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    context: tuple[ContextSnippet, ...] = field(default=())
    #: An alternative answer: 0 is the best one; k > 0 asks a backend that ``branches`` to start
    #: from its k-th next most likely first token (others get a sampled request instead).
    branch: int = 0
    #: The beginning of the middle the user has already typed (the text between the anchor
    #: line and the cursor), written after the middle marker. A keystroke then only appends to
    #: the prompt, so a PSM suffix stays read. The engine sets it only for backends that
    #: ``rereads_suffix``; the text before the hole is always ``prefix + middle``.
    middle: str = ""
    #: The text before the hole ends in a fragment of a longer word of the window (typed
    #: ``contex`` where ``context`` is used): the answer must go on with that word. A backend
    #: that can constrain generation does (the local one); the clean-up drops the rest.
    word_open: bool = False


@dataclass(frozen=True)
class BackendInfo:
    """What the user sees in status lines and ``doctor`` (never secrets), and the facts about
    the backend the engine decides with, so that it never has to test a backend's name."""

    backend: str
    model: str
    template: str = ""
    endpoint: str = ""
    #: ``count_tokens`` is the model's own tokenizer (so ``max_tokens`` cuts can be trusted).
    exact_tokens: bool = False
    #: A keystroke before the cursor makes this backend read every suffix token again before
    #: it can answer (a PSM prompt evaluated on this machine). Remote servers read a prompt in
    #: tens of milliseconds and cache it, so for them the suffix is always worth sending.
    rereads_suffix: bool = False
    #: Marker texts of the prompt format in use, scrubbed from answers.
    special_tokens: tuple[str, ...] = ()
    #: Honours ``FimRequest.branch`` (distinct alternatives from one read prompt).
    branches: bool = False


@dataclass(frozen=True)
class DoctorCheck:
    name: str
    ok: bool
    detail: str


class BackendError(Exception):
    """A failure the engine turns into an empty answer.

    ``user_message`` is safe to show (no secrets, no source text); ``notify`` says whether the
    user must act (bad configuration, missing model) rather than wait.
    """

    def __init__(self, user_message: str, *, notify: bool = False) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.notify = notify


class BackendNotReady(BackendError):
    """The model is still loading or being prepared: answer empty, do not wait."""


class BackendConfigError(BackendError):
    """The configuration cannot work (missing model, bad key): the user must fix a setting."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message, notify=True)


class BackendTransientError(BackendError):
    """Timeouts, resets, 5xx, rate limits: retrying later may work."""

    def __init__(self, user_message: str, *, retry_after: float | None = None) -> None:
        super().__init__(user_message, notify=False)
        self.retry_after = retry_after


@runtime_checkable
class Backend(Protocol):
    """A source of FIM completions."""

    @property
    def info(self) -> BackendInfo: ...

    async def start(self, progress: ProgressCallback) -> None:
        """Prepare (load the model, open the HTTP client). Raises BackendError."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs in this model's prompt (an estimate for remote APIs)."""
        ...

    def stream(self, request: FimRequest) -> AsyncIterator[str]:
        """Yield the middle as text pieces; closing the iterator stops generation."""
        ...

    async def doctor(self) -> list[DoctorCheck]:
        """Check reachability/authentication with one tiny request."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class SupportsPrefill(Protocol):
    """Optional: evaluate a prompt ahead of generation (local models, during the debounce).

    Evaluating the few tokens a keystroke changed while the engine waits to see whether the
    user types on means the generation that follows can sample its first token at once.
    """

    async def prefill(self, request: FimRequest) -> bool:
        """Evaluate the prompt if that is cheap; True when it did."""
        ...


@runtime_checkable
class ReadsPrompts(Protocol):
    """Optional: a backend that reads prompts itself (the local model) and can say what one costs.

    With it the engine fits the window to what the user waits for: at a place the KV cache does
    not cover, a smaller window now and the full one read in the background (``warm``).
    """

    def uncached_tokens(self, request: FimRequest) -> int:
        """Prompt tokens that would have to be read before the first token of an answer."""
        ...

    def prompt_speed(self) -> float | None:
        """Prompt tokens read per second lately, or None before the first measurement."""
        ...

    async def warm(self, request: FimRequest) -> int:
        """Read the prompt ahead of any request; cancelling stops at the next batch."""
        ...


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate for remote models (code averages ~3.5 characters a token)."""
    return (len(text) * 2 + 6) // 7

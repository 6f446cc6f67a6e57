"""When the next request may go out: back-off, the circuit breaker, and Retry-After.

An editor asks on every keystroke, so a failing server must never turn into a retry storm:
while the breaker is open it answers "not now" without touching the network.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..base import BackendTransientError

Clock = Callable[[], float]
Jitter = Callable[[], float]


def parse_retry_after(value: str | None, now_wall: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        now = time.time() if now_wall is None else now_wall
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), 3600.0)


class CircuitOpen(BackendTransientError):
    """Refused without any network traffic (backing off / circuit open): nothing new to log."""


@dataclass
class CircuitBreaker:
    """Back-off after each failure, then an open circuit after ``threshold`` in a row.

    While blocked every call fails at once (no network). After an open circuit's cool-down one
    call is let through as a probe; its success closes the circuit, its failure re-opens it for
    twice as long. Retry-After from the server is a floor on every wait. ``clock`` and
    ``jitter`` (uniform 0..1) are injectable so tests control time.
    """

    threshold: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    open_base: float = 5.0
    open_cap: float = 120.0
    clock: Clock = time.monotonic
    jitter: Jitter = random.random
    failures: int = 0
    blocked_until: float = 0.0
    probing: bool = False
    last_error: str = ""

    @property
    def is_open(self) -> bool:
        return self.failures >= self.threshold

    def before_call(self) -> None:
        """Raise BackendTransientError when no request may be sent now."""
        now = self.clock()
        if now < self.blocked_until:
            state = "paused after repeated failures" if self.is_open else "backing off"
            raise CircuitOpen(
                f"remote backend {state} ({self.last_error}); retrying in "
                f"{self.blocked_until - now:.1f}s",
                retry_after=self.blocked_until - now,
            )
        if self.is_open:
            if self.probing:
                raise CircuitOpen(
                    f"remote backend paused ({self.last_error}); a probe request is in flight",
                    retry_after=None,
                )
            self.probing = True

    def record_success(self) -> None:
        self.failures = 0
        self.blocked_until = 0.0
        self.probing = False
        self.last_error = ""

    def record_failure(self, reason: str, retry_after: float | None = None) -> float:
        """Count a failure; returns how long calls are now blocked."""
        self.failures += 1
        self.probing = False
        self.last_error = reason
        spread = 0.5 + 0.5 * self.jitter()  # "equal jitter": between half and all of the delay
        if self.is_open:
            extra = self.failures - self.threshold
            delay = min(self.open_cap, self.open_base * 2.0**extra) * spread
        else:
            delay = min(self.backoff_cap, self.backoff_base * 2.0 ** (self.failures - 1)) * spread
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.blocked_until = self.clock() + delay
        return delay

    def release_probe(self) -> None:
        """The probe ended without a verdict (cancelled early): let the next call probe."""
        self.probing = False

"""Shared HTTP plumbing for the remote backends.

Each remote module only describes its API (URL, request body, where the text sits in an event);
everything about surviving a misbehaving server lives here once: timeouts with one total
deadline, SSE/NDJSON framing, error mapping, Retry-After, back-off with jitter, the circuit
breaker, the rule about sending keys over plain HTTP, and keeping the key out of every message.
An editor calls us on every keystroke, so a failure must never turn into a retry storm: the
breaker answers "not now" without touching the network while it is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import importlib.util
import ipaddress
import json
import logging
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..config import Settings
from .base import (
    BackendConfigError,
    BackendError,
    BackendInfo,
    BackendTransientError,
    DoctorCheck,
    FimRequest,
    ProgressCallback,
    estimate_tokens,
)

log = logging.getLogger("codestral_ls.backends.remote")

Clock = Callable[[], float]
Jitter = Callable[[], float]

#: Bodies of error answers are read up to this size; anything longer is not a message.
_ERROR_BODY_LIMIT = 64 * 1024
#: A non-streamed answer larger than this is not a code completion.
_WHOLE_BODY_LIMIT = 4 * 1024 * 1024
#: After the last piece, how long we wait for the end marker so the connection can be reused.
_DRAIN_SECONDS = 0.25
_REDACTED = "[redacted]"


# --------------------------------------------------------------------------- key handling


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced; the key must never be shown."""
    if secret and secret in text:
        return text.replace(secret, _REDACTED)
    return text


def is_loopback_host(host: str) -> bool:
    """True for addresses that never leave this machine (where a plain-HTTP key is safe)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(api_base: str, api_key: str, allow_insecure_http: bool) -> str | None:
    """Why ``api_base`` cannot be used, or None when it can: plain http only to loopback
    (code is as private as the key) unless the user explicitly allows it."""
    parts = urlsplit(api_base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"setting 'api_base' must be an http:// or https:// address, not {api_base!r}"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        what = "the API key and your code" if api_key else "your code"
        return (
            f"refusing to send {what} over plain http:// to {parts.hostname}: use https:// "
            "in 'api_base', or set 'allow_insecure_http' to true if this network is trusted"
        )
    return None


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``, for showing it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _header_safe(value: str) -> bool:
    return all(32 < ord(ch) < 127 for ch in value)


def join_url(api_base: str, path: str) -> str:
    """``api_base`` + ``path``, accepting bases that already end in ``/v1`` (a common habit)."""
    base = api_base.rstrip("/")
    if path.startswith("/v1/") and base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + path


# --------------------------------------------------------------------------- back-off


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


# --------------------------------------------------------------------------- framing


@dataclass
class SseEvent:
    event: str
    data: str


@dataclass
class SseParser:
    """Incremental Server-Sent Events parser fed one line at a time (WHATWG rules)."""

    _data: list[str] = field(default_factory=list)
    _event: str = ""

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "error":
            # llama.cpp's server writes "error: {...}" lines; treat them as an error event.
            self._data.append(value)
            self._event = "error"
        return None

    def flush(self) -> SseEvent | None:
        """The last event when the stream ended without its blank line (lenient)."""
        return self._dispatch()

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(self._event or "message", "\n".join(self._data))
        self._data = []
        self._event = ""
        return event


class MalformedResponse(Exception):
    """The server's answer could not be understood."""


def parse_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedResponse(f"invalid JSON ({len(text)} characters)") from None
    if not isinstance(value, dict):
        raise MalformedResponse("JSON value is not an object")
    return value


def error_text(body: Any) -> str | None:
    """The human message inside the error shapes remote APIs use, or None."""
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, list):
        # FastAPI/Mistral validation errors: [{"loc": [...], "msg": "..."}]; never echo "input".
        msgs = []
        for item in body[:3]:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
                msgs.append(f"{where}: {item['msg']}" if where else item["msg"])
        return "; ".join(msgs) or None
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            if key in body:
                found = error_text(body[key])
                if found:
                    return found
    return None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choice_field(event: Mapping[str, Any], *path: str) -> Any:
    """``event["choices"][0][path...]`` or None when the shape differs."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    value: Any = choices[0]
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# --------------------------------------------------------------------------- the backend


@dataclass(frozen=True)
class Piece:
    """What one streamed event contributed: text and whether generation ended."""

    text: str = ""
    done: bool = False

    @classmethod
    def of(cls, text: Any, done: bool) -> Piece:
        """A piece from an untrusted JSON value: anything but a string counts as no text."""
        return cls(text if isinstance(text, str) else "", done)


def http2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context for every client: loading CA certificates costs ~0.1 s, and
    a backend is recreated on every configuration change."""
    return httpx.create_ssl_context()


class HttpBackend:
    """A Backend that POSTs one JSON request per completion and reads a streamed answer.

    Subclasses set the class attributes and implement ``body``/``piece``/``whole``.
    """

    name = "remote"
    path = "/"
    framing = "sse"  # or "ndjson"
    default_api_base = ""
    default_model = ""
    key_required = False
    key_env_hint = "CODESTRAL_LS_API_KEY"

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = time.monotonic,
        jitter: Jitter = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.api_base = (settings.api_base or self.default_api_base).rstrip("/")
        #: ``api_base`` as shown to the user: without any ``user:password@`` part.
        self.shown_base = strip_userinfo(self.api_base)
        self.model = settings.remote_model or self.default_model
        # A key pasted from a file often ends with a newline; HTTP headers cannot carry one.
        self._key = settings.api_key.strip()
        self._clock = clock
        self.breaker = CircuitBreaker(clock=clock, jitter=jitter)
        self._config_error: BackendConfigError | None = None
        self._auth_failed = False
        self._last_status: int | None = None
        self._announced = False
        problem = check_endpoint(self.api_base, self._key, settings.allow_insecure_http)
        if problem is None and not _header_safe(self._key):
            problem = (
                "setting 'api_key' contains characters that cannot be sent in an HTTP header "
                "(spaces, line breaks or non-ASCII characters): check how it was copied"
            )
        if problem is None:
            problem = self.config_problem()
        if problem is not None:
            self._config_error = BackendConfigError(problem)
        #: The whole request's budget: neither the HTTP limit nor the engine's generation
        #: limit may be exceeded, so a hung server costs the editor at most this.
        self.budget_ms = min(settings.request_timeout_ms, settings.timeout_ms)
        self.total_timeout = self.budget_ms / 1000.0
        connect = settings.connect_timeout_ms / 1000.0
        self._client = httpx.AsyncClient(
            http2=http2_available(),
            timeout=httpx.Timeout(self.total_timeout, connect=connect, pool=connect),
            # Keep the connection (and its TLS session) across typing pauses; a server that
            # closed it meanwhile costs one cheap retry (see _ResetBeforeAnswer).
            limits=httpx.Limits(
                max_connections=4, max_keepalive_connections=2, keepalive_expiry=30.0
            ),
            headers={"User-Agent": f"codestral-ls/{__version__}"},
            follow_redirects=False,
            verify=_tls_context(),
            transport=transport,
        )

    def __repr__(self) -> str:
        key = "set" if self._key else "not set"
        return f"<{type(self).__name__} {self.shown_base} model={self.model!r} api_key={key}>"

    # ---- what subclasses describe

    def config_problem(self) -> str | None:
        """A setting that makes this backend unusable (checked once, at creation)."""
        if self.key_required and not self._key:
            return f"the {self.name} backend needs an API key: set 'api_key' or {self.key_env_hint}"
        return None

    def body(self, request: FimRequest) -> dict[str, Any]:
        raise NotImplementedError

    def piece(self, event: Mapping[str, Any]) -> Piece:
        """The text one streamed event carries."""
        raise NotImplementedError

    def whole(self, body: Mapping[str, Any]) -> str:
        """The text of a non-streamed answer (a server that ignored ``stream: true``)."""
        raise NotImplementedError

    def finish(self, text: str, request: FimRequest) -> str:
        """Hook for backends that must see the whole answer before yielding (chat)."""
        return text

    buffer_whole_answer = False

    def model_label(self) -> str:
        return self.model

    # ---- Backend protocol

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(
            backend=self.name,
            model=self.model_label(),
            template=self.template_name(),
            endpoint=join_url(self.shown_base, self.path),
            special_tokens=self.special_tokens(),
        )

    def template_name(self) -> str:
        return ""

    def special_tokens(self) -> tuple[str, ...]:
        """Marker texts of a prompt format this backend writes itself (raw prompts)."""
        return ()

    async def start(self, progress: ProgressCallback) -> None:
        """Nothing to load: only refuse a configuration that cannot work."""
        if self._config_error is not None:
            raise self._config_error
        progress(f"using {self.name} at {self.shown_base}", 100)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(self, request: FimRequest) -> AsyncIterator[str]:
        """Yield the middle; closing this iterator closes the HTTP response at once."""
        if self._config_error is not None:
            raise self._config_error
        self.breaker.before_call()
        try:
            async with contextlib.aclosing(self._request(request, use_breaker=True)) as pieces:
                if self.buffer_whole_answer:
                    text = self.finish("".join([p async for p in pieces]), request)
                    if text:
                        yield text
                else:
                    async for text in pieces:
                        yield text
        finally:
            # A probe that ended without a verdict (cancelled, closed early) must not keep
            # the circuit half-open forever; after a verdict this changes nothing.
            self.breaker.release_probe()

    async def doctor(self) -> list[DoctorCheck]:
        """Endpoint policy, key presence, then one tiny request (bypassing the breaker)."""
        endpoint = join_url(self.shown_base, self.path)
        key_check = DoctorCheck(
            "api key",
            bool(self._key) or not self.key_required,
            "set" if self._key else ("not set (required)" if self.key_required else "not set"),
        )
        if self._config_error is not None and not self._auth_failed:
            return [DoctorCheck("endpoint", False, self._config_error.user_message), key_check]
        checks = [DoctorCheck("endpoint", True, f"{self.name} at {endpoint}"), key_check]
        if self._config_error is not None:
            checks.append(DoctorCheck("authenticated", False, self._config_error.user_message))
            return checks
        probe = FimRequest(prefix="def add(a, b):\n    return ", suffix="\n", max_tokens=4)
        self._last_status = None
        started = self._clock()
        try:
            async with contextlib.aclosing(self._request(probe, use_breaker=False)) as pieces:
                text = "".join([p async for p in pieces])
        except BackendError as exc:
            status = self._last_status
            if status is None:
                checks.append(DoctorCheck("reachable", False, exc.user_message))
                return checks
            checks.append(DoctorCheck("reachable", True, f"the server answered (HTTP {status})"))
            if status in (401, 403):
                checks.append(DoctorCheck("authenticated", False, exc.user_message))
                return checks
            checks.append(DoctorCheck("request", False, exc.user_message))
            return checks
        latency_ms = round((self._clock() - started) * 1000)
        checks.append(DoctorCheck("reachable", True, "the server answered (HTTP 200)"))
        checks.append(DoctorCheck("authenticated", True, "the request was accepted"))
        checks.append(
            DoctorCheck("request", True, f"tiny completion in {latency_ms} ms ({len(text)} chars)")
        )
        return checks

    # ---- the request itself

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream, application/x-ndjson, application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    async def _request(
        self, request: FimRequest, *, use_breaker: bool
    ) -> AsyncGenerator[str, None]:
        """One completion: at most one cheap retry, and only on a reset before any answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_timeout
        url = join_url(self.api_base, self.path)
        payload = self.body(request)
        for attempt in (1, 2):
            try:
                attempt_pieces = self._attempt(url, payload, deadline, use_breaker)
                async with contextlib.aclosing(attempt_pieces) as pieces:
                    async for text in pieces:
                        yield text
                return
            except _ResetBeforeAnswer as exc:
                if attempt == 2 or loop.time() >= deadline:
                    raise self._failure(use_breaker, "connection lost", exc.reason) from None
                log.info("%s: connection reset before the answer; retrying once", self.name)

    def _failure(
        self, use_breaker: bool, what: str, detail: str = "", retry_after: float | None = None
    ) -> BackendTransientError:
        reason = redact(f"{what}: {detail}" if detail else what, self._key)
        if use_breaker:
            retry_after = self.breaker.record_failure(reason, retry_after)
            log.warning(
                "%s: %s (next request in %.1fs at the earliest)", self.name, reason, retry_after
            )
        else:
            log.warning("%s: %s", self.name, reason)
        return BackendTransientError(f"{self.name}: {reason}", retry_after=retry_after)

    async def _attempt(
        self, url: str, payload: dict[str, Any], deadline: float, use_breaker: bool
    ) -> AsyncGenerator[str, None]:
        ms = self.budget_ms
        if not self._announced:
            # Code leaves the machine from here on: say where, once a session (never the key).
            self._announced = True
            log.info("%s: sending completion requests to %s", self.name, strip_userinfo(url))
        try:
            http_request = self._client.build_request(
                "POST", url, json=payload, headers=self._headers()
            )
        except httpx.HTTPError as exc:  # e.g. an invalid URL
            raise BackendConfigError(
                f"setting 'api_base' is not usable: {redact(str(exc), self._key)}"
            ) from None
        try:
            async with asyncio.timeout_at(deadline):
                response = await _send_uncancelled(self._client, http_request)
        except TimeoutError:
            raise self._failure(use_breaker, f"no answer within {ms} ms") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise _ResetBeforeAnswer(_short(str(exc) or type(exc).__name__)) from None
        except httpx.TimeoutException:
            raise self._failure(use_breaker, f"no answer within {ms} ms") from None
        except httpx.ConnectError as exc:
            raise self._failure(
                use_breaker, f"cannot connect to {self.shown_base}", _short(str(exc))
            ) from None
        except httpx.UnsupportedProtocol as exc:
            raise BackendConfigError(
                f"setting 'api_base' is not usable: {redact(str(exc), self._key)}"
            ) from None
        except httpx.HTTPError as exc:
            raise self._failure(use_breaker, "request failed", _short(str(exc))) from None
        self._last_status = response.status_code
        try:
            if response.status_code != 200:
                await self._raise_for_status(response, deadline, use_breaker)
            if use_breaker:
                self.breaker.record_success()
            async for text in self._read(response, deadline, use_breaker):
                yield text
        finally:
            await response.aclose()

    async def _raise_for_status(
        self, response: httpx.Response, deadline: float, use_breaker: bool
    ) -> None:
        status = response.status_code
        raw = b""
        try:
            async with asyncio.timeout_at(min(deadline, asyncio.get_running_loop().time() + 2)):
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > _ERROR_BODY_LIMIT:
                        break
        except (TimeoutError, httpx.HTTPError):
            pass
        text = raw.decode("utf-8", "replace")
        try:
            message = error_text(json.loads(text))
        except ValueError:
            message = None
        if message is None:
            message = response.reason_phrase or "error"
            if text.strip() and "json" not in response.headers.get("content-type", "json"):
                message = f"{message}: {_short(text, 120)}"
        message = redact(_short(message), self._key)
        label = f"HTTP {status} {message}"
        if status in (401, 403):
            error = BackendConfigError(self.auth_message(status, message))
            if use_breaker:
                self._config_error = error  # stop calling until the backend is recreated
                self._auth_failed = True
            log.error("%s: %s", self.name, error.user_message)
            raise error
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if 300 <= status < 400 or status == 404:
            if status == 404:
                hint = f"from {join_url(self.shown_base, self.path)}; {self.not_found_hint()}"
            else:
                where = redact(response.headers.get("location", "?"), self._key)
                hint = (
                    f"{self.shown_base} redirects to {where}; set 'api_base' to the final address"
                )
            config_error = BackendConfigError(f"{self.name}: {label} {hint}")
            if use_breaker:  # the user must act, but do not ask again on every keystroke
                self.breaker.record_failure(label, retry_after)
            log.error("%s", config_error.user_message)
            raise config_error
        raise self._failure(use_breaker, label, retry_after=retry_after)

    def auth_message(self, status: int, message: str) -> str:
        key_state = "the API key that is set" if self._key else "no API key (none is set)"
        return (
            f"{self.name}: the server at {self.shown_base} refused {key_state} "
            f"(HTTP {status} {message}). Set 'api_key' (or {self.key_env_hint}) to a valid key; "
            "completions stay off until the configuration changes"
        )

    def not_found_hint(self) -> str:
        return "check 'api_base' and 'remote_model'"

    async def _read(
        self, response: httpx.Response, deadline: float, use_breaker: bool
    ) -> AsyncIterator[str]:
        content_type = response.headers.get("content-type", "").lower()
        if self.framing == "sse" and content_type.startswith("application/json"):
            text = await self._read_whole(response, deadline, use_breaker)
            if text:
                yield text
            return
        lines = response.aiter_lines()
        parser = SseParser()
        yielded = False
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        line: str | None = await anext(lines)
                except StopAsyncIteration:
                    line = None
                except TimeoutError:
                    if yielded:  # like the local model: what arrived in time is used
                        log.info("%s: answer cut at the %d ms budget", self.name, self.budget_ms)
                        return
                    raise self._failure(
                        use_breaker, f"answer not finished within {self.budget_ms} ms"
                    ) from None
                except httpx.HTTPError as exc:
                    raise self._failure(
                        use_breaker, "answer cut off", _short(str(exc) or type(exc).__name__)
                    ) from None
                event_name = "message"
                if self.framing == "ndjson":
                    payload = line.strip() if line is not None else ""
                else:
                    event = parser.flush() if line is None else parser.feed(line)
                    payload = event.data if event else ""
                    event_name = event.event if event else "message"
                if payload.strip() == "[DONE]":
                    break
                if payload:
                    piece = self._piece_of(payload, event_name, use_breaker)
                    if piece.text:
                        yielded = True
                        yield piece.text
                    if piece.done:
                        break
                if line is None:
                    raise self._failure(use_breaker, "answer ended before its end marker")
            # Generation ended: read the rest briefly so the connection can be reused.
            try:
                async with asyncio.timeout(_DRAIN_SECONDS):
                    async for _ in lines:
                        pass
            except (TimeoutError, httpx.HTTPError):
                pass
        finally:
            close = getattr(lines, "aclose", None)
            if close is not None:
                await close()

    def _piece_of(self, payload: str, event_name: str, use_breaker: bool) -> Piece:
        try:
            obj = parse_json_object(payload)
        except MalformedResponse as exc:
            raise self._failure(use_breaker, "malformed answer", str(exc)) from None
        if event_name == "error" or ("error" in obj and not self._has_text(obj)):
            message = redact(_short(error_text(obj) or "error"), self._key)
            raise self._failure(use_breaker, "server reported an error", message)
        try:
            return self.piece(obj)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise self._failure(use_breaker, "malformed answer", type(exc).__name__) from None

    def _has_text(self, obj: Mapping[str, Any]) -> bool:
        try:
            return bool(self.piece(obj).text)
        except (TypeError, ValueError, KeyError, AttributeError):
            return False

    async def _read_whole(
        self, response: httpx.Response, deadline: float, use_breaker: bool
    ) -> str:
        raw = b""
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > _WHOLE_BODY_LIMIT:
                        raise self._failure(use_breaker, "answer too large")
        except TimeoutError:
            raise self._failure(
                use_breaker, f"answer not finished within {self.budget_ms} ms"
            ) from None
        except httpx.HTTPError as exc:
            raise self._failure(use_breaker, "answer cut off", _short(str(exc))) from None
        try:
            body = parse_json_object(raw.decode("utf-8", "replace"))
            text = self.whole(body)
        except MalformedResponse as exc:
            raise self._failure(use_breaker, "malformed answer", str(exc)) from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise self._failure(use_breaker, "malformed answer", type(exc).__name__) from None
        if not isinstance(text, str):
            raise self._failure(use_breaker, "malformed answer", "no text in the answer")
        return text


_CLOSING: set[asyncio.Task[None]] = set()


async def _send_uncancelled(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``client.send`` that is never cancelled half-way.

    httpcore leaks a pooled connection when a request is cancelled while it connects or sends
    (the connection stays NEW forever); after ``max_connections`` such leaks every request
    waits for the pool and the backend goes silent. Superseded requests are the normal case
    here (every keystroke), so a cancelled send finishes in the background (bounded by the
    client's own timeouts) and its response is closed at once.
    """
    task = asyncio.ensure_future(client.send(request, stream=True))
    try:
        return await asyncio.shield(task)
    except BaseException:

        def close(done: asyncio.Future[httpx.Response]) -> None:
            if not done.cancelled() and done.exception() is None:
                closing = asyncio.ensure_future(done.result().aclose())
                _CLOSING.add(closing)  # keep a reference until it is done
                closing.add_done_callback(_CLOSING.discard)

        task.add_done_callback(close)
        raise


class _ResetBeforeAnswer(Exception):
    """The connection dropped before any status line: safe to retry once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def prefix_with_context(request: FimRequest) -> str:
    """The prefix preceded by the context snippets as comments, for APIs with no context field.

    The same commented "Path: ..." layout the FIM templates use for families without a
    repository format, so the model sees other files as part of the current one.
    """
    if not request.context:
        return request.prefix
    from fim import comment_block

    language = request.language or None
    path = request.path or None
    parts: list[str] = []
    for snippet in request.context:
        parts.append(comment_block(f"Path: {snippet.path}", language, path))
        parts.append(comment_block(snippet.text, language, path))
    if path:
        parts.append(comment_block(f"Path: {path}", language, path))
    return "".join(parts) + request.prefix


def string_list(values: tuple[str, ...]) -> list[str]:
    """Stop strings for a JSON body: unique, non-empty, order kept."""
    return list(dict.fromkeys(v for v in values if v))

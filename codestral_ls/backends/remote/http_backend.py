"""The base of every remote backend: one JSON POST per completion, its streamed answer read.

A module per API only describes that API (path, request body, where the text sits in an
event); surviving a misbehaving server lives here once: one total deadline, error mapping,
at most one cheap retry, the circuit breaker, and keeping the key out of every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import httpx

from ...config import Settings
from ..base import (
    BackendConfigError,
    BackendError,
    BackendInfo,
    BackendTransientError,
    DoctorCheck,
    FimRequest,
    ProgressCallback,
    estimate_tokens,
)
from .answer import MalformedResponse, Piece, error_text, parse_json_object
from .breaker import CircuitBreaker, Clock, Jitter, parse_retry_after
from .client import make_client, send_uncancelled
from .endpoint import check_endpoint, check_key, join_url, redact, strip_userinfo
from .framing import SseEvent, ndjson_events, sse_events

log = logging.getLogger("codestral_ls.backends.remote")

#: Bodies of error answers are read up to this size; anything longer is not a message.
_ERROR_BODY_LIMIT = 64 * 1024
#: A non-streamed answer larger than this is not a code completion.
_WHOLE_BODY_LIMIT = 4 * 1024 * 1024
#: After the last piece, how long we wait for the end marker so the connection can be reused.
_DRAIN_SECONDS = 0.25


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        problem = (
            check_endpoint(self.api_base, self._key, settings.allow_insecure_http)
            or check_key(self._key)
            or self.config_problem()
        )
        if problem is not None:
            self._config_error = BackendConfigError(problem)
        #: The whole request's budget: neither the HTTP limit nor the engine's generation
        #: limit may be exceeded, so a hung server costs the editor at most this.
        self.budget_ms = min(settings.request_timeout_ms, settings.timeout_ms)
        self.total_timeout = self.budget_ms / 1000.0
        connect = settings.connect_timeout_ms / 1000.0
        self._client = make_client(self.total_timeout, connect, transport)

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
                response = await send_uncancelled(self._client, http_request)
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
        events = self._events(response)
        yielded = False
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        event = await anext(events)
                except StopAsyncIteration:
                    raise self._failure(use_breaker, "answer ended before its end marker") from None
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
                if event.data.strip() == "[DONE]":
                    break
                piece = self._piece_of(event.data, event.event, use_breaker)
                if piece.text:
                    yielded = True
                    yield piece.text
                if piece.done:
                    break
            # Generation ended: read the rest briefly so the connection can be reused.
            try:
                async with asyncio.timeout(_DRAIN_SECONDS):
                    async for _ in events:
                        pass
            except (TimeoutError, httpx.HTTPError):
                pass
        finally:
            await events.aclose()

    def _events(self, response: httpx.Response) -> AsyncGenerator[SseEvent, None]:
        reader = ndjson_events if self.framing == "ndjson" else sse_events
        return reader(response)

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


class _ResetBeforeAnswer(Exception):
    """The connection dropped before any status line: safe to retry once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

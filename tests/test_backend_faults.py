"""Remote backends under faults: hung or dead servers, broken answers, key handling.

Every fault must end in an empty answer (a BackendError the engine swallows) within the time
budget, with a log line and without the API key appearing anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time

import pytest

from codestral_ls.backends.base import (
    BackendConfigError,
    BackendError,
    BackendTransientError,
    FimRequest,
)
from codestral_ls.backends.remote.breaker import CircuitBreaker, CircuitOpen, parse_retry_after
from codestral_ls.backends.remote.endpoint import check_endpoint, is_loopback_host, join_url, redact
from codestral_ls.backends.remote.framing import SseEvent, SseParser
from codestral_ls.backends.remote.mistral import MistralBackend
from codestral_ls.backends.remote.openai_compat import OpenAICompatBackend
from codestral_ls.config import Settings
from remote_helpers import (
    FakeClock,
    MistralStandIn,
    Recorded,
    Reply,
    StandInServer,
    mistral_events,
)

KEY = "sk-planted-FAKE-KEY-5f3a9c"
REQUEST = FimRequest(prefix="x = ", suffix="\n")


def mistral(url: str, **changes: object) -> MistralBackend:
    values: dict[str, object] = {"backend": "mistral", "api_base": url, "api_key": KEY}
    values.update(changes)
    return MistralBackend(Settings(**values), clock=FakeClock(), jitter=lambda: 0.0)  # type: ignore[arg-type]


async def collect(backend: MistralBackend | OpenAICompatBackend) -> str:
    return "".join([p async for p in backend.stream(REQUEST)])


def fixed(reply: Reply) -> MistralStandIn:
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(reply)
    return stand_in


def events(*payloads: str) -> list[str]:
    return list(payloads)


@pytest.mark.parametrize(
    "budget", [{"request_timeout_ms": 300}, {"timeout_ms": 300, "request_timeout_ms": 15000}]
)
async def test_a_hung_server_gives_a_transient_error_within_the_budget(
    budget: dict[str, int],
) -> None:
    async with StandInServer(lambda r: Reply.hang()) as server:
        backend = mistral(server.url, **budget)
        started = time.monotonic()
        with pytest.raises(BackendTransientError, match="300 ms"):
            await collect(backend)
        elapsed = time.monotonic() - started
        await backend.aclose()
    assert 0.25 <= elapsed < 1.0


async def test_a_server_stuck_mid_answer_is_cut_at_the_budget_keeping_what_arrived() -> None:
    payloads = mistral_events("abcdefghijkl", "m")
    reply = Reply.sse(payloads)
    reply.stall_after = 2
    async with StandInServer(lambda r: reply) as server:
        backend = mistral(server.url, request_timeout_ms=400)
        started = time.monotonic()
        got = [piece async for piece in backend.stream(REQUEST)]
        elapsed = time.monotonic() - started
        await asyncio.wait_for(server.disconnected.wait(), 1.0)
        await backend.aclose()
    assert got == ["abc"]  # like the local model: what arrived within the budget is used
    assert 0.35 <= elapsed < 1.0


async def test_a_closed_port_is_a_quick_transient_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = mistral(f"http://127.0.0.1:{port}", connect_timeout_ms=500)
    started = time.monotonic()
    with pytest.raises(BackendTransientError, match="cannot connect"):
        await collect(backend)
    assert time.monotonic() - started < 1.0
    await backend.aclose()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.sse(['{"choices": [{"delta": {"content": "a"}', "[DONE]"]), "malformed"),
        (Reply.sse(["[1, 2, 3]", "[DONE]"]), "malformed"),
        (Reply.sse(['{"choices": [{"delta": {"content": "ab"}}]}'], truncate=True), "cut off"),
        (Reply.sse(['{"choices": [{"delta": {"content": "ab"}}]}']), "ended before"),
        (
            Reply("whole", 200, b"<html>gateway</html>", {"Content-Type": "text/html"}),
            "ended before",
        ),
        (Reply.sse(['{"error": {"message": "model overloaded"}}']), "model overloaded"),
        (Reply.json(200, {"unexpected": True}), ""),
        (Reply("whole", 200, b'{"choices": [', {"Content-Type": "application/json"}), "malformed"),
    ],
    ids=[
        "truncated-json",
        "not-an-object",
        "truncated-chunks",
        "no-end-marker",
        "html-page",
        "error-event",
        "json-without-text",
        "truncated-json-body",
    ],
)
async def test_broken_answers_end_cleanly_with_a_log_line(
    reply: Reply, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with StandInServer(fixed(reply)) as server:
        backend = mistral(server.url)
        if expected:
            with pytest.raises(BackendTransientError, match=expected):
                await collect(backend)
            assert any(expected in r.getMessage() for r in caplog.records)
        else:
            assert await collect(backend) == ""
        # The next request is served normally (after the short back-off).
        backend.breaker.record_success()
        assert await collect(backend) == "a + b"
        await backend.aclose()


async def test_a_reset_before_the_answer_is_retried_once_only() -> None:
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(Reply.drop())
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        assert await collect(backend) == "a + b"
        assert len(server.requests) == 2
        stand_in.queue.extend([Reply.drop(), Reply.drop(), Reply.drop()])
        with pytest.raises(BackendTransientError, match="connection lost"):
            await collect(backend)
        assert len(server.requests) == 4  # one retry, never more
        await backend.aclose()


async def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    stand_in = MistralStandIn(KEY)
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        reply = stand_in.answer(_valid_request())  # a normal answer, then the server
        reply.close_after = True  # closes the idle connection without saying so
        stand_in.queue.append(reply)
        assert await collect(backend) == "a + b"
        await asyncio.sleep(0.05)  # the server has closed the idle connection by now
        assert await collect(backend) == "a + b"
        assert server.connections == 2
        await backend.aclose()


def _valid_request() -> Recorded:
    body = json.dumps({"model": "codestral-latest", "prompt": "x = ", "stream": True})
    headers = {"authorization": f"Bearer {KEY}"}
    return Recorded("POST", MistralStandIn.PATH, headers, body.encode())


async def test_redirects_and_not_found_name_the_setting_to_fix() -> None:
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(Reply("whole", 301, b"", {"Location": "https://elsewhere.example/"}))
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        with pytest.raises(BackendConfigError, match="api_base"):
            await collect(backend)
        await backend.aclose()
        wrong_path = mistral(server.url + "/wrong")
        with pytest.raises(BackendConfigError, match="remote_model") as caught:
            await collect(wrong_path)
        assert "404" in caught.value.user_message
        await wrong_path.aclose()


async def test_the_key_never_appears_in_logs_errors_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = Reply.json(500, {"message": f"upstream rejected Authorization: Bearer {KEY}"})
    stand_in = MistralStandIn(KEY)
    stand_in.queue.append(echo)
    stand_in.queue.append(Reply.sse([json.dumps({"error": f"bad token {KEY}"})]))
    shown: list[str] = []
    async with StandInServer(stand_in) as server:
        backend = mistral(server.url)
        for _ in range(2):
            with pytest.raises(BackendError) as caught:
                await collect(backend)
            shown += [caught.value.user_message, str(caught.value), repr(caught.value)]
            backend.breaker.record_success()
        assert "[redacted]" in shown[0]
        checks = await backend.doctor()
        shown += [c.detail for c in checks]
        shown += [repr(backend), repr(backend.settings), str(backend.info)]
        await backend.aclose()
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent
    assert not [s for s in shown if KEY in s]
    assert KEY not in caplog.text
    assert "set" in {c.detail for c in checks}


@pytest.mark.parametrize(
    ("api_base", "key", "override", "allowed"),
    [
        ("http://gpu-box.lan:8000", KEY, False, False),
        ("http://192.0.2.10:8000", KEY, False, False),
        ("http://gpu-box.lan:8000", KEY, True, True),
        ("http://gpu-box.lan:8000", "", False, False),  # code is as private as a key
        ("http://gpu-box.lan:8000", "", True, True),
        ("https://gpu-box.lan:8000", KEY, False, True),
        ("http://127.0.0.1:8000", KEY, False, True),
        ("http://127.8.9.10:8000", KEY, False, True),
        ("http://localhost:8000", KEY, False, True),
        ("http://[::1]:8000", KEY, False, True),
        ("ftp://127.0.0.1", "", False, False),
    ],
)
def test_key_over_plain_http_only_to_loopback_unless_overridden(
    api_base: str, key: str, override: bool, allowed: bool
) -> None:
    problem = check_endpoint(api_base, key, override)
    assert (problem is None) == allowed
    if problem and key:
        assert "allow_insecure_http" in problem and KEY not in problem


async def test_a_refused_key_policy_sends_nothing() -> None:
    async with StandInServer(MistralStandIn(KEY)) as server:
        # The stand-in listens on loopback; 'localhost.' style tricks are not loopback hosts.
        backend = OpenAICompatBackend(
            Settings(backend="openai", api_base="http://example.invalid:9", api_key=KEY)
        )
        with pytest.raises(BackendConfigError, match="allow_insecure_http"):
            await backend.start(lambda message, percent: None)
        with pytest.raises(BackendConfigError, match="allow_insecure_http"):
            await collect(backend)
        checks = await backend.doctor()
        assert not checks[0].ok and "allow_insecure_http" in checks[0].detail
        await backend.aclose()
        assert server.requests == []


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("[::1]")
    assert is_loopback_host("localhost") and is_loopback_host("LOCALHOST")
    assert not is_loopback_host("10.0.0.1") and not is_loopback_host("localhost.example.com")
    assert not is_loopback_host("127.0.0.1.nip.io")


def test_join_url_accepts_bases_with_or_without_v1() -> None:
    assert join_url("http://h:1/v1", "/v1/completions") == "http://h:1/v1/completions"
    assert join_url("http://h:1/v1/", "/v1/completions") == "http://h:1/v1/completions"
    assert join_url("http://h:1", "/v1/completions") == "http://h:1/v1/completions"
    assert join_url("http://h:1/proxy", "/infill") == "http://h:1/proxy/infill"


def test_redact() -> None:
    assert redact(f"key={KEY}; again {KEY}", KEY) == "key=[redacted]; again [redacted]"
    assert redact("nothing here", "") == "nothing here"


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now_wall=1445412480.0) == 10.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("99999999") == 3600.0


def test_breaker_retry_after_is_a_floor_and_success_resets() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock, jitter=lambda: 1.0)
    assert breaker.record_failure("HTTP 429", retry_after=30.0) == 30.0
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert isinstance(caught.value, BackendTransientError) and not caught.value.notify
    assert caught.value.retry_after == 30.0 and "HTTP 429" in caught.value.user_message
    clock.advance(30.0)
    breaker.before_call()
    breaker.record_success()
    assert breaker.failures == 0
    # A cancelled probe does not leave the circuit stuck half-open.
    for _ in range(3):
        breaker.record_failure("HTTP 503")
    clock.advance(1000)
    breaker.before_call()
    with pytest.raises(BackendTransientError, match="probe"):
        breaker.before_call()
    breaker.release_probe()
    breaker.before_call()
    # The open cool-down doubles per failed probe and stops at its cap.
    for _ in range(20):
        breaker.record_failure("HTTP 503")
    assert breaker.blocked_until - clock() == breaker.open_cap


def test_sse_parser_follows_the_event_stream_rules() -> None:
    parser = SseParser()
    lines = [
        ": keep-alive comment",
        "event: completion",
        "data: first line",
        "data:second line",
        "id: 7",
        "",
        "",
        "data: {}",
        "",
        'error: {"message": "boom"}',
        "",
        "data: tail without blank line",
    ]
    out = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert out == [
        SseEvent("completion", "first line\nsecond line"),
        SseEvent("message", "{}"),
        SseEvent("error", '{"message": "boom"}'),
    ]
    assert parser.flush() == SseEvent("message", "tail without blank line")
    assert parser.flush() is None


async def test_faults_do_not_hammer_the_server() -> None:
    """A user typing fast against a failing server: a handful of requests, not one per key."""

    def always_503(request: Recorded) -> Reply:
        return Reply.json(503, {"message": "Service unavailable"})

    async with StandInServer(always_503) as server:
        clock = FakeClock()
        backend = MistralBackend(
            Settings(backend="mistral", api_base=server.url, api_key=KEY), clock=clock
        )
        for _ in range(200):  # 200 keystrokes, 50 ms apart, 10 s in all
            with contextlib.suppress(BackendTransientError):
                await collect(backend)
            clock.advance(0.05)
        await backend.aclose()
    assert 3 <= len(server.requests) <= 8


async def test_a_pasted_key_is_trimmed_and_an_unsendable_key_is_refused() -> None:
    async with StandInServer(MistralStandIn(KEY)) as server:
        backend = mistral(server.url, api_key=f"  {KEY}\n")
        assert await collect(backend) == "a + b"
        await backend.aclose()
        broken = mistral(server.url, api_key=f"{KEY[:5]}\n{KEY[5:]}")
        with pytest.raises(BackendConfigError, match="api_key") as caught:
            await collect(broken)
        assert KEY[5:] not in caught.value.user_message
        await broken.aclose()
        assert len(server.requests) == 1


def test_credentials_in_api_base_are_not_shown() -> None:
    backend = mistral("https://user:hunter2@proxy.example.com/mistral")
    assert backend.info.endpoint == "https://proxy.example.com/mistral/v1/fim/completions"
    assert "hunter2" not in repr(backend)

"""The mistral backend against a stand-in that follows Mistral's documented FIM API."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from codestral_ls.backends import create_backend
from codestral_ls.backends.base import (
    Backend,
    BackendConfigError,
    BackendTransientError,
    ContextSnippet,
    FimRequest,
)
from codestral_ls.backends.remote.mistral import MistralBackend
from codestral_ls.config import Settings
from remote_helpers import (
    FakeClock,
    MistralStandIn,
    Reply,
    StandInServer,
    mistral_events,
    mistral_rate_limited,
    mistral_server_error,
    mistral_whole,
)

KEY = "sk-test-0123456789abcdef-FAKE"
REQUEST = FimRequest(prefix="def add(a, b):\n    return ", suffix="\n\nprint(add(1, 2))\n")


def backend_for(
    server: StandInServer, clock: FakeClock | None = None, **changes: object
) -> MistralBackend:
    values: dict[str, object] = {
        "backend": "mistral",
        "api_base": server.url,
        "api_key": KEY,
        "request_timeout_ms": 2000,
    }
    values.update(changes)
    settings = Settings(**values)  # type: ignore[arg-type]
    return MistralBackend(settings, clock=clock or FakeClock(), jitter=lambda: 0.0)


async def collect(backend: MistralBackend, request: FimRequest = REQUEST) -> str:
    return "".join([piece async for piece in backend.stream(request)])


@pytest.fixture
async def mistral() -> AsyncIterator[tuple[StandInServer, MistralStandIn]]:
    stand_in = MistralStandIn(KEY, completion="a + b")
    async with StandInServer(stand_in) as server:
        yield server, stand_in


async def test_create_backend_gives_a_mistral_backend_with_the_real_default_endpoint() -> None:
    backend = create_backend(Settings(backend="mistral", api_key=KEY))
    try:
        assert isinstance(backend, Backend)
        assert backend.info.endpoint == "https://codestral.mistral.ai/v1/fim/completions"
        assert backend.info.model == "codestral-latest"
        assert KEY not in repr(backend)
        assert backend.count_tokens("x" * 35) == 10
    finally:
        await backend.aclose()


async def test_sends_the_documented_body_and_streams_the_middle(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, _ = mistral
    backend = backend_for(server, remote_model="codestral-2501")
    request = FimRequest(
        prefix="def add(a, b):\n    return ",
        suffix="\n",
        max_tokens=32,
        stop=("\n\n", "\n\n"),
        temperature=0.2,
        top_p=0.9,
        seed=7,
    )
    pieces = [p async for p in backend.stream(request)]
    await backend.aclose()
    assert "".join(pieces) == "a + b"
    assert len(pieces) > 1  # really streamed, not one blob
    sent = server.requests[0]
    assert sent.method == "POST" and sent.path == "/v1/fim/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {
        "model": "codestral-2501",
        "prompt": "def add(a, b):\n    return ",
        "suffix": "\n",
        "max_tokens": 32,
        "temperature": 0.2,
        "top_p": 0.9,
        "stream": True,
        "stop": ["\n\n"],
        "random_seed": 7,
    }


async def test_context_snippets_become_commented_lines_before_the_prefix(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, _ = mistral
    backend = backend_for(server)
    request = FimRequest(
        prefix="x = helper(",
        suffix=")\n",
        language="python",
        path="src/main.py",
        context=(ContextSnippet("src/util.py", "def helper(n):\n    return n"),),
    )
    await collect(backend, request)
    await backend.aclose()
    body = server.requests[0].json()
    assert body["prompt"] == (
        "# Path: src/util.py\n# def helper(n):\n#     return n\n# Path: src/main.py\nx = helper("
    )
    assert "seed" not in body and "random_seed" not in body and "stop" not in body


async def test_keep_alive_reuses_one_connection(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, _ = mistral
    backend = backend_for(server)
    for _ in range(3):
        assert await collect(backend) == "a + b"
    await backend.aclose()
    assert len(server.requests) == 3
    assert server.connections == 1


async def test_a_non_streamed_answer_is_accepted(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, stand_in = mistral
    stand_in.queue.append(Reply.json(200, mistral_whole("x * 2", "codestral-latest")))
    backend = backend_for(server)
    assert await collect(backend) == "x * 2"
    await backend.aclose()


async def test_closing_the_stream_early_closes_the_http_response() -> None:
    long_answer = "".join(f"line{i}\n" for i in range(400))
    stand_in = MistralStandIn(KEY, completion=long_answer, delay=0.005)
    async with StandInServer(stand_in) as server:
        backend = backend_for(server)
        stream = backend.stream(REQUEST)
        first = await anext(stream)
        second = await anext(stream)
        assert (first + second) == long_answer[: len(first + second)]
        await stream.aclose()  # type: ignore[attr-defined]
        await asyncio.wait_for(server.disconnected.wait(), 2.0)
        total = len(mistral_events(long_answer, "m"))
        assert server.events_sent < total / 4
        sent_at_close = server.events_sent
        await asyncio.sleep(0.05)
        assert server.events_sent == sent_at_close  # nothing more was generated
        # The backend still works afterwards, on a fresh connection.
        stand_in.completion = "ok"
        assert await collect(backend) == "ok"
        await backend.aclose()


async def test_cancelling_the_consumer_task_closes_the_http_response() -> None:
    stand_in = MistralStandIn(KEY, completion="z" * 3000, delay=0.005)
    async with StandInServer(stand_in) as server:
        backend = backend_for(server)
        got: list[str] = []

        async def consume() -> None:
            async for piece in backend.stream(REQUEST):
                got.append(piece)

        task = asyncio.create_task(consume())
        for _ in range(200):
            if len(got) >= 3:
                break
            await asyncio.sleep(0.01)
        assert len(got) >= 3, "the answer was not streamed piece by piece"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), 2.0)
        assert server.events_sent < 100
        await backend.aclose()


async def test_401_names_the_setting_and_stops_calling(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stand_in = MistralStandIn("the-right-key")
    async with StandInServer(stand_in) as server:
        backend = backend_for(server)
        with pytest.raises(BackendConfigError) as caught:
            await collect(backend)
        message = caught.value.user_message
        assert "api_key" in message and "MISTRAL_API_KEY" in message
        assert "401" in message and "Unauthorized" in message
        assert caught.value.notify
        # Until the backend is recreated with a new configuration: no more requests.
        for _ in range(3):
            with pytest.raises(BackendConfigError):
                await collect(backend)
        assert len(server.requests) == 1
        checks = await backend.doctor()
        assert len(server.requests) == 1
        assert any(c.name == "authenticated" and not c.ok for c in checks)
        await backend.aclose()
    assert KEY not in caplog.text
    assert KEY not in message


async def test_a_missing_key_is_a_config_error_before_any_request(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, _ = mistral
    backend = backend_for(server, api_key="")
    with pytest.raises(BackendConfigError, match="MISTRAL_API_KEY"):
        await backend.start(lambda message, percent: None)
    with pytest.raises(BackendConfigError, match="api_key"):
        await collect(backend)
    assert server.requests == []
    await backend.aclose()


async def test_validation_errors_show_the_field_but_not_the_input(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, stand_in = mistral
    backend = backend_for(server)
    # A request body the stand-in rejects the way Mistral does (422 with a detail list).
    from remote_helpers import mistral_validation_error

    stand_in.queue.append(mistral_validation_error("prompt", "Field required", {"secret": "src"}))
    with pytest.raises(BackendTransientError) as caught:
        await collect(backend)
    assert "422" in caught.value.user_message
    assert "body.prompt: Field required" in caught.value.user_message
    assert "secret" not in caught.value.user_message
    await backend.aclose()


async def test_429_retry_after_blocks_calls_until_it_has_passed(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, stand_in = mistral
    clock = FakeClock()
    backend = backend_for(server, clock=clock)
    stand_in.queue.append(mistral_rate_limited("7"))
    with pytest.raises(BackendTransientError) as caught:
        await collect(backend)
    assert caught.value.retry_after == 7.0
    assert "429" in caught.value.user_message
    # Within the Retry-After window: refused at once, no HTTP request.
    clock.advance(6.5)
    with pytest.raises(BackendTransientError) as blocked:
        await collect(backend)
    assert blocked.value.retry_after == pytest.approx(0.5)
    assert len(server.requests) == 1
    clock.advance(0.6)
    assert await collect(backend) == "a + b"
    assert len(server.requests) == 2
    await backend.aclose()


async def test_backoff_grows_with_jitter_then_the_circuit_opens_and_probes_once(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, stand_in = mistral
    clock = FakeClock()
    jitter_values = iter([0.0, 1.0, 0.0, 0.5, 0.0])
    settings = Settings(backend="mistral", api_base=server.url, api_key=KEY)
    backend = MistralBackend(settings, clock=clock, jitter=lambda: next(jitter_values))
    waits: list[float] = []
    for _ in range(3):
        stand_in.queue.append(mistral_server_error(503))
        with pytest.raises(BackendTransientError):
            await collect(backend)
        waits.append(backend.breaker.blocked_until - clock())
        clock.advance(waits[-1])
    # Back-off 0.25 s * 2^n with "equal jitter" (half to all of it); open after 3 failures.
    assert waits == [pytest.approx(0.125), pytest.approx(0.5), pytest.approx(2.5)]
    assert backend.breaker.is_open
    assert len(server.requests) == 3
    # Cool-down over: exactly one probe goes out; it fails, the circuit re-opens for longer.
    stand_in.queue.append(mistral_server_error(502))
    with pytest.raises(BackendTransientError):
        await collect(backend)
    assert len(server.requests) == 4
    assert backend.breaker.blocked_until - clock() == pytest.approx(10.0 * 0.75)
    with pytest.raises(BackendTransientError, match="paused"):
        await collect(backend)
    assert len(server.requests) == 4
    clock.advance(7.5)
    assert await collect(backend) == "a + b"  # the probe succeeds: closed again
    assert not backend.breaker.is_open
    assert await collect(backend) == "a + b"
    assert len(server.requests) == 6
    await backend.aclose()


async def test_only_one_probe_while_the_circuit_is_half_open() -> None:
    stand_in = MistralStandIn(KEY, completion="slow answer", delay=0.02)
    async with StandInServer(stand_in) as server:
        clock = FakeClock()
        backend = backend_for(server, clock=clock)
        for _ in range(3):
            stand_in.queue.append(mistral_server_error(500))
            with pytest.raises(BackendTransientError):
                await collect(backend)
            clock.advance(60)
        probe = backend.stream(REQUEST)

        async def first_piece() -> str:
            return await anext(probe)

        probe_task = asyncio.create_task(first_piece())
        await asyncio.sleep(0)  # the probe is now in flight
        with pytest.raises(BackendTransientError, match="probe"):
            await collect(backend)
        assert await probe_task == "slo"
        await probe.aclose()  # type: ignore[attr-defined]
        assert not backend.breaker.is_open
        assert len(server.requests) == 4
        await backend.aclose()


async def test_doctor_reports_latency_and_only_whether_the_key_is_set(
    mistral: tuple[StandInServer, MistralStandIn],
) -> None:
    server, _ = mistral
    settings = Settings(backend="mistral", api_base=server.url, api_key=KEY)
    backend = MistralBackend(settings)
    started = time.monotonic()
    checks = await backend.doctor()
    await backend.aclose()
    by_name = {c.name: c for c in checks}
    assert by_name["api key"].ok and by_name["api key"].detail == "set"
    assert by_name["reachable"].ok and by_name["authenticated"].ok
    assert by_name["request"].ok and " ms " in by_name["request"].detail
    assert all(KEY not in c.detail for c in checks)
    assert time.monotonic() - started < 2
    assert server.requests[0].json()["max_tokens"] == 4


async def test_through_the_engine_a_hung_server_costs_one_empty_answer_in_budget() -> None:
    from codestral_ls.engine import CompletionRequest, Engine, TriggerKind

    stand_in = MistralStandIn(KEY, completion="a + b")
    async with StandInServer(stand_in) as server:
        settings = Settings(backend="mistral", api_base=server.url, api_key=KEY, timeout_ms=400)
        engine = Engine(settings, create_backend(settings))
        await engine.start()
        prefix = "def add(a, b):\n    return "

        async def complete(text: str, offset: int) -> tuple[str, float]:
            started = time.monotonic()
            result = await engine.complete(
                CompletionRequest(
                    uri="file:///calc.py",
                    text=text,
                    offset=offset,
                    language="python",
                    trigger=TriggerKind.INVOKED,
                )
            )
            return result.text, time.monotonic() - started

        assert (await complete(prefix + "\n", len(prefix)))[0] == "a + b"
        stand_in.queue.append(Reply.hang())
        other = prefix.replace("a, b", "x, y")
        text, elapsed = await complete(other + "\n", len(other))
        await engine.aclose()
    assert text == "" and elapsed < 1.0

"""Backend faults: the server as a whole stays up and responsive, answers empty, and tells the
user once per distinct problem, not once per keystroke."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codestral_ls.backends.base import BackendError, FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from fake_backend import ScriptedBackend
from remote_helpers import MistralStandIn, Reply, mistral_rate_limited, mistral_server_error
from robust_helpers import (
    FAKE_KEY,
    RawServer,
    inline_params,
    raw_server,
    remote_session,
    scan_for_planted_key,
)

__all__ = ["scan_for_planted_key"]
TEXT = "def add(a, b):\n    return \n"


def popups(server: RawServer) -> list[str]:
    return [p["message"] for p in server.notifications("window/showMessage")]


async def assert_responsive(server: RawServer, within: float = 3.0) -> None:
    started = time.monotonic()
    answer = await server.call("codestral/status", timeout=within + 5)
    assert "result" in answer, answer
    assert time.monotonic() - started < within, "the server was slow to answer a status request"


# ------------------------------------------------------------------ the local model file


def _have_llama() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _have_llama(), reason="llama-cpp-python is not installed")
async def test_bad_local_model_files(tmp_path: Path) -> None:
    """Missing, truncated and non-GGUF model files: a clear message each (once), empty
    answers, and the server keeps serving through every change of setting."""
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_text("this is a README, not a model\n" * 100)
    truncated = tmp_path / "truncated.gguf"
    real = _real_model()
    if real is not None:
        with real.open("rb") as f:
            truncated.write_bytes(f.read(3_000_000))  # header and part of the tensors
    else:
        truncated.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 4096)
    cases = [
        (str(tmp_path / "missing.gguf"), "not found"),
        (str(not_gguf), "not a GGUF"),
        (str(truncated), "truncated.gguf"),
        (str(tmp_path), "directory"),
    ]
    uri = (tmp_path / "a.py").as_uri()
    async with raw_server(tmp_path) as server:
        await server.initialize({"backend": "local", "model": cases[0][0], "debounce_ms": 0})
        await server.open(uri, TEXT)
        for n, (model, expected) in enumerate(cases):
            if n:
                await server.notify(
                    "workspace/didChangeConfiguration", {"settings": {"model": model}}
                )
                await asyncio.sleep(0.5)
            status = await server.wait_state(("error",), timeout=60)
            assert status["state"] == "error", (model, status)
            assert expected in status["message"], (model, status)
            for _ in range(5):
                answer = await server.inline(uri, 1, 11)
                assert answer["result"] == {"items": []}, answer
            await assert_responsive(server)
            shown = [m for m in popups(server) if expected in m]
            assert len(shown) == 1, (model, popups(server))
        doctor = await server.call("codestral/doctor")
        assert doctor["result"]["checks"], doctor
        assert server.proc.returncode is None


def _real_model() -> Path | None:
    from conftest import have_local_model

    if not have_local_model():
        return None
    from codestral_ls.model_files import ensure_default_model

    return ensure_default_model()


# ------------------------------------------------------------------ a model failing mid-way


class FailingBackend(ScriptedBackend):
    """Streams two pieces, then fails the way the local backend reports a llama.cpp error."""

    failures: int = 0

    async def stream(self, request: FimRequest) -> AsyncIterator[str]:
        pieces = super().stream(request)
        sent = 0
        async for piece in pieces:
            if sent == 2 and self.failures > 0:
                self.failures -= 1
                await pieces.aclose()
                raise BackendError("the model failed: llama_decode returned -1")
            sent += 1
            yield piece


async def test_the_model_raising_mid_generation() -> None:
    backend = FailingBackend(answer=lambda r: "a + b + c + d", piece_size=2)
    backend.failures = 3
    errors: list[BackendError] = []
    engine = Engine(Settings(debounce_ms=0), backend, on_error=errors.append)
    await engine.start()
    try:
        results = []
        for n in range(4):
            text = f"# {n}\n{TEXT}"
            results.append(
                await engine.complete(
                    CompletionRequest(
                        "file:///a.py", text, len(text) - 1, "python", TriggerKind.INVOKED
                    )
                )
            )
        assert [r.text for r in results[:3]] == ["", "", ""]
        assert all("model failed" in r.reason for r in results[:3])
        assert results[3].text == "a + b + c + d", "the engine recovers once the model does"
        assert engine.status()["state"] == "ready"
        assert all(not e.notify for e in errors), "a transient failure is not a pop-up"
        assert all(c.closed_early for c in backend.calls[:3])
    finally:
        await engine.aclose()


# ------------------------------------------------------------------ remote storms


STORMS: dict[str, list[Reply]] = {
    "429 storm": [mistral_rate_limited("1")] * 60,
    "5xx": [mistral_server_error(503), mistral_server_error(500), mistral_server_error(502)] * 20,
    "resets": [Reply.drop()] * 60,
    "timeouts": [Reply.hang()] * 60,
}


@pytest.mark.parametrize("storm", list(STORMS))
async def test_remote_storms_keep_the_server_responsive_and_quiet(
    tmp_path: Path, storm: str
) -> None:
    stand = MistralStandIn(FAKE_KEY)
    stand.queue.extend(STORMS[storm])
    options = {"request_timeout_ms": 1500, "connect_timeout_ms": 500, "timeout_ms": 1500}
    async with remote_session(tmp_path, handler=stand, options=options) as (server, standin):
        uri = (tmp_path / "s.py").as_uri()
        await server.open(uri, TEXT)
        started = time.monotonic()
        for n in range(40):  # an editor asking on every keystroke for a few seconds
            await server.change(uri, n + 2, (0, 0), (0, 0), "#\n")
            msg_id = await server.request(
                "textDocument/inlineCompletion", inline_params(uri, n + 2, 11)
            )
            if n % 10 == 9:
                await assert_responsive(server)
                answer = await server.response(msg_id, timeout=10)
                assert answer.get("result") == {"items": []}, answer
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        shown = popups(server)
        assert len(shown) <= 1, f"{storm}: {len(shown)} pop-ups: {shown[:3]}"
        assert len(standin.requests) < 25, f"{storm}: {len(standin.requests)} requests sent"
        assert elapsed < 30
        await assert_responsive(server)


async def test_keystroke_bursts_do_not_wedge_a_remote_backend(tmp_path: Path) -> None:
    """Each keystroke supersedes the request in flight. Cancelled HTTP requests must not use up
    the connection pool: after every burst, the next request is still answered."""
    stand = MistralStandIn(FAKE_KEY, delay=0.01)
    async with remote_session(tmp_path, handler=stand) as (server, standin):
        uri = (tmp_path / "burst.py").as_uri()
        await server.open(uri, TEXT)
        version = 1
        for burst in range(8):
            ids = []
            for _ in range(25):
                version += 1
                await server.change(uri, version, (0, 0), (0, 0), "#\n")
                ids.append(
                    await server.request(
                        "textDocument/inlineCompletion", inline_params(uri, version, 11)
                    )
                )
            for msg_id in ids:
                await server.response(msg_id, timeout=30)
            version += 1
            await server.change(uri, version, (0, 0), (0, 0), "# pause\n")
            answer = await server.inline(uri, version, 11, timeout=30)
            texts = [i["insertText"] for i in answer["result"]["items"]]
            assert texts == ["a + b"], f"burst {burst}: the backend stopped answering ({texts})"
        assert len(standin.requests) > 8

"""Shutdown: ``shutdown``/``exit``, a closed stdin and a killed editor end the process (and its
model thread) within 2 seconds, leaving no orphan behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import SERVER, server_env
from robust_helpers import (
    FAKE_KEY,
    RawServer,
    alive,
    inline_params,
    raw_server,
    remote_session,
    scan_for_planted_key,
)

__all__ = ["scan_for_planted_key"]
LIMIT = 2.0
TEXT = "def fib(n):\n    " + "\n".join(f"# step {i}" for i in range(40)) + "\n    return \n"
HOLE = (TEXT.count("\n") - 1, 11)


async def _gone_within(server: RawServer, seconds: float) -> float:
    started = time.monotonic()
    await asyncio.wait_for(server.proc.wait(), seconds + 10)
    elapsed = time.monotonic() - started
    assert not alive(server.pid)
    return elapsed


async def test_shutdown_and_exit(tmp_path: Path) -> None:
    async with remote_session(tmp_path) as (server, _):
        took = await server.shutdown_and_exit()
        assert took < LIMIT, f"{took:.2f} s from exit to gone"
        assert server.proc.returncode == 0


async def test_exit_without_shutdown_still_ends(tmp_path: Path) -> None:
    async with remote_session(tmp_path) as (server, _):
        await server.notify("exit")
        took = await _gone_within(server, LIMIT)
        assert took < LIMIT


async def test_closed_stdin_ends_the_server(tmp_path: Path) -> None:
    """The editor died: its end of the pipe closes."""
    async with remote_session(tmp_path) as (server, _):
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        took = await _gone_within(server, LIMIT)
        assert took < LIMIT, f"{took:.2f} s after stdin closed"


async def test_a_killed_editor_leaves_no_orphan(tmp_path: Path) -> None:
    """An editor process starts the server and is killed (SIGKILL, no goodbye)."""
    editor = textwrap.dedent(
        f"""
        import json, subprocess, sys, time
        child = subprocess.Popen([{str(SERVER)!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        body = json.dumps({{"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {{"capabilities": {{}}}}}}).encode()
        child.stdin.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
        child.stdin.flush()
        child.stdout.readline()  # the answer's header: the server is up and serving
        print(child.pid, flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", editor],
        stdout=subprocess.PIPE,
        env={**server_env(tmp_path), "CODESTRAL_API_KEY": FAKE_KEY},
        text=True,
    )
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        assert alive(pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        started = time.monotonic()
        while alive(pid) and time.monotonic() - started < LIMIT + 5:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        assert not alive(pid), "the server outlived its editor"
        assert took < LIMIT, f"{took:.2f} s to notice the editor died"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


# ------------------------------------------------------------------ with the model working


def _thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


async def _busy_local_server(tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    """A server with the model loaded and generating a long answer."""
    ctx = raw_server(tmp_path, env=env)
    server = await ctx.__aenter__()
    await server.initialize({"max_tokens": 512, "timeout_ms": 60_000, "debounce_ms": 0})
    status = await server.wait_state(timeout=180)
    assert status["state"] == "ready", status
    assert _thread_count(server.pid) >= 2, "the model thread is running"
    uri = (tmp_path / "busy.py").as_uri()
    await server.open(uri, TEXT)
    await server.request("textDocument/inlineCompletion", inline_params(uri, *HOLE))
    await asyncio.sleep(1.0)  # generation under way
    return ctx, server


@pytest.mark.model
@pytest.mark.parametrize("how", ["shutdown-exit", "stdin-closed"])
async def test_the_model_thread_does_not_hold_the_process(
    tmp_path: Path, embedded_model: Path, how: str
) -> None:
    ctx, server = await _busy_local_server(tmp_path)
    try:
        if how == "shutdown-exit":
            await server.call("shutdown", None, timeout=30)
            started = time.monotonic()
            await server.notify("exit")
        else:
            assert server.proc.stdin is not None
            started = time.monotonic()
            server.proc.stdin.close()
        await asyncio.wait_for(server.proc.wait(), LIMIT + 10)
        took = time.monotonic() - started
        assert took < LIMIT, f"{how}: {took:.2f} s with the model generating"
        assert not alive(server.pid)
        assert server.proc.returncode == 0, f"{how}: exit status {server.proc.returncode}"
    finally:
        await ctx.__aexit__(None, None, None)

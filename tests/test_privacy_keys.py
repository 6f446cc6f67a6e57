"""API keys go only where the user said: never into logs, errors, messages or ``doctor``;
remote endpoints only over verified TLS (plain http to loopback only); the first use of a
remote backend is logged with its endpoint.

A fake key is planted in every server these tests start; besides the targeted checks here,
``scan_for_planted_key`` scans every log file of the session and every captured output for it
at the end. ``test_the_scanner_finds_what_the_server_logs`` proves the scan can fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codestral_ls.logging_setup import ClientLogHandler, redact, register_secret
from conftest import SERVER, server_env
from remote_helpers import MistralStandIn, Reply, StandInServer
from robust_helpers import (
    FAKE_KEY,
    PROCESS_OUTPUT,
    find_secret,
    leaks_of_planted_key,
    log_files_under,
    raw_server,
    remote_session,
    scan_for_planted_key,
)

__all__ = ["scan_for_planted_key"]  # the end-of-session scan covers this module's servers

OTHER_KEY = "sk-cls-SECOND-planted-0c1d2e3f4a5b6c7d8e9f"


# ------------------------------------------------------------------ redaction, in isolation


def test_redaction_covers_messages_arguments_and_tracebacks(tmp_path: Path) -> None:
    """A fresh process (logging is global): the key from the environment and one registered
    later are both replaced, wherever they appear in a record."""
    log = tmp_path / "x.log"
    script = textwrap.dedent(
        f"""
        import logging
        from pathlib import Path
        from codestral_ls.logging_setup import register_secret, setup_logging
        setup_logging("debug", Path({str(log)!r}), to_stderr=True)
        register_secret({OTHER_KEY!r})
        log = logging.getLogger("codestral_ls.test")
        key, other = {FAKE_KEY!r}, {OTHER_KEY!r}
        log.error("in the message " + key)
        log.error("as an argument %s / %r", key, {{"api_key": other}})
        log.warning("headers: Authorization: Bearer ghp_unknownTokenShape123456")
        log.warning("url https://x.test/?api_key=abcdef0123456789 and password: s3cr3t-pass")
        try:
            raise ValueError("refused key " + other)
        except ValueError:
            log.exception("with a traceback")
        """
    )
    env = {**server_env(tmp_path), "MISTRAL_API_KEY": FAKE_KEY}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    written = log.read_text()
    for text in (written, done.stderr):
        assert find_secret([("output", text)], FAKE_KEY) == []
        assert find_secret([("output", text)], OTHER_KEY) == []
        for fragment in ("ghp_unknownTokenShape", "abcdef0123456789", "s3cr3t-pass"):
            assert fragment not in text
        assert text.count("[redacted]") >= 6
    assert "with a traceback" in written and "ValueError" in written  # still useful
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_redaction_leaves_ordinary_lines_alone() -> None:
    line = "completion model in 120 ms (max_tokens=32, api_key: (set), tokens 18)"
    assert redact(line) == line


def test_client_log_channel_is_redacted_and_cannot_loop() -> None:
    sent: list[tuple[int, str]] = []
    logger = logging_getLogger("codestral_ls.client_test")

    def send(level: int, text: str) -> None:
        sent.append((level, text))
        logger.warning("sending %s", text)  # what pygls does while sending: no feedback loop

    register_secret(FAKE_KEY)
    handler = ClientLogHandler(send)
    logger.addHandler(handler)
    try:
        logger.warning("refused %s", FAKE_KEY)
        logging_getLogger("pygls.protocol").warning("Sending data: ...")
    finally:
        logger.removeHandler(handler)
    assert len(sent) == 1
    assert FAKE_KEY not in sent[0][1] and "[redacted]" in sent[0][1]


def logging_getLogger(name: str) -> Any:
    import logging

    return logging.getLogger(name)


# ------------------------------------------------------------------ the key, from every source


def _echoing_handler(key: str) -> Any:
    """Mistral's API, plus error answers that echo the key back (as some gateways do)."""
    stand = MistralStandIn(key)
    stand.queue.extend(
        [
            Reply.json(429, {"message": f"rate limited for key {key}"}, {"Retry-After": "0"}),
            Reply(
                "whole",
                502,
                f"<html>bad gateway for Bearer {key}</html>".encode(),
                {"Content-Type": "text/html"},
            ),
            Reply.json(401, {"message": f"Invalid API key: {key}", "request_id": "x"}),
        ]
    )
    return stand


SOURCES = ("MISTRAL_API_KEY", "CODESTRAL_LS_API_KEY", "config file", "init options", "settings")


@pytest.mark.parametrize("source", SOURCES)
async def test_a_key_from_any_source_never_shows(tmp_path: Path, source: str) -> None:
    key = FAKE_KEY
    handler = _echoing_handler(key)
    env: dict[str, str] = {}
    options: dict[str, Any] = {"debounce_ms": 0, "max_tokens": 8, "log_level": "debug"}
    if source in ("MISTRAL_API_KEY", "CODESTRAL_LS_API_KEY"):
        env[source] = key
    elif source == "config file":
        config = tmp_path / "config" / "codestral-ls" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'api_key = "{key}"\n')
        config.chmod(0o600)
    uri = (tmp_path / "k.py").as_uri()
    async with (
        StandInServer(handler) as stand,
        raw_server(tmp_path, env=env, plant_key=False) as s,
    ):
        init = {"backend": "mistral", "api_base": stand.url, **options}
        if source == "init options":
            init["api_key"] = key
        await s.initialize(init, root=tmp_path)
        if source == "settings":
            await s.notify("workspace/didChangeConfiguration", {"settings": {"api_key": key}})
        await s.wait_state()
        await s.open(uri, "def add(a, b):\n    return \n")
        for n in range(4):  # 429, 502 (html), 401 (each echoing the key), refused locally
            await s.change(uri, n + 2, (0, 0), (0, 0), f"# {n}\n")
            await s.inline(uri, n + 2, 11)
            await asyncio.sleep(0.6)  # past the back-off, so each reply is asked for
        doctor = await s.call("codestral/doctor")
        status = await s.call("codestral/status")
        await s.shutdown_and_exit()
    used = [r.headers.get("authorization") for r in stand.requests]
    assert f"Bearer {key}" in used, f"the key from {source} was not used: {used}"
    outputs = [
        *log_files_under(tmp_path),
        ("stderr", bytes(s.stderr)),
        ("messages", json.dumps(s.messages)),
        ("doctor", json.dumps(doctor)),
        ("status", json.dumps(status)),
    ]
    assert find_secret(outputs, key) == [], f"key from {source} leaked"
    shown = [m["message"] for m in s.notifications("window/showMessage")]
    assert any("401" in m or "refused" in m for m in shown), shown  # the user is told, safely


async def test_doctor_command_never_prints_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config" / "codestral-ls" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'backend = "mistral"\napi_key = "{FAKE_KEY}"\n')
    config.chmod(0o600)
    async with StandInServer(_echoing_handler(FAKE_KEY)) as stand:
        env = {**server_env(tmp_path), "CODESTRAL_LS_API_BASE": stand.url}
        for args in (["doctor", "--json"], ["doctor"]):
            proc = await asyncio.create_subprocess_exec(
                SERVER,
                *args,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            PROCESS_OUTPUT.append((f"codestral-ls {' '.join(args)}", out + err))
            assert find_secret([("stdout", out), ("stderr", err)], FAKE_KEY) == []
            if args[-1] == "--json":
                report = json.loads(out)
                assert report["settings"]["api_key"] == "(set)"
        assert stand.requests, "doctor made its test request with the key"


@pytest.mark.parametrize("mode", [0o644, 0o600])
def test_a_world_readable_config_file_with_a_key_is_warned_about(tmp_path: Path, mode: int) -> None:
    config = tmp_path / "config" / "codestral-ls" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'backend = "mistral"\napi_key = "{FAKE_KEY}"\napi_base = "http://127.0.0.1:9"\n'
    )
    config.chmod(mode)
    done = subprocess.run(
        [SERVER, "doctor"], env=server_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr + "".join(t.decode() for _, t in log_files_under(tmp_path))
    PROCESS_OUTPUT.append(("doctor with a config file", output))
    warned = "readable" in output and str(config) in output
    assert warned == (mode == 0o644), output[-800:]
    assert FAKE_KEY not in output


# ------------------------------------------------------------------ where the code goes


async def test_the_first_use_of_a_remote_backend_is_logged_with_its_endpoint(
    tmp_path: Path,
) -> None:
    async with remote_session(tmp_path, "mistral") as (server, stand):
        uri = (tmp_path / "f.py").as_uri()
        for n in range(3):
            await server.open(
                uri.replace("f.py", f"f{n}.py"), f"# {n}\ndef add(a, b):\n    return \n"
            )
            await server.inline(uri.replace("f.py", f"f{n}.py"), 2, 11)
        # three explicit requests (each may add sampled alternatives): three prompts
        assert len({r.json()["prompt"] for r in stand.requests}) == 3
        log = server.log_text(tmp_path)
    endpoint = f"{stand.url}/v1/fim/completions"
    lines = [line for line in log.splitlines() if endpoint in line]
    assert len(lines) == 1, f"expected one line naming {endpoint}, got {lines}"
    assert FAKE_KEY not in log


@pytest.mark.parametrize(
    ("backend", "with_key"),
    [("mistral", True), ("openai", True), ("openai", False)],
    ids=["mistral-with-key", "openai-with-key", "openai-no-key"],
)
async def test_plain_http_only_to_loopback(tmp_path: Path, backend: str, with_key: bool) -> None:
    """Source code is as private as the key: plain http to another host is refused (with a
    clear message) unless allow_insecure_http is set. 192.0.2.1 is TEST-NET: never reached."""
    base: dict[str, Any] = {"backend": backend, "api_base": "http://192.0.2.1:8080"}
    if with_key:
        base["api_key"] = FAKE_KEY
    async with raw_server(tmp_path, plant_key=False) as server:
        await server.initialize(base)
        status = await server.wait_state()
        shown = [m["message"] for m in server.notifications("window/showMessage")]
        assert status["state"] == "error", status
        assert any("http" in m and "allow_insecure_http" in m for m in shown), shown
        # the explicit override is honoured
        await server.notify(
            "workspace/didChangeConfiguration", {"settings": {"allow_insecure_http": True}}
        )
        deadline = asyncio.get_running_loop().time() + 20
        while status["state"] != "ready" and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
            status = (await server.call("codestral/status"))["result"]
        assert status["state"] == "ready", status


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a cert")
@pytest.mark.parametrize("override", [False, True], ids=["default", "allow_insecure_http"])
async def test_tls_certificates_are_always_verified(tmp_path: Path, override: bool) -> None:
    """An https endpoint with a certificate nobody vouches for gets no request, no code and
    no key, whatever allow_insecure_http says."""
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await asyncio.wait_for(reader.read(65536), 5))
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            writer.close()

    tls = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = tls.sockets[0].getsockname()[1]
    try:
        options = {
            "backend": "mistral",
            "api_base": f"https://127.0.0.1:{port}",
            "api_key": FAKE_KEY,
            "debounce_ms": 0,
            "allow_insecure_http": override,
        }
        async with raw_server(tmp_path) as server:
            await server.initialize(options)
            await server.wait_state()
            uri = (tmp_path / "t.py").as_uri()
            await server.open(uri, "def add(a, b):\n    return \n")
            answer = await server.inline(uri, 1, 11)
            assert answer["result"] == {"items": []}
            log = server.log_text(tmp_path)
    finally:
        tls.close()
        await tls.wait_closed()
    assert not [r for r in received if r], f"data reached an unverified server: {received}"
    assert "certificate" in log.lower() or "ssl" in log.lower(), log[-600:]


# ------------------------------------------------------------------ the scan itself


async def test_the_scanner_finds_what_the_server_logs(tmp_path: Path) -> None:
    """Self-test of the end-of-session scan, through the server's real logging path: at debug
    level pygls logs every message it sends, so a completion that carries a string puts it in
    the log file. An unregistered canary must be found there by the very function the session
    scan uses; the planted key, registered as a secret, must come out redacted."""
    canary = "sk-cls-CANARY-not-a-registered-secret-4242"
    for completion, expect_found in ((canary, True), (OTHER_KEY, False)):
        run = tmp_path / ("canary" if expect_found else "registered")
        run.mkdir()
        # debug level from the start (the log level is read when the process starts); the
        # environment key is registered as a secret at start-up
        env = {"CODESTRAL_API_KEY": OTHER_KEY, "CODESTRAL_LS_LOG_LEVEL": "debug"}
        async with remote_session(run, "mistral", completion=completion, env=env) as (
            server,
            _,
        ):
            uri = (run / "c.py").as_uri()
            await server.open(uri, "def key():\n    return \n")
            answer = await server.inline(uri, 1, 11)
            items = answer["result"]["items"]
            assert items and completion in items[0]["insertText"], answer  # the editor got it
            await server.shutdown_and_exit()
        logs = log_files_under(run)
        assert logs, "the server wrote no log file"
        if expect_found:
            assert find_secret(logs, canary), "the scanner missed a string the server logged"
        else:
            assert find_secret(logs, OTHER_KEY) == [], "a registered key was logged"
            assert "[redacted]" in "".join(t.decode() for _, t in logs)
    # and the session-wide scan reads these same files
    assert leaks_of_planted_key(tmp_path) == []
    assert os.path.commonpath([tmp_path, run]) == str(tmp_path)


async def test_logs_reach_the_editor_log_channel_without_the_key(tmp_path: Path) -> None:
    """The editor's log channel (window/logMessage) gets the same records as the file,
    redacted: here the endpoint of the first remote request, and a 401 that echoes the key."""
    stand = MistralStandIn(FAKE_KEY)
    stand.queue.append(Reply.json(401, {"message": f"Invalid API key: {FAKE_KEY}"}))
    async with remote_session(tmp_path, handler=stand) as (server, standin):
        uri = (tmp_path / "l.py").as_uri()
        await server.open(uri, "def add(a, b):\n    return \n")
        await server.inline(uri, 1, 11)
        await server.call("codestral/status")
        logged = [p["message"] for p in server.notifications("window/logMessage")]
    assert any(standin.url in m for m in logged), logged
    assert any("401" in m for m in logged), logged
    assert find_secret([("logMessage", json.dumps(logged))], FAKE_KEY) == []

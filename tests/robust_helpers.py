"""Tools for the robustness and privacy tests: a raw stdio LSP client, a reference document
model, memory readings and a scanner for leaked secrets.

pytest-lsp's client only sends well-formed messages; an editor (or a broken plugin) can send
anything, so ``RawServer`` writes bytes exactly as given and reads framed answers with a timeout.
It answers the server's own requests (progress tokens, configuration) with ``null`` the way a
minimal editor would, and keeps every message it received for later inspection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import server_env

SERVER = str(Path(sys.executable).parent / "codestral-ls")

#: A planted key: looks like a real one (so key-shaped redaction would treat it as such) and is
#: unique enough that finding it anywhere means it leaked.
FAKE_KEY = "sk-cls-PLANTED-7f3a9c2e51d84b06a1e9c3f5d7b2e4a8"


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(obj: Any) -> bytes:
    return frame(json.dumps(obj).encode("utf-8"))


@dataclass
class RawServer:
    """A codestral-ls process on stdio, driven with raw bytes."""

    proc: asyncio.subprocess.Process
    messages: list[dict[str, Any]] = field(default_factory=list)
    stderr: bytearray = field(default_factory=bytearray)
    _next_id: int = 1000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    eof: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    # ------------------------------------------------------------------ writing

    async def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def send(self, obj: Any) -> None:
        await self.send_bytes(encode(obj))

    async def notify(self, method: str, params: Any = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        await self.send(msg)

    async def request(self, method: str, params: Any = None) -> int:
        self._next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    async def call(self, method: str, params: Any = None, timeout: float = 20) -> dict[str, Any]:
        """Send a request and wait for its response (the whole message: result or error)."""
        return await self.response(await self.request(method, params), timeout)

    # ------------------------------------------------------------------ reading

    async def response(self, msg_id: Any, timeout: float = 20) -> dict[str, Any]:
        found = await self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m, timeout)
        if found is None:
            raise TimeoutError(f"no response to request {msg_id!r} within {timeout} s")
        return found

    async def wait_for(self, predicate: Any, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for msg in self.messages[seen:]:
                if predicate(msg):
                    return msg
            seen = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    def notifications(self, method: str) -> list[Any]:
        return [
            m.get("params") for m in self.messages if m.get("method") == method and "id" not in m
        ]

    async def _read_stdout(self) -> None:
        reader = self.proc.stdout
        assert reader is not None
        try:
            while True:
                length = None
                while True:
                    line = await reader.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                assert length is not None, "a frame without Content-Length"
                body = await reader.readexactly(length)
                msg = json.loads(body)
                self.messages.append(msg)
                self._arrived.set()
                if "method" in msg and "id" in msg:  # a request from the server: answer it
                    await self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.eof = True
            self._arrived.set()

    async def _read_stderr(self) -> None:
        reader = self.proc.stderr
        assert reader is not None
        while chunk := await reader.read(65536):
            self.stderr.extend(chunk)

    # ------------------------------------------------------------------ session

    async def initialize(
        self,
        init_options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
        root: Path | None = None,
    ) -> dict[str, Any]:
        caps = capabilities or {
            "textDocument": {"inlineCompletion": {}, "completion": {}},
            "window": {"workDoneProgress": True},
        }
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "capabilities": caps,
            "initializationOptions": init_options or {},
        }
        if root is not None:
            params["rootUri"] = root.as_uri()
        answer = await self.call("initialize", params, timeout=60)
        assert "result" in answer, answer
        await self.notify("initialized", {})
        return dict(answer["result"])

    async def wait_state(
        self, states: Iterable[str] = ("ready", "error"), timeout: float = 120
    ) -> dict[str, Any]:
        wanted = set(states)
        deadline = time.monotonic() + timeout
        while True:
            st = (await self.call("codestral/status", None))["result"]
            if st["state"] in wanted or time.monotonic() > deadline:
                return dict(st)
            await asyncio.sleep(0.1)

    async def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        await self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    async def change(
        self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str
    ) -> None:
        await self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": start[0], "character": start[1]},
                            "end": {"line": end[0], "character": end[1]},
                        },
                        "text": text,
                    }
                ],
            },
        )

    async def inline(
        self, uri: str, line: int, character: int, invoked: bool = True, timeout: float = 30
    ) -> dict[str, Any]:
        return await self.call(
            "textDocument/inlineCompletion",
            inline_params(uri, line, character, invoked),
            timeout=timeout,
        )

    async def shutdown_and_exit(self, timeout: float = 10) -> float:
        """Seconds from ``exit`` to the process being gone."""
        await self.call("shutdown", None, timeout=timeout)
        started = time.monotonic()
        await self.notify("exit")
        await asyncio.wait_for(self.proc.wait(), timeout)
        return time.monotonic() - started

    def log_text(self, tmp: Path) -> str:
        return "\n".join(
            p.read_text("utf-8", "replace") for p in sorted(tmp.glob("codestral-ls.log*"))
        )


def inline_params(uri: str, line: int, character: int, invoked: bool = True) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 1 if invoked else 2},
    }


@contextlib.asynccontextmanager
async def raw_server(
    tmp: Path,
    *,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    plant_key: bool = True,
) -> AsyncIterator[RawServer]:
    """Start codestral-ls with the tests' private environment; kill it if still running.

    Unless told otherwise every server carries the planted key in its environment, so the
    end-of-session scan (``scan_for_planted_key``) covers everything these tests ran.
    """
    planted = {"CODESTRAL_API_KEY": FAKE_KEY} if plant_key else {}
    proc = await asyncio.create_subprocess_exec(
        SERVER,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**server_env(tmp), **planted, **(env or {})},
        limit=64 * 1024 * 1024,
    )
    server = RawServer(proc)
    server._tasks = [
        asyncio.ensure_future(server._read_stdout()),
        asyncio.ensure_future(server._read_stderr()),
    ]
    try:
        yield server
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
            await proc.wait()
        for task in server._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        PROCESS_OUTPUT.append((f"stderr of pid {proc.pid}", bytes(server.stderr)))
        PROCESS_OUTPUT.append((f"messages from pid {proc.pid}", json.dumps(server.messages)))


#: stderr and protocol messages of every server these tests started, for the key scan.
PROCESS_OUTPUT: list[tuple[str, bytes | str]] = []


# ---------------------------------------------------------------------- memory


def _status_kb(pid: int, field_name: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    assert match, f"{field_name} missing from /proc/{pid}/status"
    return int(match.group(1))


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def peak_rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmHWM")


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


# ---------------------------------------------------------------------- reference document


class RefDoc:
    """A deliberately plain model of an LSP text document, independent of documents.py.

    Lines are found by walking characters (``\\r\\n``, ``\\r`` and ``\\n`` end a line, nothing
    else does); a ``character`` counts code units of the encoding by encoding each character
    separately. Positions past a line's end mean its end, inside a character its start, and
    lines past the end mean the end of the document; a range given backwards is swapped.
    """

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.encoding = encoding

    def lines(self) -> list[tuple[int, int]]:
        """(start, end-without-break) of every line."""
        out: list[tuple[int, int]] = []
        start, i, t = 0, 0, self.text
        while i < len(t):
            if t[i] == "\r" and i + 1 < len(t) and t[i + 1] == "\n":
                out.append((start, i))
                i += 2
                start = i
            elif t[i] in "\r\n":
                out.append((start, i))
                i += 1
                start = i
            else:
                i += 1
        out.append((start, len(t)))
        return out

    def width(self, ch: str) -> int:
        if self.encoding == "utf-8":
            return len(ch.encode("utf-8", "surrogatepass"))
        if self.encoding == "utf-16":
            return len(ch.encode("utf-16-le", "surrogatepass")) // 2
        return 1

    def offset(self, line: int, character: int) -> int:
        lines = self.lines()
        if line >= len(lines):
            return len(self.text)
        start, end = lines[line]
        used = 0
        for i in range(start, end):
            w = self.width(self.text[i])
            if used + w > character:
                return i
            used += w
        return end

    def position(self, offset: int) -> tuple[int, int]:
        for number, (start, end) in enumerate(self.lines()):
            if start <= offset <= end:
                return number, sum(self.width(c) for c in self.text[start:offset])
        raise ValueError(f"offset {offset} is inside a line break")

    def apply(self, text: str, rng: tuple[int, int, int, int] | None) -> None:
        if rng is None:
            self.text = text
            return
        a = self.offset(rng[0], rng[1])
        b = self.offset(rng[2], rng[3])
        a, b = min(a, b), max(a, b)
        self.text = self.text[:a] + text + self.text[b:]


# ---------------------------------------------------------------------- secret scanning


def key_variants(key: str) -> tuple[str, ...]:
    """Forms a leaked key could take: as is, JSON-escaped, and its distinctive middle part
    (a truncated or partly masked key still leaks most of it)."""
    middle = key[len(key) // 4 : len(key) * 3 // 4]
    return (key, json.dumps(key)[1:-1], middle)


def find_secret(blobs: Iterable[tuple[str, bytes | str]], key: str) -> list[str]:
    """Names of the blobs (logs, stderr, protocol messages) that contain the key."""
    hits = []
    for name, blob in blobs:
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        if any(v in text for v in key_variants(key)):
            hits.append(name)
    return hits


# ---------------------------------------------------------------------- a served session


#: Cheap settings for abuse tests: answers come from a stand-in at once, no debounce.
FAST: dict[str, Any] = {"debounce_ms": 0, "max_tokens": 16}


#: backend setting -> stand-in factory (remote_helpers), for "tested with each backend".
REMOTE_BACKENDS = ("mistral", "openai", "llama-server", "ollama", "chat")


def stand_in_for(backend: str, completion: str = "a + b") -> Any:
    import remote_helpers as rh

    factories: dict[str, Any] = {
        "mistral": lambda: rh.MistralStandIn(FAKE_KEY, completion=completion),
        "openai": lambda: rh.OpenAICompletionsStandIn(completion),
        "llama-server": lambda: rh.LlamaServerStandIn(completion),
        "ollama": lambda: rh.OllamaStandIn(completion),
        "chat": lambda: rh.ChatStandIn(completion),
    }
    return factories[backend]()


@contextlib.asynccontextmanager
async def remote_session(
    tmp: Path,
    backend: str = "mistral",
    completion: str = "a + b",
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    handler: Any = None,
    capabilities: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
) -> AsyncIterator[tuple[RawServer, Any]]:
    """A ready server whose backend is a remote API served by a stand-in on 127.0.0.1.

    A remote backend answers in milliseconds, so protocol tests exercise the whole server
    (documents, engine, clean-up, the HTTP client) without waiting for a model.
    """
    from remote_helpers import StandInServer

    stand_handler = handler or stand_in_for(backend, completion)
    async with (
        StandInServer(stand_handler) as stand,
        raw_server(tmp, env=env, args=args) as server,
    ):
        init = {"backend": backend, "api_base": stand.url, "api_key": FAKE_KEY, **FAST}
        init.update(options or {})
        await server.initialize(init, capabilities, root=tmp)
        state = await server.wait_state()
        assert state["state"] == "ready", state
        yield server, stand


@contextlib.asynccontextmanager
async def mistral_session(
    tmp: Path,
    completion: str = "a + b",
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    handler: Any = None,
    capabilities: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[RawServer, Any]]:
    """``remote_session`` with Mistral's FIM API (it records prompt and suffix as sent)."""
    async with remote_session(
        tmp, "mistral", completion, options, env, handler, capabilities
    ) as pair:
        yield pair


def log_files_under(root: Path, limit: int = 64 * 1024 * 1024) -> list[tuple[str, bytes]]:
    """Every log file below ``root``, rotated ones included."""
    out = []
    for path in sorted(root.rglob("*.log*")):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= limit:
                out.append((str(path), path.read_bytes()))
        except OSError:
            continue
    return out


def leaks_of_planted_key(base: Path) -> list[str]:
    """Where the planted key shows up: the session's log files and every output captured."""
    return find_secret([*log_files_under(base), *PROCESS_OUTPUT], FAKE_KEY)


@pytest.fixture(scope="session", autouse=True)
def scan_for_planted_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end of the session, scan every log and output of every server for the key.

    Imported by the robust and privacy test modules, which plant the key in every server
    they start (environment and initializationOptions); the whole suite's log files live
    under the same base directory, so they are scanned too.
    """
    yield
    hits = leaks_of_planted_key(tmp_path_factory.getbasetemp())
    assert not hits, f"the planted API key leaked into: {hits}"

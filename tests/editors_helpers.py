"""Shared pieces of the real-editor tests: the editors, the server, a fake model server, tmux.

The editors are unpacked privately by scripts/get-*.sh (idempotent). Outside CI a missing
editor skips its tests; with CI set it fails them, so a broken install cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER = Path(sys.executable).parent / "codestral-ls"
DOCS = REPO / "docs" / "editors.md"
EDITOR_FILES = Path(__file__).resolve().parent / "editors"
TOOLS = REPO / ".tools"
SECRET_ENV = ("MISTRAL_API_KEY", "CODESTRAL_API_KEY")

#: Keeps the real model quick on two shared cores; the editors never see this (it is read from
#: the environment the editor passes on to the server).
MAX_TOKENS = "24"


def unavailable(reason: str) -> None:
    """Skip, or fail under CI where every editor test must really run."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def ensure_tool(script: str, launcher: Path) -> Path:
    """Run scripts/`script` (a no-op once installed) and return the editor's launcher."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        unavailable(f"{script} needs apt-get and dpkg (Debian)")
    try:
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / script)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired:
        unavailable(f"{script} did not finish in 15 minutes")
    if done.returncode != 0 or not launcher.exists():
        unavailable(f"{script} failed ({done.returncode}): {done.stderr[-2000:]}")
    return launcher


def ensure_server() -> Path:
    if not SERVER.exists():
        unavailable(f"{SERVER} is not installed (pip install -e .)")
    return SERVER


def doc_snippet(name: str) -> str:
    """The code block that follows ``<!-- snippet: NAME -->`` in docs/editors.md.

    The tests configure the editors with exactly these blocks, so the documentation cannot drift
    from what is run.
    """
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- snippet: {re.escape(name)} -->\s*\n(`{{3,}})[^\n]*\n(.*?)\n\1", text, re.S
    )
    if match is None:
        raise AssertionError(f"docs/editors.md has no block marked 'snippet: {name}'")
    return match.group(2) + "\n"


def server_env(tmp: Path, *, defaults: bool = False, **settings: str) -> dict[str, str]:
    """Environment for an editor whose `codestral-ls` must be this checkout's server.

    ``defaults`` leaves every budget as a new user has it (no ``max_tokens`` cap).

    Settings travel as CODESTRAL_LS_* variables (the editor passes its environment on to the
    server), so the documented editor configuration is used unchanged. XDG_CONFIG_HOME keeps the
    user's own editor and server configuration out of the test.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CODESTRAL_LS_", "TMUX", "EMACS")) and key not in SECRET_ENV
    }
    if "CODESTRAL_LS_CACHE_DIR" in os.environ:  # where the embedded model was assembled
        env["CODESTRAL_LS_CACHE_DIR"] = os.environ["CODESTRAL_LS_CACHE_DIR"]
    env["PATH"] = f"{SERVER.parent}{os.pathsep}{env.get('PATH', '')}"
    config_home = tmp / "config"
    config_home.mkdir(exist_ok=True)
    env["XDG_CONFIG_HOME"] = str(config_home)
    if not defaults:
        env["CODESTRAL_LS_MAX_TOKENS"] = MAX_TOKENS
    env["CODESTRAL_LS_LOG_LEVEL"] = "debug"
    env["CODESTRAL_LS_LOG_FILE"] = str(tmp / "codestral-ls.log")
    env["TERM"] = "xterm-256color"
    for key, value in settings.items():
        env[f"CODESTRAL_LS_{key.upper()}"] = value
    return env


def completing(target: str) -> Callable[[Mapping[str, Any]], str]:
    """An answer that finishes `target` from the word the prompt's prefix ends with.

    Like a model would, it answers "ltiply(2, 3)" after "mu" and "iply(2, 3)" after "mult", so
    the suggestion stays right while the editor asks again at each keystroke.
    """

    def answer(body: Mapping[str, Any]) -> str:
        word = re.search(r"\w*$", str(body.get("input_prefix", "")))
        typed = word.group(0) if word else ""
        return target[len(typed) :] if target.startswith(typed) else target

    return answer


class FakeLlamaServer:
    """A llama.cpp-style ``/infill`` endpoint on 127.0.0.1 with a fixed or computed answer.

    It makes the model's answer exact, so a test can state the buffer an editor must end with
    (multi-line indentation, typing on after the item showed) instead of only its shape.
    """

    def __init__(self, content: str | Callable[[Mapping[str, Any]], str]) -> None:
        self.content = content
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "body": body})
                text = fake.content if isinstance(fake.content, str) else fake.content(body)
                answer = json.dumps({"content": text, "stop": True}).encode()
                self.send_response(200 if self.path == "/infill" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeLlamaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


def wait_until(
    check: Callable[[], str | None], timeout: float, what: str, interval: float = 0.2
) -> str:
    """Poll `check` until it returns a string; fail with `what` and the last state otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Tmux:
    """One terminal on a private tmux server (its own socket), for full-screen editors."""

    def __init__(self, width: int = 100, height: int = 30) -> None:
        if shutil.which("tmux") is None:
            unavailable("tmux is not installed (apt-get install tmux)")
        self.socket = f"codestral-test-{uuid.uuid4().hex[:8]}"
        self.width = width
        self.height = height
        self.env: dict[str, str] = dict(os.environ)
        self.socket_path: Path | None = None

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=30,
            env=self.env,
        )

    def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        """Run `argv` in the terminal; the tmux server (hence the editor) gets exactly `env`."""
        self.env = dict(env)
        command = shlex.join(argv)
        # The screen stays readable after the editor exits, for failure messages.
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
            "-c", str(cwd), f"{command}; sleep 600",
        )  # fmt: skip
        # No delay after Escape: otherwise "Escape :" arrives as Alt-: in the editor.
        self._tmux("set-option", "-s", "escape-time", "0")
        path = self._tmux("display-message", "-p", "#{socket_path}").stdout.strip()
        self.socket_path = Path(path) if path else None

    def send(self, *keys: str) -> None:
        """tmux key names (Escape, Tab, C-x, Enter) or literal text, one key or word per arg."""
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        """Literal text, one keystroke per character, as a user types it."""
        for char in text:
            self._tmux("send-keys", "-t", "t", "-l", char)
            time.sleep(0.08)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", check=False).stdout

    def wait_for(self, pattern: str, timeout: float) -> str:
        regex = re.compile(pattern)
        try:
            return wait_until(
                lambda: (lambda s: s if regex.search(s) else None)(self.screen()),
                timeout,
                f"/{pattern}/ on screen",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen was:\n{self.screen()}") from None

    def close(self) -> None:
        self._tmux("kill-server", check=False)
        if self.socket_path is not None:  # tmux leaves its socket file behind
            self.socket_path.unlink(missing_ok=True)


@contextmanager
def tmux_terminal(width: int = 100, height: int = 30) -> Iterator[Tmux]:
    term = Tmux(width, height)
    try:
        yield term
    finally:
        term.close()

"""Build the VS Code extension and run it in a real VS Code (code-server driven by Chromium).

code-server, Node 24, Chromium and playwright-core come from ``shared/tools/get-code-server.sh``
(found beside the checkout, as in CI) and are installed once into ``<repo>/.tools/code-server``.
Without them the tests skip on a developer's machine but FAIL in CI, where a missing editor must
not pass silently.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXTENSION = REPO / "clients" / "vscode"
TOOLS = REPO / ".tools" / "code-server"
GET_CODE_SERVER = REPO.parent / "shared" / "tools" / "get-code-server.sh"
ARTIFACTS = REPO / "test-artifacts" / "vscode"
SERVER = Path(sys.executable).parent / "codestral-ls"
VSIX = EXTENSION / "dist" / "codestral.vsix"
SECRET_ENV = ("MISTRAL_API_KEY", "CODESTRAL_API_KEY")


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where everything must be obtainable."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to run the VS Code tests: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Ran:
    command: str
    returncode: int
    output: str
    seconds: float


def run(cmd: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> Ran:
    """Run a build step; its combined output is kept for a readable failure message."""
    import time

    started = time.monotonic()
    try:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        code, out = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        code = -1
        out = (raw.decode(errors="replace") if isinstance(raw, bytes) else raw) + (
            f"\n(timed out after {timeout:.0f}s)"
        )
    return Ran(" ".join(cmd), code, out, time.monotonic() - started)


def check(ran: Ran) -> Ran:
    if ran.returncode != 0:
        pytest.fail(
            f"`{ran.command}` failed with exit code {ran.returncode} after {ran.seconds:.0f}s:\n"
            f"{ran.output[-6000:]}",
            pytrace=False,
        )
    return ran


def _code_server_ready() -> bool:
    return (
        (TOOLS / "code-server").is_file()
        and (TOOLS / "bin" / "node").exists()
        and (TOOLS / "pw" / "node_modules" / "playwright-core").is_dir()
        and Path("/usr/bin/chromium").exists()
    )


@functools.cache
def _install_code_server() -> str:
    if _code_server_ready():
        return ""
    if not GET_CODE_SERVER.is_file():
        return f"{GET_CODE_SERVER} not found"
    ran = run(["bash", str(GET_CODE_SERVER), str(TOOLS)], cwd=REPO, timeout=1200)
    if ran.returncode != 0 or not _code_server_ready():
        return f"get-code-server.sh failed ({ran.returncode}): {ran.output[-3000:]}"
    return ""


def ensure_code_server() -> Path:
    """The folder get-code-server.sh filled; skips (or fails in CI) when it cannot be had."""
    why = _install_code_server()
    if why:
        unavailable(why)
    return TOOLS


def npm() -> list[str]:
    """npm: the system one (Node 20 here), else the one installed with code-server (Node 24)."""
    system = shutil.which("npm")
    if system:
        return [system]
    ensure_code_server()
    return [str(TOOLS / "bin" / "npm")]


def npm_env() -> dict[str, str]:
    env = dict(os.environ)
    if not shutil.which("npm"):
        env["PATH"] = f"{TOOLS / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    env.setdefault("npm_config_audit", "false")
    return env


def e2e_env(tmp: Path) -> dict[str, str]:
    """Environment for code-server and so for the server it starts: no inherited settings or
    keys, private config; the embedded model's cache stays shared (it is verified by hash)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODESTRAL_LS_") and k not in SECRET_ENV
    }
    if "CODESTRAL_LS_CACHE_DIR" in os.environ:
        env["CODESTRAL_LS_CACHE_DIR"] = os.environ["CODESTRAL_LS_CACHE_DIR"]
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    return env


def read_result(artifacts: Path) -> dict[str, object]:
    try:
        data = json.loads((artifacts / "result.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def failure_report(artifacts: Path, ran: Ran) -> str:
    """The driver's own words, then the logs a person would look at first."""
    parts = [
        f"e2e driver exited with {ran.returncode} after {ran.seconds:.0f}s",
        ran.output[-4000:],
    ]
    for pattern in ("vscode-logs/*Codestral.log", "server-logs/*", "code-server.log"):
        for path in sorted(artifacts.glob(pattern)):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            parts.append(f"--- {path.relative_to(REPO)} (last 3000 chars)\n{text[-3000:]}")
    parts.append(f"screenshots and logs: {artifacts}")
    return "\n".join(parts)


def require_e2e(*, server: bool = True) -> None:
    """code-server (with its Node and Chromium) and, unless told otherwise, the installed
    codestral-ls; skips (or fails in CI) without them."""
    ensure_code_server()
    if server and not SERVER.is_file():
        unavailable(f"{SERVER} not found (pip install -e . first)")


def run_e2e(
    vsix: Path,
    tmp: Path,
    artifacts: Path,
    *options: str,
    server: Path = SERVER,
    timeout: int = 420,
    wait: float = 540,
) -> dict[str, object]:
    """e2e/run.mjs: the .vsix in a fresh code-server with `server`, driven as `options` say
    (--scenario and its own options) within `timeout` seconds (pytest waits `wait`); `artifacts`
    is emptied first. Its result.json, or a failure with the driver's output and logs."""
    tools = ensure_code_server()
    if artifacts.exists():
        shutil.rmtree(artifacts)
    ran = run(
        [
            str(tools / "bin" / "node"),
            str(EXTENSION / "e2e" / "run.mjs"),
            "--code-server",
            str(tools),
            "--vsix",
            str(vsix),
            "--server",
            str(server),
            "--artifacts",
            str(artifacts),
            *options,
            "--timeout",
            str(timeout),
        ],
        cwd=EXTENSION,
        timeout=wait,
        env=e2e_env(tmp),
    )
    result = read_result(artifacts)
    if ran.returncode != 0 or not result.get("ok"):
        pytest.fail(failure_report(artifacts, ran), pytrace=False)
    return result

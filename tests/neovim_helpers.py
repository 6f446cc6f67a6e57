"""Run a private, real Neovim for the plugin's tests (unit specs and end-to-end scenarios).

Neovim is unpacked once into ``<repo>/.tools/nvim`` by ``shared/tools/get-nvim.sh`` (found beside
the checkout, as in CI) and reused while ``nvim --version`` works. Without it the tests skip on a
developer's machine but FAIL in CI, where a missing editor must not pass silently.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "clients" / "neovim"
NVIM_DIR = REPO / ".tools" / "nvim"
GET_NVIM = REPO.parent / "shared" / "tools" / "get-nvim.sh"
SERVER = Path(sys.executable).parent / "codestral-ls"


def _works(nvim: Path) -> bool:
    try:
        done = subprocess.run(
            [str(nvim), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.startswith("NVIM v")


@functools.cache
def _install() -> tuple[Path | None, str]:
    nvim = NVIM_DIR / "nvim"
    if _works(nvim):
        return nvim, ""
    if not GET_NVIM.is_file():
        return None, f"{GET_NVIM} not found"
    done = subprocess.run(
        ["bash", str(GET_NVIM), str(NVIM_DIR)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0 or not _works(nvim):
        return None, f"get-nvim.sh failed ({done.returncode}): {done.stderr[-2000:]}"
    return nvim, ""


def ensure_nvim() -> Path:
    """The nvim launcher; skips (or fails in CI) when Neovim cannot be obtained.

    CODESTRAL_TEST_NVIM=/path/to/nvim runs the suite on another Neovim (e.g. 0.10).
    """
    other = os.environ.get("CODESTRAL_TEST_NVIM")
    if other:
        if not _works(Path(other)):
            pytest.fail(f"CODESTRAL_TEST_NVIM={other} does not run")
        return Path(other)
    nvim, why = _install()
    if nvim is None:
        if os.environ.get("CI"):
            pytest.fail(f"Neovim is required in CI: {why}")
        pytest.skip(f"Neovim not available: {why}")
    return nvim


def nvim_version(nvim: Path) -> tuple[int, int]:
    """(major, minor) of this Neovim."""
    out = subprocess.run([str(nvim), "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"NVIM v(\d+)\.(\d+)", out.stdout)
    assert match is not None, out.stdout
    return int(match.group(1)), int(match.group(2))


def require_native(nvim: Path) -> None:
    """Skip a native-path test on a Neovim without vim.lsp.inline_completion (< 0.12)."""
    if nvim_version(nvim) < (0, 12):
        pytest.skip("vim.lsp.inline_completion needs Neovim 0.12")


def editor_env(base: dict[str, str], tmp: Path) -> dict[str, str]:
    """Neovim's own config, data and state kept inside ``tmp`` (the user's stay untouched)."""
    env = dict(base)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp / name.lower())
    env.pop("NVIM", None)
    env.pop("VIMINIT", None)
    return env


def run_lua_specs(nvim: Path, spec: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one spec file with the plugin's runner (``tests/run.lua``) in headless Neovim."""
    return subprocess.run(
        [
            str(nvim),
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-l",
            str(PLUGIN / "tests" / "run.lua"),
            str(spec),
        ],
        cwd=PLUGIN,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_scenario(
    nvim: Path,
    tmp: Path,
    env: dict[str, str],
    *,
    script: str = "inline_e2e.lua",
    timeout: float = 200,
    **options: str,
) -> dict[str, Any]:
    """Run ``tests/e2e/<script>`` with options (CODESTRAL_E2E_<NAME>) and return its results."""
    work = tmp / "work"
    work.mkdir(parents=True, exist_ok=True)
    out = tmp / "result.json"
    full = editor_env(env, tmp)
    full.update(
        {
            "CODESTRAL_E2E_SERVER": str(SERVER),
            "CODESTRAL_E2E_DIR": str(work),
            "CODESTRAL_E2E_OUT": str(out),
        }
    )
    full.update({f"CODESTRAL_E2E_{k.upper()}": v for k, v in options.items()})
    path = PLUGIN / "tests" / "e2e" / script
    done = subprocess.run(
        [str(nvim), "--headless", "-n", "-i", "NONE", "-u", str(path)],
        cwd=work,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    logs = [work / "server.log", Path(env.get("CODESTRAL_LS_LOG_FILE", work / "server.log"))]
    if not out.exists():
        raise AssertionError(
            f"nvim wrote no results (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-3000:]}\n{server_log(*logs)}"
        )
    result: dict[str, Any] = json.loads(out.read_text())
    result["server_log"] = server_log(*logs)
    return result


def server_log(*logs: Path) -> str:
    """The tail of the first server log that exists (the plugin's log_file, or the server's
    own default, which the tests point into the test's directory)."""
    for log in logs:
        if log.exists():
            return log.read_text(errors="replace")[-4000:]
    return "(no server log)"


def explain(result: dict[str, Any]) -> str:
    """Everything useful when a scenario fails."""
    shown = {k: v for k, v in result.items() if k not in ("server_log", "health")}
    log = str(result.get("server_log", ""))
    return json.dumps(shown, indent=2) + "\n--- server log (tail) ---\n" + log


# Checks shared by the real-model and the scripted-server scenarios.


def check_accept_all(r: dict[str, Any]) -> None:
    ghost = r["ghost"]["text"]
    assert ghost.strip(), explain(r)
    assert r["mode_when_shown"].startswith("i"), explain(r)
    # The server was asked once per burst of keys, not once per key.
    assert 1 <= r["requests_in_burst"] <= 2 < r["keys_typed"] // 4, explain(r)
    first, *more = ghost.split("\n")
    lines = r["after_accept"]
    assert lines[4] == r["line_before_accept"] + first, explain(r)
    assert lines[5 : 5 + len(more)] == more, explain(r)
    assert lines[-1] == "    print(fibonacci(10), average([1, 2, 3]))", explain(r)
    # Leaving insert mode leaves no ghost text behind.
    assert r.get("ghost_after_esc") is None, explain(r)
    assert r["mode_after_esc"] == "n", explain(r)


def take_line(text: str) -> tuple[str, str]:
    """Oracle for accept-line: up to the line break; from a leading break, that break and the
    next line."""
    start = 1 if text.startswith("\n") else 0
    end = text.find("\n", start)
    return (text, "") if end < 0 else (text[:end], text[end:])


def check_partial_accepts(r: dict[str, Any]) -> None:
    shown = r["ghost2"]["text"]
    before, after = r["line_before_word"], r["line_after_word"]
    assert after.startswith(before), explain(r)
    word = after[len(before) :]
    assert word and shown.startswith(word), explain(r)
    rest = shown[len(word) :]
    if not rest:
        return
    # The rest stays on screen right after the partial accept...
    assert r.get("ghost_after_word") is not None, explain(r)
    assert r["ghost_after_word"]["text"] == rest, explain(r)
    # ...and accept-line inserts it up to the end of its line.
    piece, left = take_line(rest)
    lines, i = r["lines_before_line_accept"], r["word_line_index"]
    expected = "\n".join([*lines[:i], lines[i] + piece, *lines[i + 1 :]])
    assert "\n".join(r["lines_after_line_accept"]) == expected, explain(r)
    if left:
        assert r.get("ghost_after_line") is not None, explain(r)
        assert r["ghost_after_line"]["text"] == left, explain(r)


def check_server_status(r: dict[str, Any]) -> None:
    assert r["status"]["backend"] == "local", explain(r)
    assert r["statusline"].startswith("codestral: ready"), explain(r)
    # Model loading was reported through Neovim's standard LSP progress.
    assert r["progress_events"] >= 2, explain(r)

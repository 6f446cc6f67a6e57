"""Real headless Neovim 0.12 + the plugin + the real codestral-ls with the embedded model.

Two scenarios. The first, on both code paths: the built-in `vim.lsp.inline_completion`
(native, 0.12+) and the plugin's own requests and extmarks (fallback, what 0.10/0.11 use, forced
with mode='fallback' and started with vim.lsp.start as on 0.10). The user opens a Python file,
types at a hole, sees ghost text, accepts it with <Tab>; then accepts a word and a line of a
second suggestion.

The second runs the plugin with default settings (`setup({})` plus the server's path) on a large
real file nobody here wrote, the standard library's textwrap.py: a line in a function body is
blanked down to its indentation, the cursor rests there (the plugin sends codestral/didFocus),
the user types the statement's first character, and a suggestion must appear and be accepted.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import server_env
from neovim_helpers import (
    check_accept_all,
    check_partial_accepts,
    check_server_status,
    ensure_nvim,
    explain,
    require_native,
    run_scenario,
)

pytestmark = [pytest.mark.nvim, pytest.mark.model, pytest.mark.usefixtures("embedded_model")]


@pytest.fixture(scope="session")
def nvim() -> Path:
    return ensure_nvim()


def test_native_inline_completion(nvim: Path, tmp_path: Path) -> None:
    require_native(nvim)
    r = run_scenario(nvim, tmp_path, server_env(tmp_path), mode="native", health="1")
    print("native timings:", r.get("timings"), "total_ms:", r.get("total_ms"))
    assert r["ok"], explain(r)
    assert r["path"] == "native", explain(r)
    assert r["ghost"]["ns"] == "nvim.lsp.inline_completion", explain(r)
    check_server_status(r)
    check_accept_all(r)
    check_partial_accepts(r)
    health = "\n".join(r["health"])
    assert "version: codestral-ls" in health, health
    assert "native path" in health, health
    assert "ERROR" not in health, health


def test_fallback_inline_completion(nvim: Path, tmp_path: Path) -> None:
    r = run_scenario(nvim, tmp_path, server_env(tmp_path), mode="fallback", legacy="1")
    print("fallback timings:", r.get("timings"), "total_ms:", r.get("total_ms"))
    assert r["ok"], explain(r)
    assert r["path"] == "fallback", explain(r)
    assert r["ghost"]["ns"] == "codestral.ghost", explain(r)
    check_server_status(r)
    check_accept_all(r)
    check_partial_accepts(r)


def _predicate_body(lines: list[str]) -> int:
    """0-based index of the body line of `def predicate(line):` inside `def indent(`."""
    start = next(i for i, line in enumerate(lines) if line.startswith("def indent("))
    inner = next(i for i in range(start, len(lines)) if "def predicate(line):" in lines[i])
    return inner + 1


def test_default_settings_first_suggestion_in_a_large_real_file(nvim: Path, tmp_path: Path) -> None:
    require_native(nvim)  # default settings: the native path on 0.12
    work = tmp_path / "work"
    work.mkdir()
    source = Path(textwrap.__file__)
    copy = work / "textwrap.py"
    shutil.copyfile(source, copy)
    lines = copy.read_text().splitlines()
    body = _predicate_body(lines)
    original = lines[body]
    indent = original[: len(original) - len(original.lstrip())]
    statement = original.strip()
    assert statement and len(lines) > 400, (source, body, original)
    typed = statement[0]
    r = run_scenario(
        nvim,
        tmp_path,
        server_env(tmp_path),
        script="focus_e2e.lua",
        timeout=330,
        scenario="textwrap",
        file=str(copy),
        line=str(body + 1),
        typed=typed,
        deadline_ms="60000",
        limit_ms="300000",
    )
    print("textwrap timings:", r.get("timings"), "ghost:", r.get("ghost"))
    assert r["ok"], explain(r)
    assert r["path"] == "native", explain(r)
    assert r["original_line"] == original, explain(r)
    # The cursor rested on the blanked line: the server was told, once, exactly there.
    row, col = r["cursor_at_rest"]
    assert row == body + 1, explain(r)
    assert r["focus_at_rest"] == [[body, col]], explain(r)
    # Typing the first character brings a suggestion within the deadline...
    assert r["line_typed"] == indent + typed, explain(r)
    assert r["ghost"] is not None, explain(r)
    assert r["ghost"]["text"].strip(), explain(r)
    assert r["mode_when_shown"].startswith("i"), explain(r)
    # ...and <Tab> puts it after what was typed.
    accepted = r["line_after_accept"]
    assert accepted.startswith(indent + typed), explain(r)
    assert len(accepted) > len(indent + typed), explain(r)
    assert accepted == indent + typed + r["ghost"]["text"].split("\n")[0], explain(r)

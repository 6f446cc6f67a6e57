"""Real headless Neovim 0.12 + the plugin + the real codestral-ls with the embedded model.

One scenario, both code paths: the built-in `vim.lsp.inline_completion` (native, 0.12+) and the
plugin's own requests and extmarks (fallback, what 0.10/0.11 use, forced with mode='fallback'
and started with vim.lsp.start as on 0.10). The user opens a Python file, types at a hole, sees
ghost text, accepts it with <Tab>; then accepts a word and a line of a second suggestion.
"""

from __future__ import annotations

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

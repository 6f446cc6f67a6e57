"""The Neovim plugin's Lua unit specs, each file run in a real headless Neovim."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from neovim_helpers import PLUGIN, ensure_nvim, run_lua_specs

pytestmark = pytest.mark.nvim

SPECS = sorted((PLUGIN / "tests" / "unit").glob("*_spec.lua"))


@pytest.fixture(scope="session")
def nvim() -> Path:
    return ensure_nvim()


def test_there_are_specs_for_every_module() -> None:
    names = {p.name.removesuffix("_spec.lua") for p in SPECS}
    assert {"config", "text", "ghost", "controller", "keys", "status", "focus"} <= names


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_lua_spec(nvim: Path, spec: Path) -> None:
    done = run_lua_specs(nvim, spec)
    output = done.stdout + done.stderr
    summary = re.search(r"^(\d+) passed, (\d+) failed$", done.stdout, re.MULTILINE)
    assert summary is not None, output
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert done.returncode == 0 and failed == 0, output
    assert passed > 0, output


def test_plugin_loads_on_a_bare_neovim(nvim: Path, tmp_path: Path) -> None:
    """`:Codestral status` works before setup() and `:help codestral-settings` finds its topic."""
    docs = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", docs)
    done = subprocess.run(
        [
            str(nvim),
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "--cmd",
            f"set rtp^={PLUGIN}",
            "--cmd",
            f"set rtp^={tmp_path}",
            "-c",
            "runtime plugin/codestral.lua",
            "-c",
            "Codestral status",
            "-c",
            f"helptags {docs}",
            "-c",
            "help codestral-settings",
            "-c",
            "echo expand('%:t') .. ':' .. getline('.')",
            "-c",
            "qa!",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "codestral: enabled" in out, out
    assert "codestral.txt:" in out and "codestral-settings" in out, out

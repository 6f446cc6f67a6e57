"""The install instructions work as written: the lazy.nvim spec of the README (the same in the
plugin's README and in `:help codestral-install`) installs the plugin from a clone of the
repository into a real headless Neovim, with its command, its help and its setup."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from neovim_helpers import PLUGIN, editor_env, ensure_nvim

REPO = Path(__file__).resolve().parent.parent
LAZY_STUB = Path(__file__).resolve().parent / "lazy_stub"
FIRST_LINE = '"codestral-ls/codestral-ls",'


def _lua_blocks(markdown: str) -> list[str]:
    return re.findall(r"```lua\n(.*?)```", markdown, re.S)


def readme_spec() -> str:
    """The lazy.nvim spec in the README's Install section (the block that builds help tags)."""
    (spec,) = [b for b in _lua_blocks((REPO / "README.md").read_text()) if "helptags" in b]
    return spec.strip()


def test_readme_plugin_readme_and_help_give_the_same_spec() -> None:
    spec = readme_spec()
    assert spec.splitlines()[1].strip() == FIRST_LINE
    (plugin_readme,) = [
        b for b in _lua_blocks((PLUGIN / "README.md").read_text()) if "helptags" in b
    ]
    help_text = (PLUGIN / "doc" / "codestral.txt").read_text()
    section = help_text[help_text.index("*codestral-install*") :]
    help_block = re.search(r">lua\n(.*?)\n<", section, re.S)
    assert help_block is not None
    assert plugin_readme.strip() == spec
    assert textwrap.dedent(help_block.group(1)).strip() == spec
    # Each says how to use a local checkout instead, in the same words.
    for text in ((REPO / "README.md").read_text(), (PLUGIN / "README.md").read_text(), help_text):
        assert 'dir = "~/src/codestral-ls",' in text


def _stand_in_remote(tmp: Path) -> Path:
    """A git repository laid out like this one (the plugin in clients/neovim), made from the
    working tree, so the test sees the plugin as it will be committed."""
    src = tmp / "upstream"
    shutil.copytree(
        PLUGIN, src / "clients" / "neovim", ignore=shutil.ignore_patterns("tags", "tests")
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "plugin"]):
        subprocess.run([*git, *cmd], cwd=src, check=True, capture_output=True)
    remotes = tmp / "remotes" / "codestral-ls"
    remotes.mkdir(parents=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(src), str(remotes / "codestral-ls")],
        check=True,
        capture_output=True,
    )
    return tmp / "remotes"


def _run_spec(tmp: Path, spec: str, remotes: Path) -> dict[str, object]:
    out = tmp / "result.json"
    init = tmp / "init.lua"
    init.write_text(
        f"vim.opt.rtp:prepend({json.dumps(str(LAZY_STUB))})\n"
        f'require("lazy").setup({{\n{spec}\n}}, {{\n'
        f"  root = {json.dumps(str(tmp / 'lazy'))},\n"
        f"  git = {{ url_format = {json.dumps('file://' + str(remotes) + '/%s')} }},\n"
        "})\n"
        "local ok_help = pcall(vim.cmd.help, 'codestral-install')\n"
        "local result = {\n"
        "  command = vim.fn.exists(':Codestral') == 2,\n"
        "  help = ok_help and vim.fn.expand('%:t') or false,\n"
        "  loaded = package.loaded.codestral ~= nil,\n"
        "  configured = require('codestral').opts ~= nil,\n"
        "  tab = vim.fn.maparg('<Tab>', 'i') ~= '',\n"
        "  dir = require('lazy').plugins[next(require('lazy').plugins)].dir,\n"
        "}\n"
        f"vim.fn.writefile({{vim.json.encode(result)}}, {json.dumps(str(out))})\n"
        "vim.cmd('qa!')\n"
    )
    nvim = ensure_nvim()
    done = subprocess.run(
        [str(nvim), "--headless", "-n", "-i", "NONE", "-u", str(init)],
        cwd=tmp,
        env=editor_env({"PATH": "/usr/bin:/bin", "HOME": str(tmp)}, tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.exists(), f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result: dict[str, object] = json.loads(out.read_text())
    return result


@pytest.mark.nvim
def test_lazy_spec_installs_the_plugin_from_the_repository(tmp_path: Path) -> None:
    remotes = _stand_in_remote(tmp_path)
    result = _run_spec(tmp_path, readme_spec(), remotes)
    assert result["dir"] == str(tmp_path / "lazy" / "codestral-ls")
    assert result["command"] is True and result["loaded"] is True, result
    assert result["help"] == "codestral.txt", result
    # setup({}) ran: options resolved and the accept key mapped.
    assert result["configured"] is True and result["tab"] is True, result


@pytest.mark.nvim
def test_lazy_spec_from_a_local_checkout(tmp_path: Path) -> None:
    """The README's variant: `dir = "~/src/codestral-ls",` instead of the first line."""
    remotes = _stand_in_remote(tmp_path)
    checkout = tmp_path / "src" / "codestral-ls"
    subprocess.run(
        ["git", "clone", "-q", str(remotes / "codestral-ls" / "codestral-ls"), str(checkout)],
        check=True,
        capture_output=True,
    )
    spec = readme_spec().replace(FIRST_LINE, 'dir = "~/src/codestral-ls",')
    result = _run_spec(tmp_path, spec, remotes)
    assert result["dir"] == str(checkout)
    assert result["command"] is True and result["help"] == "codestral.txt", result

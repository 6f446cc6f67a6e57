"""The editor clients name exactly the server's settings: config.py is the one source of truth."""

from __future__ import annotations

import re
from pathlib import Path

from codestral_ls.config import KEYS

REPO = Path(__file__).resolve().parent.parent


def test_the_neovim_plugin_accepts_every_server_setting_and_no_other() -> None:
    lua = (REPO / "clients/neovim/lua/codestral/config.lua").read_text()
    block = re.search(r"M\.server_keys = \{(.*?)\}", lua, re.S)
    assert block, "server_keys not found in config.lua"
    keys = re.findall(r"'([a-z_]+)'", block.group(1))
    assert sorted(keys) == sorted(KEYS)


def test_the_neovim_help_lists_every_server_setting() -> None:
    help_text = (REPO / "clients/neovim/doc/codestral.txt").read_text()
    listed = set(re.findall(r"^  ([a-z_]+) {2,}", help_text, re.M))
    missing = [key for key in KEYS if key not in listed]
    assert not missing, f"not in :help codestral: {missing}"

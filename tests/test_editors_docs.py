"""docs/editors.md covers every editor of the issue and says plainly which snippets are run."""

from __future__ import annotations

import re

import pytest

from editors_helpers import DOCS, doc_snippet

EDITORS = {
    # section heading: is its snippet run by the test suite here?
    "VS Code": True,
    "Neovim": True,
    "Emacs, Eglot": True,
    "Emacs, lsp-mode": False,
    "Helix": True,
    "Vim, yegappan/lsp": False,
    "Vim, vim-lsp": False,
    "Kakoune, kakoune-lsp": False,
    "Sublime Text": False,
    "JetBrains (LSP4IJ)": False,
    "Zed": False,
}


def sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.mark.parametrize(("editor", "tested"), EDITORS.items())
def test_each_editor_has_a_section_that_says_whether_it_is_tested(
    editor: str, tested: bool
) -> None:
    body = sections()[editor]
    if tested:
        assert "Not tested here" not in body
    else:
        assert "Not tested here" in body, f"{editor}: say that its snippet is not run"
    assert "codestral-ls" in body


@pytest.mark.parametrize("name", ["eglot", "helix", "neovim"])
def test_the_snippets_the_editor_tests_load_run_codestral_ls_from_path(name: str) -> None:
    snippet = doc_snippet(name)
    assert re.search(r"""['"]codestral-ls['"]""", snippet), snippet


def test_the_table_lists_every_editor_and_says_ghost_text_or_item() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    for editor in ("VS Code", "Neovim", "Eglot", "lsp-mode", "Helix", "yegappan", "vim-lsp",
                   "Kakoune", "Sublime", "LSP4IJ", "Zed"):  # fmt: skip
        rows = [row for row in table if editor in row]
        assert rows, editor
        assert re.search(r"ghost text|completion item|inline completion", rows[0]), rows[0]

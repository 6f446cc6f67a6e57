"""Neovim 0.12 with only the docs/editors.md snippet shows codestral-ls's ghost text.

No plugin: the built-in `vim.lsp.inline_completion` (the plugin in clients/neovim has its own
suite). Headless Neovim loads the snippet with -u and tests/editors/nvim-inline.lua types at a
hole, waits for the ghost text, accepts it with the snippet's <Tab> mapping and writes the file.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from editors_helpers import (
    EDITOR_FILES,
    FakeLlamaServer,
    doc_snippet,
    ensure_server,
    server_env,
)
from neovim_helpers import ensure_nvim

pytestmark = pytest.mark.nvim

MULTIPLY = """\
def multiply(a, b):
    return a * b


result =
print(result)
"""

BOX = """\
class Box:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self)


print(Box(2, 3).area())
"""

AREA_BODY = "\n        total = self.w * self.h\n        return total"


@pytest.fixture(scope="module")
def nvim() -> Path:
    ensure_server()
    return ensure_nvim()


def run_nvim(
    nvim: Path,
    tmp_path: Path,
    source: str,
    line: int,
    typed: str,
    env: dict[str, str],
    timeout: str = "240",
    max_tokens: int = 64,
) -> dict[str, Any]:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    source_file = project / "hole.py"
    source_file.write_text(source)
    config = tmp_path / "init.lua"
    snippet = doc_snippet("neovim")
    assert "init_options = { max_tokens = 64 }" in snippet
    config.write_text(snippet.replace("max_tokens = 64", f"max_tokens = {max_tokens}"))
    report = tmp_path / "report.json"
    env = {
        **env,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "CODESTRAL_TEST_FILE": str(source_file),
        "CODESTRAL_TEST_LINE": str(line),
        "CODESTRAL_TEST_TYPE": typed,
        "CODESTRAL_TEST_OUT": str(report),
        "CODESTRAL_TEST_TIMEOUT": timeout,
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(nvim), "--headless", "-i", "NONE", "-u", str(config),
         "-c", f"luafile {EDITOR_FILES / 'nvim-inline.lua'}"],
        env=env, cwd=project, capture_output=True, text=True, timeout=330, check=False,
    )  # fmt: skip
    assert report.exists(), f"no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(report.read_text())
    result["elapsed_s"] = time.monotonic() - started
    result["on_disk"] = source_file.read_text()
    print(json.dumps(result, indent=1))
    return result


@pytest.mark.model
def test_neovim_snippet_shows_the_embedded_models_ghost_text(
    nvim: Path, embedded_model: Path, tmp_path: Path
) -> None:
    # 24 tokens instead of the snippet's 64: the same answer's start, sooner on two cores.
    result = run_nvim(nvim, tmp_path, MULTIPLY, 5, " mult", server_env(tmp_path), max_tokens=24)
    assert result["ok"] is True, result
    assert result["has_inline"] is True
    assert result["mode_when_shown"].startswith("i")
    ghost = result["ghost"]
    assert ghost.strip(), result
    # Neovim announced inline completion, so the completion item is not offered as well.
    assert result["completion_items"] == 0
    # <Tab> inserted the ghost text at the cursor.
    expected = MULTIPLY.replace("result =\n", f"result = mult{ghost}\n")
    assert result["on_disk"] == expected, result


def test_neovim_snippet_accepts_a_multi_line_suggestion_with_its_indentation(
    nvim: Path, tmp_path: Path
) -> None:
    with FakeLlamaServer(AREA_BODY) as model:
        env = server_env(tmp_path, backend="llama-server", api_base=model.url)
        result = run_nvim(nvim, tmp_path, BOX, 6, ":", env, timeout="40")
    assert result["ok"] is True, result
    # The snippet's init_options reached the server as its settings.
    assert model.requests[-1]["body"]["n_predict"] == 64
    assert result["ghost"] == AREA_BODY
    assert result["on_disk"] == BOX.replace("area(self)\n", "area(self):" + AREA_BODY + "\n")

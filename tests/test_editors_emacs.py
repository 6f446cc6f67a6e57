"""Emacs 30's built-in Eglot completes through codestral-ls, configured as docs/editors.md says.

`emacs --batch` loads tests/editors/eglot-complete.el, which reports (JSON) what the user would
get from `completion-at-point` at a hole in a Python file. A terminal Emacs in tmux shows the
suggestion after the cursor with `completion-preview-mode` (part of the documented snippet).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from editors_helpers import (
    EDITOR_FILES,
    TOOLS,
    FakeLlamaServer,
    completing,
    doc_snippet,
    ensure_server,
    ensure_tool,
    server_env,
    tmux_terminal,
)

pytestmark = pytest.mark.editors

MULTIPLY = """\
def multiply(a, b):
    return a * b


result = mult
print(result)
"""

BOX = """\
class Box:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self):


print(Box(2, 3).area())
"""

AREA_BODY = "\n        total = self.w * self.h\n        return total"


@pytest.fixture(scope="module")
def emacs() -> Path:
    ensure_server()
    return ensure_tool("get-emacs.sh", TOOLS / "emacs" / "emacs")


def run_eglot(
    emacs: Path,
    tmp_path: Path,
    source: str,
    hole: str,
    env: dict[str, str],
    timeout: float,
    extra_config: str = "",
) -> dict[str, Any]:
    """Complete at the end of `hole` in a file holding `source`; the script's JSON report."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()  # a project root, as in a real checkout
    source_file = project / "hole.py"
    source_file.write_text(source)
    config = tmp_path / "config.el"
    config.write_text(doc_snippet("eglot") + extra_config)
    report = tmp_path / "report.json"
    env = {
        **env,
        "CODESTRAL_TEST_CONFIG": str(config),
        "CODESTRAL_TEST_FILE": str(source_file),
        "CODESTRAL_TEST_HOLE": hole,
        "CODESTRAL_TEST_OUT": str(report),
        "CODESTRAL_TEST_TIMEOUT": str(timeout),
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(emacs), "--batch", "-Q", "-l", str(EDITOR_FILES / "eglot-complete.el")],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout + 90,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert report.exists(), f"no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(report.read_text())
    result["elapsed_s"] = elapsed
    result["stderr"] = done.stderr[-3000:]
    print(json.dumps({k: v for k, v in result.items() if k != "stderr"}, indent=1))
    return result


@pytest.mark.model
def test_eglot_offers_and_inserts_the_embedded_models_suggestion(
    emacs: Path, embedded_model: Path, tmp_path: Path
) -> None:
    result = run_eglot(
        emacs,
        tmp_path,
        MULTIPLY,
        "result = mult",
        server_env(tmp_path, defaults=True),
        timeout=240,
    )
    assert "label" in result, f"no codestral item came back: {result}"
    assert result["typed"] == "mult"
    # Whatever the model wrote, the item continues the typed word and says so in one line.
    new_text = result["new_text"]
    assert new_text.startswith("mult") and len(new_text) > len("mult")
    first_line = new_text.split("\n")[0]
    label = result["label"]
    assert label.endswith("…") and label.startswith("mult"), label
    if first_line != "mult":
        assert first_line.startswith(label[:-1].rstrip()), label
        assert result["filter_text"] == first_line
    # The preview is in the format this Eglot declared: fenced markdown, or plain code.
    fence = "```python\n" if result["markdown"] else ""
    assert result["documentation"].startswith(f"{fence}result = {first_line}"), result
    # What completion-at-point left in the buffer is the item's edit, not its label.
    assert result["after"] == result["expected"], result
    assert result["after"] == MULTIPLY.replace("result = mult\n", f"result = {new_text}\n")
    assert result["ok"] is True


def test_eglot_inserts_a_multi_line_item_with_its_own_indentation(
    emacs: Path, tmp_path: Path
) -> None:
    with FakeLlamaServer(AREA_BODY) as model:
        env = server_env(tmp_path, backend="llama-server", api_base=model.url, max_tokens="96")
        # The settings place docs/editors.md names for Eglot, checked on the way.
        workspace = "(setq-default eglot-workspace-configuration '(:codestral (:max_tokens 17)))\n"
        result = run_eglot(emacs, tmp_path, BOX, "def area(self):", env, 60, workspace)
    assert model.requests, "the server never asked the model"
    assert model.requests[-1]["body"]["n_predict"] == 17
    assert result.get("label") == "total = self.w * self.h…", result
    assert result["new_text"] == AREA_BODY
    assert result["after"] == BOX.replace("def area(self):\n", "def area(self):" + AREA_BODY + "\n")
    assert result["ok"] is True


def test_eglot_item_lands_right_after_wide_characters(emacs: Path, tmp_path: Path) -> None:
    """The edit's range is in the negotiated units: an emoji is 1 UTF-32 but 2 UTF-16 units."""
    source = MULTIPLY.replace("result = mult", 'result = "é📐" + mult')
    with FakeLlamaServer(completing("multiply(2, 3)")) as model:
        env = server_env(tmp_path, backend="llama-server", api_base=model.url)
        result = run_eglot(emacs, tmp_path, source, '"é📐" + mult', env, timeout=60)
    assert result.get("new_text") == "multiply(2, 3)", result
    assert result["after"] == source.replace("+ mult\n", "+ multiply(2, 3)\n")
    assert result["ok"] is True


@pytest.mark.model
def test_emacs_completion_preview_shows_the_suggestion_and_tab_accepts_it(
    emacs: Path, embedded_model: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    source = MULTIPLY.replace("result = mult", "result =")
    (project / "hole.py").write_text(source)
    config = tmp_path / "config.el"
    config.write_text(doc_snippet("eglot"))
    env = server_env(tmp_path)
    with tmux_terminal() as term:
        term.start([str(emacs), "-nw", "-Q", "-l", str(config), "+5:9", "hole.py"], env, project)
        term.wait_for(r"Connected! Server .codestral-ls", timeout=60)
        term.send("End")
        term.type(" mult")
        started = time.monotonic()
        deadline = started + 240
        while True:
            try:
                # The preview: the rest of the item's label, after the cursor.
                screen = term.wait_for(r"result = mult[^…\n]*…", timeout=30)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                # The model was still loading: type again so the preview asks again (not
                # sooner: a new request supersedes the one in flight).
                term.send("BSpace")
                term.type("t")
        print(f"preview after {time.monotonic() - started:.1f} s:\n{screen}")
        found = re.search(r"result = (mult[^…\n]*)…", screen)
        assert found, screen
        shown = found.group(1).rstrip()
        term.send("Tab")  # completion-preview-insert: Eglot applies the item's textEdit
        term.wait_for(rf"result = {re.escape(shown)}[^…\n]*\n", timeout=10)
        term.send("C-x", "C-s")
        term.wait_for(r"Wrote ", timeout=10)
    lines = (project / "hole.py").read_text().splitlines()
    expected = source.splitlines()
    assert lines[4].startswith(f"result = {shown}"), (lines, screen)
    assert "…" not in "\n".join(lines)
    assert lines[:4] == expected[:4]
    assert lines[-1] == expected[-1]

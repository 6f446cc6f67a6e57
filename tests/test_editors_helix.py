"""Helix completes through codestral-ls with the languages.toml of docs/editors.md.

Helix runs in a private tmux server: the test types with `send-keys`, reads the completion menu
with `capture-pane`, picks the item with Tab, writes the file and checks what is on disk.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from editors_helpers import (
    TOOLS,
    FakeLlamaServer,
    Tmux,
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


result =
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
def helix() -> Path:
    ensure_server()
    return ensure_tool("get-helix.sh", TOOLS / "helix" / "hx")


def open_in_helix(
    term: Tmux,
    helix: Path,
    tmp_path: Path,
    source: str,
    line: int,
    env: dict[str, str],
    languages_toml: str | None = None,
) -> Path:
    """Helix on a file holding `source`, cursor at the end of 1-based `line`, in insert mode."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    source_file = project / "hole.py"
    source_file.write_text(source)
    languages = Path(env["XDG_CONFIG_HOME"]) / "helix" / "languages.toml"
    languages.parent.mkdir(parents=True, exist_ok=True)
    languages.write_text(languages_toml or doc_snippet("helix"))
    column = len(source.splitlines()[line - 1]) + 1
    term.start(
        [str(helix), "--log", str(tmp_path / "helix.log"), f"{source_file}:{line}:{column}"],
        env,
        project,
    )
    term.wait_for(r"NOR\s+hole\.py", timeout=30)
    term.send("i")
    term.wait_for(r"INS\s+hole\.py", timeout=10)
    return source_file


def wait_for_item(term: Tmux, pattern: str, timeout: float, retry_every: float = 30) -> float:
    """Seconds until the item shows; asks again with Ctrl-x if the server was not ready.

    With the real model, not sooner than every 30 s: a new request supersedes the one in
    flight, and on two busy cores one generation can take 10 s.
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            term.wait_for(pattern, timeout=retry_every)
            return time.monotonic() - started
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            term.send("C-x")  # Helix's "complete now" in insert mode


def accept_and_write(term: Tmux) -> None:
    term.send("Tab")  # select the first item: Helix applies it
    term.send("Escape")  # close the menu, back to normal mode
    term.wait_for(r"NOR\s+hole\.py", timeout=10)
    term.send(":w", "Enter")
    term.wait_for(r"written", timeout=10)


@pytest.mark.model
def test_helix_offers_and_inserts_the_embedded_models_suggestion(
    helix: Path, embedded_model: Path, tmp_path: Path
) -> None:
    with tmux_terminal() as term:
        source_file = open_in_helix(
            term,
            helix,
            tmp_path,
            MULTIPLY,
            5,
            server_env(tmp_path, defaults=True),
        )
        term.type(" mult")
        waited = wait_for_item(term, r"mult[^…\n]*…", timeout=240)
        menu = term.screen()
        accept_and_write(term)
        print(f"item shown after {waited:.1f} s:\n{menu}")
    # The menu shows the item's label: the typed word and the suggestion's first line, then "…".
    found = re.search(r"(mult[^…\n]*)…", menu)
    assert found, menu
    first_line = found.group(1).rstrip()
    lines = source_file.read_text().splitlines()
    expected = MULTIPLY.splitlines()
    # Tab inserted the item's edit (the suggestion), not its label, in place of the typed word.
    assert lines[4].startswith(f"result = {first_line}"), (lines, menu)
    assert "…" not in "\n".join(lines)
    assert lines[:4] == expected[:4]
    assert lines[-1] == expected[-1]


def test_helix_inserts_a_multi_line_item_with_its_own_indentation(
    helix: Path, tmp_path: Path
) -> None:
    # The documented `config` line, uncommented: it must reach the server as its settings.
    snippet = doc_snippet("helix")
    assert "# config = { max_tokens = 64 }" in snippet
    languages = snippet.replace("# config = { max_tokens = 64 }", "config = { max_tokens = 17 }")
    with FakeLlamaServer(AREA_BODY) as model, tmux_terminal() as term:
        env = server_env(tmp_path, backend="llama-server", api_base=model.url, max_tokens="96")
        source_file = open_in_helix(term, helix, tmp_path, BOX, 6, env, languages)
        term.send("C-x")
        waited = wait_for_item(term, r"total = self\.w \* self\.h…", timeout=60, retry_every=3)
        accept_and_write(term)
        print(f"item shown after {waited:.1f} s")
    assert model.requests, "the server never asked the model"
    assert model.requests[-1]["body"]["n_predict"] == 17
    expected = BOX.replace("def area(self):\n", "def area(self):" + AREA_BODY + "\n")
    assert source_file.read_text() == expected


def test_helix_keeps_the_item_right_while_the_user_types_on(helix: Path, tmp_path: Path) -> None:
    """The menu opens after two letters; the item must survive (and fit) the letters typed after.

    Helix filters the open menu on `filterText` as the user types and, the list being incomplete,
    asks again; the edit inserted at the end must replace exactly the typed word.
    """
    # Characters of 2 and 4 UTF-8 bytes before the word: Helix negotiates UTF-8 positions.
    source = MULTIPLY.replace("result =\n", 'result = "é📐" +\n')
    with FakeLlamaServer(completing("multiply(2, 3)")) as model, tmux_terminal() as term:
        env = server_env(tmp_path, backend="llama-server", api_base=model.url)
        source_file = open_in_helix(term, helix, tmp_path, source, 5, env)
        term.type(" mu")
        wait_for_item(term, r"multiply\(2, 3\)…", timeout=60, retry_every=3)
        term.type("lt")
        term.wait_for(r"\+ mult\s.*multiply\(2, 3\)…", timeout=10)
        accept_and_write(term)
    prompts = [request["body"]["input_prefix"].rsplit("+ ", 1)[-1] for request in model.requests]
    assert prompts and set(prompts) <= {"mu", "mul", "mult"}, prompts
    expected = source.replace('"é📐" +\n', '"é📐" + multiply(2, 3)\n')
    assert source_file.read_text() == expected

"""The command line a new user tries first: `codestral-ls complete FILE:LINE:COL`."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SERVER, server_env


def run(tmp_path: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVER), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=server_env(tmp_path),
        cwd=REPO,
    )


@pytest.mark.usefixtures("embedded_model")
def test_complete_fills_the_example_hole(tmp_path: Path) -> None:
    proc = run(tmp_path, "complete", "examples/stats.py:10:5")
    assert proc.returncode == 0, proc.stderr
    suggestion = proc.stdout.rstrip("\n")
    assert "return" in suggestion
    lines = (REPO / "examples" / "stats.py").read_text().splitlines(keepends=True)
    filled = "".join(lines[:9]) + "    " + suggestion + "\n" + "".join(lines[10:])
    ast.parse(filled)
    assert proc.stdout.count("\n") >= 1
    # progress goes to stderr, never into the answer
    assert "codestral-ls: " in proc.stderr and "codestral-ls" not in proc.stdout


@pytest.mark.usefixtures("embedded_model")
def test_complete_with_lsp_position_and_json(tmp_path: Path) -> None:
    src = tmp_path / "greet.py"
    src.write_text('def greet(name):\n    return "Hello, " + \n')
    proc = run(
        tmp_path,
        "complete",
        str(src),
        "--line",
        "1",
        "--character",
        "24",
        "--json",
        "--set",
        "max_tokens=8",
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["source"] == "model"
    assert "name" in answer["text"]


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (None, ("nope.py:1:1",), "cannot read"),
        ("x = 1\n", ("{f}:40:1",), "past the end"),
        (b"\x7fELF\x00\x00binary", ("{f}:1:1",), "binary"),
        ("x = 1\n", ("{f}",), "give a position"),
        ("x = 1\n", ("{f}:1:1", "--set", "max_tokens=lots"), "max_tokens"),
    ],
)
def test_complete_bad_input_is_a_clear_error(
    tmp_path: Path, make: str | bytes | None, args: tuple[str, ...], message: str
) -> None:
    f = tmp_path / "input.py"
    if isinstance(make, bytes):
        f.write_bytes(make)
    elif make is not None:
        f.write_text(make)
    proc = run(tmp_path, "complete", *(a.format(f=f) for a in args), timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_version(tmp_path: Path) -> None:
    proc = run(tmp_path, "--version", timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("codestral-ls ")

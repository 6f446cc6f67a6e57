"""A place the user just jumped to in a large file nobody here wrote, with default settings.

The real server over stdio with the embedded model and no setting changed: the first explicit
request at a new place must get a suggestion (not nothing, not a fragment), also on a machine
made busy by CPU-bound processes beside the server; and a resting cursor (``codestral/didFocus``)
is read ahead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_session import inline, insert, lsp_server, open_doc, status, wait_ready

pytestmark = pytest.mark.usefixtures("embedded_model")

SOURCE = Path(argparse.__file__).read_text()
#: A statement in a body near the end of argparse.py (2,600+ lines): its line is blanked, the
#: indentation kept, as if the user were about to write it.
TARGET = "self._print_message(message, _sys.stderr)"


def blanked() -> tuple[str, int, str]:
    lines = SOURCE.split("\n")
    index = max(i for i, line in enumerate(lines) if line.strip() == TARGET)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent
    return "\n".join(lines), index, indent


@contextlib.contextmanager
def busy_machine(processes: int = 2) -> Iterator[None]:
    """CPU-bound programs beside the server, one per core: a machine that is compiling."""
    spin = [sys.executable, "-c", "while True: pass"]
    procs = [subprocess.Popen(spin) for _ in range(processes)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_the_file_is_large_and_the_target_is_near_its_end() -> None:
    text, line, _ = blanked()
    assert text.count("\n") >= 2000 and line > 2000


async def first_answer(tmp_path: Path) -> tuple[str, float]:
    text, line, indent = blanked()
    uri = (tmp_path / "argparse.py").as_uri()
    async with lsp_server(tmp_path) as (client, _):  # default settings
        open_doc(client, uri, text)
        assert (await wait_ready(client))["state"] == "ready"
        began = time.monotonic()
        items = await inline(client, uri, line, len(indent))
        waited = time.monotonic() - began
    answer = str(items[0].insert_text) if items else ""
    return answer, waited


async def test_first_request_at_a_new_place_in_a_large_file_gets_a_whole_line(
    tmp_path: Path,
) -> None:
    answer, waited = await first_answer(tmp_path)
    print(f"first answer after {waited:.1f} s: {answer!r}")
    assert answer.strip(), f"no suggestion after {waited:.1f} s"
    first_line = answer.split("\n")[0]
    compile(first_line.strip() if not first_line.rstrip().endswith(":") else "pass", "", "exec")


async def test_the_same_on_a_busy_machine(tmp_path: Path) -> None:
    with busy_machine():
        answer, waited = await first_answer(tmp_path)
    print(f"first answer on a busy machine after {waited:.1f} s: {answer!r}")
    assert answer.strip(), f"no suggestion after {waited:.1f} s on a busy machine"


async def test_a_resting_cursor_is_read_ahead_and_typing_there_is_answered(
    tmp_path: Path,
) -> None:
    text, line, indent = blanked()
    uri = (tmp_path / "argparse.py").as_uri()
    async with lsp_server(tmp_path) as (client, _):
        open_doc(client, uri, text)
        assert (await wait_ready(client))["state"] == "ready"
        client.protocol.notify(
            "codestral/didFocus",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": len(indent)}},
        )
        await asyncio.sleep(3)  # the user reads for 3 s
        assert (await status(client))["warms"] >= 1
        insert(client, uri, 2, line, len(indent), "s")
        began = time.monotonic()
        items = await inline(client, uri, line, len(indent) + 1, invoked=False)
        waited = time.monotonic() - began
        print(f"after a 3 s rest: {waited:.2f} s, {items[0].insert_text if items else None!r}")
        assert items and str(items[0].insert_text).strip()
        # a malformed focus notification is ignored, and the server keeps serving
        client.protocol.notify("codestral/didFocus", {"position": "nowhere"})
        assert (await status(client))["state"] in ("ready", "working")

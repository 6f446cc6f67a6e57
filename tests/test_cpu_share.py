"""Threads for the model: other programs' runnable threads count, this process's do not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codestral_ls.backends.local.cpu_share import (
    CpuShare,
    own_runnable,
    runnable_elsewhere,
    runnable_now,
)


def _proc(tmp_path: Path, running: int, states: list[tuple[str, str]]) -> Path:
    """A /proc as the kernel writes it: ``loadavg`` and this process's ``task/*/stat``."""
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "loadavg").write_text(f"0.52 0.61 0.70 {running}/412 91234\n")
    for i, (name, state) in enumerate(states, start=100):
        task = proc / "self" / "task" / str(i)
        task.mkdir(parents=True)
        (task / "stat").write_text(f"{i} ({name}) {state} 1 {i} {i} 0 -1 4194560 0 0\n")
    return proc


def test_own_spinning_workers_are_not_another_program(tmp_path: Path) -> None:
    # Right after a job: the reading thread and llama.cpp's spinning worker are runnable, and
    # nothing else is. The model keeps both cores.
    proc = _proc(tmp_path, 2, [("python", "R"), ("python", "R"), ("python", "S")])
    assert runnable_now(proc / "loadavg") == 2
    assert runnable_elsewhere(proc) == 0
    assert CpuShare(2, cores=2, busy_reader=lambda: runnable_elsewhere(proc)).threads() == 2


def test_another_program_on_a_core_leaves_one_thread(tmp_path: Path) -> None:
    # A compiler is runnable besides this process's reading thread: one core is free.
    proc = _proc(tmp_path, 2, [("python", "R"), ("python", "S"), ("python", "S")])
    assert runnable_elsewhere(proc) == 1
    assert CpuShare(2, cores=2, busy_reader=lambda: runnable_elsewhere(proc)).threads() == 1


def test_thread_names_with_parentheses_and_spaces(tmp_path: Path) -> None:
    # The state is the field after the *last* parenthesis: a name may hold ") R (".
    proc = _proc(tmp_path, 3, [("we) R (ird", "S"), ("python", "R")])
    assert own_runnable(proc / "self" / "task") == 1
    assert runnable_elsewhere(proc) == 2


def test_unreadable_proc_means_unknown_and_wanted_threads(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert runnable_elsewhere(missing) is None
    assert CpuShare(2, cores=2, busy_reader=lambda: runnable_elsewhere(missing)).threads() == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_reading_thread_is_counted_as_this_process() -> None:
    # The thread reading /proc is running, so it is one of ours, never another program's.
    assert own_runnable() >= 1
    elsewhere, total = runnable_elsewhere(), runnable_now()
    assert elsewhere is not None and total is not None
    assert elsewhere <= max(0, total - 1) + 2  # two readings, a moment apart

"""How many threads the model may use right now without fighting other programs for cores.

llama.cpp's threads meet at a barrier after every layer, so one thread that waits for a core
stalls them all. On a busy 2-core machine (a compiler, a second model) two threads were measured
2.5x slower at reading a prompt and 6x slower at generating than one thread (tokens/s 20 vs 53
and 3.6 vs 25; docs/latency.md). So before each model job the backend asks how many cores the
rest of the machine is using at this instant and takes only the free ones.

"The rest of the machine" leaves out this process: llama.cpp's worker threads keep spinning for
a few milliseconds after a job, and counted as another program they halved the threads of the
next job (36 of 182 jobs of a quiet benchmarks/real_use.py run read prompts at half speed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

#: Seconds a reading stays valid: a keystroke's jobs share one.
_FRESH_SECONDS = 0.5
_SAMPLES = 5


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def runnable_now(loadavg: Path = Path("/proc/loadavg")) -> int | None:
    """Threads runnable system-wide this instant (the caller's own included), or None."""
    try:
        fields = loadavg.read_text().split()
        return int(fields[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def runnable_elsewhere(proc: Path = Path("/proc")) -> int | None:
    """Threads of other processes runnable this instant, or None where unknown."""
    total = runnable_now(proc / "loadavg")
    if total is None:
        return None
    return max(0, total - own_runnable(proc / "self" / "task"))


def own_runnable(tasks: Path = Path("/proc/self/task")) -> int:
    """This process's threads that are running or ready to run (state ``R``)."""
    count = 0
    try:
        entries = list(tasks.iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        # The state follows the command name, which may itself hold spaces and parentheses.
        close = stat.rfind(")")
        if close >= 0 and stat[close + 2 : close + 3] == "R":
            count += 1
    return count


class CpuShare:
    """Threads for the next job: ``wanted``, less the cores other programs keep busy.

    ``busy_reader`` returns how many threads of other processes are runnable (None where
    unknown, e.g. not Linux: then ``wanted`` is used as is). The count is sampled a few times
    and averaged, so one short-lived process does not halve the model's speed.
    """

    def __init__(
        self,
        wanted: int,
        cores: int | None = None,
        busy_reader: Callable[[], int | None] = runnable_elsewhere,
    ) -> None:
        self.wanted = max(1, wanted)
        self.cores = cores or usable_cores()
        self._read = busy_reader
        self._at = -1.0
        self._threads = self.wanted

    def threads(self) -> int:
        now = time.monotonic()
        if now - self._at < _FRESH_SECONDS:
            return self._threads
        samples = []
        for i in range(_SAMPLES):
            value = self._read()
            if value is None:
                self._threads, self._at = self.wanted, now
                return self.wanted
            samples.append(value)
            if i + 1 < _SAMPLES:
                time.sleep(0.001)
        others = round(sum(samples) / len(samples))
        free = self.cores - max(0, others)
        self._threads = max(1, min(self.wanted, free))
        self._at = now
        return self._threads

"""Time of an explicit request with one suggestion against three (``candidates``), local model.

Each figure loads a fresh engine with default settings (only ``candidates`` and, for the second
request at the same place, no cache or type-through), so the first request is at a place the
model has not read ("new place") and the second at the same place with the prompt read
("warm"). Example::

    .venv/bin/python benchmarks/candidates.py
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from codestral_ls.backends.local import LocalBackend
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind

REPO = Path(__file__).resolve().parents[1]


def places() -> list[tuple[str, str, int]]:
    """(name, text, cursor offset): the README's example hole, and a blanked argparse line."""
    stats = (REPO / "examples" / "stats.py").read_text()
    out = [("examples/stats.py", stats, sum(len(x) + 1 for x in stats.split("\n")[:9]) + 4)]
    lines = Path(argparse.__file__).read_text().split("\n")
    i = max(
        k for k, x in enumerate(lines) if x.strip() == "self._print_message(message, _sys.stderr)"
    )
    lines[i] = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    out.append(
        ("argparse.py", "\n".join(lines), sum(len(x) + 1 for x in lines[:i]) + len(lines[i]))
    )
    return out


async def timed(text: str, offset: int, candidates: int) -> tuple[float, float, int]:
    settings = Settings(candidates=candidates)
    engine = Engine(settings, LocalBackend(settings))
    await engine.start()
    request = CompletionRequest(
        "file:///bench.py", text, offset, "python", TriggerKind.INVOKED, "/bench.py"
    )
    began = time.monotonic()
    first = await engine.complete(request)
    new_place = time.monotonic() - began
    engine.apply_settings(Settings(candidates=candidates, cache_entries=0, type_through=False))
    began = time.monotonic()
    await engine.complete(request)
    warm = time.monotonic() - began
    await engine.aclose()
    return new_place, warm, 1 + len(first.alternatives)


async def main() -> None:
    for name, text, offset in places():
        for count in (1, 3):
            new_place, warm, items = await timed(text, offset, count)
            print(
                f"{name} candidates={count}: new place {new_place:.2f} s, "
                f"warm {warm:.2f} s, {items} item(s)"
            )


if __name__ == "__main__":
    asyncio.run(main())

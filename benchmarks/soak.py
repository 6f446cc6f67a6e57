"""Soak benchmark: replay editing against the real server for a long time; report drift.

An editor keeps codestral-ls running for days. This drives one server over stdio the way an
editor does -- typing lines of real source files keystroke by keystroke (each keystroke a
didChange plus an automatic inline-completion request), deleting, pasting, switching, opening
and closing files -- and samples memory (RSS, peak RSS) and request latency per interval, so
leaks and slow-downs show up as drift between the first and last intervals.

    python benchmarks/soak.py --backend fake --minutes 30     # Mistral API stand-in, instant
    python benchmarks/soak.py --backend local --minutes 5     # the embedded model

"fake" serves Mistral's FIM API from a stand-in on 127.0.0.1 (tests/remote_helpers.py), so the
whole server runs (documents, engine, HTTP client) at full keystroke speed. Not part of CI.
"""

from __future__ import annotations

import sys

# Run as a script, this directory comes first on sys.path, where a sibling module may shadow
# the standard library; look up modules from the repository instead.
if sys.path and sys.path[0].rstrip("/").endswith("benchmarks"):
    sys.path.pop(0)

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from remote_helpers import MistralStandIn, StandInServer  # noqa: E402
from robust_helpers import (  # noqa: E402
    FAKE_KEY,
    RawServer,
    inline_params,
    peak_rss_kb,
    raw_server,
    rss_kb,
)


@dataclass
class Interval:
    started: float
    latencies_ms: list[float] = field(default_factory=list)
    suggestions: int = 0
    errors: int = 0


@dataclass
class Doc:
    uri: str
    lines: list[str]
    version: int = 1

    def text(self) -> str:
        return "\n".join(self.lines)


class Editor:
    """Types into documents through a RawServer, keeping its own copy in step."""

    def __init__(
        self, server: RawServer, rng: random.Random, keystroke_s: float, interval_s: float
    ) -> None:
        self.server = server
        self.rng = rng
        self.keystroke_s = keystroke_s
        self.interval_s = interval_s
        self.docs: dict[str, Doc] = {}
        self.pending: list[tuple[int, float]] = []
        self.started = time.monotonic()
        self.interval = Interval(self.started)
        self.rows: list[dict[str, Any]] = []

    async def tick(self, final: bool = False) -> None:
        """Close the sampling interval when it is over (or at the end)."""
        if not final and time.monotonic() - self.interval.started < self.interval_s:
            return
        await self.collect(self.interval, wait=True)
        if self.interval.latencies_ms or not self.rows:
            row = summarize(self.interval, self.server.pid, time.monotonic() - self.started)
            self.rows.append(row)
            print(json.dumps(row), flush=True)
        self.interval = Interval(time.monotonic())

    async def open(self, uri: str, text: str) -> Doc:
        doc = Doc(uri, text.split("\n"))
        self.docs[uri] = doc
        await self.server.open(uri, text)
        return doc

    async def close(self, doc: Doc) -> None:
        await self.server.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})
        self.docs.pop(doc.uri, None)

    async def edit(self, doc: Doc, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        doc.version += 1
        await self.server.change(doc.uri, doc.version, start, end, text)
        head = "\n".join([*doc.lines[: start[0]], doc.lines[start[0]][: start[1]]])
        tail = "\n".join([doc.lines[end[0]][end[1] :], *doc.lines[end[0] + 1 :]])
        doc.lines = (head + text + tail).split("\n")

    async def retype_line(self, doc: Doc, deadline: float) -> None:
        """Delete a line's text and type it again, asking for a suggestion at each key."""
        candidates = [i for i, line in enumerate(doc.lines) if 8 <= len(line.strip()) <= 90]
        if not candidates:
            return
        number = self.rng.choice(candidates)
        line = doc.lines[number]
        indent = len(line) - len(line.lstrip())
        await self.edit(doc, (number, indent), (number, len(line)), "")
        for column, char in enumerate(line[indent:], start=indent):
            await self.edit(doc, (number, column), (number, column), char)
            msg_id = await self.server.request(
                "textDocument/inlineCompletion",
                inline_params(doc.uri, number, column + 1, invoked=False),
            )
            self.pending.append((msg_id, time.monotonic()))
            await asyncio.sleep(self.keystroke_s * self.rng.uniform(0.5, 1.5))
            await self.collect(self.interval, wait=False)
            await self.tick()
            if time.monotonic() > deadline:
                return

    async def collect(self, interval: Interval, wait: bool) -> None:
        still = []
        for msg_id, sent in self.pending:
            found = None
            if wait:
                try:
                    found = await self.server.response(msg_id, timeout=120)
                except TimeoutError:
                    interval.errors += 1
                    continue
            else:
                found = next(
                    (
                        m
                        for m in self.server.messages
                        if m.get("id") == msg_id and "method" not in m
                    ),
                    None,
                )
            if found is None:
                still.append((msg_id, sent))
                continue
            self.server.messages.remove(found)
            if "error" in found:
                interval.errors += 1
                continue
            # latency as the editor sees it; superseded requests answer empty at once
            interval.latencies_ms.append((time.monotonic() - sent) * 1000)
            if found["result"]["items"]:
                interval.suggestions += 1
        self.pending = still
        # keep the message list from growing with notifications
        self.server.messages[:] = [m for m in self.server.messages if "id" in m][-1000:]


def corpus() -> list[tuple[str, str]]:
    files = sorted((REPO / "codestral_ls").rglob("*.py")) + sorted((REPO / "fim").rglob("*.py"))
    return [(p.name, p.read_text()) for p in files if 400 < p.stat().st_size < 60_000]


def summarize(interval: Interval, pid: int, elapsed: float) -> dict[str, Any]:
    lat = sorted(interval.latencies_ms)

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else 0.0

    return {
        "minute": round(elapsed / 60, 1),
        "requests": len(lat),
        "suggestions": interval.suggestions,
        "errors": interval.errors,
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "mean_ms": round(statistics.fmean(lat), 1) if lat else 0.0,
        "rss_mb": round(rss_kb(pid) / 1024, 1),
        "peak_rss_mb": round(peak_rss_kb(pid) / 1024, 1),
    }


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    files = corpus()
    with tempfile.TemporaryDirectory(prefix="codestral-soak-") as tmp_name:
        tmp = Path(tmp_name)
        async with StandInServer(MistralStandIn(FAKE_KEY, completion="value + 1")) as stand:
            options: dict[str, Any] = {"max_tokens": args.max_tokens}
            if args.backend == "fake":
                options.update(backend="mistral", api_base=stand.url, api_key=FAKE_KEY)
            async with raw_server(tmp) as server:
                await server.initialize(options, root=tmp)
                status = await server.wait_state(timeout=300)
                if status["state"] != "ready":
                    raise SystemExit(f"server not ready: {status}")
                editor = Editor(server, rng, args.keystroke_ms / 1000, args.interval_s)
                deadline = editor.started + args.minutes * 60
                opened = 0
                while time.monotonic() < deadline:
                    action = rng.random()
                    if not editor.docs or action < 0.05:
                        name, text = rng.choice(files)
                        opened += 1
                        await editor.open((tmp / f"{opened}_{name}").as_uri(), text)
                    if len(editor.docs) > 6 or action > 0.97:
                        await editor.close(rng.choice(list(editor.docs.values())))
                        continue
                    doc = rng.choice(list(editor.docs.values()))
                    if action < 0.10:  # paste a block
                        block = rng.choice(files)[1][:2000]
                        line = rng.randrange(len(doc.lines))
                        await editor.edit(doc, (line, 0), (line, 0), block)
                    else:
                        await editor.retype_line(doc, deadline)
                    await editor.tick()
                await editor.tick(final=True)
                rows = editor.rows
                exit_s = await server.shutdown_and_exit(timeout=30)
    first, last = rows[0], rows[-1]
    return {
        "backend": args.backend,
        "minutes": args.minutes,
        "intervals": rows,
        "drift": {
            "rss_mb": round(last["rss_mb"] - first["rss_mb"], 1),
            "p50_ms": round(last["p50_ms"] - first["p50_ms"], 1),
            "p95_ms": round(last["p95_ms"] - first["p95_ms"], 1),
        },
        "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "requests": sum(r["requests"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
        "exit_seconds": round(exit_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["fake", "local"], default="fake")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval-s", type=float, default=60.0, help="sampling interval")
    parser.add_argument("--keystroke-ms", type=float, default=60.0)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    result = asyncio.run(soak(args))
    text = json.dumps({k: v for k, v in result.items() if k != "intervals"}, indent=2)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

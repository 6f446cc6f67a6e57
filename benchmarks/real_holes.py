"""Real code at the places people pause: holes cut from installed third-party sources.

Python from the venv's packages (httpx, pygls, lsprotocol, cattrs, attrs, pathspec, hypothesis,
…) and JavaScript/TypeScript from ``clients/vscode/node_modules``, one hole per large file, five
position classes (line start, mid-line after a token, mid-word, after an opener, empty line
between statements). How holes are cut and scored: ``benchmarks/holes.py``.

Rows, from one loaded model, each hole in turn:

(b) ``naive``: the raw model with the plain PSM prompt on the full window the engine would use
    (``prefix_tokens``/``suffix_tokens`` cut at line boundaries, no healing), greedy, cut after
    its first newline (quality.py's naive row). Latency: to that newline.
(c) ``default``: ``Engine.complete`` with the settings a new user has (``Settings()`` plus any
    ``--setting``): at a place the model has not read, the engine picks a window it can read
    within ``eval_budget_ms`` and reads the full one in the background.
(c') ``lifted``: the same with ``timeout_ms`` and ``eval_budget_ms`` lifted to 600 s: the full
    window always, the model's ceiling.

Both engine rows are explicit requests (``TriggerKind.INVOKED``, as in quality.py): the answer
does not depend on the trigger (mode, window, prompt and clean-up are the same), and an
automatic trigger only adds the debounce wait (75-300 ms) and a prefill that cannot help at a
place the model has not read. Per hole the order is (c), (c'), (b): (c) meets a model that has
not seen the file (a cold place: the worst case of the adaptive window); (c') runs with its own
engine (no shared answer cache, type-through or speculation) and reads the full window cold;
(b) then shares most of that prompt's beginning in the KV cache (its latency is the warmer one).
Background work an engine queues after an answer (the full window, the speculative next
suggestion) is dropped before the next row runs.

    .venv/bin/python benchmarks/real_holes.py --quick
    .venv/bin/python benchmarks/real_holes.py --limit 100 --seed 0 --resume
"""

from __future__ import annotations

import os
import sys

# Run as a script, this directory comes first on sys.path, where a sibling benchmark module
# could shadow a standard-library one: take it off, and import the siblings as a package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import holes as H  # noqa: E402
from benchmarks.quality import (  # noqa: E402
    LIFTED_BUDGETS,
    earlier_run,
    merge_results,
    naive_cut,
    parse_overrides,
    provenance,
    raw_generation,
    stop_cut,
    template_stops,
)

REPO = Path(__file__).resolve().parents[1]
ROWS = ("naive", "default", "lifted")
ROW_ALIASES = {"b": "naive", "c": "default", "c'": "lifted", "c2": "lifted"}
LABELS = {
    "naive": "(b) raw PSM + newline cut",
    "default": "(c) codestral-ls, default settings",
    "lifted": "(c') codestral-ls, budgets lifted",
}
ORDER = ("default", "lifted", "naive")


class _Started:
    """The backend as a second engine sees it: already loaded by the first."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    async def start(self, progress: Any) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def _quiesce(engine: Any) -> None:
    """Drop the background work an answer queued (full-window reads, speculation)."""
    engine._jobs = []
    task = engine._background
    engine.pause_background()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _engine_row(engine: Any, hole: H.Hole) -> dict[str, Any]:
    from codestral_ls.engine import CompletionRequest, TriggerKind

    result = await engine.complete(
        CompletionRequest(
            uri=f"file:///real-holes/{hole.path}",
            text=hole.text,
            offset=hole.offset,
            language=hole.language,
            trigger=TriggerKind.INVOKED,
            path=hole.path,
        )
    )
    await _quiesce(engine)
    engine.forget(f"file:///real-holes/{hole.path}")
    return H.score(hole, result.text) | {
        "latency_ms": round(result.latency_ms, 1),
        "source": result.source,
        "reason": result.reason,
        "alternatives": list(result.alternatives),
    }


async def _naive_row(
    backend: Any, settings: Any, stops: Sequence[str], hole: H.Hole
) -> dict[str, Any]:
    from codestral_ls.backends.base import FimRequest
    from codestral_ls.windows import build_window

    window = build_window(
        hole.text,
        hole.offset,
        settings.prefix_tokens,
        settings.suffix_tokens,
        backend.count_tokens,
        settings.window_grid,
    )
    request = FimRequest(
        prefix=window.prefix,
        suffix=window.suffix,
        language=hole.language,
        path=hole.path,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
    )
    raw, _, first_line_ms = await raw_generation(backend, request, first_line_only=True)
    return H.score(hole, naive_cut(stop_cut(raw, stops))) | {"latency_ms": first_line_ms}


async def run_model(
    holes: list[H.Hole],
    overrides: dict[str, Any],
    rows: Sequence[str],
    progress: bool,
    checkpoint: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from codestral_ls.backends import create_backend
    from codestral_ls.config import Settings
    from codestral_ls.engine import Engine

    default = Settings().merged(overrides, "command line") if overrides else Settings()
    lifted = default.merged(LIFTED_BUDGETS, "lifted budgets")
    backend = create_backend(default)
    engines = {"default": Engine(default, backend)}
    await engines["default"].start()
    if not engines["default"].ready:
        raise SystemExit(f"engine not ready: {engines['default'].status()}")
    engines["lifted"] = Engine(lifted, _Started(backend))
    await engines["lifted"].start()
    info = backend.info
    stops = template_stops(info.template)
    meta = {
        "backend": info.backend,
        "model": info.model,
        "template": info.template,
        "settings": {"default": default.public_dict(), "lifted": lifted.public_dict()},
        "trigger": "invoked",
    }
    out: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        for i, hole in enumerate(holes):
            entry: dict[str, Any] = {"id": hole.id, "hole": hole.public()}
            for row in ORDER:
                if row not in rows:
                    continue
                if row == "naive":
                    entry[row] = await _naive_row(backend, default, stops, hole)
                else:
                    entry[row] = await _engine_row(engines[row], hole)
            out.append(entry)
            if progress:
                marks = " ".join(
                    f"{r}={'X' if entry[r]['exact'] else ('!' if entry[r]['garbage'] else '.')}"
                    f"{entry[r]['latency_ms'] / 1000:.1f}s"
                    for r in ROWS
                    if r in entry
                )
                elapsed = time.monotonic() - started
                print(f"[{i + 1}/{len(holes)} {elapsed:.0f}s] {hole.id} {marks}", file=sys.stderr)
            checkpoint(out, meta)
    finally:
        await engines["lifted"].aclose()
        await engines["default"].aclose()
    return out, meta


# --------------------------------------------------------------------------- report


def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per class (and ``all``), per row: rates, counts and latencies."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for cls in (*H.CLASSES, "all"):
        per_row: dict[str, dict[str, float]] = {}
        for row in ROWS:
            scored = [r[row] for r in results if row in r and cls in ("all", r["hole"]["cls"])]
            if not scored:
                continue
            n = len(scored)
            latencies = [s["latency_ms"] for s in scored]
            per_row[row] = {
                "n": n,
                "exact": sum(s["exact"] for s in scored),
                "exact_rate": round(sum(s["exact"] for s in scored) / n, 4),
                "sim": round(statistics.fmean(s["sim"] for s in scored), 4),
                "rest_sim": round(statistics.fmean(s["rest_sim"] for s in scored), 4),
                "empty": sum(s["empty"] for s in scored),
                "garbage": sum(bool(s["garbage"]) for s in scored),
                "copies_below": sum(bool(s.get("copies_below")) for s in scored),
                "sim_no_copy": round(
                    statistics.fmean(s.get("sim_no_copy", s["sim"]) for s in scored), 4
                ),
                "mean_latency_ms": round(statistics.fmean(latencies), 1),
                "p50_latency_ms": round(statistics.median(latencies), 1),
            }
        if per_row:
            out[cls] = per_row
    return out


def markdown(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    parts: list[str] = []
    for cls, per_row in summary.items():
        n = max(int(s["n"]) for s in per_row.values())
        parts.append(f"**{cls}** ({n} holes)\n")
        parts.append(
            "| row | exact line | edit sim (line / inserted) | empty | garbage |"
            " copies of the line below (edit sim with them as empty) | mean / p50 latency |"
        )
        parts.append("| --- | --- | --- | --- | --- | --- | --- |")
        for row, s in per_row.items():
            k = int(s["n"])
            parts.append(
                f"| {LABELS[row]} | {_pct(s['exact'], k)} | {s['sim']:.3f} / {s['rest_sim']:.3f}"
                f" | {_pct(s['empty'], k)} | {_pct(s['garbage'], k)} |"
                f" {int(s.get('copies_below', 0))} ({s.get('sim_no_copy', s['sim']):.3f}) |"
                f" {s['mean_latency_ms'] / 1000:.1f} / {s['p50_latency_ms'] / 1000:.1f} s |"
            )
        parts.append("")
    return "\n".join(parts)


def _pct(count: float, n: int) -> str:
    return f"{int(count)}/{n} ({100 * count / n:.1f} %)" if n else "-"


def garbage_examples(results: list[dict[str, Any]], limit: int = 20) -> str:
    lines = []
    for r in results:
        for row in ROWS:
            if row in r and r[row]["garbage"]:
                hole = r["hole"]
                lines.append(
                    f"- {row} {hole['cls']} {hole['path']}:{hole['row'] + 1}"
                    f" [{', '.join(r[row]['garbage'])}]: typed {hole['typed'][-50:]!r}"
                    f" + {r[row]['answer'][:80]!r} (expected {hole['expected'][-60:]!r})"
                )
    return "\n".join(lines[:limit])


def rescore(out: Path, holes: list[H.Hole]) -> int:
    """Score the stored answers again with the current rules (the holes are cut again from the
    installed files, by the same seed and size)."""
    report = json.loads(out.read_text(encoding="utf-8"))
    by_id = {h.id: h for h in holes}
    for r in report["results"]:
        hole = by_id.get(r["id"])
        if hole is None:
            raise SystemExit(f"{r['id']} is not a hole of this seed and size: same arguments?")
        for row in ROWS:
            if row in r:
                kept = {
                    k: r[row][k]
                    for k in ("latency_ms", "source", "reason", "alternatives")
                    if k in r[row]
                }
                r[row] = H.score(hole, r[row]["answer"]) | kept
    report["summary"] = summarise(report["results"])
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(markdown(report["summary"]))
    examples = garbage_examples(report["results"])
    if examples:
        print("garbage:\n" + examples)
    return 0


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=100, help="holes in all, split evenly over the classes"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", default=",".join(H.CLASSES), help="comma list of classes")
    parser.add_argument(
        "--rows", default="b,c,c'", help="comma list: b (naive), c (default), c' (lifted)"
    )
    parser.add_argument("--quick", action="store_true", help="one hole per class")
    parser.add_argument(
        "--setting", action="append", default=[], help="engine setting KEY=VALUE (repeatable)"
    )
    parser.add_argument("--resume", action="store_true", help="keep finished holes of --out")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/)")
    parser.add_argument("--list", action="store_true", help="print the holes, run nothing")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="score the answers in --out again (after a scoring change), no model",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    classes = tuple(H.iter_classes(args.classes))
    rows = tuple(ROW_ALIASES.get(r.strip(), r.strip()) for r in args.rows.split(",") if r.strip())
    unknown = set(rows) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
    per_class = 1 if args.quick else max(1, math.ceil(args.limit / len(classes)))
    sources = H.default_sources(REPO)
    if not sources["javascript"]:
        print("no clients/vscode/node_modules: run `npm ci` there for JS/TS holes", file=sys.stderr)
    holes = H.build_holes(per_class, args.seed, sources, classes)
    if args.list:
        for hole in holes:
            print(
                f"{hole.id}\t{hole.typed.strip()[-40:]!r} -> {hole.expected[len(hole.typed) :]!r}"
            )
        return 0
    size = "quick" if args.quick else str(per_class * len(classes))
    out = args.out or REPO / "benchmarks" / "results" / f"real-holes-{size}-seed{args.seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["benchmarks/real_holes.py", *(argv if argv is not None else sys.argv[1:])])
    if args.rescore:
        return rescore(out, holes)
    earlier: list[dict[str, Any]] = []
    history: list[str] = []
    if args.resume and out.exists():
        earlier, history = earlier_run(out)
        done = {r["id"] for r in earlier if all(row in r for row in rows)}
        holes = [h for h in holes if h.id not in done]
        print(f"resuming: {len(done)} finished holes kept", file=sys.stderr)
    started = time.monotonic()

    def write(new: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
        results = merge_results(earlier, new, "id")
        summary = summarise(results)
        report = {
            "benchmark": "real-holes",
            "holes": len({r["id"] for r in earlier} | {h.id for h in holes}),
            "completed": len(results),
            "seed": args.seed,
            "per_class": per_class,
            "classes": list(classes),
            **provenance(command, history, started),
            **meta,
            "summary": summary,
            "results": results,
        }
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        return summary

    results, meta = asyncio.run(
        run_model(holes, parse_overrides(args.setting), rows, not args.quiet, write)
    )
    write(results, meta)
    report = json.loads(out.read_text(encoding="utf-8"))
    print(markdown(report["summary"]))
    examples = garbage_examples(report["results"])
    if examples:
        print("garbage:\n" + examples)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""HumanEval infilling through the real engine: exact match, pass@1 and latency, three rows.

Rows, all from one run over the same problems and the same loaded model:

(a) ``raw``: plain PSM prompt, greedy, cut only at the template's stop tokens and max tokens.
(b) ``naive``: the raw answer cut after its first newline (shares (a)'s generation).
(c) ``codestral-ls``: ``Engine.complete`` on the document ``prompt + suffix`` with the cursor
    between them - window budgets, mode choice, template, backend and clean-up, exactly the
    server's code path.

Scoring: exact match compares non-blank lines without trailing whitespace; pass@1 runs
``prompt + answer + suffix`` with the benchmark's ``check`` in a fresh, isolated Python with a
timeout. ``dup`` counts answers whose last line repeats the first line of the suffix.

The data is read where it lies (``../shared/data/human-eval-infilling`` next to the checkout,
or ``--data``), never copied into the repository. Example::

    .venv/bin/python benchmarks/quality.py --set single --limit 200 --seed 0
    .venv/bin/python benchmarks/quality.py --set single --limit 200 --seed 0 --default-budgets
    .venv/bin/python benchmarks/quality.py --self-check --set multi --limit 50

Row (c) runs with the engine's interactive budgets lifted (``LIFTED_BUDGETS``: ``timeout_ms``
and ``eval_budget_ms`` at 600 s, the full prompt window always: the model's ceiling);
``--default-budgets`` keeps the defaults a new user has (at a place the model has not read yet,
the engine then answers from a window it can read within ``eval_budget_ms``).
"""

from __future__ import annotations

import os
import sys

# Run as a script, this directory comes first on sys.path, where a sibling benchmark module
# could shadow a standard-library one (``typing.py``): take it off before anything else loads.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "human-eval-infilling"
SETS = {
    "single": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi": "HumanEval-MultiLineInfilling.jsonl.gz",
}
ROWS = ("raw", "naive", "codestral-ls")
#: The engine's interactive budgets lifted (the model's ceiling): generation time from the first
#: token (``timeout_ms``) and the prompt-reading budget that picks a smaller window at a place
#: the model has not read yet (``eval_budget_ms``).
LIFTED_BUDGETS = {"timeout_ms": 600_000, "eval_budget_ms": 600_000}


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    suffix: str
    canonical_solution: str
    test: str
    entry_point: str


# --------------------------------------------------------------------------- data


def load_problems(path: Path) -> list[Problem]:
    """Every problem of a HumanEval-infilling JSONL file (gzipped or not)."""
    opener = gzip.open if path.suffix == ".gz" else open
    out: list[Problem] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                out.append(
                    Problem(
                        d["task_id"],
                        d["prompt"],
                        d["suffix"],
                        d["canonical_solution"],
                        d["test"],
                        d["entry_point"],
                    )
                )
    return out


def sample(problems: Sequence[Problem], limit: int | None, seed: int) -> list[Problem]:
    """A seeded sample in file order; the whole set when ``limit`` is None or too big."""
    if limit is None or limit >= len(problems):
        return list(problems)
    picked = sorted(random.Random(seed).sample(range(len(problems)), limit))
    return [problems[i] for i in picked]


# --------------------------------------------------------------------------- scoring


def normalise(code: str) -> list[str]:
    """Non-blank lines without trailing whitespace (indentation matters in Python)."""
    return [line.rstrip() for line in code.replace("\r\n", "\n").split("\n") if line.strip()]


def exact_match(answer: str, problem: Problem) -> bool:
    return normalise(answer) == normalise(problem.canonical_solution)


def duplicates_suffix(answer: str, problem: Problem) -> bool:
    """Accepting the answer would put the suffix's first line twice in a row (same text, same
    indentation; the same statement one level deeper is legitimate code)."""
    ours = normalise(answer)
    theirs = normalise(problem.suffix)
    return bool(ours and theirs) and ours[-1] == theirs[0]


def program(problem: Problem, answer: str) -> str:
    return (
        f"{problem.prompt}{answer}{problem.suffix}\n\n{problem.test}\n\n"
        f"check({problem.entry_point})\n"
    )


def _limit_resources() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    os.setsid()


def passes(problem: Problem, answer: str, timeout: float = 10.0) -> bool:
    """Run the completed program and its tests in an isolated child Python."""
    with tempfile.TemporaryDirectory(prefix="cls-humaneval-") as tmp:
        script = Path(tmp) / "candidate.py"
        script.write_text(program(problem, answer), encoding="utf-8")
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-B", str(script)],
                cwd=tmp,
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                preexec_fn=_limit_resources,
            )
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


# --------------------------------------------------------------------------- rows


def naive_cut(raw: str) -> str:
    """Row (b): everything up to and including the first newline."""
    at = raw.find("\n")
    return raw if at < 0 else raw[: at + 1]


def stop_cut(raw: str, stops: Iterable[str]) -> str:
    """Row (a): the backend already stops at these; cut again in case a piece ran past one."""
    cut = len(raw)
    for stop in stops:
        at = raw.find(stop)
        if 0 <= at < cut:
            cut = at
    return raw[:cut]


def score(answer: str, problem: Problem, timeout: float) -> dict[str, Any]:
    return {
        "answer": answer,
        "exact": exact_match(answer, problem),
        "pass": passes(problem, answer, timeout),
        "dup": duplicates_suffix(answer, problem),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in ROWS:
        results = [r[name] for r in rows if name in r]
        if not results:
            continue
        n = len(results)
        out[name] = {
            "n": len(results),
            "exact_match": round(sum(r["exact"] for r in results) / n, 4),
            "pass_at_1": round(sum(r["pass"] for r in results) / n, 4),
            "duplicates_suffix_line": sum(r["dup"] for r in results),
            "empty": sum(not r["answer"].strip() for r in results),
            "mean_latency_ms": round(sum(r["latency_ms"] for r in results) / n, 1),
        }
        if any("alternatives" in r for r in results):
            # Any of the suggestions an explicit request offers passes (pass@k, k <= candidates).
            out[name]["pass_any_suggestion"] = round(
                sum(r["pass"] or any(a["pass"] for a in r.get("alternatives", [])) for r in results)
                / n,
                4,
            )
    return out


async def run_model(
    problems: list[Problem],
    overrides: dict[str, Any],
    raw_max_tokens: int | None,
    timeout: float,
    rows: Sequence[str],
    progress: bool,
    use_oracle: bool = False,
    checkpoint: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from codestral_ls.backends import create_backend
    from codestral_ls.backends.base import FimRequest
    from codestral_ls.config import Settings
    from codestral_ls.engine import Engine

    # Quality is measured without the interactive deadlines (latency is reported instead);
    # an explicit --setting wins, and --default-budgets keeps a new user's defaults.
    settings = Settings().merged({**LIFTED_BUDGETS, **overrides}, "command line")
    oracle = OracleBackend() if use_oracle else None
    backend = oracle or create_backend(settings)
    engine = Engine(settings, backend)
    await engine.start()
    if not engine.ready:
        raise SystemExit(f"engine not ready: {engine.status()}")
    info = backend.info
    stops = template_stops(info.template)
    meta = {
        "backend": info.backend,
        "model": info.model,
        "template": info.template,
        "settings": settings.public_dict(),
        "raw_max_tokens": raw_max_tokens or settings.max_tokens,
    }
    out: list[dict[str, Any]] = [{"task_id": p.task_id} for p in problems]
    started = time.monotonic()
    # Staggered: problem i's engine call, then problem i-1's raw call. Consecutive generations
    # never share a prompt, so neither row runs on the model state the other one left behind
    # for the very same prompt, and an interrupted run still has every row for most problems.
    try:
        for i in range(len(problems) + 1):
            if i < len(problems) and "codestral-ls" in rows:
                await _engine_row(engine, oracle, problems[i], out[i], timeout)
            if i > 0 and ("raw" in rows or "naive" in rows):
                j = i - 1
                if oracle is not None:
                    oracle.problem = problems[j]
                raw, total_ms, first_line_ms = await _raw_generation(
                    backend, FimRequest, problems[j], raw_max_tokens or settings.max_tokens
                )
                raw = stop_cut(raw, stops)
                if "raw" in rows:
                    out[j]["raw"] = score(raw, problems[j], timeout) | {"latency_ms": total_ms}
                if "naive" in rows:
                    out[j]["naive"] = score(naive_cut(raw), problems[j], timeout) | {
                        "latency_ms": first_line_ms
                    }
            if i > 0:
                _progress(progress, i - 1, out[i - 1], len(problems), started)
                if checkpoint is not None:
                    checkpoint(out[:i], meta)
    finally:
        await engine.aclose()
    return out, meta


def _progress(enabled: bool, i: int, row: dict[str, Any], total: int, started: float) -> None:
    if not enabled:
        return
    marks = " ".join(f"{name}={'P' if row[name]['pass'] else '.'}" for name in ROWS if name in row)
    elapsed = time.monotonic() - started
    print(f"[{i + 1}/{total} {elapsed:.0f}s] {row['task_id']} {marks}", file=sys.stderr)


async def _engine_row(
    engine: Any, oracle: OracleBackend | None, problem: Problem, row: dict[str, Any], timeout: float
) -> None:
    from codestral_ls.engine import CompletionRequest, TriggerKind

    if oracle is not None:
        oracle.problem = problem
    name = problem.task_id.replace("/", "_")
    result = await engine.complete(
        CompletionRequest(
            uri=f"file:///humaneval/{name}.py",
            text=problem.prompt + problem.suffix,
            offset=len(problem.prompt),
            language="python",
            trigger=TriggerKind.INVOKED,
            path=f"humaneval/{name}.py",
        )
    )
    row["codestral-ls"] = score(result.text, problem, timeout) | {
        "latency_ms": round(result.latency_ms, 1),
        "source": result.source,
        "reason": result.reason,
        # What a user cycling through the suggestions meets after the first.
        "alternatives": [
            {"answer": text, "pass": passes(problem, text, timeout)} for text in result.alternatives
        ],
    }


class OracleBackend:
    """A perfect model that does not stop: it writes the canonical middle, then goes on
    with the suffix (as small FIM models do). Runs the whole engine path without a model and
    measures the ceiling of the clean-up rules."""

    problem: Problem | None = None

    @property
    def info(self) -> Any:
        from codestral_ls.backends.base import BackendInfo

        return BackendInfo(backend="oracle", model="canonical+suffix", template="qwen")

    async def start(self, progress: Any) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        from codestral_ls.backends.base import estimate_tokens

        return estimate_tokens(text)

    async def stream(self, request: Any) -> Any:
        assert self.problem is not None
        text = self.problem.canonical_solution + self.problem.suffix
        text = text[: request.max_tokens * 4]
        for i in range(0, len(text), 4):
            yield text[i : i + 4]

    async def doctor(self) -> list[Any]:
        return []

    async def aclose(self) -> None:
        return None


async def _raw_generation(
    backend: Any, fim_request: Any, problem: Problem, max_tokens: int
) -> tuple[str, float, float]:
    """The whole raw middle, its latency, and the latency to its first newline."""
    return await raw_generation(
        backend,
        fim_request(
            prefix=problem.prompt, suffix=problem.suffix, language="python", max_tokens=max_tokens
        ),
    )


async def raw_generation(
    backend: Any, request: Any, first_line_only: bool = False
) -> tuple[str, float, float]:
    """One plain generation for ``request`` (a ``FimRequest``): its text, its latency, and the
    latency to its first newline. ``first_line_only`` closes the stream at that newline (all
    that row (b) needs)."""
    started = time.monotonic()
    first_line_ms: float | None = None
    raw = ""
    pieces = backend.stream(request)
    try:
        async for piece in pieces:
            raw += piece
            if first_line_ms is None and "\n" in raw:
                first_line_ms = (time.monotonic() - started) * 1000
                if first_line_only:
                    break
    finally:
        await pieces.aclose()
    total_ms = (time.monotonic() - started) * 1000
    return raw, round(total_ms, 1), round(first_line_ms if first_line_ms else total_ms, 1)


# --------------------------------------------------------------------------- command line


def self_check(problems: list[Problem], timeout: float) -> int:
    """The scorer itself: every canonical answer must pass and match; an empty answer must
    not match and should fail (a few problems' tests cannot tell, which is reported)."""
    bad = weak = 0
    for problem in problems:
        canonical = score(problem.canonical_solution, problem, timeout)
        empty = score("", problem, timeout)
        if not (canonical["pass"] and canonical["exact"]) or empty["exact"]:
            bad += 1
            print(f"scorer disagrees on {problem.task_id}", file=sys.stderr)
        elif empty["pass"]:
            weak += 1
            print(f"tests accept an empty answer: {problem.task_id}", file=sys.stderr)
    print(
        f"self-check: canonical answers pass and match on {len(problems) - bad}/{len(problems)};"
        f" the tests also accept an empty answer on {weak}"
    )
    return 1 if bad else 0


def merge(parts: Sequence[Path], out: Path | None) -> int:
    """One report from the shards of a run (same settings, disjoint problems)."""
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    results = [r for rep in reports for r in rep["results"]]
    ids = [r["task_id"] for r in results]
    if len(set(ids)) != len(ids):
        raise SystemExit("the shards overlap: the same problem appears twice")
    merged = dict(reports[0])
    merged.update(
        {
            "problems": sum(rep["problems"] for rep in reports),
            "completed": len(results),
            "command": [rep["command"] for rep in reports],
            "wall_seconds": max(rep["wall_seconds"] for rep in reports),
            "summary": summarise(results),
            "results": results,
        }
    )
    if out is not None:
        out.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(merged["summary"], indent=1))
    return 0


def template_stops(template: str) -> tuple[str, ...]:
    """The stop strings of the FIM template a backend names (none when it names none)."""
    if not template:
        return ()
    from fim import get_template

    return get_template(template).stop


def earlier_run(out: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """A results file to resume: its results, and the commands of the runs they come from."""
    previous = json.loads(out.read_text(encoding="utf-8"))
    return previous["results"], previous.get("commands") or [previous["command"]]


def merge_results(
    earlier: list[dict[str, Any]], new: list[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    """`earlier` with `new` merged in by `key`: one run again keeps its place and the rows that
    were not run again; the others come after."""
    fresh = {r[key]: r for r in new}
    return [r | fresh.pop(r[key], {}) for r in earlier] + list(fresh.values())


def provenance(command: str, history: list[str], started: float) -> dict[str, Any]:
    """For a results file: this run's command (with those of the earlier runs its results come
    from, when resumed) and the seconds since `started`."""
    return {
        "command": command,
        **({"commands": [*history, command]} if history else {}),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def default_budgets() -> dict[str, Any]:
    """The defaults of the budgets ``LIFTED_BUDGETS`` lifts (as --setting overrides)."""
    from codestral_ls.config import Settings

    defaults = Settings()
    return {key: getattr(defaults, key) for key in LIFTED_BUDGETS}


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--setting needs KEY=VALUE, not {item!r}")
        out[key.strip()] = value.strip()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="single")
    parser.add_argument("--file", type=Path, help="any HumanEval-infilling JSONL(.gz) file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory")
    parser.add_argument("--limit", type=int, default=None, help="seeded sample size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--shard",
        default="",
        help="K/N: every N-th problem of the sample from the K-th (0-based), for parallel runs",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the problems already finished in the results file and run the rest",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="combine the results files of several shards into --out and print the summary",
    )
    parser.add_argument(
        "--redo",
        type=Path,
        metavar="IDS",
        help="file of task ids (one per line) whose --rows run again in the --resume'd results"
        " (after a change that can only alter those answers)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per test run")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma list of rows to run")
    parser.add_argument(
        "--setting", action="append", default=[], help="engine setting KEY=VALUE (repeatable)"
    )
    parser.add_argument("--raw-max-tokens", type=int, default=None)
    parser.add_argument(
        "--default-budgets",
        action="store_true",
        help="keep the engine's default timeout_ms and eval_budget_ms (what a new user has)"
        " instead of lifting them to 600 s",
    )
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/)")
    parser.add_argument("--tag", default="", help="suffix for the default results file name")
    parser.add_argument("--self-check", action="store_true", help="score canonical answers only")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--oracle", action="store_true", help="no model: canonical middle then the suffix"
    )
    args = parser.parse_args(argv)

    if args.merge:
        return merge(args.merge, args.out)
    path = args.file or args.data / SETS[args.set]
    if not path.exists():
        raise SystemExit(f"benchmark file not found: {path} (use --data or --file)")
    problems = sample(load_problems(path), args.limit, args.seed)
    shard = ""
    if args.shard:
        k, _, n = args.shard.partition("/")
        if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
            raise SystemExit(f"--shard needs K/N with 0 <= K < N, not {args.shard!r}")
        problems = problems[int(k) :: int(n)]
        shard = f"-shard{k}of{n}"
    if args.self_check:
        return self_check(problems, args.timeout)

    rows = tuple(r.strip() for r in args.rows.split(",") if r.strip())
    unknown = set(rows) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    size = args.limit if args.limit is not None else "all"
    name = f"{args.set if not args.file else path.stem}-{size}-seed{args.seed}{shard}"
    out = args.out or REPO / "benchmarks" / "results" / f"{name}{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["benchmarks/quality.py", *(argv if argv is not None else sys.argv[1:])])
    earlier: list[dict[str, Any]] = []
    history: list[str] = []  # the commands of the runs a resumed file holds results of
    if args.redo and not args.resume:
        raise SystemExit("--redo works on the results of an earlier run: add --resume")
    if args.redo and not args.redo.is_file():
        raise SystemExit(f"--redo: no file of task ids at {args.redo}")
    if args.resume and out.exists():
        earlier, history = earlier_run(out)
        redo = set(args.redo.read_text(encoding="utf-8").split()) if args.redo else set()
        done = {
            r["task_id"]
            for r in earlier
            if all(row in r for row in rows) and r["task_id"] not in redo
        }
        problems = [p for p in problems if p.task_id not in done]
        print(f"resuming: {len(done)} finished problems kept", file=sys.stderr)

    def write(new: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
        results = merge_results(earlier, new, "task_id")
        summary = summarise(results)
        report = {
            "benchmark": path.name,
            "problems": len({r["task_id"] for r in earlier} | {p.task_id for p in problems}),
            "completed": len(results),
            "limit": args.limit,
            "seed": args.seed,
            **provenance(command, history, started),
            **meta,
            "summary": summary,
            "results": results,
        }
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        return summary

    results, meta = asyncio.run(
        run_model(
            problems,
            ({} if not args.default_budgets else default_budgets()) | parse_overrides(args.setting),
            args.raw_max_tokens,
            args.timeout,
            rows,
            not args.quiet,
            args.oracle,
            write,
        )
    )
    print(json.dumps(write(results, meta), indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Typing replay: keystroke latency, model calls and accepted characters through the real server.

Functions the project did not write (stdlib ``textwrap`` and ``json.decoder``, httpx) are opened
with their body removed and typed back one keystroke at a time at a fixed pace, the way an
editor drives a language server over stdio: ``didChange`` then ``inlineCompletion`` (automatic
trigger) on every keystroke, without waiting for answers. Enter inserts the newline plus the next
line's indentation (an editor's auto-indent) and is followed by a typing pause.

Rows, one run, same keystrokes and schedule:

- ``full``: the engine with its defaults;
- ``no-exact-reuse`` (1) ``layout=psm``, ``no-grid`` (2) ``window_grid=1``, ``no-debounce`` (3)
  ``debounce_ms=0``, ``no-cache`` (4) ``cache_entries=0``, ``no-typethrough`` (5)
  ``type_through=false``;
- ``naive``: in-process ``llama_cpp.Llama.create_completion`` on the full PSM prompt for every
  keystroke, KV cache reset each time (no reuse, debounce, cache or cancel);
- ``peer``: the same ``Llama`` kept across keystrokes (llama-cpp-python's own prefix reuse) with
  a ~1,500-character suffix.

The in-process rows take seconds per keystroke, so they replay the first ``--naive-keys``
keystrokes and their per-keystroke service times feed a FIFO queue on the same schedule (what a
server without cancel would do); latency there is queue wait plus service.

Ghost text ("accepted"): an answer to a request made at the current document version replaces
the suggestion on screen (empty clears it); answers to older versions are dropped, as editors do.
A keystroke is accepted when the suggestion on screen starts with the inserted text; the editor
then keeps showing the rest, otherwise the suggestion disappears. ``accepted`` is accepted
keystrokes / typed keystrokes.

Pause figures: ``pause_line_ms`` (a one-line suggestion) and ``ttft_ms_from_request`` (any
non-empty suggestion) run from the pause keystroke's request to the answer shown during the
pause (before the next keystroke); p50/p95 are nearest-rank over ALL pauses, a pause that got no
suggestion counting as a miss (infinitely late, ``"miss"`` when a percentile falls on one). The
model-call figure beside TTFT (``model-call:first-token`` in ``server_ms_by_source``) is timed
from the start of the model call, after the debounce. Every p95 here is nearest-rank.

Examples (the commands behind docs/latency.md, one line each; ``--quick`` is a smoke run)::

    .venv/bin/python benchmarks/typing_replay.py --ablation-tasks 1 --drain 10 --naive-keys 16
        --naive-budget 60 --setting prefix_tokens=256 --setting suffix_tokens=96
        --out benchmarks/results/typing-full.json
    .venv/bin/python benchmarks/typing_replay.py --functions json.decoder:JSONDecodeError.__init__
        --configs full,no-exact-reuse --pause 2 --wait-at-pause 30 --drain 10
        --setting prefix_tokens=256 --setting suffix_tokens=96
        --out benchmarks/results/typing-wait.json
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib module: never let "import typing" find it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import ast  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(_HERE).parent
SERVER = Path(sys.executable).parent / "codestral-ls"

#: (module, qualified name of a function in it)
DEFAULT_FUNCTIONS = (
    ("textwrap", "indent"),
    ("json.decoder", "JSONDecodeError.__init__"),
    ("httpx._models", "Response.iter_lines"),
)

CONFIGS: dict[str, dict[str, Any]] = {
    "full": {},
    "no-exact-reuse": {"layout": "psm"},
    "no-grid": {"window_grid": 1},
    "no-debounce": {"debounce_ms": 0},
    "no-cache": {"cache_entries": 0},
    "no-typethrough": {"type_through": False},
}
IN_PROCESS = ("naive", "peer")
PEER_SUFFIX_CHARS = 1500


# --------------------------------------------------------------------------- the typing script


@dataclass(frozen=True)
class Keystroke:
    """One insertion at the cursor; ``pause`` means the user stops for a while afterwards."""

    text: str
    pause: bool


@dataclass(frozen=True)
class Task:
    name: str
    path: Path
    head: str  # document text before the cursor at the start
    body: str  # what the user types back
    tail: str  # document text after the cursor
    keys: tuple[Keystroke, ...]


def load_task(module: str, qualname: str) -> Task:
    """The module's source with ``qualname``'s body (after its docstring) cut out."""
    mod = importlib.import_module(module)
    source = inspect.getsource(mod)
    node = _find_function(ast.parse(source), qualname.split("."))
    first = node.body[0]
    has_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    kept_lines = first.end_lineno if has_doc else first.lineno - 1
    assert kept_lines is not None and node.end_lineno is not None
    lines = source.splitlines(keepends=True)
    head = "".join(lines[:kept_lines])[:-1]
    body = "\n" + "".join(lines[kept_lines : node.end_lineno])[:-1]
    tail = "\n" + "".join(lines[node.end_lineno :])
    assert head + body + tail == source
    return Task(
        f"{module}.{qualname}", Path(inspect.getfile(mod)), head, body, tail, _keystrokes(body)
    )


def _find_function(tree: ast.AST, names: list[str]) -> ast.FunctionDef | ast.AsyncFunctionDef:
    scope: list[ast.stmt] = list(getattr(tree, "body", []))
    for i, name in enumerate(names):
        for node in scope:
            kinds = (ast.ClassDef,) if i < len(names) - 1 else (ast.FunctionDef,)
            if isinstance(node, kinds) and node.name == name:
                if i == len(names) - 1:
                    assert isinstance(node, ast.FunctionDef)
                    return node
                scope = list(node.body)
                break
        else:
            raise SystemExit(f"no function {'.'.join(names)}")
    raise AssertionError


def _keystrokes(body: str) -> tuple[Keystroke, ...]:
    keys: list[Keystroke] = []
    for line in body.split("\n")[1:]:
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        keys.append(Keystroke("\n" + indent, True))
        keys.extend(Keystroke(ch, False) for ch in stripped)
    if keys:
        keys[-1] = Keystroke(keys[-1].text, True)
    return tuple(keys)


def schedule(keys: Sequence[Keystroke], pace: float, pause: float) -> list[float]:
    """Send time of each keystroke, relative to the first."""
    times, t = [], 0.0
    for key in keys:
        times.append(t)
        t += pause if key.pause else pace
    return times


# --------------------------------------------------------------------------- measurements


@dataclass
class Request:
    key: int  # index of the keystroke it follows
    version: int
    pause: bool
    sent: float
    answered: float = -1.0
    text: str = ""
    censored: bool = False  # still unanswered when the replay stopped waiting


@dataclass
class Replay:
    """One task typed once: keystroke times, versions and the requests' answers."""

    task: str = ""
    keys: tuple[Keystroke, ...] = ()
    key_times: list[float] = field(default_factory=list)
    key_versions: list[int] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    stopped: float = 0.0  # when the replay stopped waiting for answers
    end: float = 0.0  # end of the last pause (0: unknown, ``stopped`` is used)
    cold_ms: float | None = None  # the warm-up answer (first prompt of the file)
    counters: dict[str, int] = field(default_factory=dict)  # status deltas over the typing


def ghost_accepted(keys: Sequence[Keystroke], replay: Replay) -> tuple[int, int]:
    """(accepted keystrokes, typed keystrokes) under the ghost-text model in the docstring."""
    events: list[tuple[float, int, int]] = []  # (time, order, index): answers before keys
    for i, r in enumerate(replay.requests):
        if r.answered >= 0:
            events.append((r.answered, 0, i))
    for k, t in enumerate(replay.key_times):
        events.append((t, 1, k))
    events.sort()
    version, ghost, accepted = 0, "", 0
    for _, kind, index in events:
        if kind == 0:
            r = replay.requests[index]
            if r.version == version:
                ghost = r.text
            continue
        typed = keys[index].text
        if ghost.startswith(typed):
            accepted += 1
            ghost = ghost[len(typed) :]
        else:
            ghost = ""
        version = replay.key_versions[index]
    return accepted, len(replay.key_times)


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank percentile of sorted values (the smallest value with at least a share
    ``q`` of the values at or below it)."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """p50 (median) and nearest-rank p95 of the values given."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(nearest_rank(ordered, 0.95), 1),
        "max": round(ordered[-1], 1),
    }


def pause_percentiles(values: Sequence[float]) -> dict[str, Any]:
    """Nearest-rank p50/p95 over ALL pauses; ``math.inf`` is a pause that got no suggestion (a
    miss), so a percentile that falls on one is ``"miss"``."""
    if not values:
        return {"n": 0, "answered": 0, "p50": None, "p95": None}
    ordered = sorted(values)

    def shown(v: float) -> float | str:
        return "miss" if math.isinf(v) else round(v, 1)

    return {
        "n": len(ordered),
        "answered": sum(1 for v in ordered if not math.isinf(v)),
        "p50": shown(nearest_rank(ordered, 0.5)),
        "p95": shown(nearest_rank(ordered, 0.95)),
    }


def vm_hwm_mb(pid: int | str) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return round(int(m.group(1)) / 1024, 1) if m else None


# --------------------------------------------------------------------------- the real server


def utf16_position(text: str) -> tuple[int, int]:
    line = text.count("\n")
    last = text[text.rfind("\n") + 1 :]
    return line, len(last.encode("utf-16-le")) // 2


async def run_server_config(
    name: str, options: dict[str, Any], tasks: Sequence[Task], args: argparse.Namespace
) -> dict[str, Any]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    missing = [k for k in options if k not in _server_setting_keys()]
    if missing:
        raise SystemExit(f"{name}: settings unknown to this checkout: {missing}")
    work = Path(tempfile.mkdtemp(prefix=f"typing-{name}-"))
    log_file = work / "codestral-ls.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESTRAL_LS_")}
    env.pop("MISTRAL_API_KEY", None)
    env.pop("CODESTRAL_API_KEY", None)
    if "CODESTRAL_LS_CACHE_DIR" in os.environ:
        env["CODESTRAL_LS_CACHE_DIR"] = os.environ["CODESTRAL_LS_CACHE_DIR"]
    env["XDG_CONFIG_HOME"] = str(work / "config")
    env["CODESTRAL_LS_LOG_FILE"] = str(log_file)

    client = LanguageClient("typing-benchmark", "1")

    def _on_status(_ls: Any, _params: Any) -> None:
        """Status notifications arrive on every answer; the counters are read per task."""

    client.feature("codestral/status")(_on_status)

    await client.start_io(str(SERVER), "--log-level", "debug", env=env)
    server = client._server
    assert server is not None
    caps = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=False),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities(),
            synchronization=types.TextDocumentSyncClientCapabilities(),
        ),
    )
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=caps,
                initialization_options={"codestral": options},
                root_uri=work.as_uri(),
            )
        )
        client.initialized(types.InitializedParams())
        deadline = time.monotonic() + 300
        while True:
            st = await _status(client)
            if st.get("state") in ("ready", "error") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        if st.get("state") != "ready":
            raise SystemExit(f"{name}: server not ready: {st}")
        replays: list[Replay] = []
        started = time.monotonic()
        for task in tasks[: args.ablation_tasks if name != "full" else len(tasks)]:
            replays.append(await _replay(client, types, task, args))
            print(f"   {task.name}: cold {replays[-1].cold_ms} ms, {replays[-1].counters}")
        elapsed = time.monotonic() - started
        peak = vm_hwm_mb(server.pid)
        idle = await _idle_cpu_percent(server.pid, args.idle_seconds)
        exit_note = await _end_session(client, server)
    finally:
        if _process_state(server.pid) not in (None, "Z"):
            server.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait(), 5)
    server_ms = _server_latencies(log_file)
    row = summarise(name, options, replays, peak)
    row["replay_seconds"] = round(elapsed, 1)
    row["exit"] = exit_note
    row["idle_cpu_percent"] = idle
    row["server_ms_by_source"] = {k: percentiles(v) for k, v in sorted(server_ms.items())}
    # beside ttft_ms_from_request: the model calls' own first token, from the call's start
    row["ttft_ms_model_call"] = row["server_ms_by_source"].get(
        "model-call:first-token", percentiles([])
    )
    row["per_task"] = [summarise(name, options, [rp], None) for rp in replays]
    if name == "full" and len(replays) > args.ablation_tasks:
        same = summarise("full (ablation tasks)", options, replays[: args.ablation_tasks], peak)
        row["same_tasks"] = same
    return row


def _server_setting_keys() -> set[str]:
    from codestral_ls.config import KEYS

    return set(KEYS)


async def _status(client: Any) -> dict[str, Any]:
    result = await client.protocol.send_request_async("codestral/status", None)
    plain: dict[str, Any] = _plain(result)
    return plain


def _plain(obj: Any) -> Any:
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


async def _replay(client: Any, types: Any, task: Task, args: argparse.Namespace) -> Replay:
    uri = f"file:///bench/{task.path.name}"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=task.head + task.tail
            )
        )
    )
    keys = task.keys[: args.keys] if args.keys else task.keys
    replay = Replay(task=task.name, keys=keys)
    head = task.head

    def inline(kind: Any) -> asyncio.Future[Any]:
        line, char = utf16_position(head)
        future: asyncio.Future[Any] = asyncio.ensure_future(
            client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=char),
                    context=types.InlineCompletionContext(trigger_kind=kind),
                )
            )
        )
        return future

    # The user opened the file and looks at it first: one explicit request fills the KV cache
    # with the file's prompt (a cold evaluation that every configuration pays alike).
    warm_started = time.monotonic()
    await asyncio.wait_for(inline(types.InlineCompletionTriggerKind.Invoked), args.cold_timeout)
    replay.cold_ms = round((time.monotonic() - warm_started) * 1000)
    before = await _status(client)

    plan = schedule(keys, args.pace, args.pause)
    pending: list[asyncio.Future[Any]] = []
    version = 1
    t0 = time.monotonic() + 0.5
    for i, key in enumerate(keys):
        delay = t0 + plan[i] - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        line, char = utf16_position(head)
        version += 1
        pos = types.Position(line=line, character=char)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=pos, end=pos), text=key.text
                    )
                ],
            )
        )
        head += key.text
        now = time.monotonic()
        replay.key_times.append(now)
        replay.key_versions.append(version)
        request = Request(key=i, version=version, pause=key.pause, sent=now)
        replay.requests.append(request)
        future = inline(types.InlineCompletionTriggerKind.Automatic)
        future.add_done_callback(functools.partial(_answered, request))
        pending.append(future)
        if key.pause and args.wait_at_pause > 0 and i < len(keys) - 1:
            # The user waits for the suggestion (up to the cap), then pauses as usual:
            # the time to answer at a pause is then measured instead of cut off.
            waited = time.monotonic()
            await asyncio.wait([future], timeout=args.wait_at_pause)
            t0 += time.monotonic() - waited
    # The last pause, then at most --drain seconds more for answers still in flight.
    replay.end = t0 + plan[-1] + args.pause
    await asyncio.wait(pending, timeout=max(0.0, replay.end - time.monotonic()))
    await asyncio.wait(pending, timeout=args.drain)
    replay.stopped = time.monotonic()
    for r in replay.requests:
        if r.answered < 0:
            r.censored = True
    after = await _status(client)
    replay.counters = {
        k: int(after.get(k, 0)) - int(before.get(k, 0))
        for k in ("requests", "modelCalls", "cacheHits", "typeThroughHits", "prefills")
    }
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return replay


async def _idle_cpu_percent(pid: int, seconds: float) -> float | None:
    """CPU use of the server while nobody types (the last answers are in by now)."""
    if seconds <= 0:
        return None

    def ticks() -> int:
        fields = _proc_stat(pid)
        return int(fields[11]) + int(fields[12])  # utime + stime

    await asyncio.sleep(1.0)  # let a last status notification go out
    before, t0 = ticks(), time.monotonic()
    await asyncio.sleep(seconds)
    used = (ticks() - before) / os.sysconf("SC_CLK_TCK")
    return round(100 * used / (time.monotonic() - t0), 2)


async def _end_session(client: Any, server: Any) -> str:
    """shutdown + exit, then how the process ended (a hang is recorded, not fatal: the row's
    figures are already measured)."""
    await asyncio.wait_for(client.shutdown_async(None), 30)
    client.exit(None)
    started = time.monotonic()
    # Watch the process itself: asyncio's child watcher has been seen to miss the exit of a
    # process that was already gone, which would stall the benchmark, not the server.
    while time.monotonic() - started < 10:
        state = _process_state(server.pid)
        if state in (None, "Z"):
            break
        await asyncio.sleep(0.02)
    else:
        print(f"   server still running 10 s after exit (state {state}): killed")
        return f"hung (state {state}), killed"
    took = time.monotonic() - started
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 5)  # type: ignore[no-untyped-call]
    return f"gone {took:.2f} s after exit"


def _proc_stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _process_state(pid: int) -> str | None:
    try:
        return _proc_stat(pid)[0]
    except (OSError, IndexError):
        return None


def _answered(request: Request, future: asyncio.Future[Any]) -> None:
    failed = future.cancelled() or future.exception() is not None  # (also marks it retrieved)
    if request.censored:
        return
    request.answered = time.monotonic()
    if failed:
        return
    result = future.result()
    items = getattr(result, "items", result) or []
    text = items[0].insert_text if items else ""
    request.text = text if isinstance(text, str) else getattr(text, "value", "")


_LOG_LINE = re.compile(r"completion (\w+) in (\d+) ms \((.*)\)$")
#: The engine's line per model call: time from the call (after the debounce) to the first piece.
_CALL_LINE = re.compile(r"model call: first token (\d+) ms, done (\d+) ms")


def _server_latencies(log_file: Path) -> dict[str, list[float]]:
    """Server-side time per answer, by source, from the server's debug log."""
    out: dict[str, list[float]] = {}
    paths = sorted(log_file.parent.glob(log_file.name + "*"), reverse=True)
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            m = _LOG_LINE.search(line)
            if m:
                source = m.group(1) if m.group(1) != "none" else f"none:{m.group(3)}"
                out.setdefault(source, []).append(float(m.group(2)))
            call = _CALL_LINE.search(line)
            if call:
                out.setdefault("model-call:first-token", []).append(float(call.group(1)))
                out.setdefault("model-call:done", []).append(float(call.group(2)))
    return out


def summarise(
    name: str, options: dict[str, Any], replays: Sequence[Replay], peak: float | None
) -> dict[str, Any]:
    """One row; unanswered requests count with their wait so far (a lower bound)."""

    def waited(r: Request, stopped: float) -> float:
        return ((r.answered if r.answered >= 0 else stopped) - r.sent) * 1000

    pairs = [(r, rp.stopped) for rp in replays for r in rp.requests]
    reqs = [r for r, _ in pairs]
    lat = [waited(r, s) for r, s in pairs]
    at_pause = [waited(r, s) for r, s in pairs if r.pause]
    shown = [waited(r, s) for r, s in pairs if r.text]
    pause_single = [
        waited(r, s) for r, s in pairs if r.pause and r.text and "\n" not in r.text.strip("\n")
    ]
    # Every pause, from its keystroke's request to the suggestion shown during the pause: the
    # answer to that request if it is non-empty and arrives before the next keystroke (or the
    # end of the last pause); a pause without one is a miss (infinitely late).
    pause_any: list[float] = []
    pause_line: list[float] = []
    for rp in replays:
        for r in rp.requests:
            if not r.pause:
                continue
            nxt = r.key + 1
            until = rp.key_times[nxt] if nxt < len(rp.key_times) else (rp.end or rp.stopped)
            hit = r.text != "" and 0 <= r.answered <= until
            ms = (r.answered - r.sent) * 1000 if hit else math.inf
            pause_any.append(ms)
            pause_line.append(ms if hit and "\n" not in r.text.strip("\n") else math.inf)
    accepted = typed = 0
    for rp in replays:
        a, t = ghost_accepted(rp.keys, rp)
        accepted, typed = accepted + a, typed + t
    counters = {
        k: sum(rp.counters.get(k, 0) for rp in replays)
        for k in ("requests", "modelCalls", "cacheHits", "typeThroughHits", "prefills")
    }
    n = max(counters["requests"], 1)
    return {
        "config": name,
        "options": options,
        "tasks": [rp.task for rp in replays],
        "keystrokes": typed,
        "unanswered": sum(1 for r in reqs if r.censored),
        "cold_ms": [rp.cold_ms for rp in replays],
        "latency_ms_all": percentiles(lat),
        "latency_ms_pause": percentiles(at_pause),
        "latency_ms_nonempty": percentiles(shown),
        "latency_ms_pause_single_line": percentiles(pause_single),
        # nearest-rank over all pauses, misses included (the figures to quote)
        "pause_line_ms": pause_percentiles(pause_line),
        "ttft_ms_from_request": pause_percentiles(pause_any),
        "pause_requests": sum(1 for r in reqs if r.pause),
        "pause_nonempty": sum(1 for r in reqs if r.pause and r.text),
        "model_calls": counters["modelCalls"],
        "model_calls_per_100_keys": round(100 * counters["modelCalls"] / max(typed, 1), 1),
        "cache_hit_rate": round(counters["cacheHits"] / n, 3),
        "typethrough_hit_rate": round(counters["typeThroughHits"] / n, 3),
        "prefills": counters["prefills"],
        "accepted_keys": accepted,
        "accepted_share": round(accepted / max(typed, 1), 3),
        "peak_rss_mb": peak,
    }


# --------------------------------------------------------------------------- in-process rows


def run_in_process(
    tasks: Sequence[Task], args: argparse.Namespace, rows: Sequence[str]
) -> list[dict[str, Any]]:
    """The naive baseline and the llama-cpp-python prefix-reuse peer, on the first task."""
    import llama_cpp

    from codestral_ls.config import Settings
    from codestral_ls.model_files import ensure_default_model
    from codestral_ls.windows import build_window
    from fim import get_template

    settings = Settings().merged(args.common, "--setting")
    threads = len(os.sched_getaffinity(0))
    llm: Any = llama_cpp.Llama(
        model_path=str(ensure_default_model()),
        n_ctx=settings.n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    template = get_template("qwen")

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    def prompt_tokens(row: str, text: str, offset: int) -> list[int]:
        window = build_window(
            text, offset, settings.prefix_tokens, settings.suffix_tokens, count, 1
        )
        suffix = window.suffix
        if row == "peer":
            tail = text[offset : offset + PEER_SUFFIX_CHARS]
            suffix = tail[: tail.rfind("\n") + 1] if "\n" in tail else tail
        prompt = template.render(window.prefix, suffix)
        return list(llm.tokenize(prompt.encode("utf-8", "replace"), add_bos=True, special=True))

    def answer(tokens: list[int]) -> tuple[str, float, float]:
        """(first line of the answer, seconds to first token, seconds to that line)."""
        started = time.monotonic()
        first: float | None = None
        out = ""
        stream: Any = llm.create_completion(
            tokens,
            max_tokens=settings.max_tokens,
            temperature=0.0,
            stop=list(template.stop),
            stream=True,
        )
        for chunk in stream:
            if first is None:
                first = time.monotonic() - started
            out += chunk["choices"][0]["text"]
            if out.strip("\n") and "\n" in out.lstrip("\n"):
                break  # a single line is what the engine answers here too
        stream.close()
        total = time.monotonic() - started
        line = out.lstrip("\n")
        return out[: len(out) - len(line)] + line.split("\n")[0], first or total, total

    task = tasks[0]
    all_keys = task.keys[: args.naive_keys]
    plan = schedule(all_keys, args.pace, args.pause)
    results = []
    for row in rows:
        keys = all_keys
        service: list[float] = []
        ttft: list[float] = []
        answers: list[str] = []
        sizes: list[int] = []
        head = task.head
        llm.reset()
        cold_ms = None
        if row == "peer":  # the file's prompt is in the KV cache, as for the server rows
            warm = time.monotonic()
            answer(prompt_tokens(row, head + task.tail, len(head)))
            cold_ms = round((time.monotonic() - warm) * 1000)
        deadline = time.monotonic() + args.naive_budget
        for n, key in enumerate(keys):
            if n and time.monotonic() > deadline:
                keys = keys[:n]
                break
            head += key.text
            tokens = prompt_tokens(row, head + task.tail, len(head))
            sizes.append(len(tokens))
            if row == "naive":
                llm.reset()
            text, first, total = answer(tokens)
            service.append(total)
            ttft.append(first)
            answers.append(text)
        replay = _fifo_replay(task.name, keys, plan[: len(keys)], service, answers)
        replay.end = plan[len(keys) - 1] + args.pause
        summary = summarise(row, {}, [replay], vm_hwm_mb("self"))
        summary.update(
            {
                "options": {"suffix_chars": PEER_SUFFIX_CHARS} if row == "peer" else {},
                "cold_ms": [cold_ms],
                "model_calls": len(keys),
                "model_calls_per_100_keys": 100.0,
                "cache_hit_rate": 0.0,
                "typethrough_hit_rate": 0.0,
                "prompt_tokens_p50": statistics.median(sizes),
                "service_ms": percentiles([s * 1000 for s in service]),
                "service_ms_pause": percentiles(
                    [s * 1000 for s, k in zip(service, keys, strict=True) if k.pause]
                ),
                "ttft_ms": percentiles([s * 1000 for s in ttft]),
                "ttft_ms_pause": percentiles(
                    [s * 1000 for s, k in zip(ttft, keys, strict=True) if k.pause]
                ),
            }
        )
        results.append(summary)
        print(f"   {row}: {len(keys)} keystrokes, service {summary['service_ms']}", flush=True)
    return results


def _fifo_replay(
    name: str,
    keys: Sequence[Keystroke],
    plan: Sequence[float],
    service: Sequence[float],
    answers: list[str],
) -> Replay:
    """A server that answers every keystroke in order, each taking its measured service time."""
    replay = Replay(task=name, keys=tuple(keys))
    free = 0.0
    for i, (key, sent) in enumerate(zip(keys, plan, strict=True)):
        done = max(free, sent) + service[i]
        free = done
        replay.key_times.append(sent)
        replay.key_versions.append(i + 2)
        replay.requests.append(Request(i, i + 2, key.pause, sent, done, answers[i]))
    replay.stopped = free
    return replay


# --------------------------------------------------------------------------- report


def model_call_ttft(row: dict[str, Any]) -> Any:
    """p50 time to first token of the model calls, from the call's start (after the debounce):
    the server's log for server rows, the in-process rows' own figure otherwise."""
    if "ttft_ms" in row:
        return row["ttft_ms"].get("p50")
    return row.get("server_ms_by_source", {}).get("model-call:first-token", {}).get("p50")


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Pause figures: nearest-rank over ALL pauses, a pause without a suggestion is a miss."""
    head = (
        "| config | keys | p50 all | p95 all | max all | p50 pause | p95 pause | max pause "
        "| line at pause p50 / p95 (answered / pauses) | TTFT from request p50 / p95 "
        "| TTFT model call p50 | calls/100 keys | cache hit | type-through hit | accepted "
        "| peak RSS MB |"
    )
    lines = [head, "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"]

    def f(value: Any) -> str:
        return "-" if value is None else str(value)

    for r in rows:
        a, p = r["latency_ms_all"], r["latency_ms_pause"]
        line, ttft = r.get("pause_line_ms", {}), r.get("ttft_ms_from_request", {})
        lines.append(
            f"| {r['config']} | {r['keystrokes']} | {f(a['p50'])} | {f(a['p95'])} | {f(a['max'])} "
            f"| {f(p['p50'])} | {f(p['p95'])} | {f(p['max'])} "
            f"| {f(line.get('p50'))} / {f(line.get('p95'))} "
            f"({f(line.get('answered'))} / {f(line.get('n'))}) "
            f"| {f(ttft.get('p50'))} / {f(ttft.get('p95'))} | {f(model_call_ttft(r))} "
            f"| {r['model_calls_per_100_keys']} "
            f"| {r['cache_hit_rate']:.1%} | {r['typethrough_hit_rate']:.1%} "
            f"| {r['accepted_share']:.1%} ({r['accepted_keys']}) | {f(r['peak_rss_mb'])} |"
        )
    return "\n".join(lines)


def ratios(rows: Sequence[dict[str, Any]]) -> str:
    by = {r["config"]: r for r in rows}
    full_all = by.get("full")
    if not full_all:
        return ""
    out = ["| vs full | p50 all | p50 pause | calls/100 keys | accepted |", "|---|---|---|---|---|"]

    def ratio(a: Any, b: Any) -> str:
        return "-" if not a or not b else f"{a / b:.2f}x"

    for r in rows:
        if r["config"].startswith("full"):
            continue
        full = full_all
        same = by.get("full (ablation tasks)")
        if same and r.get("tasks") == same.get("tasks"):
            full = same
        elif r["config"] in IN_PROCESS:
            full = full_all["per_task"][0] if full_all.get("per_task") else full_all
        out.append(
            f"| {r['config']} | {ratio(r['latency_ms_all']['p50'], full['latency_ms_all']['p50'])} "
            f"| {ratio(r['latency_ms_pause']['p50'], full['latency_ms_pause']['p50'])} "
            f"| {ratio(r['model_calls_per_100_keys'], full['model_calls_per_100_keys'])} "
            f"| {ratio(r['accepted_share'], full['accepted_share'])} |"
        )
    return "\n".join(out)


def run_header(command: str, **machine: Any) -> dict[str, Any]:
    """What a results file starts with: the command, the date (UTC) and the machine (its CPUs,
    the Python, and whatever else `machine` adds)."""
    return {
        "command": command,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            **machine,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--configs", default=",".join([*CONFIGS, *IN_PROCESS]))
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between keystrokes")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds paused after a line")
    parser.add_argument(
        "--idle-seconds", type=float, default=5.0, help="server CPU measured idle after a row"
    )
    parser.add_argument("--keys", type=int, default=0, help="keystrokes per function (0: all)")
    parser.add_argument("--naive-keys", type=int, default=16)
    parser.add_argument(
        "--naive-budget", type=float, default=150, help="seconds per in-process row (at most)"
    )
    parser.add_argument(
        "--functions",
        default=",".join(f"{m}:{q}" for m, q in DEFAULT_FUNCTIONS),
        help="module:qualname,...",
    )
    parser.add_argument(
        "--ablation-tasks", type=int, default=99, help="functions the non-full rows replay"
    )
    parser.add_argument(
        "--wait-at-pause",
        type=float,
        default=0,
        help="at each pause, first wait up to this many seconds for the answer",
    )
    parser.add_argument("--drain", type=float, default=20, help="seconds to wait for stragglers")
    parser.add_argument("--cold-timeout", type=float, default=400)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every row (e.g. prefix_tokens=256 for a fast smoke run)",
    )
    parser.add_argument("--quick", action="store_true", help="one function, 60 keys, 6 naive")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    functions = [tuple(f.split(":", 1)) for f in args.functions.split(",") if f]
    if args.quick:
        functions, args.keys = functions[:1], args.keys or 60
        args.naive_keys = min(args.naive_keys, 6)
    tasks = [load_task(m, q) for m, q in functions]
    common: dict[str, Any] = {}
    for item in args.setting:
        key, _, value = item.partition("=")
        literal = value[:1].isdigit() or value in ("true", "false")
        common[key] = json.loads(value) if literal else value
    args.common = common
    names = [c for c in args.configs.split(",") if c]
    unknown = [c for c in names if c not in CONFIGS and c not in IN_PROCESS]
    if unknown:
        parser.error(f"unknown configs: {unknown}")
    for t in tasks:
        keys = t.keys[: args.keys] if args.keys else t.keys
        print(f"task {t.name}: {len(keys)} keystrokes ({sum(k.pause for k in keys)} pauses)")

    command = " ".join([".venv/bin/python", "benchmarks/typing_replay.py", *(argv or sys.argv[1:])])
    rows: list[dict[str, Any]] = []

    def report() -> None:
        """Written after every row, so a run cut short still leaves its figures."""
        if not args.out:
            return
        data = {
            **run_header(command),
            "pace_s": args.pace,
            "pause_s": args.pause,
            "tasks": [{"name": t.name, "keystrokes": len(t.keys)} for t in tasks],
            "rows": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n")

    for name in names:
        if name in CONFIGS:
            print(f"-- {name} {CONFIGS[name]}", flush=True)
            options = {**common, **CONFIGS[name]}
            rows.append(asyncio.run(run_server_config(name, options, tasks, args)))
            rows[-1]["loadavg_after"] = os.getloadavg()
            print(json.dumps(rows[-1]), flush=True)
            report()
    in_process = [c for c in names if c in IN_PROCESS]
    if in_process:
        print(f"-- in process: {in_process} over {args.naive_keys} keystrokes", flush=True)
        rows.extend(run_in_process(tasks, args, in_process))
        for r in rows[-len(in_process) :]:
            r["loadavg_after"] = os.getloadavg()
            print(json.dumps(r), flush=True)
        report()

    shown = list(rows)
    full = next((r for r in rows if r["config"] == "full"), None)
    if full and "same_tasks" in full:
        shown.insert(1, full["same_tasks"])
    print()
    print(table(shown))
    print()
    print(ratios(shown))
    if args.out:
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main"]

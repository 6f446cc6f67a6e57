"""Real use: jump to far-apart places in large files nobody here wrote, and type a line back.

The server runs exactly as a new user has it: no setting is changed (no timeout, budget or
debounce override), only ``--log-level debug`` so that the server's own timings can be read from
its log. A row that changed a setting or pre-warmed anything would say so in its name; none does.

Files (installed here, not written here): httpx's ``_client.py``, the largest module of
hypothesis, the largest hand-written module of pygls (generated files skipped), the stdlib's
``argparse.py`` and acorn's ``dist/acorn.js`` (JavaScript, from npm: ``npm pack acorn@8.19.0``
into ``.tools/real-use/``, which the benchmark does by itself when the file is missing).

Places: ``--places`` statement lines inside function bodies, spread over the files (round robin)
and within each file (one seeded random pick per equal share of the file's candidate lines),
visited in a seeded random order. Python candidates are one-line simple statements (``ast``:
assignment, call, return, raise, assert, ...; not ``pass``/``break``/``continue`` nor
docstrings) of 8-100 characters; JavaScript candidates are lines inside a function (indented at
least 4 spaces) that look like a whole statement (``var``/``let``/``const``/``return``/``this.``
or a call or assignment, brackets balanced, not ending in an operator or an opening bracket).

At each place, the way an editor with our plugin drives the server over stdio:

1. the file is opened on the first visit (``didOpen``);
2. the line's text is removed, its indentation kept (one ``didChange``, no completion request:
   the user arrives at an empty line), and the client reports the jump with the notification
   ``codestral/didFocus`` ``{"textDocument": {"uri"}, "position": {"line", "character"}}`` at
   the cursor (a server that does not know the method must ignore it);
3. the user rests ``R`` seconds (one row per ``--rest`` value);
4. the statement is typed back, one character every 100 ms: each keystroke is a ``didChange``
   followed at once by an automatic ``textDocument/inlineCompletion`` (the client never waits
   for answers and never cancels, as in ``typing_replay.py``); after a third of the line
   (at least one character) the user pauses 1.5 s (the *mid-line pause*), and after the last
   character presses Enter (newline plus the line's indentation) and pauses 1.5 s again (the
   *end pause*).

Ghost text (what the user sees): an answer to a request made at the document's current version
replaces the suggestion on screen (an empty answer clears it); answers to older versions are
dropped; a keystroke that matches the start of the suggestion on screen keeps its rest shown
(type-through in the editor), any other keystroke or a jump clears it.

Figures per row:

- **pauses with a whole line**: share of all pauses (mid-line and end, every place, the first
  pause after arriving included) at whose end a non-empty suggestion is on screen whose first
  line is *whole* (or, for a suggestion of several lines, all of it together is: a call written
  one argument a line): the typed part of the line plus that first line equals the original line, or
  forms a complete line: Python: ``tokenize`` accepts it (strings closed, brackets balanced) and
  it does not end in an operator, a comma, a dot or a keyword that needs more; JavaScript: the
  same with a bracket/string scan (a trailing ``{`` opening a block is allowed).
- **first suggestion at a new place**: from the request of the first keystroke at the place to
  the first non-empty suggestion on screen there; p50/p95.
- **mid-line pause answer**: from the pause keystroke's request to the suggestion that is on
  screen at the end of the pause (0 when it was carried by type-through); p50/p95.
- p95 is nearest-rank over ALL places / pauses: one without a suggestion counts as a miss
  (infinitely late), so a p95 that falls on a miss prints as ``miss``.
- **rest-of-line exact**: share of mid-line pauses where typed text + the suggestion's first
  line == the original line.
- **model calls / 100 keys**: ``modelCalls`` from ``codestral/status`` over the row, per 100
  keystrokes (Enter counts as one).
- **peak RSS**: ``VmHWM`` of the server process at the end of the row.

``--peer``: the same places and keystrokes against ``llama-server`` (the llama.cpp that
llama-cpp-python 0.3.36 vendors, ``--cache-reuse 256``, the same GGUF, flags of llama.vim's
documented ``--fim-qwen-*-default`` presets: ``-ub 1024 -b 1024 -c 0``, 127.0.0.1 only),
driven as ggml-org/llama.vim's ``autoload/llama.vim`` drives it: on every keystroke the cached
answers are tried first (the exact context or one up to 128 characters back whose answer starts
with what was typed since), then ``POST /infill`` with ``input_prefix`` (256 lines),
``input_suffix`` (64 lines), ``input_extra`` (ring of chunks picked on buffer entry and on
jumps of more than 32 lines), ``prompt`` (the typed part of the line), ``n_predict`` 128,
``n_indent``, ``t_max_prompt_ms`` 500, ``t_max_predict_ms`` 250 for the first request at a
place and 1000 for the speculative one llama.vim sends after showing a suggestion,
``cache_prompt``; at most one request in flight, the next one re-tried every 100 ms; answers
fill the cache and are shown only where they fit the current context (stale ones are ignored).
Every second a queued chunk joins the ring and the ring is sent (``n_predict`` 0) once the
cursor has rested 3 s (the user is in insert mode from the removal of the line on, as after
Vim's ``cc``; in normal mode llama.vim would send the ring every second). Model calls for
the peer = ``/infill`` requests that generate (ring updates are counted apart).

Build the peer once (about 20 minutes on 2 cores; nothing of it is committed)::

    pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/peer
    tar xzf /tmp/peer/llama_cpp_python-0.3.36.tar.gz -C /tmp/peer
    cmake -S /tmp/peer/llama_cpp_python-0.3.36/vendor/llama.cpp -B /tmp/peer/build \\
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON \\
        -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_BUILD_SERVER=ON \\
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF \\
        -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF
    nice -n 19 cmake --build /tmp/peer/build --target llama-server -j2
    mkdir -p .tools/llama-server && cp /tmp/peer/build/bin/llama-server .tools/llama-server/

(``LLAMA_USE_PREBUILT_UI=OFF`` keeps the build from downloading the web UI.)

Examples::

    .venv/bin/python benchmarks/real_use.py --quick
    .venv/bin/python benchmarks/real_use.py --places 20 --seed 0 --rest 0,3 --peer \\
        --out benchmarks/results/real-use-20-seed0.json
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import functools
import io
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import typing_replay as tr

REPO = tr.REPO
SERVER = tr.SERVER
TOOLS = REPO / ".tools"
ACORN = "acorn@8.19.0"
PEER_BIN = TOOLS / "llama-server" / "llama-server"
FOCUS_METHOD = "codestral/didFocus"

PACE = 0.1
PAUSE = 1.5


# --------------------------------------------------------------------------- files and places


@dataclass
class Source:
    key: str  # short name
    path: Path
    language: str  # LSP language id
    text: str


@dataclass(frozen=True)
class Place:
    source: str
    line: int  # 0-based line in the original file
    indent: str
    statement: str  # the line without its indentation


def _site_packages() -> Path:
    import httpx

    return Path(httpx.__file__).parent.parent


def _largest_module(package: str, skip_generated: bool) -> Path:
    root = _site_packages() / package
    best: tuple[int, Path] | None = None
    for path in root.rglob("*.py"):
        if skip_generated:
            head = "".join(path.read_text(errors="replace").splitlines(keepends=True)[:30])
            if "DO NOT EDIT" in head or "GENERATED" in head:
                continue
        size = path.stat().st_size
        if best is None or size > best[0]:
            best = (size, path)
    if best is None:
        raise SystemExit(f"no module in {root}")
    return best[1]


def _acorn() -> Path:
    target = TOOLS / "real-use" / "package" / "dist" / "acorn.js"
    if not target.exists():
        target.parent.parent.parent.mkdir(parents=True, exist_ok=True)
        where = target.parent.parent.parent
        print(f"fetching {ACORN} from npm into {where}", flush=True)
        subprocess.run(["npm", "pack", ACORN, "--silent"], cwd=where, check=True)
        tgz = next(where.glob("acorn-*.tgz"))
        subprocess.run(["tar", "xzf", tgz.name], cwd=where, check=True)
    return target


def load_sources() -> list[Source]:
    import argparse as stdlib_argparse

    paths = [
        ("httpx", _site_packages() / "httpx" / "_client.py", "python"),
        ("hypothesis", _largest_module("hypothesis", False), "python"),
        ("pygls", _largest_module("pygls", True), "python"),
        ("argparse", Path(stdlib_argparse.__file__), "python"),
        ("acorn", _acorn(), "javascript"),
    ]
    return [Source(k, p, lang, p.read_text()) for k, p, lang in paths]


_SIMPLE = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Expr,
    ast.Return,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Import,
    ast.ImportFrom,
)


def python_candidates(text: str) -> list[int]:
    lines = text.splitlines()
    out: set[int] = set()
    for fn in ast.walk(ast.parse(text)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, _SIMPLE):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # docstrings and bare constants
            if node.lineno != node.end_lineno:
                continue
            line = lines[node.lineno - 1]
            stripped = line.strip()
            if not 8 <= len(stripped) <= 100:
                continue
            if node.col_offset != len(line) - len(line.lstrip()) or ";" in stripped:
                continue
            if node.end_col_offset != len(line.rstrip()):
                continue  # a trailing comment or a second statement
            out.add(node.lineno - 1)
    return sorted(out)


_JS_START = re.compile(r"^(var |let |const |return\b|this\.|[A-Za-z_$][\w$.]*\s*(\(|=[^=]))")


def _js_code(line: str) -> str:
    """A line without its ``//`` comment (good enough for picking places)."""
    s = line.strip()
    return s.split("//", 1)[0].rstrip() if not s.startswith(("'", '"')) else s


def javascript_candidates(text: str) -> list[int]:
    out = []
    all_lines = text.splitlines()
    for i, line in enumerate(all_lines):
        before = [c for c in map(_js_code, all_lines[max(0, i - 5) : i]) if c]
        after = [c for c in map(_js_code, all_lines[i + 1 : i + 6]) if c]
        if not before or not before[-1].endswith((";", "{", "}", ")")):
            continue  # not the start of a statement
        if after and after[0].startswith(tuple(".?:+-*/&|=,)]")):
            continue  # the statement goes on
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if indent < 4 or not 8 <= len(stripped) <= 100 or "\t" in line[:indent]:
            continue
        if not _JS_START.match(stripped) or "//" in stripped or "/*" in stripped:
            continue
        if stripped.startswith(("function", "if", "for", "while", "switch", "case", "else")):
            continue
        if "function" in stripped or "=>" in stripped:
            continue
        if whole_line_javascript(stripped, allow_block=False):
            out.append(i)
    return out


def choose_places(sources: Sequence[Source], n: int, seed: int) -> list[Place]:
    rng = random.Random(seed)
    quota = {s.key: 0 for s in sources}
    for i in range(n):
        quota[sources[i % len(sources)].key] += 1
    places: list[Place] = []
    for s in sources:
        k = quota[s.key]
        if not k:
            continue
        cands = (
            python_candidates(s.text) if s.language == "python" else javascript_candidates(s.text)
        )
        if len(cands) < k:
            raise SystemExit(f"{s.key}: only {len(cands)} candidate lines")
        lines = s.text.splitlines()
        for j in range(k):  # one pick in each k-th of the candidates: far apart
            share = cands[len(cands) * j // k : len(cands) * (j + 1) // k]
            i = rng.choice(share)
            line = lines[i]
            stripped = line.lstrip()
            places.append(Place(s.key, i, line[: len(line) - len(stripped)], stripped.rstrip()))
    rng.shuffle(places)
    return places


# --------------------------------------------------------------------------- whole lines


_PY_NEEDS_MORE = {
    "and", "or", "not", "in", "is", "lambda", "if", "else", "for", "from", "import", "as",
    "with", "while", "elif", "def", "class", "del", "assert", "global", "nonlocal", "async",
    "await", "except",
}  # fmt: skip
_PY_CLOSERS = {")", "]", "}", ":", ";", "..."}


def whole_line_python(line: str) -> bool:
    s = line.strip()
    if not s:
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(s + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    significant = [
        t
        for t in tokens
        if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER)
        and t.type not in (tokenize.INDENT, tokenize.DEDENT)
    ]
    if not significant or any(t.type == tokenize.ERRORTOKEN for t in significant):
        return False
    last = significant[-1]
    if last.type == tokenize.OP and last.string not in _PY_CLOSERS:
        return False
    return not (last.type == tokenize.NAME and last.string in _PY_NEEDS_MORE)


_JS_OPENERS = {"(": ")", "[": "]", "{": "}"}


def whole_line_javascript(line: str, allow_block: bool = True) -> bool:
    s = line.strip()
    if not s:
        return False
    stack: list[str] = []
    quote = ""
    i, last = 0, ""
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
        elif s.startswith("//", i):
            break
        elif ch in _JS_OPENERS:
            stack.append(_JS_OPENERS[ch])
        elif ch in ")]}" and (not stack or stack.pop() != ch):
            return False
        if not ch.isspace():
            last = ch
        i += 1
    if quote:
        return False
    if stack:
        return allow_block and all(c == "}" for c in stack) and last == "{"
    return last not in "+-*/%=&|^!<>?,.([:~"


def whole_line(line: str, language: str) -> bool:
    return whole_line_python(line) if language == "python" else whole_line_javascript(line)


# --------------------------------------------------------------------------- the user's script


@dataclass
class Key:
    text: str
    pause: str  # "", "mid" or "end"


def keystrokes(place: Place) -> list[Key]:
    stmt = place.statement
    mid = max(1, round(len(stmt) / 3))
    keys = [Key(ch, "mid" if i == mid - 1 else "") for i, ch in enumerate(stmt)]
    keys.append(Key("\n" + place.indent, "end"))
    return keys


def key_delays(keys: Sequence[Key]) -> list[float]:
    """Seconds after each keystroke before the next action."""
    return [PAUSE if k.pause else PACE for k in keys]


@dataclass
class Doc:
    """The client's copy of one open document."""

    source: Source
    uri: str
    lines: list[str]
    version: int = 1
    inserted: list[int] = field(default_factory=list)  # original lines with a new line after

    def current_line(self, original: int) -> int:
        return original + sum(1 for i in self.inserted if i < original)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class PlaceRun:
    """One place typed once: keystroke times and what was on screen when."""

    place: Place
    keys: list[Key]
    key_times: list[float] = field(default_factory=list)
    end: float = 0.0  # end of the end pause
    ghost: list[tuple[float, str]] = field(default_factory=list)  # (time, text on screen)
    requests: int = 0
    #: non-empty answers: (request sent, answered, text), for the JSON
    answers: list[tuple[float, float, str]] = field(default_factory=list)

    def show(self, text: str) -> None:
        if not self.ghost or self.ghost[-1][1] != text:
            self.ghost.append((time.monotonic(), text))


# --------------------------------------------------------------------------- figures


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile; ``math.inf`` stands for a miss."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fmt_ms(value: float | None) -> Any:
    if value is None:
        return None
    return "miss" if math.isinf(value) else round(value)


def analyse_place(run: PlaceRun, language: str) -> dict[str, Any]:
    place = run.place
    original = place.indent + place.statement
    shown_at: list[tuple[float, str]] = run.ghost

    def on_screen(at: float) -> tuple[float, str]:
        """(since when, text) on screen at time ``at``."""
        since, text = 0.0, ""
        for t, g in shown_at:
            if t > at:
                break
            since, text = t, g
        return since, text

    first = math.inf
    t0 = run.key_times[0]
    for t, g in shown_at:
        if t >= t0 and g:
            first = (t - t0) * 1000
            break
    pauses = []
    typed = place.indent
    for i, key in enumerate(run.keys):
        typed = typed + key.text if key.pause != "end" else place.indent
        if not key.pause:
            continue
        start = run.key_times[i]
        stop = run.key_times[i + 1] if i + 1 < len(run.key_times) else run.end
        since, text = on_screen(stop)
        first_line = text.split("\n")[0]
        exact = bool(text) and key.pause == "mid" and (typed + first_line).rstrip() == original
        # A statement written over several lines (a call with one argument a line) is whole
        # when all of it is, not a fragment.
        whole = bool(first_line.strip()) and (
            exact
            or whole_line(typed + first_line, language)
            or ("\n" in text and whole_line(typed + text, language))
        )
        pauses.append(
            {
                "kind": key.pause,
                "typed": typed,
                "suggestion": text,
                "ms": (max(0.0, since - start) * 1000) if text else math.inf,
                "whole": whole,
                "exact": exact,
            }
        )
    return {
        "source": place.source,
        "line": place.line + 1,
        "original": original,
        "keys": len(run.keys),
        "requests": run.requests,
        "answers": [
            {"sent_ms": round((s - t0) * 1000), "answered_ms": round((a - t0) * 1000), "text": x}
            for s, a, x in run.answers
        ],
        "first_suggestion_ms": first,
        "pauses": pauses,
    }


def summarise(name: str, places: Sequence[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    pauses = [p for pl in places for p in pl["pauses"]]
    mids = [p for p in pauses if p["kind"] == "mid"]
    keys = sum(pl["keys"] for pl in places)
    firsts = [pl["first_suggestion_ms"] for pl in places]
    calls = extra.get("model_calls")
    row = {
        "row": name,
        "places": len(places),
        "keystrokes": keys,
        "pauses": len(pauses),
        "pauses_nonempty": sum(1 for p in pauses if p["suggestion"]),
        "pauses_whole": sum(1 for p in pauses if p["whole"]),
        "whole_share": round(sum(1 for p in pauses if p["whole"]) / max(len(pauses), 1), 3),
        "first_suggestion_ms": {
            "p50": fmt_ms(nearest_rank(firsts, 0.5)),
            "p95": fmt_ms(nearest_rank(firsts, 0.95)),
            "misses": sum(1 for v in firsts if math.isinf(v)),
        },
        "mid_pause_ms": {
            "p50": fmt_ms(nearest_rank([p["ms"] for p in mids], 0.5)),
            "p95": fmt_ms(nearest_rank([p["ms"] for p in mids], 0.95)),
            "misses": sum(1 for p in mids if math.isinf(p["ms"])),
        },
        "all_pauses_ms": {
            "p50": fmt_ms(nearest_rank([p["ms"] for p in pauses], 0.5)),
            "p95": fmt_ms(nearest_rank([p["ms"] for p in pauses], 0.95)),
        },
        "rest_of_line_exact": round(sum(1 for p in mids if p["exact"]) / max(len(mids), 1), 3),
        "model_calls_per_100_keys": None if calls is None else round(100 * calls / max(keys, 1), 1),
        **extra,
    }
    for pl in places:  # JSON has no infinity
        pl["first_suggestion_ms"] = fmt_ms(pl["first_suggestion_ms"])
        for p in pl["pauses"]:
            p["ms"] = fmt_ms(p["ms"])
    row["per_place"] = list(places)
    return row


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| row | places | keys | pauses with a whole line | first suggestion at a place p50 / "
        "p95 (ms) | mid-line pause answer p50 / p95 (ms) | rest-of-line exact | model calls / "
        "100 keys | peak RSS MB |"
    )
    lines = [head, "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"]

    def f(v: Any) -> str:
        if v is None:
            return "-"
        return f"{v:,}" if isinstance(v, int) else str(v)

    for r in rows:
        fs, mp = r["first_suggestion_ms"], r["mid_pause_ms"]
        lines.append(
            f"| {r['row']} | {r['places']} | {r['keystrokes']} "
            f"| {r['whole_share']:.0%} ({r['pauses_whole']}/{r['pauses']}, "
            f"{r['pauses_nonempty']} non-empty) | {f(fs['p50'])} / {f(fs['p95'])} "
            f"| {f(mp['p50'])} / {f(mp['p95'])} | {r['rest_of_line_exact']:.0%} "
            f"| {f(r['model_calls_per_100_keys'])} | {f(r.get('peak_rss_mb'))} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- codestral-ls


async def run_codestral(
    sources: dict[str, Source], places: Sequence[Place], rest: float, args: argparse.Namespace
) -> dict[str, Any]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    work = Path(tempfile.mkdtemp(prefix="real-use-"))
    log_file = work / "codestral-ls.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESTRAL_LS_")}
    for secret in ("MISTRAL_API_KEY", "CODESTRAL_API_KEY"):
        env.pop(secret, None)
    if "CODESTRAL_LS_CACHE_DIR" in os.environ:
        env["CODESTRAL_LS_CACHE_DIR"] = os.environ["CODESTRAL_LS_CACHE_DIR"]
    env["XDG_CONFIG_HOME"] = str(work / "config")  # no user config file: defaults
    env["CODESTRAL_LS_LOG_FILE"] = str(log_file)

    client = LanguageClient("real-use-benchmark", "1")
    client.feature("codestral/status")(lambda _ls, _params: None)
    client.feature(types.WINDOW_LOG_MESSAGE)(lambda _ls, _params: None)
    await client.start_io(str(SERVER), "--log-level", "debug", env=env)
    server = client._server
    assert server is not None
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities(),
            synchronization=types.TextDocumentSyncClientCapabilities(),
        ),
    )
    docs: dict[str, Doc] = {}
    current: dict[str, Any] = {"uri": "", "version": 0, "run": None}
    runs: list[PlaceRun] = []
    pending: list[asyncio.Future[Any]] = []
    try:
        await client.initialize_async(
            types.InitializeParams(capabilities=caps, root_uri=work.as_uri())
        )
        client.initialized(types.InitializedParams())
        deadline = time.monotonic() + 300
        while True:
            st = await tr._status(client)
            if st.get("state") in ("ready", "error") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        if st.get("state") != "ready":
            raise SystemExit(f"server not ready: {st}")
        before = st

        def change(doc: Doc, line: int, start: int, end: int, text: str) -> None:
            doc.version += 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=doc.uri, version=doc.version
                    ),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line=line, character=start),
                                end=types.Position(line=line, character=end),
                            ),
                            text=text,
                        )
                    ],
                )
            )
            current["version"] = doc.version

        for n, place in enumerate(places):
            doc = docs.get(place.source)
            if doc is None:
                src = sources[place.source]
                doc = Doc(src, f"file:///real-use/{src.path.name}", src.text.splitlines())
                docs[place.source] = doc
                client.text_document_did_open(
                    types.DidOpenTextDocumentParams(
                        text_document=types.TextDocumentItem(
                            uri=doc.uri, language_id=src.language, version=1, text=doc.text
                        )
                    )
                )
            line = doc.current_line(place.line)
            assert doc.lines[line] == place.indent + place.statement
            run = PlaceRun(place, keystrokes(place))
            current.update(uri=doc.uri, run=run)
            run.show("")  # the jump hides any suggestion
            col = len(place.indent)
            change(doc, line, col, len(doc.lines[line]), "")
            doc.lines[line] = place.indent
            client.protocol.notify(
                FOCUS_METHOD,
                {"textDocument": {"uri": doc.uri}, "position": {"line": line, "character": col}},
            )
            await asyncio.sleep(rest)
            delays = key_delays(run.keys)
            next_at = time.monotonic()
            for key, delay in zip(run.keys, delays, strict=True):
                wait = next_at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                cur_line = doc.lines[line]
                if key.text.startswith("\n"):
                    change(doc, line, len(doc.lines[line]), len(doc.lines[line]), key.text)
                    doc.lines.insert(line + 1, place.indent)
                    line += 1
                    col = len(place.indent)
                else:
                    change(doc, line, len(cur_line), len(cur_line), key.text)
                    doc.lines[line] += key.text
                    col = len(doc.lines[line])
                now = time.monotonic()
                run.key_times.append(now)
                shown = run.ghost[-1][1]
                run.show(shown[len(key.text) :] if shown.startswith(key.text) else "")
                run.requests += 1
                future = asyncio.ensure_future(
                    client.text_document_inline_completion_async(
                        types.InlineCompletionParams(
                            text_document=types.TextDocumentIdentifier(uri=doc.uri),
                            position=types.Position(line=line, character=col),
                            context=types.InlineCompletionContext(
                                trigger_kind=types.InlineCompletionTriggerKind.Automatic
                            ),
                        )
                    )
                )
                future.add_done_callback(
                    functools.partial(_lsp_answer, doc.uri, doc.version, run, current, now)
                )
                pending.append(future)
                next_at = now + delay
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            run.end = time.monotonic()
            doc.inserted.append(place.line)
            runs.append(run)
            print(f"   place {n + 1}/{len(places)} {place.source}:{place.line + 1}", flush=True)
        current["run"] = None
        after = await tr._status(client)
        waiting = [f for f in pending if not f.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=5)
        peak = tr.vm_hwm_mb(server.pid)
        exit_note = await tr._end_session(client, server)
    finally:
        if tr._process_state(server.pid) not in (None, "Z"):
            server.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait(), 5)
        with contextlib.suppress(Exception):  # not at exit, after its event loop is gone
            server._transport.close()
    counters = {
        k: int(after.get(k, 0)) - int(before.get(k, 0))
        for k in (
            "requests",
            "modelCalls",
            "speculations",
            "retryCalls",
            "cacheHits",
            "typeThroughHits",
            "speculationHits",
            "inflightHits",
            "prefills",
        )
    }
    server_ms = tr._server_latencies(log_file)
    analysed = [analyse_place(r, sources[r.place.source].language) for r in runs]
    name = f"codestral-ls, rest {rest:g} s"
    return summarise(
        name,
        analysed,
        {
            "server": "codestral-ls (defaults; --log-level debug)",
            "rest_s": rest,
            "model_calls": counters["modelCalls"],
            "counters": counters,
            "peak_rss_mb": peak,
            "exit": exit_note,
            "server_ms_by_source": {k: tr.percentiles(v) for k, v in sorted(server_ms.items())},
            "focus_ignored": _count(log_file, f"unknown method '{FOCUS_METHOD}'"),
        },
    )


def _lsp_answer(
    uri: str,
    version: int,
    run: PlaceRun,
    current: dict[str, Any],
    sent: float,
    future: asyncio.Future[Any],
) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    items = getattr(result, "items", result) or []
    text = items[0].insert_text if items else ""
    text = text if isinstance(text, str) else getattr(text, "value", "")
    if text:
        run.answers.append((sent, time.monotonic(), text))
    if current["run"] is run and current["uri"] == uri and current["version"] == version:
        run.show(text)


def _count(log_file: Path, needle: str) -> int:
    total = 0
    for path in log_file.parent.glob(log_file.name + "*"):
        total += sum(1 for line in path.read_text(errors="replace").splitlines() if needle in line)
    return total


# --------------------------------------------------------------------------- the peer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaVim:
    """ggml-org/llama.vim's FIM client logic (autoload/llama.vim), for one simulated Vim."""

    N_PREFIX, N_SUFFIX, N_PREDICT = 256, 64, 128
    T_MAX_PROMPT_MS, T_MAX_PREDICT_MS = 500, 1000
    MAX_LINE_SUFFIX = 8
    RING_N_CHUNKS, RING_CHUNK_SIZE, RING_SCOPE, RING_UPDATE_S = 16, 64, 1024, 1.0
    MAX_CACHE_KEYS = 250

    def __init__(self, http: Any, url: str, seed: int) -> None:
        self.http, self.url = http, url
        self.rng = random.Random(seed)
        self.cache: dict[str, str] = {}
        self.ring: list[dict[str, Any]] = []
        self.queued: list[dict[str, Any]] = []
        self.job: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.hint_shown = False
        self.can_accept = False
        self.content: list[str] = []
        self.pos_y_pick = -9999
        self.t_last_move = time.monotonic()
        self.doc: Doc | None = None
        self.row, self.col = 0, 0  # cursor: 0-based line, character
        self.run: PlaceRun | None = None  # set while typing at a place: insert mode
        self.fim_requests = 0
        self.ring_requests = 0
        self.tasks: list[asyncio.Task[None]] = []

    # -- editor state
    def line(self, y: int) -> str:
        assert self.doc is not None
        return self.doc.lines[y] if 0 <= y < len(self.doc.lines) else ""

    def lines(self, a: int, b: int) -> list[str]:
        """0-based inclusive range, clipped (Vim's getline(a+1, b+1))."""
        assert self.doc is not None
        a, b = max(0, a), min(len(self.doc.lines) - 1, b)
        return self.doc.lines[a : b + 1] if a <= b else []

    def set_ghost(self, text: str) -> None:
        if self.run is not None:
            self.run.show(text)

    # -- events
    def buf_enter(self) -> None:
        half = self.RING_CHUNK_SIZE // 2
        self.pick_chunk(self.lines(self.row - half, self.row + half), no_mod=True, evict=True)

    def on_move(self) -> None:
        self.t_last_move = time.monotonic()
        self.hide()
        self.try_hint(self.col, self.row)

    def keystroke(self) -> None:
        """CursorMovedI: on_move, then the automatic FIM (autocmd order in llama#init)."""
        self.on_move()
        self.fim(-1, -1, True, [], True)

    def hide(self) -> None:
        self.hint_shown = False
        self.set_ghost("")

    # -- ring of extra context
    @staticmethod
    def chunk_sim(c0: Sequence[str], c1: Sequence[str]) -> float:
        common = sum(1 for a in c0 if a in c1)
        return 2.0 * common / max(len(c0) + len(c1), 1)

    def pick_chunk(self, text: list[str], no_mod: bool, evict: bool) -> None:
        assert self.doc is not None
        if no_mod and self.doc.version > 1:
            return  # a buffer with changes
        if len(text) < 3:
            return
        size = self.RING_CHUNK_SIZE
        if len(text) + 1 < size:
            chunk = list(text)
        else:
            l0 = self.rng.randint(0, max(0, len(text) - size // 2))
            l1 = min(l0 + size // 2, len(text))
            chunk = text[l0 : l1 + 1]
        if any(c["data"] == chunk for c in self.ring + self.queued):
            return
        for store in (self.queued, self.ring):
            for i in range(len(store) - 1, -1, -1):
                if self.chunk_sim(store[i]["data"], chunk) > 0.9:
                    if not evict:
                        return
                    del store[i]
        if len(self.queued) == 16:
            del self.queued[0]
        self.queued.append(
            {
                "data": chunk,
                "str": "\n".join(chunk) + "\n",
                "time": time.time(),
                "filename": self.doc.source.path.name,
            }
        )

    def extra(self) -> list[dict[str, Any]]:
        return [
            {"text": c["str"], "time": [int(c["time"]), 0], "filename": c["filename"]}
            for c in self.ring
        ]

    async def ring_loop(self) -> None:
        while True:
            await asyncio.sleep(self.RING_UPDATE_S)
            # the user is in insert mode from the removal of the line on (Vim's ``cc``), so
            # only after 3 s without a cursor move
            if time.monotonic() - self.t_last_move < 3.0 or not self.queued:
                continue
            if len(self.ring) == self.RING_N_CHUNKS:
                del self.ring[0]
            self.ring.append(self.queued.pop(0))
            body = {
                "input_prefix": "",
                "input_suffix": "",
                "input_extra": self.extra(),
                "prompt": "",
                "n_predict": 0,
                "temperature": 0.0,
                "stream": False,
                "samplers": [],
                "cache_prompt": True,
                "t_max_prompt_ms": 1,
                "t_max_predict_ms": 1,
                "response_fields": [""],
            }
            self.ring_requests += 1
            self.tasks.append(asyncio.ensure_future(self._post_quiet(body)))

    async def _post_quiet(self, body: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.http.post(self.url, json=body)

    # -- FIM
    def ctx_local(self, pos_x: int, pos_y: int, prev: list[str]) -> dict[str, Any]:
        if not prev:
            line_cur = self.line(pos_y)
            cur_prefix, cur_suffix = line_cur[:pos_x], line_cur[pos_x:]
            lines_prefix = self.lines(pos_y - self.N_PREFIX, pos_y - 1)
            lines_suffix = self.lines(pos_y + 1, pos_y + self.N_SUFFIX)
            if not line_cur.strip():
                indent, cur_prefix, cur_suffix = 0, "", ""
            else:
                indent = len(line_cur) - len(line_cur.lstrip())
        else:
            line_cur = self.line(pos_y) + prev[0] if len(prev) == 1 else prev[-1]
            cur_prefix, cur_suffix = line_cur, ""
            lines_prefix = self.lines(pos_y - self.N_PREFIX + len(prev) - 1, pos_y - 1)
            if len(prev) > 1:
                lines_prefix.append(self.line(pos_y) + prev[0])
                lines_prefix.extend(prev[1:-1])
            lines_suffix = self.lines(pos_y + 1, pos_y + self.N_SUFFIX)
            indent = self.indent_last
        return {
            "prefix": "\n".join(lines_prefix) + "\n",
            "middle": cur_prefix,
            "suffix": cur_suffix + "\n" + "\n".join(lines_suffix) + "\n",
            "indent": indent,
            "line_cur_suffix": cur_suffix,
        }

    indent_last = -1

    def fim(self, pos_x: int, pos_y: int, is_auto: bool, prev: list[str], use_cache: bool) -> None:
        x = self.col if pos_x < 0 else pos_x
        y = self.row if pos_y < 0 else pos_y
        if self.job is not None:
            if self.timer is not None:
                self.timer.cancel()
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(0.1, lambda: self.fim(pos_x, pos_y, True, prev, use_cache))
            return
        self.timer = None
        ctx = self.ctx_local(x, y, prev)
        if is_auto and len(ctx["line_cur_suffix"]) > self.MAX_LINE_SUFFIX:
            return
        t_max_predict = self.T_MAX_PREDICT_MS if prev else 250
        hashes = [ctx["prefix"] + ctx["middle"] + "\u00ce" + ctx["suffix"]]
        trim = ctx["prefix"]
        for _ in range(3):
            trim = trim.split("\n", 1)[1] if "\n" in trim else ""
            if not trim:
                break
            hashes.append(trim + ctx["middle"] + "\u00ce" + ctx["suffix"])
        if use_cache and any(h in self.cache for h in hashes):
            return
        self.indent_last = ctx["indent"]
        half = self.RING_CHUNK_SIZE // 2
        text = self.lines(self.row - half, self.row + half)
        l0 = self.rng.randint(0, max(0, len(text) - half))
        l1 = min(l0 + half, len(text))
        chunk = text[l0 : l1 + 1]
        self.ring = [c for c in self.ring if self.chunk_sim(c["data"], chunk) <= 0.5]
        body = {
            "input_prefix": ctx["prefix"],
            "input_suffix": ctx["suffix"],
            "input_extra": self.extra(),
            "prompt": ctx["middle"],
            "n_predict": self.N_PREDICT,
            "stop": [],
            "n_indent": ctx["indent"],
            "top_k": 40,
            "top_p": 0.90,
            "stream": False,
            "samplers": ["top_k", "top_p", "infill"],
            "cache_prompt": True,
            "t_max_prompt_ms": self.T_MAX_PROMPT_MS,
            "t_max_predict_ms": t_max_predict,
            "response_fields": ["content", "timings/prompt_n", "timings/predicted_n"],
        }
        self.fim_requests += 1
        if self.run is not None:
            self.run.requests += 1
        self.job = asyncio.ensure_future(self._request(body, hashes, self.run))
        self.tasks.append(self.job)
        if is_auto and abs(y - self.pos_y_pick) > 32:
            last = len(self.doc.lines) - 1 if self.doc else 0
            self.pick_chunk(
                self.lines(y - self.RING_SCOPE, max(0, y - self.N_PREFIX)), False, False
            )
            self.pick_chunk(
                self.lines(
                    min(last, y + self.N_SUFFIX),
                    min(last, y + self.N_SUFFIX + self.RING_CHUNK_SIZE),
                ),
                False,
                False,
            )
            self.pos_y_pick = y

    async def _request(self, body: dict[str, Any], hashes: list[str], run: PlaceRun | None) -> None:
        sent = time.monotonic()
        try:
            response = await self.http.post(self.url, json=body)
            raw = response.text
            content = json.loads(raw).get("content", "") if raw else ""
            if run is not None and content:
                run.answers.append((sent, time.monotonic(), content))
            if raw:
                for h in hashes:
                    if len(self.cache) > self.MAX_CACHE_KEYS - 1:
                        del self.cache[self.rng.choice(list(self.cache))]
                    self.cache[h] = raw
                if not self.hint_shown or not self.can_accept:
                    self.try_hint(self.col, self.row)
        except Exception as exc:  # a failed job: Vim echoes it and goes on
            print(f"   peer request failed: {exc!r}", flush=True)
        finally:
            self.job = None

    def try_hint(self, pos_x: int, pos_y: int) -> None:
        if self.run is None:
            return  # only in insert mode, i.e. while typing at a place
        ctx = self.ctx_local(pos_x, pos_y, [])
        pm = ctx["prefix"] + ctx["middle"]
        raw = self.cache.get(pm + "\u00ce" + ctx["suffix"])
        if raw is None:
            best = 0
            for i in range(128):
                if i + 1 > len(pm):
                    break
                removed = pm[len(pm) - (i + 1) :]
                cached = self.cache.get(pm[: len(pm) - (i + 1)] + "\u00ce" + ctx["suffix"])
                if not cached:
                    continue
                response = json.loads(cached)
                content = response.get("content", "")
                if content[: i + 1] != removed:
                    continue
                content = content[i + 1 :]
                if content and (raw is None or len(content) > best):
                    best = len(content)
                    raw = json.dumps({**response, "content": content})
        if raw is not None:
            self.render(pos_x, pos_y, raw)
            if self.hint_shown:
                self.fim(pos_x, pos_y, True, self.content, True)

    def render(self, pos_x: int, pos_y: int, raw: str) -> None:
        can_accept = True
        content = json.loads(raw).get("content", "").split("\n")
        while content and content[-1] == "":
            content.pop()
        if not content:
            content, can_accept = [""], False
        line_cur = self.line(pos_y)
        if not line_cur.strip():
            lead = min(len(content[0]) - len(content[0].lstrip()), len(line_cur))
            line_cur, content[0] = content[0][:lead], content[0][lead:]
        cur_prefix, cur_suffix = line_cur[:pos_x], line_cur[pos_x:]
        if len(content) == 1 and content[0] == "":
            content = [""]
        if (
            len(content) > 1
            and content[0] == ""
            and content[1:] == self.lines(pos_y + 1, pos_y + len(content) - 1)
        ):
            content = [""]
        if len(content) == 1 and content[0] == cur_suffix:
            content = [""]
        cmp_y = pos_y + 1
        assert self.doc is not None
        while cmp_y < len(self.doc.lines) - 1 and not self.line(cmp_y).strip():
            cmp_y += 1
        if cur_prefix + content[0] == self.line(cmp_y):
            if len(content) == 1:
                content = [""]
            if len(content) == 2 and content[-1] == self.line(cmp_y + 1)[: len(content[-1])]:
                content = [""]
            if len(content) > 2 and content[1:] == self.lines(cmp_y + 1, cmp_y + len(content) - 1):
                content = [""]
        content[-1] += cur_suffix
        if not "\n".join(content).strip():
            can_accept = False
        self.hint_shown, self.can_accept, self.content = True, can_accept, content
        self.set_ghost("\n".join(content) if can_accept else "")


async def run_peer(
    sources: dict[str, Source], places: Sequence[Place], rest: float, args: argparse.Namespace
) -> dict[str, Any]:
    import httpx

    from codestral_ls.model_files import ensure_default_model

    binary = Path(args.peer_bin)
    if not binary.exists():
        raise SystemExit(f"{binary}: not built (see the docstring for the build)")
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="real-use-peer-"))
    log = (work / "llama-server.log").open("w")
    command = [
        str(binary),
        "-m",
        str(ensure_default_model()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-ub",
        "1024",
        "-b",
        "1024",
        "-c",
        "0",
        "--cache-reuse",
        "256",
    ]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    vim: LlamaVim | None = None
    ring_task: asyncio.Task[None] | None = None
    runs: list[PlaceRun] = []
    try:
        async with httpx.AsyncClient(timeout=600) as http:
            deadline = time.monotonic() + 300
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(base + "/health")).status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"llama-server did not start; log: {log.name}")
                await asyncio.sleep(0.3)
            vim = LlamaVim(http, base + "/infill", args.seed)
            ring_task = asyncio.ensure_future(vim.ring_loop())
            docs: dict[str, Doc] = {}
            for n, place in enumerate(places):
                doc = docs.get(place.source)
                vim.run = None
                if doc is None:
                    src = sources[place.source]
                    doc = Doc(src, src.path.name, src.text.splitlines())
                    docs[place.source] = doc
                    vim.doc, vim.row, vim.col = doc, 0, 0
                    vim.buf_enter()
                vim.doc = doc
                line = doc.current_line(place.line)
                assert doc.lines[line] == place.indent + place.statement
                run = PlaceRun(place, keystrokes(place))
                run.show("")
                doc.lines[line] = place.indent
                doc.version += 1
                vim.row, vim.col = line, len(place.indent)
                vim.t_last_move = time.monotonic()
                vim.run = run  # insert mode from here on
                vim.hide()
                await asyncio.sleep(rest)
                next_at = time.monotonic()
                for key, delay in zip(run.keys, key_delays(run.keys), strict=True):
                    wait = next_at - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if key.text.startswith("\n"):
                        doc.lines.insert(line + 1, place.indent)
                        line += 1
                    else:
                        doc.lines[line] += key.text
                    doc.version += 1
                    vim.row, vim.col = line, len(doc.lines[line])
                    now = time.monotonic()
                    run.key_times.append(now)
                    vim.keystroke()
                    next_at = now + delay
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                run.end = time.monotonic()
                vim.run = None
                doc.inserted.append(place.line)
                runs.append(run)
                print(f"   place {n + 1}/{len(places)} {place.source}:{place.line + 1}", flush=True)
            if vim.timer is not None:
                vim.timer.cancel()
            ring_task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*vim.tasks, return_exceptions=True), 30)
            peak = tr.vm_hwm_mb(proc.pid)
    finally:
        if ring_task is not None:
            ring_task.cancel()
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert vim is not None
    analysed = [analyse_place(r, sources[r.place.source].language) for r in runs]
    return summarise(
        f"peer: llama-server --cache-reuse 256 + llama.vim client, rest {rest:g} s",
        analysed,
        {
            "server": " ".join(["llama-server", *command[1:]]),
            "rest_s": rest,
            "model_calls": vim.fim_requests,
            "ring_requests": vim.ring_requests,
            "peak_rss_mb": peak,
            "log": str(work / "llama-server.log"),
        },
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rest", default="0,3", help="seconds resting at a place, one row each")
    parser.add_argument("--quick", action="store_true", help="3 places (a smoke run)")
    parser.add_argument("--peer", action="store_true", help="also the llama-server rows")
    parser.add_argument("--peer-only", action="store_true", help="only the llama-server rows")
    parser.add_argument("--peer-bin", default=str(PEER_BIN))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.places = 3
    rests = [float(r) for r in args.rest.split(",") if r]
    srcs = load_sources()
    sources = {s.key: s for s in srcs}
    places = choose_places(srcs, args.places, args.seed)
    for s in srcs:
        print(f"file {s.key}: {s.path} ({len(s.text.splitlines())} lines)")
    for p in places:
        print(f"place {p.source}:{p.line + 1}: {p.statement}")
    command = " ".join([".venv/bin/python", "benchmarks/real_use.py", *(argv or sys.argv[1:])])
    if args.out is None:
        name = f"real-use-{'quick' if args.quick else args.places}-seed{args.seed}.json"
        args.out = REPO / "benchmarks" / "results" / name
    rows: list[dict[str, Any]] = []

    def report() -> None:
        data = {
            **tr.run_header(command, loadavg_start=load_start),
            "pace_s": PACE,
            "pause_s": PAUSE,
            "files": {s.key: str(s.path) for s in srcs},
            "places": [
                {"source": p.source, "line": p.line + 1, "statement": p.statement} for p in places
            ],
            "rows": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n")

    load_start = os.getloadavg()
    jobs = []
    if not args.peer_only:
        jobs += [("codestral", r) for r in rests]
    if args.peer or args.peer_only:
        jobs += [("peer", r) for r in rests]
    for kind, rest in jobs:
        print(f"-- {kind}, rest {rest:g} s (load {os.getloadavg()[0]:.2f})", flush=True)
        runner = run_codestral if kind == "codestral" else run_peer
        row = asyncio.run(runner(sources, places, rest, args))
        row["loadavg_after"] = os.getloadavg()
        rows.append(row)
        report()
    print()
    print(table(rows))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: serve LSP (default), or complete / doctor without an editor."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from . import __version__, model_cli
from .backends import create_backend
from .backends.base import BackendError
from .config import ConfigError, Settings, load_settings
from .documents import UTF16, UTF32, Document, PositionError
from .engine import CompletionRequest, Engine, TriggerKind
from .languages import language_for_path
from .logging_setup import setup_logging

_FILE_POS = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+)$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codestral-ls",
        description="Inline code completion language server (fill-in-the-middle models).",
    )
    parser.add_argument("--version", action="version", version=f"codestral-ls {__version__}")
    parser.add_argument("--config", type=Path, help="config file (TOML)")
    parser.add_argument("--log-file", type=Path, help="log file (default: the user state dir)")
    parser.add_argument("--log-level", choices=["error", "warning", "info", "debug"])
    parser.add_argument("--stdio", action="store_true", help="serve over stdin/stdout (default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP (for debugging)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2087)
    sub = parser.add_subparsers(dest="command")

    complete = sub.add_parser("complete", help="print the suggestion at a position in a file")
    complete.add_argument("file", help="FILE, or FILE:LINE:COL (1-based, as editors show them)")
    complete.add_argument("--line", type=int, help="0-based line (LSP)")
    complete.add_argument("--character", type=int, help="0-based UTF-16 character (LSP)")
    complete.add_argument("--language", help="language id (default: from the file name)")
    complete.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set max_tokens=32",
    )
    complete.add_argument("--json", action="store_true", help="print a JSON object")

    doctor = sub.add_parser("doctor", help="check the configured backend")
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    model_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.log_level:
            settings = settings.merged({"log_level": args.log_level}, "--log-level")
        overrides = _parse_sets(getattr(args, "set", []))
        settings = settings.merged(overrides, "--set")
    except ConfigError as exc:
        print(f"codestral-ls: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, args.log_file, to_stderr=args.command is not None)
    if args.command == "complete":
        return asyncio.run(_complete(args, settings))
    if args.command == "doctor":
        return asyncio.run(_doctor(args, settings))
    if args.command == "model":
        return model_cli.run(args)
    return _serve(args, settings)


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set needs KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .server import create_server

    server = create_server(settings)
    if args.tcp:
        server.start_tcp(args.host, args.port)
        return 0
    stdin, stdout = _protocol_streams()
    server.start_io(stdin, stdout)
    # The session is over (exit, or the editor closed our stdin). The model thread may still be
    # inside a llama.cpp call that cannot be interrupted; normal interpreter shutdown would
    # wait for nothing but free the model under it (a segfault at exit). Leave now.
    logging.shutdown()
    os._exit(0)


#: No LSP message comes near this; a larger Content-Length is a broken client.
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


class _BoundedInput:
    """stdin for pygls, which reads a whole message in one ``read(Content-Length)`` call: a
    bogus length would make it allocate that much and die with MemoryError. An over-limit
    length ends the session cleanly instead (the stream cannot be resynchronised)."""

    def __init__(self, raw: BinaryIO, limit: int = MAX_MESSAGE_BYTES) -> None:
        self._raw = raw
        self._limit = limit

    def readline(self) -> bytes:
        return self._raw.readline()

    def read(self, size: int = -1) -> bytes:
        if size > self._limit:
            logging.getLogger(__name__).error(
                "a message of %d bytes is over the %d-byte limit: ending the session",
                size,
                self._limit,
            )
            return b""
        return self._raw.read(size)


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Keep fd 1 for the protocol only: native code (llama.cpp) that prints to stdout or
    redirects it while loading must never corrupt or swallow LSP messages, so the protocol gets
    a private duplicate of stdout and fd 1 itself is pointed at stderr."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stdin = cast(BinaryIO, _BoundedInput(sys.stdin.buffer))
    return stdin, os.fdopen(protocol_fd, "wb", buffering=0)


async def _complete(args: argparse.Namespace, settings: Settings) -> int:
    path_arg: str = args.file
    line, character, units_kind = args.line, args.character, UTF16
    match = _FILE_POS.match(path_arg)
    if match and not Path(path_arg).exists():
        path_arg = match["path"]
        line, character, units_kind = int(match["line"]) - 1, int(match["col"]) - 1, UTF32
    path = Path(path_arg)
    if line is None or character is None:
        return _fail("give a position: FILE:LINE:COL, or --line L --character C")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror}")
    if b"\x00" in raw[:8192]:
        return _fail(f"{path} looks like a binary file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _fail(f"{path} is not UTF-8 text")
    doc = Document(path.resolve().as_uri(), "", 0, text, units_kind)
    try:
        if line >= len(doc.line_starts()):
            return _fail(f"line {line} is past the end of {path} ({len(doc.line_starts())} lines)")
        offset = doc.offset_at(line, character)
    except PositionError as exc:
        return _fail(str(exc))
    if not any(item.startswith(("timeout_ms=", "timeout-ms=")) for item in args.set):
        # Someone waiting at a terminal wants the answer, not the editor's keystroke budget.
        settings = settings.merged({"timeout_ms": max(settings.timeout_ms, 60_000)}, "complete")
    try:
        backend = create_backend(settings)
    except BackendError as exc:
        return _fail(exc.user_message)
    engine = Engine(settings, backend, on_status=_print_progress)
    await engine.start()
    if not engine.ready:
        await engine.aclose()
        return _fail(str(engine.status()["message"]))
    language = args.language or language_for_path(path)
    result = await engine.complete(
        CompletionRequest(doc.uri, text, offset, language, TriggerKind.INVOKED, str(path))
    )
    await engine.aclose()
    if args.json:
        _print_json(
            {
                "text": result.text,
                "source": result.source,
                "latency_ms": round(result.latency_ms),
                "reason": result.reason,
            }
        )
    elif result.text:
        sys.stdout.write(result.text + ("" if result.text.endswith("\n") else "\n"))
    else:
        print(f"codestral-ls: no suggestion ({result.reason or 'empty answer'})", file=sys.stderr)
    return 0


_last_progress: list[Any] = [None]


def _print_progress(status: dict[str, object]) -> None:
    shown = (status["state"], status["message"], status["progress"])
    if status["state"] != "loading" or shown == _last_progress[0]:
        return
    _last_progress[0] = shown
    pct = status["progress"]
    if pct is None or pct in (0, 100) or int(str(pct)) % 25 == 0:
        suffix = f" {pct}%" if pct is not None else ""
        print(f"codestral-ls: {status['message']}{suffix}", file=sys.stderr)


async def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    checks: list[dict[str, object]] = [
        {"name": "version", "ok": True, "detail": __version__},
        {"name": "backend", "ok": True, "detail": settings.backend},
    ]
    if settings.backend == "local":
        from .llama_build import check_installed

        build = check_installed()
        checks.append({"name": "llama-cpp-python", "ok": build.ok, "detail": build.detail})
        if build.fix:
            checks[-1]["fix"] = build.fix
    if not args.json:
        # Shown before the model loads: a build that crashes in the first decode would
        # otherwise take the advice down with it.
        _print_checks(checks)
        sys.stdout.flush()
    shown = len(checks)
    try:
        backend = create_backend(settings)
    except BackendError as exc:
        checks.append({"name": "backend", "ok": False, "detail": exc.user_message})
        backend = None
    if backend is not None:
        engine = Engine(settings, backend)
        await engine.start()
        try:
            for check in await backend.doctor():
                checks.append({"name": check.name, "ok": check.ok, "detail": check.detail})
        except BackendError as exc:
            checks.append({"name": "backend", "ok": False, "detail": exc.user_message})
        await engine.aclose()
    ok = all(bool(c["ok"]) for c in checks)
    if args.json:
        _print_json({"ok": ok, "checks": checks, "settings": settings.public_dict()})
    else:
        _print_checks(checks[shown:])
    return 0 if ok else 1


def _print_checks(checks: list[dict[str, object]]) -> None:
    for c in checks:
        mark = "ok " if c["ok"] else "FAIL"
        print(f"[{mark}] {c['name']}: {c['detail']}")
        if c.get("fix"):
            print(f"       {c['fix']}")


def _print_json(obj: object, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(json.dumps(obj, indent=2) + "\n")


def _fail(message: str) -> int:
    logging.getLogger(__name__).debug("complete failed: %s", message)
    print(f"codestral-ls: {message}", file=sys.stderr)
    return 2

"""Logs go to a rotated, size-capped file in the user's state directory, never to stdout.

Every line passes a redaction step first, whatever the handler: registered secrets (the API key
from the environment, the config file or the editor) and anything shaped like a credential
(``Authorization: Bearer ...``, ``api_key=...``) are replaced. Code must never log a key, but a
library's traceback or an echoed HTTP error can carry one; redaction is the net under that.
``ClientLogHandler`` forwards records to the editor's log channel (``window/logMessage``).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import platformdirs

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 2_000_000
BACKUPS = 2
REDACTED = "[redacted]"
#: Environment variables that hold keys (config.py reads the same names).
SECRET_ENV = ("CODESTRAL_LS_API_KEY", "CODESTRAL_API_KEY", "MISTRAL_API_KEY")
#: Shorter values are not treated as secrets: redacting "a" would mangle every line.
_MIN_SECRET = 8

_secrets: set[str] = set()
_lock = threading.Lock()
_CREDENTIAL_SHAPES = (
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)((?:\bapi[_-]?key|\bx-api-key|\baccess[_-]?token|\bsecret|\bpassword)"
        r"[\"']?\s*[:=]\s*[\"']?)(?!\(set\)|\(not set\))[^\s\"',;}]{8,}"
    ),
)


#: Libraries that log every message or request at debug/info level.
_CHATTY = ("pygls", "httpx", "httpcore")


def register_secret(value: str | None) -> None:
    """Never let ``value`` appear in a log line from now on (the process' whole lifetime)."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` without registered secrets or credential-shaped values."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for shape in _CREDENTIAL_SHAPES:
        text = shape.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts the finished line, so messages, arguments and tracebacks are all covered."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def default_log_file() -> Path:
    override = os.environ.get("CODESTRAL_LS_LOG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_state_dir("codestral-ls")) / "codestral-ls.log"


def setup_logging(
    level: str, log_file: Path | None, *, to_stderr: bool, secrets: Iterable[str] = ()
) -> Path | None:
    """Configure the root logger; returns the log file in use (None if it cannot be opened)."""
    for name in SECRET_ENV:
        register_secret(os.environ.get(name))
    for secret in secrets:
        register_secret(secret)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    path = log_file or default_log_file()
    used: Path | None = path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        file_handler.setFormatter(RedactingFormatter(_FORMAT))
        root.addHandler(file_handler)
        _private(path)
    except OSError:
        used = None
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(RedactingFormatter("codestral-ls %(levelname)s: %(message)s"))
    stderr.setLevel(logging.WARNING if to_stderr else logging.INFO)
    # At log_level "debug" pygls logs every message it sends (a line per keystroke, with the
    # document's text): that belongs in the log file. On stderr it would fill the pipe of a
    # client that reads it slowly or not at all, and a full pipe stops the server.
    stderr.addFilter(lambda record: record.levelno >= logging.WARNING or not _chatty(record))
    root.addHandler(stderr)
    # pygls logs every message (with document text) at debug/info, httpx every request (one a
    # keystroke); keep both out unless asked for.
    if level != "debug":
        for chatty in _CHATTY:
            logging.getLogger(chatty).setLevel(logging.WARNING)
    return used


def _private(path: Path) -> None:
    """Logs can hold file names and, at debug level, code: readable by the user only."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


class ClientLogHandler(logging.Handler):
    """Forwards records to the editor's log channel through ``send(level, text)``.

    pygls logs each message it sends, so a record produced while forwarding is dropped
    instead of being forwarded again (no feedback loop); pygls' own records stay in the file.
    """

    def __init__(self, send: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self._send = send
        self._busy = threading.local()
        self.setFormatter(RedactingFormatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "active", False) or record.name.startswith("pygls"):
            return
        self._busy.active = True
        try:
            self._send(record.levelno, self.format(record))
        except Exception:  # the client is gone or the transport is closed: the file has it
            pass
        finally:
            self._busy.active = False


def _chatty(record: logging.LogRecord) -> bool:
    return record.name.split(".", 1)[0] in _CHATTY


def set_level(level: str) -> None:
    """Apply a ``log_level`` that arrived later (from the editor), without new handlers."""
    logging.getLogger().setLevel(getattr(logging, level.upper(), logging.INFO))
    chatty_level = logging.NOTSET if level == "debug" else logging.WARNING
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(chatty_level)

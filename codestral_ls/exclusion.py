"""Files whose content must never reach any backend (secrets, keys, user-ignored paths).

Two sources of patterns, both in gitignore syntax:

* the ``exclude`` setting (defaults cover ``.env*``, ``*.pem``, ``*.key``, ``id_rsa*``...). The
  server knows no single project root, so a pattern is tried against the file's path and every
  tail of it: ``config/prod.yaml`` excludes ``/any/where/config/prod.yaml``. Excluding too much
  is the safe side of this trade.
* ``.codestralignore`` files in the file's directory and every directory above it (the
  workspace root, the home directory...), each relative to its own directory like
  ``.gitignore``. They are re-read when they change, so editing one takes effect at once.

Patterns only ever add exclusions: a ``!pattern`` can re-include within its own file, but never
a file that another source excludes, so a repository cannot opt a user's secrets back in.
A symlink is judged by its own path and by the file it points to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pathspec

IGNORE_FILE = ".codestralignore"
#: ``file:``, ``untitled:``, ``vscode-remote:``... but not a Windows drive letter (``C:``).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[int, int]
    spec: pathspec.GitIgnoreSpec | None


class Exclusion:
    """Decides, per document, whether its text may be sent to a backend."""

    def __init__(
        self,
        patterns: Iterable[str],
        extra_lines: Iterable[str] = (),
        *,
        ignore_file: str | None = IGNORE_FILE,
    ) -> None:
        lines = [p for p in (*patterns, *extra_lines) if p.strip()]
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._ignore_file = ignore_file
        self._loaded: dict[str, _Loaded] = {}

    def excludes(self, uri_or_path: str) -> bool:
        path = _path_of(uri_or_path)
        if not path:
            return False
        candidates = [path]
        if _is_local(uri_or_path):
            real = _real_path(path)
            if real is not None and real != path:
                candidates.append(real)
        for candidate in candidates:
            if _matches_any_tail(self._spec, candidate):
                return True
            if self._ignore_file and _is_local(uri_or_path) and self._ignored_by_files(candidate):
                return True
        return False

    def _ignored_by_files(self, path: str) -> bool:
        directory = os.path.dirname(path)
        while True:
            spec = self._spec_in(directory)
            if spec is not None:
                relative = os.path.relpath(path, directory).replace(os.sep, "/")
                if spec.match_file(relative):
                    return True
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent

    def _spec_in(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        assert self._ignore_file is not None
        file = os.path.join(directory, self._ignore_file)
        try:
            st = os.stat(file)
        except OSError:
            self._loaded.pop(file, None)
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        loaded = self._loaded.get(file)
        if loaded is None or loaded.stamp != stamp:
            loaded = _Loaded(stamp, _read_spec(file))
            self._loaded[file] = loaded
        return loaded.spec


def _read_spec(file: str) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _matches_any_tail(spec: pathspec.GitIgnoreSpec, path: str) -> bool:
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return any(spec.match_file("/".join(parts[i:])) for i in range(len(parts)))


def _is_local(uri_or_path: str) -> bool:
    if _SCHEME.match(uri_or_path):
        return urlparse(uri_or_path).scheme == "file"
    return os.path.isabs(uri_or_path)


def _real_path(path: str) -> str | None:
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, ValueError):
        return None


def _path_of(uri_or_path: str) -> str:
    if _SCHEME.match(uri_or_path):
        return unquote(urlparse(uri_or_path).path)
    return uri_or_path

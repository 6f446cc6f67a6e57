"""Download one model file: resumable, verified, and never half-visible.

Bytes go to ``.<name>.download`` beside the target. A transfer cut short keeps that file, and the
next run asks only for the rest (HTTP ``Range``); a server that ignores the range sends the
whole file again and we start over. The finished file is checked (size, then sha256) and only
then renamed into place, so the cache never holds a wrong or partial model under its real name.
A file that fails the check is deleted: resuming it could never succeed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from .model_files import mark_verified

#: (bytes on disk, bytes expected or 0 when unknown)
DownloadProgress = Callable[[int, int], None]
_CHUNK = 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(Exception):
    """A download that did not produce the expected file; the message says what to do."""


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.download")


def download(
    url: str,
    target: Path,
    *,
    sha256: str | None,
    size: int | None = None,
    progress: DownloadProgress | None = None,
    client: httpx.Client | None = None,
) -> str:
    """Fetch ``url`` into ``target`` and return its sha256. With ``sha256`` given, any other
    content is refused (and deleted)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    own = client is None
    # Follow redirects: the Hugging Face resolve URL answers with its CDN's address. No
    # credentials are ever sent, and the hash check decides what is accepted.
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0))
    try:
        _fetch(http, url, partial, size, progress)
    finally:
        if own:
            http.close()
    return _publish(partial, target, sha256, size)


def _fetch(
    http: httpx.Client,
    url: str,
    partial: Path,
    size: int | None,
    progress: DownloadProgress | None,
) -> None:
    have = partial.stat().st_size if partial.exists() else 0
    if size is not None and have > size:
        partial.unlink()
        have = 0
    if size is not None and have == size:
        return
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and have:
                # Our partial file is not a prefix of what the server has: start over.
                partial.unlink()
                return _fetch(http, url, partial, size, progress)
            if response.status_code not in (200, 206):
                raise DownloadError(f"HTTP {response.status_code} from {_host(url)}")
            if response.status_code == 206:
                _check_range(response.headers.get("content-range", ""), have)
                mode = "ab"
            else:
                have, mode = 0, "wb"
            total = size or _announced(response, have)
            with partial.open(mode) as out:
                for chunk in response.iter_bytes():  # as received: a cut keeps every byte
                    out.write(chunk)
                    have += len(chunk)
                    if size is not None and have > size:
                        break
                    if progress:
                        progress(have, total)
                out.flush()
                os.fsync(out.fileno())
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"download from {_host(url)} interrupted after {have} bytes ({type(exc).__name__}); "
            "run the same command again to resume"
        ) from None


def _check_range(header: str, start: int) -> None:
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if not match or int(match.group(1)) != start:
        raise DownloadError(f"the server answered a resume with the wrong range ({header!r})")


def _announced(response: httpx.Response, have: int) -> int:
    length = response.headers.get("content-length")
    return have + int(length) if length and length.isdigit() else 0


def _publish(partial: Path, target: Path, sha256: str | None, size: int | None) -> str:
    actual_size = partial.stat().st_size
    if size is not None and actual_size != size:
        partial.unlink()
        raise DownloadError(f"got {actual_size} bytes, expected {size}: the file was refused")
    digest = hashlib.sha256()
    with partial.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    got = digest.hexdigest()
    if sha256 is not None and got != sha256.lower():
        partial.unlink()
        raise DownloadError(
            f"sha256 mismatch (expected {sha256}, got {got}): the file was refused and deleted"
        )
    os.replace(partial, target)
    mark_verified(target, got)
    return got


def _host(url: str) -> str:
    return httpx.URL(url).host or url

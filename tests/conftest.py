"""Shared fixtures: an isolated environment for every server the tests start.

The embedded model is assembled once into the user's cache (as it would be for a user) and shared
by all tests; configuration and logs are private to the test run, so a developer's own
config.toml or API keys never change what the tests see.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER = Path(sys.executable).parent / "codestral-ls"
SECRET_ENV = ("MISTRAL_API_KEY", "CODESTRAL_API_KEY")


def have_local_model() -> bool:
    """llama-cpp-python importable and the embedded model's parts installed (found from their
    metadata: the part packages are never imported)."""
    from codestral_ls.model_files import parts_installed

    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return parts_installed()


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a server under test: private config and logs, no inherited settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODESTRAL_LS_") and k not in SECRET_ENV
    }
    if "CODESTRAL_LS_CACHE_DIR" in os.environ:
        env["CODESTRAL_LS_CACHE_DIR"] = os.environ["CODESTRAL_LS_CACHE_DIR"]
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["CODESTRAL_LS_LOG_FILE"] = str(tmp / "codestral-ls.log")
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    """The verified embedded model file (assembled on first use, like a user's first run)."""
    if not have_local_model():
        if os.environ.get("CI"):
            pytest.fail("the local model extra is not installed in CI")
        pytest.skip("llama-cpp-python or the embedded model parts are not installed")
    from codestral_ls.model_files import ensure_default_model

    return ensure_default_model()


@pytest.fixture
def private_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield server_env(tmp_path)

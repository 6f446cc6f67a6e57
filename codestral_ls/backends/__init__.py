"""Backends: one module each, chosen by the ``backend`` setting and imported only when used."""

from __future__ import annotations

import importlib

from ..config import Settings
from .base import Backend, BackendConfigError

_MODULES = {
    "local": "local",
    "mistral": "mistral",
    "openai": "openai_compat",
    "llama-server": "llama_server",
    "ollama": "ollama",
    "chat": "chat",
}


def create_backend(settings: Settings) -> Backend:
    """Each backend module exposes ``create(settings) -> Backend``."""
    module_name = _MODULES.get(settings.backend)
    if module_name is None:
        raise BackendConfigError(f"unknown backend {settings.backend!r}")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as exc:
        raise BackendConfigError(
            f"backend {settings.backend!r} needs a package that is not installed: {exc.name}"
        ) from None
    backend: Backend = module.create(settings)
    return backend

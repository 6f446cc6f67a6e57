"""Backends: one module each (the HTTP APIs under ``remote/``), chosen by the ``backend``
setting and imported only when used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import Backend, BackendConfigError

if TYPE_CHECKING:  # config.py reads the registry: no import of config at run time
    from ..config import Settings

#: The registry: each value of the ``backend`` setting and the module (in this package) that
#: implements it. config.py takes the setting's choices from here.
MODULES = {
    "local": "local",
    "mistral": "remote.mistral",
    "openai": "remote.openai_compat",
    "llama-server": "remote.llama_server",
    "ollama": "remote.ollama",
    "chat": "remote.chat",
}


def create_backend(settings: Settings) -> Backend:
    """Each backend module exposes ``create(settings) -> Backend``."""
    module_name = MODULES.get(settings.backend)
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

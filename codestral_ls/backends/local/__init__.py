"""The local backend: a GGUF model in-process through llama-cpp-python (see backend.py)."""

from .backend import LocalBackend, create

__all__ = ["LocalBackend", "create"]

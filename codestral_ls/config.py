"""One typed settings object, layered: defaults < config file < environment < LSP options.

Every key is documented in docs/configuration.md; a test keeps the two in step. Unknown keys and
wrong types raise ``ConfigError`` with the key's name, so a typo is reported instead of ignored.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from .backends import MODULES as _BACKEND_MODULES

ENV_PREFIX = "CODESTRAL_LS_"
BACKENDS = tuple(_BACKEND_MODULES)
COMPLETION_ITEM_MODES = ("auto", "always", "never")
LAYOUTS = ("auto", "psm", "prefix_only")
LOG_LEVELS = ("error", "warning", "info", "debug")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the key and what is expected."""


def _secret_field(default: str = "") -> Any:
    return field(default=default, repr=False, metadata={"secret": True})


@dataclass(frozen=True)
class Settings:
    # What runs
    enabled: bool = True
    disabled_languages: tuple[str, ...] = ()
    backend: str = "local"
    model: str = ""
    template: str = "auto"
    # Generation
    max_tokens: int = 96
    temperature: float = 0.0
    prefix_tokens: int = 1024
    suffix_tokens: int = 384
    context_tokens: int = 512
    timeout_ms: int = 8000
    eval_budget_ms: int = 1500
    layout: str = "auto"
    window_grid: int = 16
    # Scheduling
    debounce_ms: int = 120
    cache_entries: int = 512
    type_through: bool = True
    speculate: bool = True
    candidates: int = 3
    # Local model
    n_ctx: int = 4096
    n_threads: int = 0
    n_gpu_layers: int = -1
    token_healing: bool = True
    # Remote backends
    api_base: str = ""
    api_key: str = _secret_field()
    remote_model: str = ""
    raw_prompt: bool = False
    connect_timeout_ms: int = 3000
    request_timeout_ms: int = 15000
    allow_insecure_http: bool = False
    # Privacy
    exclude: tuple[str, ...] = (
        ".env*",
        "*.pem",
        "*.key",
        "id_rsa*",
        "*.p12",
        ".netrc",
        "secrets.*",
        "credentials*",
    )
    # Protocol
    completion_item: str = "auto"
    log_level: str = "info"

    def __post_init__(self) -> None:
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("completion_item", self.completion_item, COMPLETION_ITEM_MODES)
        _check_choice("log_level", self.log_level, LOG_LEVELS)
        _check_choice("layout", self.layout, LAYOUTS)
        for name in (
            "max_tokens",
            "prefix_tokens",
            "n_ctx",
            "timeout_ms",
            "eval_budget_ms",
            "window_grid",
            "connect_timeout_ms",
            "request_timeout_ms",
            "candidates",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"setting '{name}' must be a positive number")
        for name in (
            "suffix_tokens",
            "context_tokens",
            "debounce_ms",
            "n_threads",
            "cache_entries",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"setting '{name}' must not be negative")
        if self.n_gpu_layers < -1:
            raise ConfigError("setting 'n_gpu_layers' must be -1 (all) or more")
        if not 0.0 <= self.temperature <= 2.0:
            raise ConfigError("setting 'temperature' must be between 0 and 2")

    def merged(self, overrides: Mapping[str, Any], source: str) -> Settings:
        """A copy with ``overrides`` applied; ``source`` names the layer in error messages."""
        if not overrides:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(_coerce_all(overrides, source))
        try:
            return Settings(**values)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (from {source})") from None

    def public_dict(self) -> dict[str, Any]:
        """Settings as shown to the user: secrets only as set/unset."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret"):
                value = "(set)" if value else "(not set)"
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


_HINTS: dict[str, Any] = get_type_hints(Settings)
KEYS: tuple[str, ...] = tuple(f.name for f in fields(Settings))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"setting '{name}' is {value!r}; expected one of: {', '.join(choices)}")


def _coerce_all(overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = str(raw_key).replace("-", "_")
        if key not in _HINTS:
            raise ConfigError(f"unknown setting '{raw_key}' (from {source})")
        out[key] = _coerce(key, value, source)
    return out


def _coerce(key: str, value: Any, source: str) -> Any:
    hint = _HINTS[key]
    where = f"setting '{key}' (from {source})"
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where} must be a whole number, not {_shown(key, value)}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where} must be a number, not {_shown(key, value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} must be a string, not {_shown(key, value)}")
    # tuple[str, ...]
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} must be a list of strings, not {_shown(key, value)}")


def _shown(key: str, value: Any) -> str:
    field_ = next(f for f in fields(Settings) if f.name == key)
    return "(hidden)" if field_.metadata.get("secret") else repr(value)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "codestral-ls" / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's top-level table; a missing default file is simply empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if table.get("api_key"):
        _warn_if_readable_by_others(path)
    return table


def _warn_if_readable_by_others(path: Path) -> None:
    """A key in a file other users can read is a key they can use."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logging.getLogger(__name__).warning(
            "config file %s holds an API key and is readable by other users; run: chmod 600 %s",
            path,
            path,
        )


def env_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """``CODESTRAL_LS_MAX_TOKENS=32`` -> ``{"max_tokens": "32"}``; API keys by usual names too."""
    out: dict[str, str] = {}
    for name, value in env.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX) :].lower()
            if key in _HINTS:
                out[key] = value
    if "api_key" not in out:
        for name in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY"):
            if env.get(name):
                out["api_key"] = env[name]
                break
    return out


def load_settings(
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    init_options: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from every layer below the live LSP changes."""
    env = os.environ if env is None else env
    explicit = config_path is not None
    path = config_path or default_config_path(env)
    if explicit and not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    settings = Settings().merged(read_config_file(path), f"config file {path}")
    settings = settings.merged(env_overrides(env), "environment")
    if init_options:
        settings = settings.merged(lsp_options(init_options), "initializationOptions")
    return settings


def lsp_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Accept both ``{...}`` and ``{"codestral": {...}}`` (editors nest settings by section)."""
    nested = options.get("codestral")
    if isinstance(nested, Mapping):
        return dict(nested)
    return dict(options)


def replace(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)

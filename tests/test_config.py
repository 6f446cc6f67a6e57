"""Settings layering and the errors a user sees for a bad configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codestral_ls.config import KEYS, ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_layers_apply_in_order(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('max_tokens = 10\nbackend = "ollama"\ndebounce_ms = 50\n')
    env = {"CODESTRAL_LS_MAX_TOKENS": "20", "CODESTRAL_LS_TEMPERATURE": "0.2"}
    s = load_settings(cfg, env, {"codestral": {"max_tokens": 30}})
    assert s.backend == "ollama"  # file
    assert s.debounce_ms == 50  # file
    assert s.temperature == 0.2  # env over default
    assert s.max_tokens == 30  # LSP options over env over file
    live = s.merged({"max_tokens": 40}, "workspace/didChangeConfiguration")
    assert live.max_tokens == 40 and live.backend == "ollama"


def test_default_config_file_comes_from_xdg(tmp_path: Path) -> None:
    (tmp_path / "codestral-ls").mkdir()
    (tmp_path / "codestral-ls" / "config.toml").write_text("n_threads = 3\n")
    assert load_settings(None, {"XDG_CONFIG_HOME": str(tmp_path)}).n_threads == 3
    assert load_settings(None, {"XDG_CONFIG_HOME": str(tmp_path / "none")}).n_threads == 0


def test_api_key_from_the_usual_variables_and_never_shown(tmp_path: Path) -> None:
    s = load_settings(None, {"MISTRAL_API_KEY": "sk-123", "XDG_CONFIG_HOME": str(tmp_path)})
    assert s.api_key == "sk-123"
    assert "sk-123" not in repr(s)
    assert s.public_dict()["api_key"] == "(set)"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"backend": "gpt"}, "setting 'backend' is 'gpt'; expected one of"),
        ({"max_tokens": "many"}, "setting 'max_tokens'"),
        ({"max_tokens": 0}, "must be a positive number"),
        ({"enabled": "perhaps"}, "must be true or false"),
        ({"frobnicate": 1}, "unknown setting 'frobnicate'"),
        ({"disabled_languages": [1, 2]}, "must be a list of strings"),
    ],
)
def test_bad_values_name_the_setting(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings().merged(overrides, "test")


def test_wrong_type_for_the_key_does_not_echo_it() -> None:
    with pytest.raises(ConfigError) as err:
        Settings().merged({"api_key": 12345678}, "test")
    assert "12345678" not in str(err.value)


def test_invalid_toml_and_missing_explicit_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("max_tokens = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, {})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", {})


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    missing = [k for k in KEYS if f"`{k}`" not in doc]
    assert missing == []

"""The editor clients name exactly the server's settings: config.py is the one source of truth."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from codestral_ls import config
from codestral_ls.config import (
    BACKENDS,
    COMPLETION_ITEM_MODES,
    KEYS,
    LAYOUTS,
    LOG_LEVELS,
    ConfigError,
    Settings,
)

REPO = Path(__file__).resolve().parent.parent


def test_the_neovim_plugin_accepts_every_server_setting_and_no_other() -> None:
    lua = (REPO / "clients/neovim/lua/codestral/config.lua").read_text()
    block = re.search(r"M\.server_keys = \{(.*?)\}", lua, re.S)
    assert block, "server_keys not found in config.lua"
    keys = re.findall(r"'([a-z_]+)'", block.group(1))
    assert sorted(keys) == sorted(KEYS)


def test_the_neovim_help_lists_every_server_setting() -> None:
    help_text = (REPO / "clients/neovim/doc/codestral.txt").read_text()
    listed = set(re.findall(r"^  ([a-z_]+) {2,}", help_text, re.M))
    missing = [key for key in KEYS if key not in listed]
    assert not missing, f"not in :help codestral: {missing}"


# ---------------------------------------------------------------- VS Code
#
# The extension's table (clients/vscode/src/serverSettings.json) maps each VS Code setting
# `codestral.<camelCase>` to a server key; package.json contributes the settings. Both are checked
# here against the server's Settings: every key reachable, same type, default, choices and bounds.

VSCODE = REPO / "clients" / "vscode"
_PROBE_FAR = 10**9  # a value beyond any sensible bound: accepted when no bound is declared


def _vscode() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    table = json.loads((VSCODE / "src" / "serverSettings.json").read_text())
    manifest = json.loads((VSCODE / "package.json").read_text())
    props = manifest["contributes"]["configuration"]["properties"]
    return table, manifest, props


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _choices() -> dict[str, tuple[str, ...]]:
    """The server's closed sets of values (template names are checked when a backend is built)."""
    from fim.templates import FAMILIES

    return {
        "backend": BACKENDS,
        "layout": LAYOUTS,
        "completion_item": COMPLETION_ITEM_MODES,
        "log_level": LOG_LEVELS,
        "template": ("auto", *FAMILIES),
    }


def _accepts(key: str, value: Any) -> bool:
    try:
        config.replace(Settings(), **{key: value})
    except ConfigError:
        return False
    return True


def _json_type(hint: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(hint, "array")


def test_the_vscode_extension_reaches_every_server_setting_once() -> None:
    table, _, props = _vscode()
    passthrough: dict[str, str] = table["passthrough"]
    mapped = [*passthrough.values(), *table["fromEnable"], *table["fromSecretStorage"]]
    duplicates = sorted({k for k in mapped if mapped.count(k) > 1})
    assert not duplicates, f"mapped twice in serverSettings.json: {duplicates}"
    missing = [k for k in KEYS if k not in mapped]
    assert not missing, (
        f"server settings VS Code cannot set: {missing}; add each to package.json as "
        f"codestral.<camelCase> and to clients/vscode/src/serverSettings.json"
    )
    unknown = [k for k in mapped if k not in KEYS]
    assert not unknown, f"serverSettings.json maps keys the server does not have: {unknown}"
    assert table["fromSecretStorage"] == [k for k in KEYS if _is_secret(k)]
    assert set(table["fromEnable"]) == {"enabled", "disabled_languages"}
    assert props["codestral.enable"]["default"] == {"*": Settings().enabled}
    assert Settings().disabled_languages == ()
    for vscode_key, server_key in passthrough.items():
        assert vscode_key == _camel(server_key), f"{vscode_key} should be {_camel(server_key)}"
        assert f"codestral.{vscode_key}" in props, f"codestral.{vscode_key} is not contributed"


def _is_secret(key: str) -> bool:
    return bool(next(f for f in fields(Settings) if f.name == key).metadata.get("secret"))


def test_vscode_settings_have_the_server_types_defaults_choices_and_bounds() -> None:
    table, _, props = _vscode()
    hints = get_type_hints(Settings)
    defaults = Settings()
    choices = _choices()
    problems: list[str] = []
    for vscode_key, key in table["passthrough"].items():
        name = f"codestral.{vscode_key}"
        prop = props.get(name)
        if prop is None:
            continue  # reported by the test above
        hint = hints[key]
        if prop.get("type") != _json_type(hint):
            problems.append(
                f"{name}: type {prop.get('type')!r}, server {key} is {_json_type(hint)}"
            )
            continue
        default = getattr(defaults, key)
        expected = list(default) if isinstance(default, tuple) else default
        given = prop.get("default")
        differs = given != expected or type(given) is not type(expected)
        if differs and not (hint is float and given == expected):
            problems.append(f"{name}: default {given!r}, server {expected!r}")
        if hint not in (bool, int, float, str) and prop.get("items") != {"type": "string"}:
            problems.append(f'{name}: items should be {{"type": "string"}}')
        if not prop.get("markdownDescription") and not prop.get("description"):
            problems.append(f"{name}: no description (take it from docs/configuration.md)")
        if hint is str:
            problems += _check_enum(name, key, prop, choices)
        if hint in (int, float):
            problems += _check_bounds(name, key, prop, hint)
    assert not problems, "VS Code settings differ from codestral_ls/config.py:\n  " + "\n  ".join(
        problems
    )


def _check_enum(name: str, key: str, prop: dict[str, Any], choices: dict[str, Any]) -> list[str]:
    enum = prop.get("enum")
    if key in choices:
        if enum != list(choices[key]):
            return [f"{name}: enum {enum!r}, server accepts {list(choices[key])!r}"]
        return []
    if enum is not None:
        return [f"{name}: has an enum {enum!r}, but the server takes any string"]
    if not _accepts(key, "zz-probe"):
        return [f"{name}: the server restricts {key} to a set of values; add it as an enum here"]
    return []


def _check_bounds(name: str, key: str, prop: dict[str, Any], hint: Any) -> list[str]:
    """A declared bound must be the server's exact bound; no bound where the server has none."""
    step = 1 if hint is int else 0.001
    out: list[str] = []
    for side, sign in (("minimum", -1), ("maximum", 1)):
        bound = prop.get(side)
        if bound is None:
            if not _accepts(key, hint(sign * _PROBE_FAR)):
                out.append(f"{name}: no {side}, but the server rejects {key} = {sign * _PROBE_FAR}")
        elif not _accepts(key, hint(bound)):
            out.append(f"{name}: {side} {bound}, but the server rejects {key} = {bound}")
        elif _accepts(key, hint(bound + sign * step)):
            beyond = bound + sign * step
            out.append(f"{name}: {side} {bound}, but the server accepts {key} = {beyond}")
    return out


def test_vscode_keeps_where_code_and_key_go_out_of_a_folders_settings() -> None:
    """A folder's .vscode/settings.json must not point the stored API key at another host, and in
    Restricted Mode must not choose what runs or what is read."""
    _, manifest, props = _vscode()
    for name in ("codestral.apiBase", "codestral.backend"):
        assert props[name].get("scope") in ("machine", "application"), name
    untrusted = manifest["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    restricted = untrusted["restrictedConfigurations"]
    for name in (
        "codestral.server.path",
        "codestral.model",
        "codestral.apiBase",
        "codestral.backend",
        "codestral.exclude",
    ):
        assert name in restricted, name
    assert all(name in props for name in restricted), restricted

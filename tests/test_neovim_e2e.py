"""Real headless Neovim 0.12 + the plugin + the real codestral-ls with the embedded model.

Two scenarios. The first, on both code paths: the built-in `vim.lsp.inline_completion`
(native, 0.12+) and the plugin's own requests and extmarks (fallback, what 0.10/0.11 use, forced
with mode='fallback' and started with vim.lsp.start as on 0.10). The user opens a Python file,
types at a hole, sees ghost text, accepts it with <Tab>; then accepts a word and a line of a
second suggestion.

The second runs the plugin with default settings (`setup({})` plus the server's path) on a large
real file nobody here wrote, the standard library's textwrap.py: a line in a function body is
blanked down to its indentation, the cursor rests there (the plugin sends codestral/didFocus),
the user types the statement's first character, and a suggestion must appear and be accepted.

Then several candidates (issue #16), on examples/stats.py's empty mean() body: the trigger key
or a suggestion that came by itself, the "next" key, <Tab> must give the server's second
candidate; and server settings given to setup() must reach the server and change what it does.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import server_env
from neovim_helpers import (
    check_accept_all,
    check_partial_accepts,
    check_server_status,
    ensure_nvim,
    explain,
    require_native,
    run_scenario,
)

pytestmark = [pytest.mark.nvim, pytest.mark.model, pytest.mark.usefixtures("embedded_model")]


@pytest.fixture(scope="session")
def nvim() -> Path:
    return ensure_nvim()


def test_native_inline_completion(nvim: Path, tmp_path: Path) -> None:
    require_native(nvim)
    r = run_scenario(nvim, tmp_path, server_env(tmp_path), mode="native", health="1")
    print("native timings:", r.get("timings"), "total_ms:", r.get("total_ms"))
    assert r["ok"], explain(r)
    assert r["path"] == "native", explain(r)
    assert r["ghost"]["ns"] == "nvim.lsp.inline_completion", explain(r)
    check_server_status(r)
    check_accept_all(r)
    check_partial_accepts(r)
    health = "\n".join(r["health"])
    assert "version: codestral-ls" in health, health
    assert "native path" in health, health
    assert "ERROR" not in health, health


def test_fallback_inline_completion(nvim: Path, tmp_path: Path) -> None:
    r = run_scenario(nvim, tmp_path, server_env(tmp_path), mode="fallback", legacy="1")
    print("fallback timings:", r.get("timings"), "total_ms:", r.get("total_ms"))
    assert r["ok"], explain(r)
    assert r["path"] == "fallback", explain(r)
    assert r["ghost"]["ns"] == "codestral.ghost", explain(r)
    check_server_status(r)
    check_accept_all(r)
    check_partial_accepts(r)


def _predicate_body(lines: list[str]) -> int:
    """0-based index of the body line of `def predicate(line):` inside `def indent(`."""
    start = next(i for i, line in enumerate(lines) if line.startswith("def indent("))
    inner = next(i for i in range(start, len(lines)) if "def predicate(line):" in lines[i])
    return inner + 1


def test_default_settings_first_suggestion_in_a_large_real_file(nvim: Path, tmp_path: Path) -> None:
    require_native(nvim)  # default settings: the native path on 0.12
    work = tmp_path / "work"
    work.mkdir()
    source = Path(textwrap.__file__)
    copy = work / "textwrap.py"
    shutil.copyfile(source, copy)
    lines = copy.read_text().splitlines()
    body = _predicate_body(lines)
    original = lines[body]
    indent = original[: len(original) - len(original.lstrip())]
    statement = original.strip()
    assert statement and len(lines) > 400, (source, body, original)
    typed = statement[0]
    r = run_scenario(
        nvim,
        tmp_path,
        server_env(tmp_path),
        script="focus_e2e.lua",
        timeout=330,
        scenario="textwrap",
        file=str(copy),
        line=str(body + 1),
        typed=typed,
        deadline_ms="60000",
        limit_ms="300000",
    )
    print("textwrap timings:", r.get("timings"), "ghost:", r.get("ghost"))
    assert r["ok"], explain(r)
    assert r["path"] == "native", explain(r)
    assert r["original_line"] == original, explain(r)
    # The cursor rested on the blanked line: the server was told, once, exactly there.
    row, col = r["cursor_at_rest"]
    assert row == body + 1, explain(r)
    assert r["focus_at_rest"] == [[body, col]], explain(r)
    # Typing the first character brings a suggestion within the deadline...
    assert r["line_typed"] == indent + typed, explain(r)
    assert r["ghost"] is not None, explain(r)
    assert r["ghost"]["text"].strip(), explain(r)
    assert r["mode_when_shown"].startswith("i"), explain(r)
    # ...and <Tab> puts it after what was typed.
    accepted = r["line_after_accept"]
    assert accepted.startswith(indent + typed), explain(r)
    assert len(accepted) > len(indent + typed), explain(r)
    assert accepted == indent + typed + r["ghost"]["text"].split("\n")[0], explain(r)


# Several candidates (issue #16): the server answers an explicit request with up to `candidates`
# distinct items, best first; the plugin's next/previous keys step through them.

STATS = Path(__file__).resolve().parent.parent / "examples" / "stats.py"
MEAN_BODY = 10  # 1-based line of the empty body of mean(): four spaces


def _run_on_mean_body(
    nvim: Path, tmp_path: Path, scenario: str, **options: str
) -> tuple[dict[str, Any], str]:
    """cycle_e2e.lua's `scenario` with the real server on a copy of examples/stats.py, the cursor
    at the end of mean()'s empty body; its results, and that line (the hole: four spaces)."""
    work = tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "stats.py"
    shutil.copyfile(STATS, copy)
    hole = copy.read_text().splitlines()[MEAN_BODY - 1]
    assert hole == "    ", hole
    r = run_scenario(
        nvim,
        tmp_path,
        server_env(tmp_path),
        script="cycle_e2e.lua",
        timeout=330,
        scenario=scenario,
        **options,
        file=str(copy),
        line=str(MEAN_BODY),
        col=str(len(hole)),
        limit_ms="300000",
    )
    return r, hole


def _accepted_line(hole: str, item: dict[str, object]) -> str:
    """The hole's line after accepting `item` (an LSP InlineCompletionItem at the hole)."""
    text = str(item["insertText"])
    rng = item.get("range")
    start = rng["start"]["character"] if isinstance(rng, dict) else len(hole)
    return (hole[:start] + text).split("\n")[0]


@pytest.mark.parametrize("mode", ["auto", "fallback"], ids=["native-default-settings", "fallback"])
def test_next_key_cycles_to_the_second_candidate_and_tab_accepts_it(
    nvim: Path, tmp_path: Path, mode: str
) -> None:
    """setup() with only the server's command (and, for 0.10/0.11's code path, mode='fallback'):
    in insert mode on the empty body of mean() in examples/stats.py, (a) the trigger key, <M-]>,
    <Tab> and (b) the suggestion that comes by itself, <M-]>, <Tab> both put the server's SECOND
    candidate in the file; the candidates are what the server answers the same explicit request
    sent over the plugin's client."""
    if mode == "auto":
        require_native(nvim)
    r, hole = _run_on_mean_body(nvim, tmp_path, "cycle", mode=mode)
    print("cycle timings:", r.get("timings"), "server items:", r.get("server_items"))
    assert r["ok"], explain(r)
    assert r["path"] == ("native" if mode == "auto" else "fallback"), explain(r)
    assert r["notified"] == [], explain(r)
    items = r["server_items"]
    assert len(items) >= 2, explain(r)
    texts = [str(i["insertText"]) for i in items]
    assert len(set(texts)) == len(texts), explain(r)  # distinct
    first, second = (_accepted_line(hole, i) for i in items[:2])
    assert first != second, explain(r)
    # (a) The trigger key's explicit answer holds all the candidates, best first...
    shown = r["trigger"]["shown"]
    assert shown["explicit"] and shown["index"] == 1, explain(r)
    assert shown["items"] == texts, explain(r)
    assert hole + r["trigger"]["ghost"]["text"] == first, explain(r)
    # ...<M-]> shows the second without asking again, and <Tab> accepts it.
    after = r["trigger"]["after_next"]
    assert after["shown"]["index"] == 2, explain(r)
    assert hole + after["ghost"]["text"] == second, explain(r)
    assert r["trigger"]["kinds"] == [1], explain(r)  # one request, explicit (Invoked)
    assert r["trigger"]["line"] == second, explain(r)
    # (b) A suggestion that came by itself (an automatic request: one item)...
    auto = r["auto"]
    assert hole + auto["ghost"]["text"] == first, explain(r)
    if mode == "auto":
        assert auto["ghost"]["ns"] == "nvim.lsp.inline_completion", explain(r)
    else:
        assert auto["shown"]["items"] == [texts[0]] and not auto["shown"]["explicit"], explain(r)
    # ...<M-]> asks once, explicitly, then shows the second; <Tab> accepts it.
    assert auto["kinds"] == [1], explain(r)
    assert auto["after_next"]["shown"]["items"] == texts, explain(r)
    assert hole + auto["after_next"]["ghost"]["text"] == second, explain(r)
    assert auto["line"] == second, explain(r)
    assert r["buffer_unchanged"], explain(r)


@pytest.mark.parametrize(
    ("settings", "type_through"),
    [({"layout": "psm", "type_through": False}, False), ({}, True)],
    ids=["psm-no-type-through", "defaults"],
)
def test_server_settings_from_setup_reach_the_server(
    nvim: Path, tmp_path: Path, settings: dict[str, object], type_through: bool
) -> None:
    """setup({ settings = { layout = 'psm', type_through = false } }) is accepted (no error from
    the plugin or the server) and the server applies it: typing the first character of a shown
    suggestion then costs a new model call, where the default serves it by type-through."""
    import json

    require_native(nvim)
    r, hole = _run_on_mean_body(nvim, tmp_path, "settings", settings=json.dumps(settings))
    print("settings:", settings, "before:", r.get("status_before"), "after:", r.get("status_after"))
    assert r["ok"], explain(r)
    assert r["setup_accepted"] and r["notified"] == [], explain(r)
    assert r["status_ready"]["state"] == "ready", explain(r)
    assert r["status_line"].startswith("codestral: ready"), explain(r)
    assert r["line_typed"] == hole + r["typed"], explain(r)
    before, after = r["status_before"], r["status_after"]
    model_calls = after["modelCalls"] - before["modelCalls"]
    type_through_hits = after["typeThroughHits"] - before["typeThroughHits"]
    if type_through:
        assert type_through_hits >= 1 and model_calls == 0, explain(r)
    else:
        assert type_through_hits == 0 and model_calls >= 1, explain(r)

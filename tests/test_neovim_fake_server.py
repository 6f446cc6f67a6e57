"""The Neovim plugin against a scripted in-process server (tests/e2e/fake_server.lua).

Same scenario as test_neovim_e2e.py on both code paths, answered instantly and
deterministically, plus what the real model makes slow or unpredictable to check: no
suggestion while the popup menu is open (and the opt-in), and `:Codestral disable`.
"""

from __future__ import annotations

from pathlib import Path

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

pytestmark = pytest.mark.nvim


@pytest.fixture(scope="session")
def nvim() -> Path:
    return ensure_nvim()


@pytest.mark.parametrize(
    ("mode", "legacy", "ns"),
    [
        ("native", "0", "nvim.lsp.inline_completion"),  # 0.12: vim.lsp.config + built-in UI
        ("fallback", "0", "codestral.ghost"),  # as on 0.11: vim.lsp.config + own ghost text
        ("fallback", "1", "codestral.ghost"),  # as on 0.10: vim.lsp.start + own ghost text
    ],
    ids=["native", "fallback-lsp-config", "fallback-lsp-start"],
)
def test_scripted_scenario(nvim: Path, tmp_path: Path, mode: str, legacy: str, ns: str) -> None:
    if mode == "native":
        require_native(nvim)
    r = run_scenario(
        nvim, tmp_path, server_env(tmp_path), mode=mode, legacy=legacy, fake="1", extra="1"
    )
    assert r["ok"], explain(r)
    assert r["path"] == mode, explain(r)
    assert r["ghost"] == {"text": "1) + fibonacci(n - 2)", "ns": ns, "row": 4, "col": 25}
    check_server_status(r)
    check_accept_all(r)
    assert r["after_accept"][4] == "    return fibonacci(n - 1) + fibonacci(n - 2)"
    check_partial_accepts(r)
    assert r["line_after_word"] == "    total = sum(values", explain(r)
    assert r["line_after_line"] == "    total = sum(values)", explain(r)
    assert r["ghost_after_line"]["text"] == "\n    return total / len(values)", explain(r)
    # No request and no ghost text while the popup menu is open; back after it closes.
    assert r["pum_still_open"] and r["pum_line"] == "    fibonacci", explain(r)
    assert r["ghost_with_menu"] is None, explain(r)
    assert r["ghost_after_menu"]["text"] == "nacci_table = {}", explain(r)
    # :Codestral disable: nothing is asked or shown, the server is told, the statusline says so.
    assert r["requests_while_disabled"] == 0 and r["ghost_while_disabled"] is None, explain(r)
    assert r["statusline_disabled"] == "codestral: off", explain(r)
    # Settings reach the server as initializationOptions, and live changes follow.
    assert r["fake"]["init_options"] == {"codestral": {"max_tokens": 24}}, explain(r)
    changes = [c["codestral"].get("enabled") for c in r["fake"]["settings_changes"]]
    assert changes[1:3] == [False, True], explain(r)
    assert r["fake"]["settings_changes"][0] == {"codestral": {"max_tokens": 24}}, explain(r)
    # :Codestral status shows backend, model, latency and the code path.
    shown = r["status_command"]
    for part in (f"{mode} path", "state: ready", "backend: local", "model: fake-model"):
        assert part in shown, explain(r)
    assert "last latency: 80 ms" in shown, explain(r)
    # A server error repeated by status and window/showMessage reaches vim.notify once.
    assert r["notified"] == [["codestral: cannot reach http://127.0.0.1:9", 4]], explain(r)
    assert r["statusline_error"] == "codestral: error", explain(r)
    # <C-]> hides the suggestion; <M-\> asks again at once (one request).
    assert r["ghost_before_dismiss"]["text"] == "nacci_table = {}", explain(r)
    # <M-]> on a suggestion from an automatic request (one item) asks once more, explicitly
    # (the server offers alternatives only then), and shows the second item; <M-[> and <M-]>
    # then step through the items without asking again.
    assert r["ghost_after_next"]["text"] == "nacci_cache = {}", explain(r)
    assert r["requests_by_next"] == 1 and r["kinds_by_next"] == [1], explain(r)
    assert r["ghost_after_prev"]["text"] == "nacci_table = {}", explain(r)
    assert r["requests_by_prev"] == 0, explain(r)
    assert r["ghost_after_next_again"]["text"] == "nacci_cache = {}", explain(r)
    assert r["ghost_after_dismiss"] is None, explain(r)
    assert r["ghost_after_trigger"]["text"] == "nacci_table = {}", explain(r)
    assert r["requests_by_trigger"] == 1, explain(r)
    # A key typed just before <Tab> (still in typeahead) is not inserted twice.
    assert r["line_after_typed_accept"] == "    fibonacci_table = {}", explain(r)
    # An edit while a request is in flight cancels it ($/cancelRequest reached the server).
    assert r["cancelled_on_edit"] == 1, explain(r)


def test_menu_opt_in_shows_suggestions_with_the_menu(nvim: Path, tmp_path: Path) -> None:
    r = run_scenario(nvim, tmp_path, server_env(tmp_path), fake="1", extra="1", show_with_menu="1")
    assert r["ok"], explain(r)
    assert r["pum_still_open"], explain(r)
    assert r["ghost_with_menu"]["text"] == "_table = {}", explain(r)


@pytest.mark.parametrize(
    ("mode", "legacy", "wait_for_load"),
    [
        ("native", "0", "0"),
        ("fallback", "0", "0"),
        ("fallback", "1", "0"),
        ("native", "0", "1"),
        ("fallback", "0", "1"),
    ],
    ids=[
        "native",
        "fallback-lsp-config",
        "fallback-lsp-start",
        "native-server-waits",
        "fallback-server-waits",
    ],
)
def test_resting_cursor_and_the_suggestion_after_loading(
    nvim: Path, tmp_path: Path, mode: str, legacy: str, wait_for_load: str
) -> None:
    """codestral/didFocus where the cursor rests (once per place), and a suggestion that
    appears by itself when the model finishes loading while the user is typing, whether the
    server answered the requests made while loading at once (with nothing) or held them."""
    if mode == "native":
        require_native(nvim)
    r = run_scenario(
        nvim,
        tmp_path,
        server_env(tmp_path),
        script="focus_e2e.lua",
        scenario="focus",
        mode=mode,
        legacy=legacy,
        wait_for_load=wait_for_load,
    )
    assert r["ok"], explain(r)
    assert r["path"] == mode, explain(r)
    uri = (tmp_path / "work" / "fib.py").as_uri()
    # Opening the file: the server hears where the cursor is (top of the file).
    assert r["focus_after_open"] == [[0, 0]], explain(r)
    # A move and a rest: one notification, for where the cursor stopped, not where it passed;
    # the server receives exactly the LSP TextDocumentPositionParams.
    assert r["focus_after_move"] == [[4, 2]], explain(r)
    assert r["server_focus"][1] == {
        "textDocument": {"uri": uri},
        "position": {"line": 4, "character": 2},
    }, explain(r)
    # Away and back again without an edit: nothing new to tell.
    assert r["focus_after_return"] == [], explain(r)
    # Typing while the model loads: the requests get empty answers, nothing is shown, and no
    # didFocus goes out (the edits and requests tell the server where the cursor is).
    assert r["mode_before_ready"] == "i", explain(r)
    assert r["requests_while_loading"] >= 1, explain(r)
    assert r["ghost_while_loading"] is None, explain(r)
    assert r["focus_while_typing"] == [], explain(r)
    # "ready": the suggestion appears without another key, from one new request.
    assert r["line_unchanged_until_ready"], explain(r)
    assert r["ghost_after_ready"] is not None, explain(r)
    assert r["ghost_after_ready"]["text"] == "1) + fibonacci(n - 2)", explain(r)
    # A new request when the ones made while loading were answered empty; none when the
    # server still holds one (it answers it now).
    assert r["requests_after_ready"] == (0 if wait_for_load == "1" else 1), explain(r)
    assert r["focus_at_ready"] == [], explain(r)
    assert r["line_after_accept"] == "    return fibonacci(n - 1) + fibonacci(n - 2)", explain(r)
    # Everything the client sent arrived, and nothing more.
    assert len(r["server_focus"]) == 2, explain(r)

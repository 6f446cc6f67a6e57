"""The VS Code extension: it builds, type-checks, lints, passes its unit tests, packages into a
.vsix, and — installed into a real VS Code (code-server in headless Chromium) with the real
codestral-ls and the embedded model — shows ghost text that Tab accepts and Ctrl+S saves.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest

from vscode_helpers import (
    ARTIFACTS,
    EXTENSION,
    SERVER,
    VSIX,
    check,
    ensure_code_server,
    npm,
    npm_env,
    require_e2e,
    run,
    run_e2e,
)

pytestmark = pytest.mark.vscode


@pytest.fixture(scope="module")
def built() -> Path:
    """`npm ci` (versions pinned by package-lock.json), then the production bundle and the .vsix."""
    if not (shutil.which("npm") or shutil.which("node")):
        ensure_code_server()  # brings Node 24 and npm when the machine has none
    cmd, env = npm(), npm_env()
    check(run([*cmd, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, timeout=600, env=env))
    check(run([*cmd, "run", "package"], cwd=EXTENSION, timeout=300, env=env))
    if not VSIX.is_file():
        pytest.fail(f"`npm run package` did not produce {VSIX}")
    return VSIX


def test_sources_typecheck_and_lint(built: Path) -> None:
    cmd, env = npm(), npm_env()
    check(run([*cmd, "run", "typecheck"], cwd=EXTENSION, timeout=300, env=env))
    check(run([*cmd, "run", "lint"], cwd=EXTENSION, timeout=300, env=env))


def test_unit_tests_pass(built: Path) -> None:
    ran = check(run([*npm(), "test"], cwd=EXTENSION, timeout=300, env=npm_env()))
    assert " passing" in ran.output, ran.output[-2000:]
    assert " failing" not in ran.output, ran.output[-4000:]


def test_vsix_holds_what_a_user_needs(built: Path) -> None:
    with zipfile.ZipFile(built) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
    for needed in (
        "extension/dist/extension.js",
        "extension/readme.md",
        "extension/changelog.md",
        "extension/LICENSE.txt",
        "extension/media/icon.png",
    ):
        assert needed in names, f"{needed} missing from the .vsix: {sorted(names)}"
    assert not any("node_modules/" in n or n.startswith("extension/src/") for n in names)
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["engines"]["vscode"] == "^1.91.0"
    # A Marketplace-ready manifest: packaged without --allow-missing-repository.
    assert manifest["publisher"] and manifest["homepage"].startswith("https://")
    assert manifest["repository"]["url"].startswith("https://") and manifest["bugs"]["url"]
    assert "--allow-missing-repository" not in manifest["scripts"]["package"]
    # The walkthrough: backend, then the API key, then doctor; its pages are in the .vsix.
    (walk,) = manifest["contributes"]["walkthroughs"]
    assert [s["id"] for s in walk["steps"]] == ["backend", "apiKey", "doctor"]
    for step in walk["steps"]:
        assert f"extension/{step['media']['markdown']}" in names
    assert "command:codestral.doctor" in walk["steps"][2]["description"]
    settings = manifest["contributes"]["configuration"]["properties"]
    assert "codestral.enable" in settings and "codestral.server.path" in settings
    assert not [k for k in settings if "apikey" in k.lower().replace("_", "")]
    # VS Code has no default key for an explicit inline request: the extension binds Alt+\.
    keys = {(k["key"], k["command"]) for k in manifest["contributes"]["keybindings"]}
    assert ("alt+\\", "codestral.trigger") in keys, keys
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    for c in (
        "enable",
        "disable",
        "toggle",
        "trigger",
        "restart",
        "showLogs",
        "doctor",
        "setApiKey",
        "clearApiKey",
    ):
        assert f"codestral.{c}" in commands


@pytest.mark.model
def test_ghost_text_is_accepted_with_tab_and_saved(
    built: Path, embedded_model: Path, tmp_path: Path
) -> None:
    """A user opens a Python file with a hole, types, sees the ghost text, presses Tab, saves."""
    require_e2e()
    result = run_e2e(built, tmp_path, ARTIFACTS, timeout=480, wait=600)
    entries = result.get("statusLabels")
    assert isinstance(entries, list), result
    labels = [str(entry.get("label", "")) for entry in entries if isinstance(entry, dict)]
    assert any(label.startswith("Codestral: loading") for label in labels), labels
    # The loading state carries the server's percentage ($/progress), e.g. "loading 0% (...)".
    assert any(re.match(r"Codestral: loading \d+%", label) for label in labels), labels
    assert any(label.startswith("Codestral: ready") for label in labels), labels
    assert str(result["inserted"]).strip(), result
    assert (ARTIFACTS / "ghost-text.png").is_file()


@pytest.mark.model
def test_a_pause_then_one_key_gets_a_suggestion_in_a_large_real_file(
    built: Path, embedded_model: Path, tmp_path: Path
) -> None:
    """Default settings, a file nobody here wrote (the stdlib's textwrap.py, ~500 lines): the user
    goes to the emptied body of ``predicate()`` in ``indent()``, pauses, types the first character
    of the original statement and, without another key, gets ghost text that Tab accepts."""
    require_e2e()
    lines = Path(textwrap.__file__).read_text(encoding="utf-8").splitlines(keepends=True)
    opener = next(i for i, line in enumerate(lines) if line.strip() == "def predicate(line):")
    body = lines[opener + 1]
    statement = body.strip()
    indentation = body[: len(body) - len(body.lstrip())]
    assert statement and indentation, body  # a one-line body, indented under the nested def
    lines[opener + 1] = indentation + "\n"  # the hole keeps its indentation
    prepared = tmp_path / "textwrap.py"
    prepared.write_text("".join(lines), encoding="utf-8")
    hole_line, typed = opener + 2, statement[0]  # 1-based line of the hole
    artifacts = ARTIFACTS.parent / "vscode-rest-then-type"
    result = run_e2e(
        built,
        tmp_path,
        artifacts,
        *("--scenario", "rest-then-type", "--file", str(prepared), "--line", str(hole_line)),
        *("--type", typed, "--ghost-deadline", "90"),
    )
    assert str(result.get("ghostText", "")).strip(), result
    saved_line = str(result.get("savedLine"))
    assert saved_line.startswith(indentation + typed), saved_line
    saved = (artifacts / "saved-textwrap.py").read_text(encoding="utf-8").splitlines(keepends=True)
    assert saved[: opener + 1] == lines[: opener + 1]
    assert saved[len(saved) - (len(lines) - hole_line) :] == lines[hole_line:]


STATS = Path(__file__).resolve().parent.parent / "examples" / "stats.py"
MEAN_BODY = 10  # 1-based line of the empty body of mean(): four spaces


def _explicit_candidates(tmp_path: Path, source: Path, line: int) -> list[str]:
    """What a separate codestral-ls (default settings, embedded model) answers an explicit
    inline completion request at the end of `line` (1-based) of `source`: the candidates, best
    first. The model is deterministic, so the editor's own server offers the same."""
    import asyncio

    from lsp_session import inline, lsp_server, open_doc, wait_ready

    folder = tmp_path / "candidates"
    folder.mkdir()
    copy = folder / source.name
    shutil.copyfile(source, copy)
    hole = copy.read_text(encoding="utf-8").splitlines()[line - 1]

    async def ask() -> list[str]:
        async with lsp_server(folder) as (client, _):
            assert (await wait_ready(client))["state"] == "ready"
            open_doc(client, copy.as_uri(), copy.read_text(encoding="utf-8"))
            items = await inline(client, copy.as_uri(), line - 1, len(hole), invoked=True)
            out = []
            for item in items:
                text = (
                    item.insert_text
                    if isinstance(item.insert_text, str)
                    else item.insert_text.value
                )
                start = item.range.start.character if item.range else len(hole)
                out.append((hole[:start] + text).split("\n")[0])
            return out

    return asyncio.run(ask())


@pytest.mark.model
def test_show_next_cycles_to_the_second_candidate_and_tab_accepts_it(
    built: Path, embedded_model: Path, tmp_path: Path
) -> None:
    """Default settings (only codestral.server.path): on the empty body of mean() in
    examples/stats.py, Alt+\\ (trigger), Alt+] (VS Code's "Show Next Inline Suggestion", which
    asks the provider again with triggerKind Invoked and cycles its items), Tab, Ctrl+S: the
    saved line is the server's SECOND candidate, as a separate server answers the same explicit
    request."""
    require_e2e()
    expected = _explicit_candidates(tmp_path, STATS, MEAN_BODY)
    assert len(expected) >= 2 and len(set(expected)) == len(expected), expected
    result = run_e2e(
        built,
        tmp_path,
        ARTIFACTS.parent / "vscode-cycle",
        *("--scenario", "cycle", "--file", str(STATS), "--line", str(MEAN_BODY)),
    )
    hole = STATS.read_text(encoding="utf-8").splitlines()[MEAN_BODY - 1]
    summary = f"expected {expected}; result {json.dumps(result, indent=1)[-3000:]}"
    # Alt+\ showed the best candidate, Alt+] the second, and Tab put the second in the file.
    assert hole + str(result["firstGhost"]) == expected[0], summary
    assert hole + str(result["secondGhost"]) == expected[1], summary
    assert result["savedLine"] == expected[1], summary
    assert result["savedRestUnchanged"] is True, summary


@pytest.mark.model
@pytest.mark.parametrize("via", ["login-shell", "install-dir"])
def test_the_server_is_found_without_the_setting(
    built: Path, embedded_model: Path, tmp_path: Path, via: str
) -> None:
    """No `codestral.server.path`: the extension finds `codestral-ls` the way a user installed it
    and a suggestion arrives. The extension host's PATH is the one the user's login shell sets up
    (VS Code and code-server resolve it; the PATH code-server was started with is not it), so
    `login-shell` puts the server's folder on PATH in ~/.profile of a fresh HOME; `install-dir`
    has it only in ~/.local/bin, as pipx and uv install it, with no profile adding that folder."""
    require_e2e()
    result = run_e2e(
        built,
        tmp_path,
        ARTIFACTS.parent / f"vscode-found-via-{via}",
        *("--scenario", "suggestion", "--server-via", via),
        # HOME is a fresh one: the embedded model stays where the fixture put it.
        *("--model-cache", str(embedded_model.parent)),
    )
    found = result.get("serverFound")
    assert isinstance(found, dict), result
    assert found.get("via") == {"login-shell": "path", "install-dir": "install-dir"}[via], found
    assert str(SERVER.parent) not in str(found.get("command")), found  # the user's copy, not ours
    assert str(result.get("inserted", "")).strip(), result


def test_missing_server_offers_install_or_the_setting(built: Path, tmp_path: Path) -> None:
    """Without the server, one notification offers Install / Open Setting, and the setting opens
    where it can be set (the Remote settings of code-server's remote window)."""
    require_e2e(server=False)
    result = run_e2e(
        built,
        tmp_path,
        ARTIFACTS.parent / "vscode-missing-server",
        *("--scenario", "missing-server"),
        server=tmp_path / "no-such-dir" / "codestral-ls",
        timeout=240,
        wait=360,
    )
    assert "was not found" in str(result.get("notification")), result

"""Content exclusion: files matching the ``exclude`` globs or a ``.codestralignore`` never reach
any backend, neither as the file being completed nor as context for another file.

Covered backends: every remote API through its stand-in (what reaches the wire is recorded),
the scripted backend (engine level, records every request) and the embedded local model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codestral_ls.backends import create_backend
from codestral_ls.backends.base import FimRequest
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from codestral_ls.exclusion import Exclusion
from fake_backend import ScriptedBackend
from robust_helpers import REMOTE_BACKENDS, remote_session

DEFAULTS = Settings().exclude

SECRET_FILES = [
    ".env",
    ".env.production",
    "server.pem",
    "tls/private.key",
    "id_rsa",
    "id_rsa.pub",
    "home/.ssh/id_rsa_work",
    "cert.p12",
    ".netrc",
    "secrets.yaml",
    "secrets.py",
    "credentials",
    "credentials.json",
    "aws/credentials",
]
ORDINARY_FILES = ["app.py", "src/env.py", "key.py", "keys/readme.md", "environment.ts", "pem.c"]


@pytest.mark.parametrize("name", SECRET_FILES)
def test_defaults_exclude_secret_files(tmp_path: Path, name: str) -> None:
    exclusion = Exclusion(DEFAULTS)
    path = tmp_path / "project" / name
    assert exclusion.excludes(path.as_uri())
    assert exclusion.excludes(str(path))


@pytest.mark.parametrize("name", ORDINARY_FILES)
def test_defaults_leave_ordinary_files_alone(tmp_path: Path, name: str) -> None:
    assert not Exclusion(DEFAULTS).excludes((tmp_path / "project" / name).as_uri())


def test_uris_are_decoded_before_matching(tmp_path: Path) -> None:
    exclusion = Exclusion(DEFAULTS)
    assert exclusion.excludes("file:///home/me/app/%2Eenv")
    assert exclusion.excludes("file:///home/me/my%20app/secrets.json")
    assert exclusion.excludes("untitled:.env.local")


def test_patterns_with_a_directory_match_anywhere_in_the_path(tmp_path: Path) -> None:
    exclusion = Exclusion(["config/prod.yaml", "vault/"])
    assert exclusion.excludes((tmp_path / "repo/config/prod.yaml").as_uri())
    assert exclusion.excludes((tmp_path / "repo/vault/deep/x.py").as_uri())
    assert not exclusion.excludes((tmp_path / "repo/config/dev.yaml").as_uri())


def test_codestralignore_in_the_workspace(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "private").mkdir(parents=True)
    (repo / ".codestralignore").write_text("# keep out\nsrc/private/\n*.sql\n/TOP_ONLY.md\n")
    (repo / "src" / ".codestralignore").write_text("generated_*.py\n")
    exclusion = Exclusion(DEFAULTS)
    assert exclusion.excludes((repo / "src/private/model.py").as_uri())
    assert exclusion.excludes((repo / "db/dump.sql").as_uri())
    assert exclusion.excludes((repo / "TOP_ONLY.md").as_uri())
    assert not exclusion.excludes((repo / "docs/TOP_ONLY.md").as_uri())  # anchored to its dir
    assert exclusion.excludes((repo / "src/generated_api.py").as_uri())
    assert not exclusion.excludes((repo / "generated_api.py").as_uri())  # nested file's scope
    assert not exclusion.excludes((repo / "src/main.py").as_uri())


def test_codestralignore_changes_take_effect_at_once(tmp_path: Path) -> None:
    ignore = tmp_path / ".codestralignore"
    target = (tmp_path / "notes.md").as_uri()
    exclusion = Exclusion(DEFAULTS)
    assert not exclusion.excludes(target)
    ignore.write_text("notes.md\n")
    assert exclusion.excludes(target)
    ignore.write_text("# nothing any more, and a longer file\n")
    assert not exclusion.excludes(target)
    ignore.unlink()
    assert not exclusion.excludes(target)


def test_a_repository_cannot_re_include_what_the_settings_exclude(tmp_path: Path) -> None:
    (tmp_path / ".codestralignore").write_text("!.env\n!*.pem\n")
    exclusion = Exclusion(DEFAULTS)
    assert exclusion.excludes((tmp_path / ".env").as_uri())
    assert exclusion.excludes((tmp_path / "a.pem").as_uri())


def test_a_symlink_to_a_secret_is_excluded(tmp_path: Path) -> None:
    secret = tmp_path / ".ssh" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    link = tmp_path / "project" / "notes.txt"
    link.parent.mkdir()
    os.symlink(secret, link)
    assert Exclusion(DEFAULTS).excludes(link.as_uri())


def test_an_unreadable_or_binary_codestralignore_is_survived(tmp_path: Path) -> None:
    (tmp_path / ".codestralignore").write_bytes(b"\xff\xfe\x00junk\n*.log\n")
    exclusion = Exclusion(DEFAULTS)
    assert exclusion.excludes((tmp_path / "x.log").as_uri())
    assert not exclusion.excludes((tmp_path / "x.py").as_uri())


# ------------------------------------------------------------------ end to end, per backend

SECRET_ENV = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-ENV-SECRET-0001"
SECRET_PY = "DB_PASSWORD = 'hunter2-PY-SECRET-0002'"
SECRET_PRIVATE = "TOKEN = 'PRIVATE-DIR-SECRET-0003'"
SECRETS = ("ENV-SECRET-0001", "PY-SECRET-0002", "PRIVATE-DIR-SECRET-0003")


def _workspace(tmp: Path) -> dict[str, tuple[str, str, str]]:
    """uri -> (language, text, kind) for a project with secrets next to ordinary code."""
    (tmp / "private").mkdir()
    (tmp / ".codestralignore").write_text("private/\n")
    files = {
        ".env": ("dotenv", SECRET_ENV + "\nAWS_REGION=", "secret"),
        "secrets.py": ("python", SECRET_PY + "\ndef connect():\n    return ", "secret"),
        "private/notes.py": ("python", SECRET_PRIVATE + "\ndef token():\n    return ", "secret"),
        "app.py": ("python", "import os\n\ndef add(a, b):\n    return ", "ordinary"),
    }
    out = {}
    for name, (language, text, kind) in files.items():
        (tmp / name).write_text(text)
        out[(tmp / name).as_uri()] = (language, text, kind)
    return out


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


@pytest.mark.parametrize("backend", REMOTE_BACKENDS)
async def test_excluded_files_never_reach_a_remote_backend(tmp_path: Path, backend: str) -> None:
    files = _workspace(tmp_path)
    async with remote_session(tmp_path, backend) as (server, stand):
        for uri, (language, text, _) in files.items():
            await server.open(uri, text, language)
        for uri, (_, text, kind) in files.items():
            if kind == "secret":
                answer = await server.inline(uri, *_end(text))
                assert answer["result"] == {"items": []}, (uri, answer)
        assert stand.requests == [], f"{backend}: an excluded file was sent"
        # control: an ordinary file is completed, so the backend is reachable and wired
        app = next(u for u, f in files.items() if f[2] == "ordinary")
        answer = await server.inline(app, *_end(files[app][1]))
        assert "result" in answer, answer
        assert len(stand.requests) >= 1, f"{backend}: the ordinary file was not sent either"
        # ...and no excluded file rode along as context
        for request in stand.requests:
            body = request.body.decode("utf-8", "replace")
            leaked = [s for s in SECRETS if s in body]
            assert not leaked, f"{backend}: excluded text sent as context: {leaked}"


def _scripted() -> ScriptedBackend:
    return ScriptedBackend(answer=lambda request: "a + b")


async def test_excluded_files_never_reach_the_scripted_backend(tmp_path: Path) -> None:
    files = _workspace(tmp_path)
    backend = _scripted()
    docs = [(uri, lang, text, float(n)) for n, (uri, (lang, text, _)) in enumerate(files.items())]
    engine = Engine(Settings(debounce_ms=0, candidates=1), backend, documents=lambda: docs)
    await engine.start()
    try:
        for uri, (language, text, kind) in files.items():
            result = await engine.complete(
                CompletionRequest(uri, text, len(text), language, TriggerKind.INVOKED)
            )
            if kind == "secret":
                assert result.text == "" and result.reason == "excluded file", (uri, result)
        assert len(backend.calls) == 1, "only the ordinary file reaches the backend"
        sent = _request_text(backend.calls[0].request)
        assert not [s for s in SECRETS if s in sent], "excluded text sent as context"
    finally:
        await engine.aclose()


def _request_text(request: FimRequest) -> str:
    return "\n".join([request.prefix, request.suffix, *(c.text for c in request.context)])


@pytest.mark.model
async def test_excluded_files_never_reach_the_local_model(
    tmp_path: Path, embedded_model: Path
) -> None:
    files = _workspace(tmp_path)
    settings = Settings(debounce_ms=0, max_tokens=4)
    docs = [(uri, lang, text, float(n)) for n, (uri, (lang, text, _)) in enumerate(files.items())]
    engine = Engine(settings, create_backend(settings), documents=lambda: docs)
    await engine.start()
    try:
        assert engine.ready, engine.status()
        for uri, (language, text, kind) in files.items():
            if kind != "secret":
                continue
            result = await engine.complete(
                CompletionRequest(uri, text, len(text), language, TriggerKind.INVOKED)
            )
            assert result.reason == "excluded file", (uri, result)
        assert engine.model_calls == 0
        app = next(u for u, f in files.items() if f[2] == "ordinary")
        text = files[app][1]
        await engine.complete(
            CompletionRequest(app, text, len(text), "python", TriggerKind.INVOKED)
        )
        assert engine.model_calls == 1, "the control file reaches the model"
    finally:
        await engine.aclose()

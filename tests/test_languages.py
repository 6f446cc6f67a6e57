"""The one table of per-language facts: ids from file names and the rules each id selects."""

from __future__ import annotations

from pathlib import Path

import pytest

from codestral_ls.languages import (
    block_family,
    context_group,
    language_for_path,
    string_quotes,
)
from codestral_ls.modes import GRAMMARS, rules_for


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("calc.py", "python"),
        ("app.tsx", "typescriptreact"),
        ("Makefile", "makefile"),
        ("notes.unknown", "plaintext"),
    ],
)
def test_a_file_name_gives_its_language_id(name: str, language: str) -> None:
    assert language_for_path(Path(name)) == language


def test_every_language_selects_a_block_grammar() -> None:
    assert rules_for("python") is GRAMMARS["python"]
    assert rules_for("TypeScript") is GRAMMARS["c_like"]  # ids compare case-insensitively
    assert rules_for("bash") is rules_for("shellscript") is GRAMMARS["shell"]
    assert rules_for("cobol") is GRAMMARS["default"]
    assert block_family("cobol") == "default"


def test_related_languages_share_context_and_others_stand_alone() -> None:
    assert "typescript" in context_group("javascriptreact")
    assert context_group("python") == frozenset({"python"})


def test_rust_has_no_single_quoted_strings() -> None:
    assert "'" not in string_quotes("rust") and "'" in string_quotes("python")

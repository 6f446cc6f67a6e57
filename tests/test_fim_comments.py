"""Comment syntax used to carry other files' snippets inside a single-file prompt."""

from __future__ import annotations

import pytest

from fim import comment_block, comment_delimiters, language_for_path


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/app.py", "python"),
        ("C:\\work\\Main.JAVA", "java"),
        ("lib/init.lua", "lua"),
        ("Makefile", "makefile"),
        ("docker/Dockerfile", "dockerfile"),
        ("notes.unknownext", None),
        (None, None),
        ("", None),
    ],
)
def test_language_for_path(path: str | None, language: str | None) -> None:
    assert language_for_path(path) == language


@pytest.mark.parametrize(
    ("language", "path", "opening"),
    [
        ("python", None, "# "),
        ("typescript", None, "// "),
        ("sql", None, "-- "),
        ("clojure", None, "; "),
        ("erlang", None, "% "),
        (None, "main.go", "// "),
        (None, "query.sql", "-- "),
        (None, "core.el", "; "),
        ("RUST", None, "// "),
        ("unknown-language", "x.hs", "-- "),
        (None, None, "# "),
    ],
)
def test_line_comment_markers(language: str | None, path: str | None, opening: str) -> None:
    assert comment_delimiters(language, path) == (opening, "")


def test_comment_block_marks_every_line_and_ends_with_newline() -> None:
    assert comment_block("a\n\nb", "python") == "# a\n#\n# b\n"
    assert comment_block("x();\r\ny();", "c") == "// x();\n// y();\n"
    assert comment_block("", "python") == ""


def test_block_comments_cannot_be_closed_by_the_snippet() -> None:
    assert comment_block("a */ b", "css") == "/* a * / b */\n"
    assert comment_block("<!-- x -->", path="page.html") == "<!-- <!-- x - -> -->\n"
    assert comment_block("f (* g *)", "ocaml") == "(* f (* g * ) *)\n"

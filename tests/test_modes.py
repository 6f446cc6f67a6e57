"""Mode choice: a block where the user is about to write one, a line elsewhere, nothing mid-word.

Documents are written with a ``█`` where the cursor is.
"""

from __future__ import annotations

import pytest

from codestral_ls.modes import Mode, choose_mode


def mode_at(doc: str, language: str = "python") -> Mode:
    prefix, suffix = doc.split("█")
    return choose_mode(prefix, suffix, language)


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("def f(x):█\n", "python"),
        ("def f(x):\n    █\n", "python"),
        ("def f(x):\n█", "python"),
        ("class A:\n    def f(self):  # comment\n        █\n\nx = 1\n", "python"),
        ('def f(x):\n    """Doc."""\n    █\n', "python"),
        ('def f(x):\n    """Doc.\n\n    More.\n    """\n    █\n', "python"),
        ("function f(a) {█}", "javascript"),
        ("function f(a) {\n  █\n}\n", "javascript"),
        ("const g = (a) =>\n  █", "typescript"),
        ("func main() {\n\t█\n}\n", "go"),
        ("fn main() {\n    █\n}\n", "rust"),
        ("public void run() {\n    █\n}\n", "java"),
        ("int main(void) {\n    █\n}\n", "c"),
        ("if x then\n  █\nend\n", "lua"),
        ("for i = 1, 3 do\n  █\nend\n", "lua"),
        ("local function f(a)\n  █\nend\n", "lua"),
        ("if [ -f x ]; then\n  █\nfi\n", "shellscript"),
        ("for f in *.txt; do\n  █\ndone\n", "shellscript"),
        ("items.each do |item|\n  █\nend\n", "ruby"),
        ("x = foo(\n    █\n)\n", "python"),
    ],
)
def test_block_after_a_line_that_opens_one(doc: str, language: str) -> None:
    assert mode_at(doc, language) is Mode.BLOCK


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("x = 1\ny = █", "python"),
        ("█", "python"),
        ("print(█)", "python"),
        ('print("hello █")', "python"),
        ("foo(a, █)", "javascript"),
        ("const x = [1, 2, █];", "javascript"),
        ("x = a if █ else b", "python"),
        ("# a comment:█", "python"),
        ("const s = f(█)", "typescript"),
        ("x = 1\n█\n\n", "python"),
    ],
)
def test_single_line_elsewhere(doc: str, language: str) -> None:
    assert mode_at(doc, language) is Mode.LINE


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("def f(x):\n    y = x + 1\n    █\n    return y\n", "python"),
        ("x = 1\n█\nz = 2\n", "python"),
        ("let x = 1;\n█\nlet z = 2;\n", "rust"),
        ("echo $(date)\n█\necho done\n", "shellscript"),
    ],
)
def test_a_line_of_its_own_between_lines_of_code_is_a_gap(doc: str, language: str) -> None:
    # whole lines up to the code below; the clean-up keeps one unless the answer reaches it
    assert mode_at(doc, language) is Mode.GAP


@pytest.mark.parametrize(
    "doc",
    [
        "pri█nt(x)",
        "x = foo█bar",
        "return █value",
        "x = my_█var + 1",
        "    █    return x\n",
    ],
)
def test_no_suggestion_inside_a_word_or_the_indentation(doc: str) -> None:
    assert mode_at(doc) is Mode.NONE


def test_start_of_a_line_with_code_on_its_right_inserts_lines_above() -> None:
    assert mode_at("def f(x):\n█def g():\n") is Mode.BLOCK
    assert mode_at("function f() {\n█}\n", "javascript") is Mode.BLOCK
    assert mode_at("def f(x):\n    y = 1\n█    return x\n") is Mode.GAP


def test_a_body_that_already_has_code_after_the_cursor_is_a_gap() -> None:
    assert mode_at("def f(x):\n█    return x\n") is Mode.GAP
    assert mode_at("def f(x):\n    █return x\n") is Mode.GAP
    assert mode_at('def f(x):\n    """Doc."""\n    █\n    return x\n') is Mode.GAP
    assert mode_at("if (a) {\n  █\n  b();\n}\n", "javascript") is Mode.GAP
    assert mode_at("if (a) {\n  █\n}\nb();\n", "javascript") is Mode.BLOCK


def test_unknown_language_uses_sane_defaults() -> None:
    assert mode_at("proc main() {\n  █\n}\n", "nim-like") is Mode.BLOCK
    assert mode_at("x := 1\n█\ny := 2", "nim-like") is Mode.GAP
    assert mode_at("x := 1\ny := █", "nim-like") is Mode.LINE


def test_at_the_end_of_the_file_a_body_being_written_gets_a_block() -> None:
    assert mode_at("def f(x):\n    █\n") is Mode.BLOCK
    # the rest of the body, after a statement of it (indented, or an empty line right below)
    assert mode_at("def f(x):\n    y = x + 1\n    █\n") is Mode.BLOCK
    assert mode_at("def f(x):\n    y = x + 1\n█") is Mode.BLOCK
    # top-level code: one line
    assert mode_at("x = 1\n█") is Mode.LINE
    assert mode_at("def f(x):\n    return x\n\n█") is Mode.LINE
    # code further out below (the next function): one line as before
    assert mode_at("def f(x):\n    y = x + 1\n    █\n\ndef g():\n    pass\n") is Mode.LINE

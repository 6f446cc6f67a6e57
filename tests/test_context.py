"""Snippets from other open documents: right language, newest first, no repeats, in budget."""

from __future__ import annotations

from codestral_ls.context import snippets_for


def words(text: str) -> int:
    """A stand-in tokenizer: one token a word (the real one is the model's)."""
    return len(text.split()) + 1


HELPERS_PY = "\n".join(
    [
        "import os",
        "from pathlib import Path",
        "",
        "def read_config(path: Path) -> dict:",
        "    with open(path) as fh:",
        "        return parse(fh.read())",
        "",
        "class Store:",
        "    def get(self, key: str) -> str:",
        "        return self.data[key]",
    ]
)


def test_other_documents_of_the_same_language_newest_first() -> None:
    docs = [
        ("file:///p/src/old.py", "python", "def old_helper():\n    pass\n", 1.0),
        ("file:///p/src/new.py", "python", "def new_helper():\n    pass\n", 3.0),
        ("file:///p/src/current.py", "python", "def current():\n    pass\n", 4.0),
        ("file:///p/web/app.js", "javascript", "function js() {}\n", 5.0),
    ]
    snippets = snippets_for("file:///p/src/current.py", "python", docs, 200, words)
    assert [s.path for s in snippets] == ["p/src/new.py", "p/src/old.py"]
    assert "new_helper" in snippets[0].text


def test_typescript_sees_javascript_and_c_sees_cpp() -> None:
    docs = [("file:///a/util.js", "javascript", "export function add(a, b) {}\n", 1.0)]
    assert snippets_for("file:///a/main.ts", "typescript", docs, 200, words)
    docs = [("file:///a/util.h", "cpp", "int add(int a, int b);\n", 1.0)]
    assert snippets_for("file:///a/main.c", "c", docs, 200, words)


def test_duplicates_are_dropped() -> None:
    text = "def shared():\n    pass\n"
    docs = [
        ("file:///a/x.py", "python", text, 2.0),
        ("file:///a/x.py", "python", text, 1.0),
        ("file:///b/copy.py", "python", text, 1.5),
    ]
    assert len(snippets_for("file:///a/main.py", "python", docs, 200, words)) == 1


def test_outline_keeps_definitions_and_imports_within_budget() -> None:
    docs = [("file:///p/helpers.py", "python", HELPERS_PY, 1.0)]
    (snippet,) = snippets_for("file:///p/main.py", "python", docs, 200, words)
    assert snippet.text.splitlines() == [
        "import os",
        "from pathlib import Path",
        "def read_config(path: Path) -> dict:",
        "class Store:",
        "    def get(self, key: str) -> str:",
    ]


def test_total_budget_is_respected_and_cuts_at_whole_lines() -> None:
    big = "\n".join(f"def function_number_{i}(argument_a, argument_b):" for i in range(200))
    docs = [(f"file:///p/m{i}.py", "python", big.replace("number", f"n{i}"), i) for i in range(5)]
    snippets = snippets_for("file:///p/main.py", "python", docs, 120, words)
    assert snippets
    assert sum(words(s.text) for s in snippets) <= 120 + len(snippets)
    for s in snippets:
        assert s.text.endswith("\n")
        for line in s.text.splitlines():
            assert line.startswith("def function_") and line.endswith("):")


def test_no_budget_or_no_other_documents_means_no_snippets() -> None:
    docs = [("file:///p/helpers.py", "python", HELPERS_PY, 1.0)]
    assert snippets_for("file:///p/main.py", "python", docs, 0, words) == ()
    assert snippets_for("file:///p/helpers.py", "python", docs, 200, words) == ()
    assert snippets_for("file:///p/main.go", "go", docs, 200, words) == ()


def test_a_file_without_definitions_contributes_its_head() -> None:
    script = "echo one\necho two\n\necho three\n"
    docs = [("file:///p/run.sh", "shellscript", script, 1.0)]
    (snippet,) = snippets_for("file:///p/other.sh", "shellscript", docs, 200, words)
    assert snippet.text == "echo one\necho two\necho three\n"

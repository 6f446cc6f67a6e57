"""The real-code holes benchmark's extraction and scoring (benchmarks/holes.py), without a model."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "holes.py"
_spec = importlib.util.spec_from_file_location("real_holes_extraction", _PATH)
assert _spec is not None and _spec.loader is not None
H = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = H
_spec.loader.exec_module(H)


def _python_source(n: int = 400) -> str:
    out = ["import os", ""]
    for i in range(n // 9):
        out += [
            f"def function_{i}(values, scale=2):",
            f'    """Docstring {i}: don\'t cut here."""',
            "    total = 0",
            "    count = len(values)",
            "    for value in values:",
            "        total += value * scale",
            f"    result = compute(total, {{'key': {i}}})",
            "    return os.path.join(str(result), 'x')",
            "",
        ]
    return "\n".join(out) + "\n"


def _js_source(n: int = 400) -> str:
    out = ["'use strict';", ""]
    for i in range(n // 10):
        out += [
            f"function handler{i}(request, options) {{",
            "    /* a block comment",
            "       that spans lines */",
            "    const result = compute(request, { key: options.key });",
            "    const value = result.items.map((item) => item.name);",
            "    let total = value.length;",
            "    return total;",
            "}",
            "// a comment",
            "",
        ]
    return "\n".join(out) + "\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _holes(tmp_path: Path, per_class: int = 2, seed: int = 0) -> list:
    py = [_write(tmp_path, f"mod{i}.py", _python_source()) for i in range(6)]
    js = [_write(tmp_path, f"lib{i}.js", _js_source()) for i in range(6)]
    sources = {
        "python": [(p, f"py/{p.name}") for p in py],
        "javascript": [(p, f"js/{p.name}") for p in js],
    }
    return H.build_holes(per_class, seed, sources)


# --------------------------------------------------------------------------- extraction


def test_every_class_gets_its_holes_each_in_its_own_file(tmp_path: Path) -> None:
    holes = _holes(tmp_path)
    assert sorted(h.cls for h in holes) == sorted(H.CLASSES * 2)
    assert len({h.path for h in holes}) == len(holes)
    assert {h.language for h in holes} == {"python", "javascript"}


def test_holes_are_seeded_and_a_smaller_run_is_a_prefix(tmp_path: Path) -> None:
    big = _holes(tmp_path, per_class=2, seed=3)
    assert [h.id for h in _holes(tmp_path, per_class=2, seed=3)] == [h.id for h in big]
    assert [h.id for h in _holes(tmp_path, per_class=1, seed=3)] == [h.id for h in big[:5]]
    assert [h.id for h in _holes(tmp_path, per_class=2, seed=4)] != [h.id for h in big]


@pytest.mark.parametrize("seed", range(5))
def test_document_is_the_original_with_the_rest_of_the_line_removed(
    tmp_path: Path, seed: int
) -> None:
    for hole in _holes(tmp_path, seed=seed):
        original = (tmp_path / Path(hole.path).name).read_text(encoding="utf-8")
        lines = original.splitlines(keepends=True)
        assert lines[hole.row].rstrip() == hole.expected
        kept = [*lines[: hole.row], hole.typed + "\n", *lines[hole.row + 1 :]]
        assert hole.text == "".join(kept)
        assert hole.text[: hole.offset].endswith(hole.typed)
        assert hole.text[hole.offset] == "\n"
        assert hole.row >= 40, "never near the top"
        assert hole.expected.startswith(hole.typed)
        rest = hole.expected[len(hole.typed) :]
        if hole.cls == "line-start":
            assert hole.typed.strip() == "" and rest[:1] not in " \t"
        elif hole.cls == "empty-line":
            assert hole.typed == "" and hole.col == 0
            above, below = lines[hole.row - 1], lines[hole.row + 1]
            indent = len(hole.expected) - len(hole.expected.lstrip())
            assert above.strip() and below.strip()
            assert len(above) - len(above.lstrip()) == indent == len(below) - len(below.lstrip())
        elif hole.cls == "mid-word":
            assert H.is_word_char(hole.typed[-1]) and H.is_word_char(rest[0])
        elif hole.cls == "after-opener":
            assert hole.typed[-1] in "([{:" and rest.strip()
        else:
            assert hole.typed.strip() and rest.strip()
            assert not (H.is_word_char(hole.typed[-1]) and H.is_word_char(rest[0]))
            assert hole.typed[-1] not in "([{:"


def test_docstrings_comments_and_block_comments_are_never_holes(tmp_path: Path) -> None:
    for seed in range(8):
        for hole in _holes(tmp_path, seed=seed):
            assert "Docstring" not in hole.expected
            assert "comment" not in hole.expected and "spans lines" not in hole.expected


def test_small_and_minified_files_are_skipped(tmp_path: Path) -> None:
    assert H.readable_lines(_write(tmp_path, "small.py", "x = 1\n" * 50)) is None
    long_line = "var a=" + "1+" * 150 + "1;\n"
    assert H.readable_lines(_write(tmp_path, "bundle.js", long_line * 400)) is None
    wide = ("x" * 120 + "\n") * 400
    assert H.readable_lines(_write(tmp_path, "wide.js", wide)) is None
    assert H.readable_lines(_write(tmp_path, "ok.py", _python_source())) is not None


def test_python_analysis_finds_one_line_statements_and_strings() -> None:
    lines = _python_source(40).splitlines(keepends=True)
    info = H.analyse(lines, "python")
    assert info is not None
    rows = {lines[r].strip() for r in info.statements}
    assert "total = 0" in rows and "return os.path.join(str(result), 'x')" in rows
    assert not any("Docstring" in lines[r] for r in info.statements)
    continued = ["x = call(\n", "    a,\n", "    b)\n", "y = 2\n"]
    info = H.analyse(continued, "python")
    assert info is not None and info.statements == {3}


def test_js_analysis_skips_block_comments_and_templates() -> None:
    lines = [
        "const a = 1;\n",
        "/* start\n",
        "   const hidden = 2; */\n",
        "const t = `line one\n",
        "line two`;\n",
        "const b = 3;\n",
    ]
    info = H.analyse(lines, "javascript")
    assert info is not None
    assert {1, 2, 3, 4} <= info.excluded
    assert {0, 5} <= info.statements and not (info.statements & {1, 2, 3, 4})


def test_lexer_tokens() -> None:
    toks = H.lex_line("x = f'a{b}' + obj.attr_1 ** 2  # c", "python")
    kinds = [(t.kind, "x = f'a{b}' + obj.attr_1 ** 2  # c"[t.start : t.end]) for t in toks]
    assert ("string", "f'a{b}'") in kinds and ("op", "**") in kinds
    assert ("name", "attr_1") in kinds and kinds[-1][0] == "comment"
    js = H.lex_line("const $el = a?.b ?? `t` // c", "javascript")
    words = [("const $el = a?.b ?? `t` // c")[t.start : t.end] for t in js if t.kind != "space"]
    assert words[:6] == ["const", "$el", "=", "a", "?.", "b"] and "??" in words


# --------------------------------------------------------------------------- scoring


def _hole(cls: str, typed: str, expected: str, language: str = "python", word: bool = False):
    return H.Hole(
        id="t",
        cls=cls,
        language=language,
        path="t",
        row=50,
        col=len(typed),
        typed=typed,
        expected=expected,
        fragment_is_word=word,
        text=typed + "\n",
        offset=len(typed),
    )


def test_exact_line_per_class() -> None:
    mid = _hole("mid-line", "    x = foo", "    x = foo(a, b)")
    assert H.score(mid, "(a, b)  \n    more")["exact"]
    assert not H.score(mid, "(a, c)")["exact"]
    start = _hole("line-start", "    ", "    return x")
    assert H.score(start, "return x")["exact"]
    assert not H.score(start, "\n    return x")["exact"]  # the first line is what counts
    empty = _hole("empty-line", "", "    y = 2")
    assert H.score(empty, "\n    y = 2\n    z = 3")["exact"]  # first non-blank line
    assert not H.score(empty, "y = 2")["exact"]  # indentation counts


def test_a_statement_written_over_several_lines_counts_as_its_line() -> None:
    hole = _hole("mid-line", "    def f", "    def f(self, a, b=1):")
    assert H.score(hole, "(\n        self,\n        a,\n        b=1,\n    ):")["exact"]
    assert H.score(hole, "(self,\n          a, b=1):\n        pass")["exact"]
    # never closed: only the first line counts
    assert H.score(hole, "(\n        self,\n")["completed"] == "    def f("
    empty = _hole("empty-line", "", "    y = g(1, 2)")
    assert H.score(empty, "\n    y = g(\n        1,\n        2\n    )\n    z = 3")["exact"]
    # brackets in strings are no brackets
    text = _hole("mid-line", "    s = f", '    s = f("(")')
    assert H.score(text, '("(")\n    t = 1')["exact"]


def test_similarity_and_empty() -> None:
    hole = _hole("mid-line", "    x = foo", "    x = foo(a, b)")
    empty = H.score(hole, "")
    assert empty["empty"] and not empty["garbage"] and not empty["exact"]
    assert 0.5 < empty["sim"] < 1 and empty["rest_sim"] == 0.0
    close = H.score(hole, "(a, c)")
    assert close["rest_sim"] > 0.8 and close["sim"] > empty["sim"]
    assert H.score(hole, "(a, b)")["sim"] == 1.0


def test_garbage_mid_word() -> None:
    hole = _hole("mid-word", "    return sel", "    return self.x")
    assert H.score(hole, "f.x")["garbage"] == []
    assert "breaks-word" in H.score(hole, ".x")["garbage"]
    assert "breaks-word" in H.score(hole, "\n    pass")["garbage"]
    assert "retypes" in H.score(hole, "self.x")["garbage"]
    # the fragment is a whole identifier elsewhere in the file: the word may end there
    worded = _hole("mid-word", "    return val", "    return values", word=True)
    assert "breaks-word" not in H.score(worded, ")")["garbage"]
    # a rest that really starts with the fragment is not a retype
    double = _hole("mid-word", "    x = a", "    x = aa_b")
    assert "retypes" not in H.score(double, "a_b")["garbage"]


def test_garbage_retypes_typed_text_and_indentation() -> None:
    hole = _hole("mid-line", "    value = compute", "    value = compute(x)")
    assert "retypes" in H.score(hole, "value = compute(x)")["garbage"]
    assert "retypes" in H.score(hole, "compute(x)")["garbage"]
    assert H.score(hole, "(x)")["garbage"] == []
    start = _hole("line-start", "    ", "    return x")
    assert "retypes" in H.score(start, "    return x")["garbage"]


def test_garbage_breaks_syntax_python() -> None:
    hole = _hole("mid-line", "    x = foo", "    x = foo(a, b)")
    assert "breaks-syntax" in H.score(hole, "(a, b))")["garbage"]
    assert "breaks-syntax" in H.score(hole, "(a, 'b)")["garbage"]
    assert "breaks-syntax" in H.score(hole, "(a, b]")["garbage"]
    assert H.score(hole, "(a,")["garbage"] == []  # left open: the statement may go on
    # an original that does not pass the check alone (a continuation line) never counts
    tail = _hole("mid-line", "        b", "        b)")
    assert H.score(tail, "))")["garbage"] == []


def test_garbage_breaks_syntax_js() -> None:
    hole = _hole("after-opener", "  call(", "  call(a, { b: 1 });", "javascript")
    assert H.score(hole, "a, { b: 1 });")["garbage"] == []
    assert "breaks-syntax" in H.score(hole, "a, { b: 1 ));")["garbage"]
    assert "breaks-syntax" in H.score(hole, "'a, b);")["garbage"]
    assert H.score(hole, "a, {")["garbage"] == []


def test_line_ok() -> None:
    assert H.line_ok("    return f(x)[0]", "python")
    assert H.line_ok("if x and (y or", "python")
    assert not H.line_ok("x = 'abc", "python")
    assert not H.line_ok("x = a)", "python")
    assert H.line_ok("const s = `a ${b}`;", "javascript")
    assert not H.line_ok("const s = 'a;", "javascript")
    assert not H.line_ok("f(a]", "javascript")


def test_installed_sources_when_present() -> None:
    """The real sources: the venv's packages are always there; holes come out of them."""
    repo = Path(__file__).resolve().parents[1]
    sources = H.default_sources(repo)
    assert sources["python"], "third-party packages in the venv"
    sources = {"python": random.Random(0).sample(sources["python"], 40)}
    holes = H.build_holes(1, 0, sources)
    assert [h.cls for h in holes] == list(H.CLASSES)


def test_a_copy_of_the_line_below_is_counted_and_scored_as_empty_beside() -> None:
    # picomatch's scan.js:355: the raw model writes the line below the emptied one again
    below = "      const value = input.slice(n, i);\n      tokens.push(value);\n"
    empty = H.Hole(
        id="t",
        cls="empty-line",
        language="javascript",
        path="t",
        row=10,
        col=0,
        typed="",
        expected="      const i = slashes[idx];",
        fragment_is_word=False,
        text="    if (x) {\n\n" + below,
        offset=len("    if (x) {\n"),
    )
    copy = H.score(empty, "      const value = input.slice(n, i);\n")
    assert copy["copies_below"] and copy["sim"] > 0.5 and copy["sim_no_copy"] == 0.0
    other = H.score(empty, "      const i = slashes[0];")
    assert not other["copies_below"] and other["sim_no_copy"] == other["sim"] > 0.8
    assert not H.score(empty, "")["copies_below"]
    # the line after the one below is no copy of it
    assert not H.score(empty, "      tokens.push(value);")["copies_below"]

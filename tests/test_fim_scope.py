"""The enclosing definitions' first lines, put before a window cut inside them."""

from __future__ import annotations

import pytest

from codestral_ls.windows import build_window
from fim import scope_header

_CLASS = """\
import os


class Store:
    \"\"\"Keeps things.\"\"\"

    def put(self, key, value):
        if key:
            # an old comment:
            self.items[key] = value
"""


def test_a_method_body_gets_its_class_and_its_def_outermost_first() -> None:
    window = "            self.items[key] = value\n"
    assert scope_header(_CLASS, window, "python") == (
        "class Store:\n    def put(self, key, value):\n"
    )


def test_control_flow_above_is_passed_through_not_kept() -> None:
    before, window = _split(_CLASS, "        if key:")
    # The window starts at the ``if``: the method and its class enclose it, the comment and the
    # import say nothing.
    assert scope_header(before, window, "python") == (
        "class Store:\n    def put(self, key, value):\n"
    )


def test_a_window_at_the_top_level_needs_nothing() -> None:
    before, window = _split(_CLASS, "class Store:")
    assert scope_header(before, window, "python") == ""


def test_a_window_that_reaches_back_to_the_top_level_needs_nothing() -> None:
    text = "def a():\n    return 1\n\n\ndef b():\n    x = 1\n"
    before, window = _split(text, "    return 1", cursor="    x = 1")
    assert scope_header(before, window, "python") == ""


def test_the_function_above_a_sibling_is_not_taken() -> None:
    text = "def a():\n    return 1\n\n\ndef b(n):\n    x = 1\n    y = 2\n"
    before, window = _split(text, "    y = 2")
    assert scope_header(before, window, "python") == "def b(n):\n"


def test_a_signature_written_over_several_lines_comes_whole() -> None:
    text = (
        "class Client:\n"
        "    def send(\n"
        "        self,\n"
        "        request,\n"
        "    ) -> Response:\n"
        "        auth = self._auth\n"
        "        return auth\n"
    )
    before, window = _split(text, "        return auth")
    assert scope_header(before, window, "python") == (
        "class Client:\n    def send(\n        self,\n        request,\n    ) -> Response:\n"
    )


def test_a_window_inside_a_docstring_gets_its_opening_quotes() -> None:
    text = (
        "def words_string(s):\n"
        '    """\n'
        "    Split the words.\n"
        "    words_string('a, b') == ['a', 'b']\n"
        '    """\n'
        "    return s.split()\n"
    )
    before, window = _split(text, "    words_string('a, b')")
    assert scope_header(before, window, "python") == 'def words_string(s):\n    """\n'
    # Past the docstring's end: no quotes to open.
    before, window = _split(text, "    return s.split()")
    assert scope_header(before, window, "python") == "def words_string(s):\n"


def test_a_comment_further_out_does_not_end_the_walk() -> None:
    text = "class Store:\n    def put(self, key):\n# Note:\n        self.key = key\n"
    before, window = _split(text, "        self.key")
    assert scope_header(before, window, "python") == "class Store:\n    def put(self, key):\n"


def test_single_quoted_docstrings_are_opened_too() -> None:
    text = "def f(x):\n    '''\n    Double x.\n    '''\n    return 2 * x\n"
    before, window = _split(text, "    Double x.")
    assert scope_header(before, window, "python") == "def f(x):\n    '''\n"


def test_a_signature_that_never_ends_is_left_out_its_class_is_kept() -> None:
    params = "".join(f"        a{i},\n" for i in range(20))
    text = "class C:\n    def f(\n" + params + "    ):\n        return 1\n"
    before, window = _split(text, "        a19,")
    # The window starts inside the signature: the ``def`` line never ends with ``:`` in time.
    assert scope_header(before, window, "python") == "class C:\n"


def test_an_over_long_definition_line_is_left_out() -> None:
    text = f"def f({', '.join(f'a{i}' for i in range(80))}):\n    x = 1\n    y = 2\n"
    before, window = _split(text, "    y = 2")
    assert scope_header(before, window, "python") == ""


_JS = """\
export class Parser {
  constructor(options) {
    this.options = options;
  }

  parse(text) {
    for (const line of text) {
      if (line) {
        this.feed(line);
      }
    }
  }
}
"""


def test_javascript_keeps_the_class_and_the_method_not_the_loops() -> None:
    before, window = _split(_JS, "        this.feed(line);", cursor="      }\n    }")
    assert scope_header(before, window, "c_like") == "export class Parser {\n  parse(text) {\n"


def test_javascript_closing_braces_above_do_not_end_the_walk() -> None:
    text = "function outer() {\n  const a = () => {\n    return 1;\n  };\n  const b = 2;\n}\n"
    before, window = _split(text, "  const b = 2;")
    assert scope_header(before, window, "c_like") == "function outer() {\n"


@pytest.mark.parametrize("family", ["default", "lua", ""])
def test_other_block_grammars_get_nothing(family: str) -> None:
    assert scope_header(_CLASS, "            self.items[key] = value\n", family) == ""


def test_a_cut_window_starts_with_the_header_and_keeps_it_while_the_cursor_moves() -> None:
    body = "".join(f"        total += {i}\n" for i in range(60))
    text = "class Sum:\n    def add(self, total):\n" + body + "        return total\n"
    at = text.index("        return")
    first = build_window(text, at, 120, 0, len, 1, None, "python")
    assert first.prefix.startswith("class Sum:\n    def add(self, total):\n        total += ")
    assert first.prefix.endswith("        total += 59\n")
    # Typing on: the same window start, so the same header, and the model's KV cache matches.
    second = build_window(text, at + 8, 128, 0, len, 1, None, "python")
    assert second.prefix.startswith(first.prefix)


def test_a_window_that_holds_the_whole_start_gets_no_header() -> None:
    text = "def f(x):\n    y = x\n    return y\n"
    window = build_window(text, text.index("    return"), 500, 0, len, 1, None, "python")
    assert window.prefix == "def f(x):\n    y = x\n"


def test_without_a_family_the_window_is_unchanged() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(40))
    text = "def f():\n" + body
    window = build_window(text, len(text), 60, 0, len, 1)
    assert not window.prefix.startswith("def f")


def _split(text: str, line: str, cursor: str | None = None) -> tuple[str, str]:
    """(text above the line that starts with ``line``, text from it to ``cursor`` or to the
    end of that line): a window is a prompt's prefix, it ends at the cursor."""
    at = text.index(line)
    end = text.index(cursor, at) if cursor else text.index("\n", at) + 1
    return text[:at], text[at:end]

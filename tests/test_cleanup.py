"""Clean-up rules: each one fires where the raw answer is wrong and leaves real code alone.

Documents are written with a ``█`` where the cursor is; ``clean_at`` returns what the user would
see, and ``accept`` the document after accepting it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codestral_ls.cleanup import (
    BUILTIN_SPECIAL_TOKENS,
    CleanupContext,
    answer_complete,
    clean,
    cut_loop,
    open_word,
)
from codestral_ls.modes import Mode, choose_mode


def ctx_at(
    doc: str, language: str = "python", tokens: tuple[str, ...] = (), mode: Mode | None = None
) -> CleanupContext:
    """The engine's context; ``mode`` overrides ``choose_mode`` to test one mode's rules."""
    prefix, suffix = doc.split("█")
    mode = mode or choose_mode(prefix, suffix, language)
    return CleanupContext(prefix, suffix, language, mode, tokens)


def clean_at(
    doc: str,
    raw: str,
    language: str = "python",
    tokens: tuple[str, ...] = (),
    mode: Mode | None = None,
) -> str:
    return clean(raw, ctx_at(doc, language, tokens, mode))


def accept(doc: str, raw: str, language: str = "python", mode: Mode | None = None) -> str:
    return doc.replace("█", clean_at(doc, raw, language, mode=mode))


def streamed(doc: str, raw: str, language: str = "python", step: int = 3) -> str:
    """What the engine receives when it stops at ``answer_complete``."""
    ctx = ctx_at(doc, language)
    partial = ""
    for i in range(0, len(raw), step):
        partial += raw[i : i + step]
        if answer_complete(partial, ctx):
            break
    return partial


# --------------------------------------------------------------------------- special tokens


@pytest.mark.parametrize("token", BUILTIN_SPECIAL_TOKENS)
def test_no_special_token_reaches_the_user(token: str) -> None:
    raw = f"total += x{token}\n    return total"
    assert clean_at("def f(xs):\n    total = 0\n    for x in xs:\n        █", raw) == "total += x"


@settings(max_examples=50, deadline=None)
@given(
    before=st.text(alphabet="ab(){}[]<>|\n _:=\"'", max_size=30),
    token=st.sampled_from(BUILTIN_SPECIAL_TOKENS),
    after=st.text(max_size=30),
    where=st.sampled_from(["x = █", "def f():\n    █", "f(█)", "█    return 1\n"]),
)
def test_no_special_token_survives_any_surrounding_text(
    before: str, token: str, after: str, where: str
) -> None:
    out = clean_at(where, before + token + after)
    assert not any(t in out for t in BUILTIN_SPECIAL_TOKENS)


def test_family_stop_tokens_from_the_context_cut_too() -> None:
    assert clean_at("x = █", "42<custom_end>junk", tokens=("<custom_end>",)) == "42"


def test_unknown_token_shaped_text_is_cut() -> None:
    assert clean_at("x = █", "42<|some_new_marker|>junk") == "42"


def test_a_token_half_written_when_generation_stopped_is_dropped() -> None:
    assert clean_at("x = █", "42<|endo") == "42"
    assert clean_at("x = █", "42 [SUFF") == "42"


@pytest.mark.parametrize(
    "raw",
    ["a < b and c > d", "x[0] + y[1]", '"<div>" + tag', "a <= b", "items[SIZE]", "a<b>c"],
)
def test_code_that_looks_a_little_like_a_token_is_kept(raw: str) -> None:
    assert clean_at("x = █", raw) == raw


# --------------------------------------------------------------------------- line mode


def test_line_mode_keeps_one_line() -> None:
    assert clean_at("x = 1\ny = █", "2\nz = 3\n") == "2"


def test_line_mode_on_an_empty_line_drops_leading_newlines_without_double_indent() -> None:
    doc = "def f(x):\n    y = x\n    █\n    return y\n"
    assert clean_at(doc, "\n    y += 1\n") == "y += 1"
    assert clean_at("def f(x):\n    y = x\n    █", "\n    return y\n") == "return y"


def test_next_line_suggestion_after_a_finished_line() -> None:
    assert clean_at("x = 1█", "\ny = 2\nz = 3") == "\ny = 2"


def test_a_next_line_left_open_keeps_its_statement_or_nothing() -> None:
    # httpx's _client.py:481 in benchmarks/real_use.py: `return Request(` was shown alone
    doc = "def f(self, request):\n    url = self.url(request)█\n    return url\n"
    ctx = ctx_at(doc)
    assert ctx.mode is Mode.LINE
    raw = "\n    request = Request(\n        method,\n        url,\n    )\n    x = 1\n"
    assert clean(raw, ctx) == "\n    request = Request(\n        method,\n        url,\n    )"
    partial = streamed(doc, raw)  # streams past the first line, stops after the closer
    assert "method" in partial and len(partial) < len(raw)
    assert clean(partial, ctx) == clean(raw, ctx)
    assert not answer_complete("\n    return Request(\n        method,\n", ctx)
    # cut before its closer (max_tokens, the time budget): nothing rather than a fragment
    assert clean("\n    return Request(\n        method,\n", ctx) == ""
    # on a line of its own too
    blank = "def f(self, request):\n    url = self.url(request)\n    █"
    assert clean_at(blank, "return Request(\n        url,\n    )\n") == (
        "return Request(\n        url,\n    )"
    )
    assert clean_at(blank, "return Request(\n        url,\n") == ""
    # a line that is whole stays one line; a JS block opener is not left open
    assert clean(raw.replace("Request(", "Request()"), ctx) == "\n    request = Request()"
    js = "function f(a) {\n  const b = a;█\n}\n"
    assert clean_at(js, "\n  if (b) {\n    g();\n  }\n", "javascript") == "\n  if (b) {"


def test_a_line_break_inside_a_gap_on_the_line_is_dropped() -> None:
    assert clean_at("foo(a, █)", "\n    b") == ""


# --------------------------------------------------------------------------- repeating the suffix


def test_block_stops_where_the_suffix_starts_repeating() -> None:
    doc = "def f(xs):\n█    return result\n"
    raw = "    result = []\n    for x in xs:\n        result.append(x)\n    return result\n"
    assert accept(doc, raw, mode=Mode.BLOCK) == (
        "def f(xs):\n    result = []\n    for x in xs:\n        result.append(x)\n"
        "    return result\n"
    )


def test_a_gap_answer_that_reaches_the_code_below_fills_the_gap() -> None:
    doc = "def f(xs):\n    result = []\n█    return result\n"
    raw = "    result.extend(xs)\n    result.sort()\n    return result\n"
    assert accept(doc, raw) == (
        "def f(xs):\n    result = []\n    result.extend(xs)\n    result.sort()\n    return result\n"
    )


def test_a_gap_answer_that_never_reaches_the_code_below_keeps_one_line() -> None:
    doc = "def f(xs):\n    result = []\n█    return result\n"
    raw = "    result.extend(xs)\n    print(result)\n    log(xs)\n"
    assert accept(doc, raw) == (
        "def f(xs):\n    result = []\n    result.extend(xs)\n    return result\n"
    )
    # the model's answer leaves the body before it comes back: one line as well
    raw = "    result.extend(xs)\nprint(1)\n    return result\n"
    assert clean_at(doc, raw) == "    result.extend(xs)\n"


#: A gap in a loop's body, the body's last line below the cursor.
_LOOP = "def f(x):\n    while x > 0:\n        x -= 1\n█        value = compute(x)\n"
#: The same in a method whose signature is written over several lines.
_UNDER_SIGNATURE = (
    "class A:\n    def f(\n        self, x\n    ) -> int:\n        while x > 0:\n"
    "            x -= 1\n█            value = compute(x)\n        return value\n"
)


@pytest.mark.parametrize(
    ("doc", "raw", "kept", "language"),
    [
        # HumanEval/32: the gap spans the end of a loop and the head of the next one, whose
        # body is the code below
        (
            _LOOP + "    return value\n",
            "        x -= 2\n    while x < 10:\n        value = compute(x)\n    return value\n",
            "        x -= 2\n    while x < 10:\n",
            "python",
        ),
        # a signature over several lines above: its `) -> int:` is not the function's level
        (
            _UNDER_SIGNATURE,
            "            x -= 2\n        while x < 10:\n            value = compute(x)\n",
            "            x -= 2\n        while x < 10:\n",
            "python",
        ),
    ],
)
def test_a_gap_answer_may_leave_the_block_and_come_back_inside_its_function(
    doc: str, raw: str, kept: str, language: str
) -> None:
    assert clean_at(doc, raw, language) == kept
    # the stream is not stopped where the block ends: the way back comes later
    assert streamed(doc, raw, language).startswith(kept)


@pytest.mark.parametrize(
    ("doc", "raw", "kept", "language"),
    [
        # out of the function before it comes back
        (
            _LOOP,
            "        x -= 2\nprint(x)\n    while x < 10:\n        value = compute(x)\n",
            "        x -= 2\n",
            "python",
        ),
        # wandering on: more than three lines after the block before the way back
        (
            _LOOP,
            "        x -= 2\n    a = 1\n    b = 2\n    c = 3\n    while x < 10:\n"
            "        value = compute(x)\n",
            "        x -= 2\n",
            "python",
        ),
        # out of the method (its signature's `) -> int:` is not where the method begins)
        (
            _UNDER_SIGNATURE,
            "            x -= 2\n    def g(self, x):\n        while x < 10:\n"
            "            value = compute(x)\n",
            "            x -= 2\n",
            "python",
        ),
        # top-level code has no function to stay in
        (
            "while x > 0:\n    x -= 1\n█    value = compute(x)\nprint(value)\n",
            "    x -= 2\nwhile x < 10:\n    value = compute(x)\n",
            "    x -= 2\n",
            "python",
        ),
        # a brace language: a method or an arrow function is no definition to find (in
        # benchmarks/real_holes.py such answers wandered through their class for seconds)
        (
            "function f(x) {\n  while (x > 0) {\n    x -= 1;\n█    const v = compute(x);\n"
            "  }\n  return v;\n}\n",
            "    x -= 2;\n  }\n  while (x < 10) {\n    const v = compute(x);\n  }\n",
            "    x -= 2;\n",
            "javascript",
        ),
    ],
)
def test_a_gap_answer_that_leaves_its_function_first_keeps_one_statement(
    doc: str, raw: str, kept: str, language: str
) -> None:
    assert clean_at(doc, raw, language) == kept


def test_a_gap_stream_stops_once_the_answer_leaves_its_function() -> None:
    ctx = ctx_at(_LOOP)
    assert not answer_complete("        x -= 2\n    while x < 10:\n", ctx)
    assert answer_complete("        x -= 2\nprint(x)\n", ctx)
    assert answer_complete("        x -= 2\n    a = 1\n    b = 2\n    c = 3\n    d", ctx)


def test_a_gap_answer_that_never_comes_back_keeps_a_whole_first_statement() -> None:
    doc = "def f(xs):\n    result = []\n█    return result\n"
    raw = "    if not xs:\n        return []\n    xs.sort()\n    print(xs)\n"
    assert accept(doc, raw) == (
        "def f(xs):\n    result = []\n    if not xs:\n        return []\n    return result\n"
    )
    # nested: the statement ends where the model's text leaves it
    raw = "    for x in xs:\n        if x:\n            result.append(x)\n    log(xs)\n"
    assert clean_at(doc, raw) == "    for x in xs:\n        if x:\n            result.append(x)\n"
    # a brace language keeps the statement with its closing bracket
    doc = "function f(xs) {\n  const r = [];\n█  return r;\n}\n"
    raw = "  if (!xs) {\n    return [];\n  }\n  console.log(xs);\n"
    assert clean_at(doc, raw, "javascript") == "  if (!xs) {\n    return [];\n  }\n"


def test_a_gap_statement_over_several_lines_keeps_its_closing_bracket() -> None:
    # httpx's _client.py, Enter after a line: the call's arguments one a line, then `)`
    doc = "def f(self, url):\n    x = 1\n    █\n    if x:\n        pass\n"
    raw = "request = Request(\n        url,\n        x=x,\n    )\n\ndef g():\n"
    assert clean_at(doc, raw) == "request = Request(\n        url,\n        x=x,\n    )"
    # never closed (cut by max_tokens): the first line alone would not parse
    assert clean_at(doc, "return Request(\n        url,\n        x=x,\n") == ""
    # a condition over several lines opens a block: its body is needed as before
    raw = "if check(\n        x):\n        return x\n    log(x)\n"
    assert clean_at(doc, raw) == "if check(\n        x):\n        return x"


def test_a_gap_opener_without_a_usable_body_is_not_suggested() -> None:
    doc = "def f(xs):\n    result = []\n█    return result\n"
    assert clean_at(doc, "    if not xs:\n    xs = []\n    log(xs)\n") == ""  # no body
    # the body is the code below again, wrapped in a branch
    assert clean_at(doc, "    if xs:\n        return result\n    return None\n") == ""
    # the body ends on an opener of its own: nothing left but the first line
    assert clean_at(doc, "    for x in xs:\n        if x:\n    log(xs)\n") == ""
    doc = "function f(xs) {\n  const r = [];\n█  return r;\n}\n"
    assert clean_at(doc, "  if (!xs) {\n    return [];\n", "javascript") == ""  # never closed


def test_a_gap_opener_whose_body_is_the_code_below_stays_one_line() -> None:
    doc = "def f(n):\n    total = 0\n█        total += 1\n    return total\n"
    raw = "    for i in range(n):\n        print(i)\n    log(n)\n"
    assert clean_at(doc, raw) == "    for i in range(n):\n"


def test_a_gap_answer_stops_at_its_own_take_on_the_next_line() -> None:
    doc = "def f(words):\n    m = {}\n█    return ' '.join(sorted(w for w in words if w))\n"
    raw = "    m['a'] = 1\n    return ' '.join(sorted(words))\n\ndef g():\n"
    assert clean_at(doc, raw) == "    m['a'] = 1\n"
    # a short or different line is not taken for the next line
    raw = "    m['a'] = 1\n    m['b'] = 2\n    return ' '.join(sorted(w for w in words if w))\n"
    assert clean_at(doc, raw) == "    m['a'] = 1\n    m['b'] = 2\n"


def test_a_gap_may_end_on_an_opener_whose_body_is_the_code_below() -> None:
    doc = "def f(n):\n    total = 0\n█            total += 1\n    return total\n"
    raw = "    for i in range(n):\n        if i % 2:\n            total += 1\n    return total\n"
    assert clean_at(doc, raw) == "    for i in range(n):\n        if i % 2:\n"


def test_a_branch_that_wraps_the_code_below_is_cut() -> None:
    doc = "def f(xs):\n    if not xs:\n        █\n    return sorted(xs)\n"
    raw = "return []\n    else:\n        return sorted(xs)\n"
    assert clean_at(doc, raw) == "return []"
    # an else branch with its own body stays
    raw = "return []\n    else:\n        xs = list(xs)\n"
    assert clean_at(doc, raw) == "return []\n    else:\n        xs = list(xs)"


def test_a_block_does_not_end_on_an_opener_without_its_body() -> None:
    doc = "def f(x):\n    █\n\n\ndef g():\n    pass\n"
    raw = "y = x + 1\n    if y:\ndef h():\n"
    assert clean_at(doc, raw) == "y = x + 1"


def test_the_same_line_deeper_inside_the_block_is_not_a_repeat() -> None:
    doc = "def f(xs):\n█    return result\n"
    raw = "    if not xs:\n        return result\n    result = xs\n    return result\n"
    assert clean_at(doc, raw, mode=Mode.BLOCK) == (
        "    if not xs:\n        return result\n    result = xs\n"
    )


def test_a_closing_brace_that_closes_an_inner_block_is_not_a_repeat() -> None:
    doc = "function f(a) {\n  █\n  }\n}\n"
    raw = "if (a) {\n    b();\n  }\n  if (c) {\n    d();\n  }\n}\n"
    # The first `  }` closes the model's own `if`; the second one repeats the suffix.
    assert clean_at(doc, raw, "javascript", mode=Mode.BLOCK) == (
        "if (a) {\n    b();\n  }\n  if (c) {\n    d();"
    )


def test_repeating_the_rest_of_the_line_is_cut() -> None:
    assert clean_at("x = █ + 1", "a + 1") == "a"
    assert accept("x = █ + 1", "a + 1") == "x = a + 1"


def test_retyped_punctuation_at_the_end_of_the_line_is_not_doubled() -> None:
    assert accept("if x█:", " > 0:") == "if x > 0:"
    assert accept("let y = █;", "5;", "javascript") == "let y = 5;"
    assert accept("total = █ + f(x)", "a + f(x)") == "total = a + f(x)"


def test_a_copy_that_closes_the_answers_own_bracket_is_kept() -> None:
    assert accept("print(█)", "f(a)") == "print(f(a))"
    assert accept("x = [█]", "[1], [2]") == "x = [[1], [2]]"


def test_an_answer_that_is_only_the_next_line_is_dropped() -> None:
    assert clean_at("x = 1\n█\ny = 2\n", "y = 2") == ""
    assert clean_at("def f():\n█    return 1\n", "    return 1\n    return 1\n") == ""


def test_a_different_next_line_is_kept() -> None:
    assert clean_at("x = 1\n█\ny = 2\n", "z = 3") == "z = 3"


# --------------------------------------------------------------------------- balance


def test_closing_brackets_already_on_the_right_are_not_doubled() -> None:
    assert accept("print(foo(█))", "a, b))\n") == "print(foo(a, b))"
    assert accept("xs = [█]", "1, 2]") == "xs = [1, 2]"


def test_brackets_the_answer_opens_itself_are_kept() -> None:
    assert accept("print(█)", "f(a), b)") == "print(f(a), b)"
    assert accept("x = █", "f(a)") == "x = f(a)"


def test_closing_quote_already_on_the_right_is_not_doubled() -> None:
    assert accept('s = "hel█"', 'lo world"') == 's = "hello world"'


def test_quotes_and_brackets_inside_strings_are_not_counted() -> None:
    assert accept("print(█)", '"a)" + b)') == 'print("a)" + b)'
    assert accept("say(█)", '"don\'t")', "ruby") == 'say("don\'t")'


# --------------------------------------------------------------------------- blocks


def test_python_block_stops_at_the_first_line_that_dedents_out() -> None:
    doc = "def f(x):\n    █"
    raw = "return x + 1\n\n\ndef g():\n    pass\n"
    assert clean_at(doc, raw) == "return x + 1"


def test_a_block_after_an_opener_stops_at_the_end_of_that_body() -> None:
    # with code below, and while typing anywhere
    doc = "class A:\n    def f(self, n):\n        if n < 2:\n            █\n\nx = 1\n"
    raw = "return n\n        return n * 2\n\n    def g(self):\n        pass\n"
    assert clean_at(doc, raw) == "return n"
    at_end = "class A:\n    def f(self, n):\n        if n < 2:\n            █"
    assert clean(raw, _brief(at_end)) == "return n"
    assert not answer_complete("return n\n", _brief(at_end))
    assert answer_complete("return n\n        return n", _brief(at_end))


def test_asked_at_the_end_of_a_file_a_block_runs_to_the_end_of_its_definition() -> None:
    # HumanEval/32: `else:` at the end of the file, its body, then the function's `return`
    doc = "class A:\n    def f(self, n):\n        if n < 2:\n            █"
    raw = "return n\n        return n * 2\n\n    def g(self):\n        pass\n"
    assert clean_at(doc, raw) == "return n\n        return n * 2"
    assert not answer_complete("return n\n        return n * 2\n", ctx_at(doc))
    assert answer_complete("return n\n        return n * 2\n\n    def g", ctx_at(doc))
    # an opener at the definition's own level is that definition: its body as before
    assert clean_at("def f(x):\n    █", "return x + 1\n\n\ndef g():\n    pass\n") == (
        "return x + 1"
    )


def test_python_block_keeps_else_and_except_clauses() -> None:
    doc = "def f(x):\n    █"
    raw = "if x:\n        return 1\n    else:\n        return 2\n\nprint(f(1))\n"
    assert clean_at(doc, raw) == "if x:\n        return 1\n    else:\n        return 2"


def test_block_after_an_opener_at_the_end_of_the_line() -> None:
    doc = "def f(x):█"
    assert clean_at(doc, "\n    return x\n\n\nclass A:\n") == "\n    return x"
    assert clean_at(doc, "\n\n\n    return x\n") == "\n    return x"


#: hypothesis' core.py after Enter at the end of a method: the model wrote `)`.
_METHOD_END = (
    "class S:\n    def example(self):\n"
    '        self.__not_first_class("example")\n        █\n\n'
    "    def flatmap(self):\n        pass\n"
)
#: pygls' json_rpc.py, an empty line in an `if` body: an alternative written one level out
#: (`elif`) lost its indentation to the 12 spaces already typed.
_IF_BODY = (
    "def f(handler):\n    if a(handler):\n        future = b()\n        █\n"
    "        future.done()\n    elif c(handler):\n        pass\n"
)


@pytest.mark.parametrize(
    ("doc", "raw"),
    [
        (_METHOD_END, ")\n"),  # closes what is not open
        (_METHOD_END, "])\n"),
        # a clause with nothing to continue (the answer comes back to the code below, so
        # every line before it would be kept)
        (_IF_BODY, "elif d(handler):\n        future = e()\n        future.done()\n"),
        (_IF_BODY, "else:\n        future = e()\n        future.done()\n"),
    ],
)
def test_a_line_with_nothing_to_attach_to_is_no_suggestion(doc: str, raw: str) -> None:
    assert clean_at(doc, raw) == ""


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (_METHOD_END, "return None", "python"),
        (_IF_BODY, "self.keep(future)", "python"),
        # a call left open above: its closing bracket is the suggestion
        ("def f(x):\n    y = g(\n        x,\n        1\n    █\n    return y\n", ")", "python"),
        # the line above goes on (the window may have started inside the bracket)
        ("        a,\n        b,\n    █\n    return y\n", ")", "python"),
        # brace languages are left alone: a function's `{` may lie beyond what the scan sees
        ("    a();\n    b();\n  █\n", "}", "javascript"),
        # after a body, at the level of its `if`: the clause continues it
        ("def f(x):\n    if x:\n        a()\n    █\n", "else:\n        b()", "python"),
        # a one-line `if` above at the same level
        ("def f(x):\n    if x: a()\n    █\n", "else: b()", "python"),
    ],
)
def test_a_line_that_attaches_to_the_code_above_stays(doc: str, raw: str, language: str) -> None:
    first = raw.split("\n", 1)[0]
    assert clean_at(doc, raw + "\n", language).split("\n", 1)[0].strip() == first


# --------------------------------------------------------------------------- stranded code

#: HumanEval/113 (multi-line, L0_L0): the model ended the function above its own loop.
_BEFORE_A_LOOP = 'def f(lst):\n    """Doc."""\n█    for arr in lst:\n        res.append(arr)\n'


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (_BEFORE_A_LOOP, "    return res\n", "python"),
        (_BEFORE_A_LOOP, "    raise ValueError(\n        lst\n    )\n", "python"),  # over lines
        # a comment between does not make the code below reachable
        ("def f(x):\n    █\n    # then\n    y = x\n", "return x", "python"),
        # deeper code after a jump does not even parse (HumanEval/20, L9_L12)
        ("def f(x):\n    █\n        y = x\n", "return x", "python"),
        # after a finished line, the next line is a jump above code of the same block
        ("def f(x):\n    y = g(x)█\n    log(y)\n", "\n    return y", "python"),
        ("function f(a) {\n  █\n  foo(a);\n}\n", "return a;\n", "javascript"),
        ("function f(a) {\n  █\n  foo(a);\n}\n", "throw new Error(a);\n", "typescript"),
        ("for (const x of xs) {\n  █\n  use(x);\n}\n", "continue;\n", "javascript"),
    ],
)
def test_a_jump_above_code_of_its_own_block_is_no_suggestion(
    doc: str, raw: str, language: str
) -> None:
    assert clean_at(doc, raw, language) == ""


@pytest.mark.parametrize(
    ("doc", "raw", "kept"),
    [
        # its last statement, in an answer that came back to the code below
        (_BEFORE_A_LOOP, "    res = []\n    return res\n    for arr in lst:\n", "    res = []\n"),
        # a signature finished, then a body of the model's own above the real one (httpx's
        # _auth.py:169 in real_holes.py)
        (
            "class A:\n    def f(self, name:█\n        return name.upper()\n",
            " str) -> str:\n        # Upper case.\n        return name\n",
            " str) -> str:",
        ),
    ],
)
def test_a_jump_that_strands_the_code_below_is_cut_from_the_answer(
    doc: str, raw: str, kept: str
) -> None:
    assert clean_at(doc, raw) == kept


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        # the jump is inside a block of the answer's own
        (_BEFORE_A_LOOP, "    if not lst:\n        return []\n", "python"),
        ("function f(a) {\n  █\n  foo(a);\n}\n", "if (!a) {\n    return;\n  }\n", "javascript"),
        # what follows continues the statement or closes the block
        ("def f(x):\n    try:\n        █\n    except E:\n        pass\n", "return g(x)", "python"),
        ("def f(x):\n    if x:\n        █\n    y = 1\n", "return 1", "python"),
        ("function f(a) {\n  █\n}\n", "return a;", "javascript"),
        ("switch (a) {\n  case 1:\n    █\n  case 2:\n    b();\n}\n", "return 1;", "javascript"),
        ("switch (a) {\n  case 1:\n    █\n  default:\n    b();\n}\n", "break;", "javascript"),
        # a function declaration below is hoisted: it runs when called
        ("function f(a) {\n  █\n  function g() {}\n}\n", "return g(a);", "javascript"),
        # the user typed the jump: it is theirs to make
        ("def f(x):\n    ret█\n    log(x)\n", "urn x", "python"),
        ("def f(x):\n    return █\n    log(x)\n", "x", "python"),
        # a statement that goes on below, and a language whose jumps take modifiers
        ("def f(x):\n    █\n    log(x)\n", "y = x", "python"),
        ("def f(x)\n  █\n  log(x)\nend\n", "return x if x", "ruby"),
    ],
)
def test_a_jump_that_leaves_no_code_unreachable_stays(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language).strip() == raw.strip()


#: HumanEval/66 and /159 (single-line, L0): an empty line, cursor at column 0, in a body.
_BODY_GAP = 'def f(s):\n    """Doc."""\n\n█\n    return sum(s)\n'
_CLASS_GAP = "class A:\n    def a(self):\n        return 1\n█\n    def b(self):\n        pass\n"


@pytest.mark.parametrize(
    ("doc", "raw"),
    [
        (_BODY_GAP, 'if __name__ == "__main__":\n'),
        (_BODY_GAP, "print(f('ab'))\n"),
        (_BODY_GAP.replace("\n█\n", "\n█"), "s = s.strip()\n"),  # at the line's start
        # the body its opener asks for (HumanEval/159: the code below is deeper still)
        ('def f(s):\n    """Doc."""\n█\n        return [s]\n    else:\n        pass\n', "if s:\n"),
        ("def f(s):\n█\n    return s\n", "s = s.strip()\n"),
        # a top-level definition in the middle of a class
        (_CLASS_GAP, "def helper():\n    pass\n"),
        # an opener right above left without a body (HumanEval/96 L5_L5, /117 L4_L4)
        ("def f(xs):\n    for x in xs:\n        if x:\n█\n            break\n", "    use(x)\n"),
        ("def f(xs):\n    for x in xs:\n█\n            g(x)\n", "    if x:\n"),
        # deeper code right after a plain statement: an unexpected indent
        ("def f(xs):\n    for x in xs:\n        a = 1\n█\n            g(x)\n", "        b = 2\n"),
    ],
)
def test_a_line_that_leaves_the_body_it_is_written_in_is_no_suggestion(doc: str, raw: str) -> None:
    assert clean_at(doc, raw) == ""


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (_BODY_GAP, "    s = s.strip()\n", "python"),
        (_CLASS_GAP, "    def c(self):\n        pass\n", "python"),
        # a continuation clause dedents to its statement
        ("def f(x):\n    if x:\n        a()\n█\n        b()\n", "    else:\n", "python"),
        # a comment may sit anywhere; inside brackets any indentation goes
        (_BODY_GAP, "# strip first\n", "python"),
        ("def f(x):\n    y = [\n        1,\n█\n        3]\n", "2,\n", "python"),
        # out of a loop into a block whose body is the code below (HumanEval/140 L15_L17)
        ("def f(s):\n    while s:\n        i += 1\n█\n        s += 1\n", "    if s:\n", "python"),
        # after the body, back at the level of the code below (the next method)
        (_CLASS_GAP.replace("█\n", "\n█"), "    def c(self):\n        pass\n", "python"),
        # brace languages: indentation is only layout
        ("function f(s) {\n  const t = 1;\n█\n  return t;\n}\n", "let u = 2;\n", "javascript"),
    ],
)
def test_a_line_that_stays_in_its_body_is_kept(doc: str, raw: str, language: str) -> None:
    kept = clean_at(doc, raw, language)
    assert kept.strip() and raw.startswith(kept.rstrip("\n"))


def test_brace_block_keeps_its_closer_when_the_document_lacks_it() -> None:
    doc = "function f(a) {\n  █"
    raw = "return a + 1;\n}\n\nfunction g() {}\n"
    assert clean_at(doc, raw, "javascript") == "return a + 1;\n}"


def test_brace_block_drops_its_closer_when_the_document_has_it() -> None:
    doc = "function f(a) {\n  █\n}\n\nfunction h() {}\n"
    raw = "return a + 1;\n}\n\nfunction g() {}\n"
    assert clean_at(doc, raw, "javascript") == "return a + 1;"


def test_between_braces_the_closer_lands_on_its_own_line() -> None:
    doc = "function f(a) {█}"
    assert accept(doc, "\n  return a;\n}\n", "javascript") == "function f(a) {\n  return a;\n}"


def test_go_and_rust_and_lua_and_bash_blocks() -> None:
    assert clean_at("func f() int {\n\t█\n}\n", "return 1\n}\n", "go") == "return 1"
    assert clean_at("fn f() -> i32 {\n    █\n}\n", "1\n}\nfn g() {}", "rust") == "1"
    lua = "function f(a)\n  █\nend\n"
    assert clean_at(lua, "if a then\n    return 1\n  else\n    return 2\n  end\nend\n", "lua") == (
        "if a then\n    return 1\n  else\n    return 2\n  end"
    )
    sh = "if [ -f x ]; then\n  █\nfi\n"
    assert clean_at(sh, "echo yes\nelse\n  echo no\nfi\n", "shellscript") == (
        "echo yes\nelse\n  echo no"
    )


def test_inserting_lines_above_code_keeps_that_code_on_its_own_line() -> None:
    doc = "def f(x):\n█    return x\n"
    assert (
        accept(doc, "    x = x * 2\n    return x\n") == "def f(x):\n    x = x * 2\n    return x\n"
    )


def test_a_body_inserted_above_code_stops_where_that_body_ends() -> None:
    doc = "def f(xs):\n    for x in xs:\n        if x:\n█    return 0\n"
    raw = "            return x\n        print(x)\n    return 0\n"
    assert clean_at(doc, raw) == "            return x\n"


# --------------------------------------------------------------------------- whitespace


def test_at_the_end_of_the_file_the_body_goes_on_to_the_end_of_its_function() -> None:
    doc = "def f(x):\n    y = x + 1\n    █"
    raw = "if y > 2:\n        y = 2\n    return y\n\n\ndef g():\n    pass\n"
    assert clean_at(doc, raw) == "if y > 2:\n        y = 2\n    return y"
    # HumanEval/74: the last branch of an if, then its body
    doc = "def f(a, b):\n    if len(a) <= len(b):\n        return a\n█"
    assert clean_at(doc, "    else:\n        return b\n\n\nprint(f([], []))\n") == (
        "    else:\n        return b"
    )
    # a statement cut before its closing bracket (max_tokens) is left out
    cut = "    return b + g(\n        a,\n"
    assert clean_at(doc, "    else:\n        return b\n" + cut) == "    else:\n        return b"
    # while typing it is the first statement; the next comes after accepting it
    doc = "def f(x):\n    y = x + 1\n    █"
    assert clean(raw, _brief(doc)) == "if y > 2:\n        y = 2"
    assert answer_complete("if y > 2:\n        y = 2\n    return y\n", _brief(doc))
    assert not answer_complete("if y > 2:\n        y = 2\n    return y\n", ctx_at(doc))


def test_gap_fill_stops_at_a_line_outside_the_definition() -> None:
    doc = 'def f(xs):\n    """Doc."""\n█    return sum(xs)\n'
    raw = "    m = len(xs)\n    xs = xs[:m]\n\n\nif __name__ == '__main__':\n    print(f([1]))\n"
    assert clean_at(doc, raw, mode=Mode.BLOCK) == "    m = len(xs)\n    xs = xs[:m]\n"


def test_trailing_whitespace_and_blank_lines_are_trimmed() -> None:
    assert clean_at("x = █", "1   \n") == "1"
    assert clean_at("def f():\n    █", "a = 1  \n    return a\t\n\n\n") == "a = 1\n    return a"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", " \n\t\n"])
def test_empty_answers_are_dropped(raw: str) -> None:
    assert clean_at("x = █", raw) == ""
    assert clean_at("def f():\n    █", raw) == ""


def test_leading_blank_lines_of_a_block_are_not_left_behind() -> None:
    assert clean_at("def f():\n    █", "\n\nreturn 1") == "return 1"


# ------------------------------------------------------------ repeats of the line above


def test_an_answer_that_only_repeats_the_line_above_is_dropped() -> None:
    assert clean_at("xs.append(1)\n█", "xs.append(1)\n") == ""
    assert clean_at("xs.append(1)\nxs.app█", "end(1)") == ""


def test_a_similar_but_different_line_is_kept() -> None:
    assert clean_at("xs.append(1)\n█", "xs.append(2)") == "xs.append(2)"


# --------------------------------------------------------------------------- chat wrapping


def test_code_fences_are_unwrapped() -> None:
    assert clean_at("x = █", "```python\nx = 5\n```") == "5"
    assert clean_at("def f():\n    █", "```\nreturn 1\n```\nDone.") == "return 1"


def test_prose_lead_in_is_dropped_and_fenced_code_kept() -> None:
    raw = "Sure! Here is the completion:\n```python\nreturn x * 2\n```\nThis doubles x."
    assert clean_at("def f(x):\n    █", raw) == "return x * 2"


def test_prose_only_is_dropped() -> None:
    assert clean_at("def f(x):\n    █", "Here is the missing code for the function.") == ""


def test_a_closing_fence_then_prose_is_no_suggestion() -> None:
    # the end of a module: the model closes a code block it imagined and explains it
    raw = "```\n\nThis code snippet defines a class `Client` that makes HTTP requests."
    assert clean_at("    async def close(self):\n        await self.aclose()\n        █", raw) == ""
    # a bare fence that opens code right away is still unwrapped
    assert clean_at("def f():\n    █", "```\nreturn 1\n```") == "return 1"


def test_fence_after_code_is_cut() -> None:
    assert clean_at("def f(x):\n    █", "return x\n```\nExplanation") == "return x"


def test_fences_and_prose_are_content_in_markdown_and_comments() -> None:
    assert clean_at("# Title\n█", "```python", "markdown") == "```python"
    assert clean_at("x = 1  # █", "Here is why we need one") == "Here is why we need one"


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        ("x = 1\ny = █", "2\nz = 3\nw = 4\n", "python"),
        ("def f(x):\n    █", "return x + 1\n\n\ndef g():\n    pass\n", "python"),
        ("def f(xs):\n█    return r\n", "    r = xs\n    return r\n    return r\n", "python"),
        ("function f(a) {\n  █\n}\n", "return a;\n}\n\nfunction g() {}\n", "javascript"),
        (
            "function f(a) {\n  █\n  }\n}\n",
            "if (a) {\n    b();\n  }\n  c();\n  }\n}\nfunction g() {}\n",
            "javascript",
        ),
        ("x = █", "42<|endoftext|>ignored", "python"),
        ("def f(x):\n    █", "```python\nreturn 1\n```\nmore text\n", "python"),
        # a line at the enclosing level ends the block once its first word is written out
        (
            "  P.parse = function parse () {\n    █\n    this.next();\n  };\n",
            "var self = this;\n\n  this.parseTopLevel(node);\n\n  more();\n",
            "javascript",
        ),
        ("def f(x):\n    y = x\n    █", "return y\nprint(f(1), 2)\nprint(3)\n", "python"),
    ],
)
def test_stopping_early_never_changes_the_suggestion(doc: str, raw: str, language: str) -> None:
    partial = streamed(doc, raw, language)
    assert len(partial) < len(raw)  # it did stop early
    assert clean_at(doc, partial, language) == clean_at(doc, raw, language)


def test_a_line_at_the_enclosing_level_ends_the_block_once_its_first_word_is_out() -> None:
    body = ctx_at("function f(a) {\n  █\n}\n", "javascript")
    assert answer_complete("return a;\nfoo.", body)
    assert not answer_complete("return a;\nfoo", body)  # the word may go on
    assert not answer_complete("return a;\n}", body)  # a closer: kept or not, seen at its end
    py = ctx_at("def f(x):\n    if x:\n        █\n\ndef g():\n    pass\n")
    assert not answer_complete("return 1\n    else", py)
    assert not answer_complete("return 1\n    else:", py)  # a continuation clause stays
    assert answer_complete("return 1\n    print(", py)
    # in a gap, a line that may become the code below is awaited
    gap = ctx_at("def f(x):\n    if x:\n        █\n    return x\n")
    assert not answer_complete("y = 1\n    return ", gap)


def _brief(doc: str, language: str = "python") -> CleanupContext:
    """The context of a request made while typing (automatic trigger, speculation)."""
    return replace(ctx_at(doc, language), brief=True)


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        # acorn.js:623 in benchmarks/real_use.py: Enter after a line, an `if` chain follows
        (
            "  P.parse = function parse () {\n    var node = this.startNode();\n    █\n"
            "    this.nextToken();\n  };\n",
            'if (node.type === "Program") {\n      return this.parseTopLevel(node);\n    }\n\n'
            '    if (node.type === "FunctionDeclaration") {\n      return this.parseFn(node);\n'
            '    }\n\n    if (node.type === "ClassDeclaration") {\n',
            "javascript",
        ),
        (
            "def f(xs):\n    result = []\n█    return result\n",
            "    if not xs:\n        return []\n    xs.sort()\n    print(xs)\n    log(xs)\n",
            "python",
        ),
        (
            "def f(self, url):\n    x = 1\n    █\n    if x:\n        pass\n",
            "request = Request(\n        url,\n        x=x,\n    )\n    y = 2\n    z = 3\n",
            "python",
        ),
    ],
)
def test_while_typing_a_gap_answer_ends_with_its_first_statement(
    doc: str, raw: str, language: str
) -> None:
    brief = _brief(doc, language)
    partial = ""
    for i in range(0, len(raw), 3):
        partial += raw[i : i + 3]
        if answer_complete(partial, brief):
            break
    assert len(partial) < len(raw)  # it stopped at the next statement, not at max_tokens
    first = clean(partial, brief)
    assert first == clean(raw, ctx_at(doc, language))  # what the whole answer would keep
    assert first.strip() and raw.startswith(first.rstrip("\n"))
    # an explicit request waits: the answer might still come back to the code below
    assert streamed(doc, raw, language) == raw


def test_while_typing_a_gap_answer_goes_on_where_it_may_still_belong() -> None:
    brief = _brief("def f(xs):\n    result = []\n█    return result\n")
    assert brief.mode is Mode.GAP
    assert not answer_complete("    if not xs:\n        return []\n", brief)  # the body may go on
    assert not answer_complete("    if not xs:\n        return []\n        log", brief)
    assert not answer_complete("    if not xs:\n        return []\n    el", brief)  # a word
    assert not answer_complete("    if not xs:\n        return []\n    else:", brief)
    assert not answer_complete("    if not xs:\n        return []\n    return r", brief)
    assert answer_complete("    if not xs:\n        return []\n    xs.sort()", brief)
    # a statement left open at its bracket is not complete before its closer
    call = _brief("def f(self, url):\n    x = 1\n    █\n    if x:\n        pass\n")
    assert not answer_complete("return Request(\n        url,\n        x=x,\n", call)
    assert not answer_complete("return Request(\n        url,\n    )\n", call)
    assert answer_complete("return Request(\n        url,\n    )\n    y = 2\n", call)
    # where the answer comes back to the code below, all of it up to there is kept as before
    doc = "def f(xs):\n    result = []\n█    return result\n"
    raw = "    xs.sort()\n    result.extend(xs)\n    return result\n"
    assert clean(raw, _brief(doc)) == "    xs.sort()\n    result.extend(xs)\n"


def test_line_mode_completes_at_the_first_newline_after_text() -> None:
    ctx = ctx_at("x = █")
    assert not answer_complete("4", ctx)
    assert answer_complete("42\n", ctx)
    blank = ctx_at("x = 1\n█\n")
    assert not answer_complete("\n\n", blank)
    assert answer_complete("\ny = 2\n", blank)


def test_gap_completes_when_the_answer_reaches_the_code_below() -> None:
    gap = ctx_at("x = 1\n█\nz = compute(3)\n")
    assert gap.mode is Mode.GAP
    assert not answer_complete("y = 2\n", gap)
    assert not answer_complete("y = 2\nz = compute(3)", gap)  # that line may still go on
    assert answer_complete("y = 2\nz = compute(3)\n", gap)


def test_block_is_not_complete_while_lines_stay_inside() -> None:
    ctx = ctx_at("def f(x):\n    █")
    assert not answer_complete("if x:\n        return 1\n    else:\n", ctx)
    assert answer_complete("return 1\n\ndef g():\n", ctx)
    assert answer_complete("return 1\nx", ctx_at("class A:\n    def f(x):\n        █"))


def test_none_mode_never_suggests() -> None:
    ctx = CleanupContext("pri", "nt(x)", "python", Mode.NONE)
    assert clean("nt", ctx) == ""
    assert answer_complete("", ctx)


# --------------------------------------------------------------------------- inside a word


@pytest.mark.parametrize(
    ("doc", "raw", "expected"),
    [
        # must fire: a new line's indentation pulled onto the cursor's line after a fragment
        (
            "def weekday(year, month, day):\n    ret█\n",
            "    if not datetime.MINMONTH <= month <= datetime.MAXMONTH:\n",
            "",
        ),
        # must fire: the fragment typed again (with indentation, or one space)
        (
            "class Posix:\n    def __init__(self, posix):\n        s█\n",
            "        self.posix = posix\n",
            "elf.posix = posix",
        ),
        ("class A:\n    de█\n", " def area(self):\n", "f area(self):"),
        ("function area(w, h) {\n  ret█\n}\n", "  return w * h;\n", "urn w * h;"),
        (
            "const total = items.map(x => x.price).red█\n",
            "    reduce((a, b) => a + b, 0);\n",
            "uce((a, b) => a + b, 0);",
        ),
        # must fire: a fragment of a word used around the cursor (never whole) is ended
        ("def f(context):\n    if contex█\n", " is None:\n", ""),
        ("const element = find();\nif (elem█\n", ") {\n", ""),
        # must not fire: the word continues, or a whole word is followed by a space
        ("def area(w, h):\n    ret█\n", "urn w * h\n", "urn w * h"),
        ("def f(context):\n    if contex█\n", "t is None:\n", "t is None:"),
        ("def f(context):\n    if contex█\n", " context is None:\n", "t is None:"),
        ("def f(context, contex):\n    if contex█\n", " is None:\n", " is None:"),
        ("def area(w, h):\n    return█\n", " w * h\n", " w * h"),
        ("import os\nimport█\n", " importlib\n", " importlib"),  # `import` is a whole word here
        ("let x = y█\n", " + 1;\n", " + 1;"),
        ("function f() {\n  return█\n}\n", " 42;\n", " 42;"),
    ],
)
def test_an_answer_inside_a_word_continues_it(doc: str, raw: str, expected: str) -> None:
    language = "javascript" if "function" in doc or "const " in doc or "let " in doc else "python"
    assert clean_at(doc, raw, language) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ("def f(context):\n    if contex", "\n", "contex"),  # the parameter's fragment
        ("x = 1\nif contex", "\n\ndef g(context): pass\n", "contex"),  # used below
        ("const element = find();\nif (elem", ")\n", "elem"),  # a closer after is no word
        ("def f(context):\n    if contex", "t:\n", ""),  # inside a word: it goes on anyway
        ("def f(context, contex):\n    if contex", "\n", ""),  # a whole word too
        ("def f(x):\n    ret", "\n", ""),  # nothing longer around: maybe a name of its own
        ("def f(s, self):\n    s", "\n", ""),  # one character: too little to tell
        ("x = 1234\ny = 12", "\n", ""),  # a number
        ("def f(context):\n    if contex ", "\n", ""),  # the word was ended by a space
    ],
)
def test_a_word_is_open_when_it_is_only_ever_the_start_of_longer_ones(
    prefix: str, suffix: str, expected: str
) -> None:
    assert open_word(prefix, suffix) == expected


# --------------------------------------------------------------------------- statements over lines

SIGNATURE = "class Config:\n    def __init__█\n\n    def other(self):\n        pass\n"


def test_a_statement_written_over_several_lines_is_kept_whole() -> None:
    # pydantic's _config.py in benchmarks/real_holes.py: the line alone was a bare "("
    raw = "(\n        self,\n        config: dict,\n    ):\n        self.config = config\n"
    assert clean_at(SIGNATURE, raw) == "(\n        self,\n        config: dict,\n    ):"
    # the model is stopped once the brackets are closed, not at the first line break
    partial = streamed(SIGNATURE, raw)
    assert "self.config" not in partial
    assert clean_at(SIGNATURE, partial) == "(\n        self,\n        config: dict,\n    ):"
    js = "function run() {\n  const result = compute█\n}\n"
    raw_js = "(\n    first,\n    second,\n  );\n  return result;\n"
    assert clean_at(js, raw_js, "javascript") == "(\n    first,\n    second,\n  );"


def test_only_the_line_where_the_statement_does_not_close_or_text_is_right() -> None:
    # brackets still open after 8 lines: the first line only, as before
    raw = "(\n" + "".join(f"        a{i},\n" for i in range(10))
    assert clean_at(SIGNATURE, raw) == "("
    # and the model is stopped once that is clear, not at max_tokens
    assert "a9" not in streamed(SIGNATURE, raw)
    # text right of the cursor: the line only (the statement cannot go on below it)
    assert clean_at("x = compute█)\n", "(\n    1,\n)\n") == "("
    # a first line that closes what it opens is a line of its own
    assert clean_at(SIGNATURE, "(self, config):\n        self.config = config\n") == (
        "(self, config):"
    )


# --------------------------------------------------------------------------- loops
# (``cut_loop`` runs on answers cut short; the engine tests cover when: test_engine.py)

BRANCH = "        elif part.startswith('port:'):\n            ports.append(part)\n"
#: The model looping until max_tokens (pydantic/v1/networks.py:441 in real_holes.py).
LOOPING = (
    "    for part in parts:\n"
    "        if part.startswith('host:'):\n"
    "            hosts_parts.append(part)\n" + BRANCH * 4
)


def test_an_answer_looping_to_its_end_keeps_one_copy_of_the_loop() -> None:
    kept = cut_loop(LOOPING)
    assert kept.count("elif") == 1
    assert kept.endswith("ports.append(part)\n")  # a whole branch, not its head alone
    assert cut_loop(LOOPING.rstrip("\n")).count("elif") == 1


def test_a_line_repeated_to_the_end_is_kept_once_in_javascript() -> None:
    assert cut_loop("\n" + "    out.push(x);\n" * 4) == "\n    out.push(x);\n"
    # the same with the clean-up after it: what the user sees
    doc = "function f(list) {\n  const out = [];\n  for (const x of list) {█\n  }\n  return out;\n}"
    raw = cut_loop("\n" + "    out.push(x);\n" * 4)
    assert clean_at(doc, raw, "javascript") == "\n    out.push(x);"


def test_repeats_that_stop_or_hold_no_word_are_not_a_loop() -> None:
    for code in (
        "    x += 1\n    x += 1\n    x += 1\n    return x\n",  # the answer moves on
        "    x += 1\n    x += 1\n",  # two copies are not yet a loop
        "    }\n    }\n    }\n    }\n",  # closers repeat legitimately
        "a = 1\n" + BRANCH * 4 + "return a\n",
    ):
        assert cut_loop(code) == code

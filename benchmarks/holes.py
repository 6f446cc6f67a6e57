"""Holes cut from real source at the places people pause, and how a suggestion there is scored.

Pure text processing (no model), shared by ``benchmarks/real_holes.py`` and its unit tests.

Sources are code installed here but not written here: third-party Python packages in the venv
(``PY_PACKAGES``) and JavaScript/TypeScript under ``clients/vscode/node_modules`` (``.js``,
``.mjs``, ``.cjs``, ``.ts`` without ``.d.ts``). A file is used when it has at least
``MIN_LINES`` lines, no line longer than 200 characters and an average line length of at most
100 (no minified bundles). Every hole gets its own file, and the cursor sits at a random place
at least a fifth of the way in (and past line 40), never near the top.

The five position classes (the cursor's line is ``L``, the original file is otherwise kept):

``line-start``
    ``L`` is a whole one-line statement; its indentation is typed, the rest of ``L`` is removed.
    Expected: ``L``.
``mid-line``
    The cursor is right after a whole code token of ``L`` (not an opener, not inside a string or
    comment), with at least one name, number or string left on the line; the rest of ``L`` is
    removed (the user is typing it). Expected: ``L``.
``mid-word``
    The cursor is inside an identifier or keyword of at least 3 characters (one or more typed,
    one or more left); the rest of ``L`` is removed. Expected: ``L``.
``after-opener``
    The cursor is right after ``(``, ``[``, ``{`` or ``:`` in the middle of ``L`` (a name, number
    or string follows it on the line); the rest of ``L`` is removed. Expected: ``L``, i.e. the
    original rest of the line after the opener. Openers at the end of a line (a block's body
    follows) are not holes: the body is still in the file below, so nothing is missing there.
``empty-line``
    ``L`` is a one-line statement between two one-line statements at the same indentation; all
    of ``L`` is removed, indentation included, leaving an empty line with the cursor at column
    0. Expected: ``L`` (the next statement the user types there), with its indentation.

Lines in comments, docstrings and multi-line strings or template literals, lines with a trailing
comment, and lines shorter than 6 characters of text are never holes.

Scores (``score``) of a suggestion ``s`` at a hole with typed text ``t`` (the cursor line's text
before the cursor):

``completed``
    ``t`` + the first line of ``s``; for ``empty-line`` the first non-blank line of ``s`` (a
    blank line before the statement only changes spacing).
``exact``
    ``completed`` equals the expected line, ignoring trailing whitespace (indentation counts).
``sim`` / ``rest_sim``
    difflib ratio of ``completed`` to the expected line; and of the inserted part alone
    (``completed`` minus ``t``) to the expected rest (the expected line minus ``t``), which an
    empty suggestion scores 0 on.
``empty``
    ``s`` is empty or whitespace only (never garbage).
``garbage``
    A non-empty suggestion with one or more of these reasons:

    * ``breaks-word`` (mid-word): ``s`` starts with a character that is not a word character
      (a newline included) although the typed fragment is not a whole identifier anywhere in the
      original file (so the word cannot end there).
    * ``retypes``: ``s`` starts with the typed text of the line again (its non-blank part, at
      least 2 characters), or with the last typed word again (at least 2 characters; for
      mid-word the typed fragment, any length), when the original rest does not; at
      ``line-start``, ``s`` starts with more indentation although the original does not.
    * ``breaks-syntax``: the original line alone passes a line-level check and the completed
      line does not. Python: the line's tokens (``tokenize``) have no error token, no
      unterminated string and no closing bracket that does not match; brackets left open at the
      end are fine (the statement may go on). JavaScript/TypeScript: the same check with a small
      scanner (quotes, ``//`` and ``/* */`` comments, bracket pairs).
"""

from __future__ import annotations

import difflib
import io
import os
import random
import re
import sysconfig
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CLASSES = ("line-start", "mid-line", "mid-word", "after-opener", "empty-line")
LANGUAGES = ("python", "javascript")  # "javascript" stands for .js and .ts sources
PY_PACKAGES = (
    "anyio",
    "attr",
    "cattrs",
    "click",
    "h11",
    "httpcore",
    "httpx",
    "hypothesis",
    "idna",
    "jinja2",
    "lsprotocol",
    "packaging",
    "pathspec",
    "platformdirs",
    "pydantic",
    "pygls",
)
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
MIN_LINES = 300
MAX_LINE = 200
MAX_AVERAGE_LINE = 100
MIN_TEXT = 6
OPENERS = frozenset("([{:")
CLOSERS = {")": "(", "]": "[", "}": "{"}
_MULTI_OPS = sorted(
    """**= //= >>= <<= >>>= ... === !== => -> == != <= >= += -= *= /= %= &= |= ^= ** // << >>
    && || ?? ?. ++ -- := @= ||= &&= ??=""".split(),  # noqa: SIM905 - a table of operators
    key=len,
    reverse=True,
)
_PY_STRING_START = re.compile(r"(?i)(?:rb|br|fr|rf|r|b|f|u)?(\"\"\"|'''|\"|')")
_CLOSER_ONLY = re.compile(r"^[\s)\]};,]*$")


@dataclass(frozen=True)
class Hole:
    id: str
    cls: str
    language: str  # the engine's language id: python, javascript or typescript
    path: str  # display path: package-relative (site-packages/…, node_modules/…)
    row: int  # 0-based line of the hole
    col: int  # 0-based column of the cursor in the original line
    typed: str  # the cursor line's text before the cursor
    expected: str  # the original line, without trailing whitespace
    fragment_is_word: bool  # mid-word: the typed fragment is a whole identifier in the file
    text: str  # the document as the user has it
    offset: int  # the cursor in ``text``

    def public(self) -> dict[str, Any]:
        """Everything but the document (re-derived from the installed file)."""
        return {k: v for k, v in asdict(self).items() if k not in ("text",)}


@dataclass(frozen=True)
class Token:
    kind: str  # name, number, string, comment, op, space
    start: int
    end: int
    closed: bool = True  # strings and block comments: ended on this line


# --------------------------------------------------------------------------- lexing


def is_word_char(ch: str, language: str = "python") -> bool:
    return ch.isalnum() or ch == "_" or (ch == "$" and language != "python")


def lex_line(line: str, language: str) -> list[Token]:
    """A line's tokens: enough to find token ends, words, strings and comments (both languages).

    Python strings may carry prefixes and be triple-quoted; JavaScript strings use ', " or `
    and comments ``//`` and ``/* */``. Regular-expression literals are not recognised.
    """
    py = language == "python"
    out: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t\r\f\v":
            j = i
            while j < n and line[j] in " \t\r\f\v":
                j += 1
            out.append(Token("space", i, j))
            i = j
            continue
        if (py and c == "#") or (not py and line.startswith("//", i)):
            out.append(Token("comment", i, n))
            break
        if not py and line.startswith("/*", i):
            end = line.find("*/", i + 2)
            out.append(Token("comment", i, n if end < 0 else end + 2, end >= 0))
            i = n if end < 0 else end + 2
            continue
        quote = ""
        body = i
        if py:
            m = _PY_STRING_START.match(line, i)
            if m and (i == 0 or not is_word_char(line[i - 1])):
                quote, body = m.group(1), m.end()
        elif c in "'\"`":
            quote, body = c, i + 1
        if quote:
            end = _string_end(line, body, quote)
            out.append(Token("string", i, n if end < 0 else end, end >= 0))
            i = n if end < 0 else end
            continue
        if is_word_char(c, language) and not c.isdigit():
            j = i
            while j < n and is_word_char(line[j], language):
                j += 1
            out.append(Token("name", i, j))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and line[i + 1].isdigit()):
            j = i + 1
            while j < n and (is_word_char(line[j]) or line[j] == "."):
                j += 1
            out.append(Token("number", i, j))
            i = j
            continue
        op = next((o for o in _MULTI_OPS if line.startswith(o, i)), c)
        out.append(Token("op", i, i + len(op)))
        i += len(op)
    return out


def _string_end(line: str, i: int, quote: str) -> int:
    """The index after the closing quote, or -1 when the string goes on past the line."""
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line.startswith(quote, i):
            return i + len(quote)
        i += 1
    return -1


def line_ok(line: str, language: str) -> bool:
    """The line alone passes the syntax check of the ``breaks-syntax`` garbage reason."""
    if language == "python":
        return _python_line_ok(line)
    stack: list[str] = []
    text = line.strip()
    for tok in lex_line(text, language):
        if not tok.closed:
            return False  # an unterminated string, template literal or /* comment
        if tok.kind == "op" and text[tok.start] in "([{":
            stack.append(text[tok.start])
        elif (
            tok.kind == "op"
            and text[tok.start] in CLOSERS
            and (not stack or stack.pop() != CLOSERS[text[tok.start]])
        ):
            return False
    return True


def _python_line_ok(line: str) -> bool:
    stack: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                return False
            if tok.type == tokenize.OP:
                if tok.string in ("(", "[", "{"):
                    stack.append(tok.string)
                elif tok.string in CLOSERS and (not stack or stack.pop() != CLOSERS[tok.string]):
                    return False
    except tokenize.TokenError as exc:
        # Brackets left open at the end: the statement may go on (balance-aware).
        return "statement" in str(exc)
    except (SyntaxError, ValueError):  # IndentationError is a SyntaxError
        return False
    return True


# --------------------------------------------------------------------------- files


def python_files(site_packages: Path, packages: Sequence[str] = PY_PACKAGES) -> list[Path]:
    out: list[Path] = []
    for name in packages:
        root = site_packages / name
        if root.is_dir():
            out.extend(p for p in root.rglob("*.py") if p.is_file())
    return sorted(out)


def js_files(node_modules: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(node_modules):
        dirnames.sort()
        for name in filenames:
            declaration = name.endswith((".d.ts", ".d.mts", ".d.cts"))
            if name.endswith(JS_SUFFIXES) and not declaration and ".min." not in name:
                out.append(Path(dirpath) / name)
    return sorted(out)


def readable_lines(path: Path) -> list[str] | None:
    """The file's lines (newlines kept) when it is a large, non-minified source file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").splitlines(keepends=True)
    if len(lines) < MIN_LINES:
        return None
    lengths = [len(line.rstrip("\n")) for line in lines]
    if max(lengths) > MAX_LINE or sum(lengths) / len(lengths) > MAX_AVERAGE_LINE:
        return None
    return lines


def language_of(path: Path) -> str:
    if path.suffix == ".py":
        return "python"
    return "typescript" if path.suffix in (".ts", ".mts", ".cts") else "javascript"


# --------------------------------------------------------------------------- candidates


@dataclass
class _FileInfo:
    lines: list[str]
    language: str
    excluded: set[int]  # rows inside multi-line strings, comments or template literals
    statements: set[int]  # rows holding a whole one-line statement


def analyse(lines: list[str], language: str) -> _FileInfo | None:
    if language == "python":
        return _analyse_python(lines)
    return _analyse_js(lines, language)


def _analyse_python(lines: list[str]) -> _FileInfo | None:
    excluded: set[int] = set()
    statements: set[int] = set()
    start_row: int | None = None
    kinds: set[int] = set()  # token types of the logical line
    after_newline = True
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            (r0, _), (r1, _) = tok.start, tok.end
            if tok.type == tokenize.STRING and r1 > r0:
                excluded.update(range(r0 - 1, r1))
            if tok.type in skip or tok.type == tokenize.ENDMARKER:
                continue
            if tok.type == tokenize.NEWLINE:
                if start_row is not None and start_row == r0:
                    if kinds == {tokenize.STRING}:
                        excluded.add(r0 - 1)  # a docstring on one line
                    statements.add(r0 - 1)
                after_newline, start_row = True, None
                continue
            if after_newline:
                start_row, after_newline, kinds = r0, False, set()
            kinds.add(tok.type)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return _FileInfo(lines, "python", excluded, statements - excluded)


def _analyse_js(lines: list[str], language: str) -> _FileInfo:
    excluded: set[int] = set()
    statements: set[int] = set()
    carry = ""  # "*/" inside a block comment, "`" inside a template literal
    previous_end = ";"
    for row, raw in enumerate(lines):
        line = raw.rstrip("\n")
        if carry:
            excluded.add(row)
            at = line.find("*/") + 2 if carry == "*/" else _string_end(line, 0, "`")
            if at < 2 and (carry == "*/" or at < 0):
                continue
            line = " " * at + line[at:]
            carry = ""
        tokens = lex_line(line, language)
        last = tokens[-1] if tokens else None
        if last is not None and not last.closed:
            excluded.add(row)
            carry = "*/" if last.kind == "comment" else "`"
            previous_end = carry[-1]
            continue
        code = [t for t in tokens if t.kind not in ("space", "comment")]
        if not code:
            if any(t.kind == "comment" for t in tokens):
                excluded.add(row)
            continue
        text = line.strip()
        first = line[code[0].start]
        if (
            previous_end in (";", "{", "}")
            and text.endswith((";", "{"))
            and first not in ".?:&|+-*/)]},="
        ):
            statements.add(row)
        previous_end = line[code[-1].start : code[-1].end][-1]
    return _FileInfo(lines, language, excluded, statements - excluded)


def _plain(line: str, tokens: list[Token]) -> bool:
    """A line that may hold a hole: code only, no comment, not too short, no open string."""
    return (
        len(line.strip()) >= MIN_TEXT
        and all(t.closed for t in tokens)
        and not any(t.kind == "comment" for t in tokens)
    )


def candidates(info: _FileInfo, cls: str) -> list[tuple[int, int]]:
    """Every (row, column) of the file where a hole of class ``cls`` may be cut."""
    lines, language = info.lines, info.language
    first_row = max(40, len(lines) // 5)
    out: list[tuple[int, int]] = []
    for row in range(first_row, len(lines) - 1):
        if row in info.excluded:
            continue
        line = lines[row].rstrip("\n")
        tokens = lex_line(line, language)
        if not _plain(line, tokens):
            continue
        indent = len(line) - len(line.lstrip())
        if cls in ("line-start", "empty-line"):
            if row not in info.statements or _CLOSER_ONLY.match(line):
                continue
            if cls == "empty-line" and not _between_statements(info, row, indent):
                continue
            out.append((row, indent if cls == "line-start" else 0))
            continue
        code = [t for t in tokens if t.kind != "space"]
        for k, tok in enumerate(code[:-1]):
            rest = code[k + 1 :]
            if not any(t.kind in ("name", "number", "string") for t in rest):
                continue
            piece = line[tok.start : tok.end]
            if cls == "mid-word":
                if tok.kind == "name" and len(piece) >= 3:
                    out.extend((row, c) for c in range(tok.start + 1, tok.end))
            elif cls == "after-opener":
                if tok.kind == "op" and piece in OPENERS:
                    out.append((row, tok.end))
            elif cls == "mid-line" and not (tok.kind == "op" and piece in OPENERS):
                out.append((row, tok.end))
    return out


def _between_statements(info: _FileInfo, row: int, indent: int) -> bool:
    for other in (row - 1, row + 1):
        line = info.lines[other].rstrip("\n")
        if other not in info.statements or _CLOSER_ONLY.match(line):
            return False
        if len(line) - len(line.lstrip()) != indent:
            return False
    return True


def cut(path: Path, display: str, info: _FileInfo, cls: str, row: int, col: int) -> Hole:
    """The hole: the document with the rest of the cursor line removed (all of it for an
    empty line), and what the line was."""
    lines = info.lines
    original = lines[row].rstrip("\n")
    kept = original[:col]
    head = "".join(lines[:row])
    text = head + kept + "\n" + "".join(lines[row + 1 :])
    fragment = ""
    if cls == "mid-word":
        start = col
        while start > 0 and is_word_char(original[start - 1], info.language):
            start -= 1
        fragment = original[start:col]
    whole = "".join(lines)
    is_word = bool(fragment) and (
        re.search(rf"(?<![\w$]){re.escape(fragment)}(?![\w$])", whole) is not None
    )
    return Hole(
        id=f"{cls}/{display}:{row + 1}:{col + 1}",
        cls=cls,
        language=info.language,
        path=display,
        row=row,
        col=col,
        typed=kept,
        expected=original.rstrip(),
        fragment_is_word=is_word,
        text=text,
        offset=len(head) + len(kept),
    )


def build_holes(
    per_class: int,
    seed: int,
    sources: dict[str, list[tuple[Path, str]]],
    classes: Sequence[str] = CLASSES,
) -> list[Hole]:
    """``per_class`` holes of each class, each in its own file, seeded.

    ``sources`` maps a language group (``LANGUAGES``) to its files as (path, display name).
    Hole i of the class at position j of ``CLASSES`` comes from the language group
    ``(i + j) % len(groups)``; the holes for a smaller ``per_class`` (or a subset of classes)
    are the first ones of a bigger run.
    """
    rng = random.Random(seed)
    groups = [g for g in LANGUAGES if sources.get(g)]
    queues = {}
    for group in groups:
        files = list(sources[group])
        rng.shuffle(files)
        queues[group] = files
    used: set[str] = set()
    infos: dict[str, _FileInfo | None] = {}
    out: list[Hole] = []
    for i in range(per_class):
        for j, cls in enumerate(CLASSES):
            group = groups[(i + j) % len(groups)]
            hole = _next_hole(queues[group], used, infos, cls, rng)
            if hole is not None and cls in classes:
                out.append(hole)
    return out


def _next_hole(
    files: list[tuple[Path, str]],
    used: set[str],
    infos: dict[str, _FileInfo | None],
    cls: str,
    rng: random.Random,
) -> Hole | None:
    for path, display in files:
        if display in used:
            continue
        if display not in infos:
            lines = readable_lines(path)
            infos[display] = analyse(lines, language_of(path)) if lines else None
        info = infos[display]
        if info is None:
            used.add(display)
            continue
        spots = candidates(info, cls)
        if not spots:
            continue
        used.add(display)
        row, col = spots[rng.randrange(len(spots))]
        return cut(path, display, info, cls, row, col)
    return None


def default_sources(repo: Path) -> dict[str, list[tuple[Path, str]]]:
    """The venv's third-party packages and the VS Code client's node_modules."""
    site = Path(sysconfig.get_paths()["purelib"])
    out: dict[str, list[tuple[Path, str]]] = {"python": [], "javascript": []}
    if site.is_dir():
        out["python"] = [(p, f"site-packages/{p.relative_to(site)}") for p in python_files(site)]
    modules = repo / "clients" / "vscode" / "node_modules"
    if modules.is_dir():
        out["javascript"] = [
            (p, f"node_modules/{p.relative_to(modules)}") for p in js_files(modules)
        ]
    return out


# --------------------------------------------------------------------------- scoring


def completed_line(hole: Hole, suggestion: str) -> str:
    """The line the user ends up with. A statement the suggestion writes over several lines
    (``def f(`` then one parameter a line) counts as the one line it stands for, joined."""
    if hole.cls == "empty-line":
        lines = suggestion.split("\n")
        first = next((k for k, line in enumerate(lines) if line.strip()), None)
        return "" if first is None else _statement(lines[first:], "", hole)
    return _statement(suggestion.split("\n"), hole.typed, hole)


#: Lines a statement written over several lines may take in a suggestion.
STATEMENT_LINES = 16


def _statement(lines: list[str], typed: str, hole: Hole) -> str:
    """Joined up to where it leaves as many brackets open as the original line does (a line
    that opens a block or a callback, ``foo(function () {``, ends open)."""
    language = hole.language
    own = max(0, _depth(hole.expected, language))
    text = typed + lines[0]
    depth = _depth(text, language)
    k = 1
    while depth > own and k < min(len(lines), STATEMENT_LINES):
        piece = lines[k].strip()
        if piece[:1] in ")]}" and text.endswith(","):
            text = text[:-1]  # the trailing comma of one item a line
        glue = "" if text.endswith(("(", "[", "{")) or piece[:1] in ")]}" else " "
        text += glue + piece
        depth += _depth(piece, language)
        k += 1
    return text if depth <= own else typed + lines[0]


def _depth(line: str, language: str) -> int:
    """Brackets the line opens minus those it closes, outside strings and comments."""
    ops = [line[t.start : t.end] for t in lex_line(line, language) if t.kind == "op"]
    return sum(op in "([{" for op in ops) - sum(op in ")]}" for op in ops)


def similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _last_word(typed: str, language: str) -> str:
    end = len(typed)
    start = end
    while start > 0 and is_word_char(typed[start - 1], language):
        start -= 1
    return typed[start:end]


def garbage_reasons(hole: Hole, suggestion: str) -> list[str]:
    if not suggestion.strip():
        return []
    reasons: list[str] = []
    rest = hole.expected[len(hole.typed) :]
    word_ends = hole.fragment_is_word or is_word_char(suggestion[0], hole.language)
    if hole.cls == "mid-word" and not word_ends:
        reasons.append("breaks-word")
    typed = hole.typed.strip()
    word = _last_word(hole.typed, hole.language)
    again = [typed] if len(typed) >= 2 else []
    if word and (len(word) >= 2 or hole.cls == "mid-word"):
        again.append(word)
    if any(suggestion.lstrip().startswith(t) and not rest.lstrip().startswith(t) for t in again):
        reasons.append("retypes")
    if hole.cls == "line-start" and suggestion[:1] in (" ", "\t") and rest[:1] not in (" ", "\t"):
        reasons.append("retypes")
    completed = completed_line(hole, suggestion)
    if line_ok(hole.expected, hole.language) and not line_ok(completed, hole.language):
        reasons.append("breaks-syntax")
    return sorted(set(reasons))


def score(hole: Hole, suggestion: str) -> dict[str, Any]:
    completed = completed_line(hole, suggestion)
    typed = "" if hole.cls == "empty-line" else hole.typed
    copy = copies_line_below(hole, completed) and bool(suggestion.strip())
    sim = round(similarity(completed.rstrip(), hole.expected), 4)
    return {
        "answer": suggestion,
        "completed": completed,
        "exact": completed.rstrip() == hole.expected,
        "sim": sim,
        "rest_sim": round(
            similarity(completed.rstrip()[len(typed) :], hole.expected[len(typed) :]), 4
        ),
        "empty": not suggestion.strip(),
        "garbage": garbage_reasons(hole, suggestion),
        "copies_below": copy,
        # A copy of the line below scored as the empty answer it stands in for.
        "sim_no_copy": score(hole, "")["sim"] if copy else sim,
    }


def copies_line_below(hole: Hole, completed: str) -> bool:
    """The completed line is the next line of code below the cursor's line, written again (a
    small model's most common answer on an empty line; the clean-up never keeps it, since it
    doubles code already there, but edit similarity credits it)."""
    below = hole.text[hole.offset :].split("\n")[1:]
    following = next((line.strip() for line in below if line.strip()), None)
    return following is not None and completed.strip() == following


def iter_classes(names: str) -> Iterator[str]:
    for name in (n.strip() for n in names.split(",")):
        if name and name not in CLASSES:
            raise SystemExit(f"unknown class {name!r}: choose from {', '.join(CLASSES)}")
        if name:
            yield name

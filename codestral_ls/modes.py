"""Per-request choice between finishing the current line and writing a block.

A block is only worth the model's time where the user is clearly about to write one (after a
line that opens a body, in an empty body, or in a body at the end of the file); between lines
of code it is worth it only when the model's own answer leads back to the code below (GAP,
settled by the clean-up); elsewhere a single line is faster to generate and to review.
Positions where any insertion would be wrong (inside a word) get no suggestion.
The per-language tables here are shared with the clean-up rules.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .languages import block_family


class Mode(enum.Enum):
    LINE = "line"
    BLOCK = "block"
    #: Whole lines on a line of their own with code of the same body after the cursor: as many
    #: as it takes to reach that code when the model's answer does reach it, else one.
    GAP = "gap"
    NONE = "none"  # do not suggest here


@dataclass(frozen=True)
class LanguageRules:
    """What opens, continues and closes a block in one language family."""

    #: A line (stripped of a trailing comment and whitespace) that matches opens a block.
    opener: re.Pattern[str]
    #: A line at the opener's indentation that keeps the same statement going (``else``...).
    continuation: re.Pattern[str]
    #: A line that only closes blocks (``}``, ``end``, ``fi``...).
    closer: re.Pattern[str]
    #: Line comment starters, for finding the code part of a line.
    line_comments: tuple[str, ...]
    #: Significant indentation: a dedent alone ends a block.
    indent_blocks: bool = False
    #: A statement after which nothing more of its block runs (``return``, ``raise``...).
    #: None where a modifier may make it conditional (Ruby's ``return x if y``) or unknown.
    jump: re.Pattern[str] | None = None
    #: Lines a jump does not make unreachable although they follow it in its block: labels
    #: (``case 1:``, ``default:``) and declarations hoisted to the top of it (``function``).
    reachable: re.Pattern[str] | None = None


_BRACKET_OPEN = r"[\[{(]"
_C_LIKE = LanguageRules(
    opener=re.compile(rf"(?:{_BRACKET_OPEN}|=>|:)$"),
    continuation=re.compile(r"^(?:\}\s*)?(?:else|catch|finally|while)\b|^\}\s*\)"),
    closer=re.compile(r"^[\]})]+[;,)]*$"),
    line_comments=("//",),
    jump=re.compile(r"^(?:return|throw|break|continue)\b"),
    reachable=re.compile(
        r"^(?:case\b|default\s*:|\w+\s*:$|#|/\*|\*"
        r"|(?:export\s+)?(?:async\s+)?function\b|(?:interface|type)\s)"
    ),
)
_PYTHON = LanguageRules(
    opener=re.compile(rf"(?::|{_BRACKET_OPEN})$"),
    continuation=re.compile(r"^(?:elif|else|except|finally|case)\b"),
    closer=re.compile(r"^[\]})]+[,:)]*$"),
    line_comments=("#",),
    indent_blocks=True,
    jump=re.compile(r"^(?:return|raise|break|continue)\b"),
)
_LUA = LanguageRules(
    opener=re.compile(rf"(?:{_BRACKET_OPEN}|\bthen|\bdo|\belse|\brepeat|\bfunction\b.*\))$"),
    continuation=re.compile(r"^(?:else|elseif)\b"),
    closer=re.compile(r"^(?:end|until\b.*|[\]})])[;,)]*$"),
    line_comments=("--",),
)
_SHELL = LanguageRules(
    opener=re.compile(rf"(?:{_BRACKET_OPEN}|\bthen|\bdo|\belse|\bin)$"),
    continuation=re.compile(r"^(?:else|elif)\b"),
    closer=re.compile(r"^(?:fi|done|esac|;;|[\]})])[;)]*$"),
    line_comments=("#",),
)
_RUBY = LanguageRules(
    opener=re.compile(
        rf"(?:{_BRACKET_OPEN}|\bdo(?:\s*\|[^|]*\|)?|\bthen"
        r"|^\s*(?:def|class|module|if|unless|while|until|case|begin)\b.*)$"
    ),
    continuation=re.compile(r"^(?:else|elsif|rescue|ensure|when|in)\b"),
    closer=re.compile(r"^(?:end|[\]})])[;,)]*$"),
    line_comments=("#",),
)
_DEFAULT = LanguageRules(
    opener=re.compile(rf"(?:{_BRACKET_OPEN}|=>|->|:|\bthen|\bdo)$"),
    continuation=re.compile(r"^(?:\}\s*)?(?:else|elif|elsif|elseif|catch|finally|except)\b"),
    closer=re.compile(r"^(?:end|fi|done|[\]})])[;,)]*$"),
    line_comments=("//", "#"),
)

#: Block grammars by family; languages.BLOCK_FAMILY says which one a language follows.
GRAMMARS: dict[str, LanguageRules] = {
    "python": _PYTHON,
    "lua": _LUA,
    "ruby": _RUBY,
    "shell": _SHELL,
    "c_like": _C_LIKE,
    "default": _DEFAULT,
}

_CLOSING_ONLY = re.compile(r"""^[\s\]})>"'`;,:.]*$""")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def rules_for(language: str) -> LanguageRules:
    return GRAMMARS[block_family(language)]


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def typed_word(text: str) -> str:
    """The word ``text`` ends in ("" after a non-word character)."""
    start = len(text)
    while start > 0 and is_word_char(text[start - 1]):
        start -= 1
    return text[start:]


def indent_width(line: str) -> int:
    """Columns of leading whitespace (a tab counts 4, enough to compare lines of one file)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


def code_part(line: str, rules: LanguageRules) -> str:
    """The line without a trailing line comment (a cheap guess that ignores strings)."""
    for marker in rules.line_comments:
        at = line.find(marker)
        if at > 0 and line[at - 1] in " \t":
            line = line[:at]
        elif at == 0:
            return ""
    return line.rstrip()


def opens_block(line: str, rules: LanguageRules) -> bool:
    code = code_part(line, rules)
    return bool(code.strip()) and rules.opener.search(code) is not None


def split_cursor_line(prefix: str, suffix: str) -> tuple[str, str]:
    """(text before the cursor on its line, text after it on its line)."""
    start = prefix.rfind("\n") + 1
    end = suffix.find("\n")
    line_prefix = prefix[start:]
    line_suffix = suffix if end < 0 else suffix[:end]
    return line_prefix.rstrip("\r"), line_suffix.rstrip("\r")


def previous_code_line(prefix: str) -> str | None:
    """The nearest non-blank line above the cursor's line, if any."""
    end = prefix.rfind("\n")
    while end > 0:
        start = prefix.rfind("\n", 0, end) + 1
        line = prefix[start:end]
        if line.strip():
            return line
        end = start - 1
    return None


def choose_mode(prefix: str, suffix: str, language: str) -> Mode:
    """LINE, BLOCK or NONE for a cursor between ``prefix`` and ``suffix``."""
    rules = rules_for(language)
    line_prefix, line_suffix = split_cursor_line(prefix, suffix)
    before = line_prefix.strip()
    after = line_suffix.strip()
    if after:
        if not before:
            # At column 0 or the start of a line's text: the suggestion is whole lines above
            # it, a block only where one is due. Inside the indentation nothing fits.
            if line_prefix and line_suffix[0] in " \t":
                return Mode.NONE
            return _block_if_due(prefix, suffix, rules)
        if is_word_char(line_suffix[0]):
            return Mode.NONE  # inside or right before a word
        if _CLOSING_ONLY.match(line_suffix):
            last = code_part(line_prefix, rules)[-1:]
            if last in _PAIRS and after.startswith(_PAIRS[last]) and last != "(":
                return Mode.BLOCK  # between a just-typed `{` and its auto-inserted `}`
            return Mode.LINE
        return Mode.LINE  # fill the gap up to the text on the right
    if before:
        return Mode.BLOCK if opens_block(line_prefix, rules) else Mode.LINE
    return _block_if_due(prefix, suffix, rules)


def _block_if_due(prefix: str, suffix: str, rules: LanguageRules) -> Mode:
    """On a line of its own: a block where a body is still empty (after its opener, or after
    only a docstring, with no code of the body after the cursor) or is being written at the end
    of the file; a gap between lines of code otherwise (the clean-up keeps one line unless the
    answer reaches the code after it)."""
    previous = previous_code_line(prefix)
    cursor_line = prefix[prefix.rfind("\n") + 1 :]
    lines = suffix.split("\n", 50)[:50]
    lines[0] = cursor_line + lines[0]
    following = next((line for line in lines if line.strip()), None)
    # Code below at the cursor's own depth or deeper continues this body: a gap. Code further
    # out (the next function after the one being written) is not something to lead back to.
    gap = following is not None and indent_width(following) >= indent_width(cursor_line)
    after = Mode.GAP if gap else Mode.LINE
    if following is None and _in_body_at_end(prefix, cursor_line):
        # The end of the file inside a body: the user is writing it, as in an empty body.
        after = Mode.BLOCK
    if previous is None:
        return after
    if not (opens_block(previous, rules) or in_empty_body(prefix, previous, rules)):
        return after
    opener_indent = indent_width(_opener_line(prefix, previous, rules))
    if following is not None and indent_width(following) > opener_indent:
        return Mode.GAP  # the body already has code after the cursor
    return Mode.BLOCK


def _in_body_at_end(prefix: str, cursor_line: str) -> bool:
    """The cursor's line, with nothing after it, belongs to an indented body: it is indented,
    or it is empty right below an indented line (a blank line between, at column 0, starts
    top-level code)."""
    if cursor_line:
        return indent_width(cursor_line) > 0
    above = prefix[: len(prefix) - 1].rsplit("\n", 1)[-1] if prefix.endswith("\n") else ""
    return bool(above.strip()) and indent_width(above) > 0


def _opener_line(prefix: str, previous: str, rules: LanguageRules) -> str:
    """The line that opened the body the cursor is in (the def above a docstring)."""
    if opens_block(previous, rules):
        return previous
    end = prefix.rfind(previous)
    width = indent_width(previous)
    for line in reversed(prefix[:end].split("\n")[-200:]):
        if line.strip() and opens_block(line, rules) and indent_width(line) < width:
            return line
    return previous


_DOCSTRING_END = re.compile(r"^\s*(?:[rbuRBU]{0,2})?(?:\"\"\"|''').*$|.*(?:\"\"\"|''')\s*$")


def in_empty_body(prefix: str, previous: str, rules: LanguageRules) -> bool:
    """Python: a body holding only its docstring is still empty."""
    if rules is not _PYTHON or not _DOCSTRING_END.match(previous):
        return False
    head = prefix[: prefix.rfind(previous)]
    quote = '"""' if '"""' in previous else "'''"
    stripped = previous.strip()
    if stripped.count(quote) >= 2 and stripped.startswith(quote):
        opener = previous_code_line(head + "\n")
    else:
        start = head.rfind(quote)
        if start < 0:
            return False
        opener = previous_code_line(head[:start] + "\n")
    return opener is not None and opens_block(opener, rules)

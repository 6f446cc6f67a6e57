"""Turn a model's raw middle into text that is safe to insert at the cursor.

Small FIM models rarely stop by themselves: after the missing middle they go on to repeat the
code after the cursor, write the next function, or leak template tokens. Each rule below does
one thing and is tested on cases where it must fire and cases where it must not.
``answer_complete`` is the cheap streaming check (stop generating now); ``clean`` makes the
final cut. Both derive the same facts about the cursor once per context (cached).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from .languages import PROSE_LANGUAGES, block_family, string_quotes
from .modes import (
    LanguageRules,
    Mode,
    code_part,
    in_empty_body,
    indent_width,
    is_word_char,
    opens_block,
    previous_code_line,
    rules_for,
    split_cursor_line,
    typed_word,
)

#: Special-token texts of every supported family, scrubbed even when the context has none.
#: ``<s>``/``</s>`` are left out: they are legitimate HTML (the family list adds them back).
BUILTIN_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_end|>",
    "<|im_start|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|file_sep|>",
    "<|repo_name|>",
    "<|file_separator|>",
    "<|eot_id|>",
    "<|end|>",
    "<fim_prefix>",
    "<fim_middle>",
    "<fim_suffix>",
    "<fim_pad>",
    "<file_sep>",
    "<filename>",
    "<repo_name>",
    "<gh_stars>",
    "<issue_start>",
    "<jupyter_start>",
    "<empty_output>",
    "<\uff5cfim\u2581begin\uff5c>",
    "<\uff5cfim\u2581hole\uff5c>",
    "<\uff5cfim\u2581end\uff5c>",
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
    "<\uff5cbegin\u2581of\u2581sentence\uff5c>",
    "<|EOT|>",
    "<EOT>",
    "<PRE>",
    "<SUF>",
    "<MID>",
    "[PREFIX]",
    "[SUFFIX]",
    "[MIDDLE]",
    "[INST]",
    "[/INST]",
    "<end_of_turn>",
    "<start_of_turn>",
    "<eos>",
)
#: Token-shaped text no code contains: ``<|anything|>`` and DeepSeek's fullwidth bars.
_TOKEN_SHAPE = re.compile(r"<\|[A-Za-z0-9_.\-]{1,40}\|>|<\uff5c[^\uff5c\n]{1,40}\uff5c>")
#: Lines that start a function, class or similar: where a block at the end of a file may stop.
_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?"
    r"(?:(?:static|public|private|protected|local|override|final|abstract)\s+)*"
    r"(?:def|class|function|fn|func|impl|trait|interface|struct|enum|module|object)\b"
)
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
_LEAD_IN = re.compile(
    r"^\s*(?:sure\b|certainly\b|of course\b|here(?:'s| is| are)\b|below is\b|"
    r"the (?:completed?|missing|following|code|function)\b|to (?:complete|fill)\b|"
    r"this (?:code|function|completes)\b|i(?:'ll| will| have| can)\b|okay\b|ok,)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CleanupContext:
    prefix: str
    suffix: str
    language: str
    mode: Mode
    special_tokens: tuple[str, ...] = ()
    #: The user is typing (an automatic request or a speculation) and sees only what arrives
    #: within a pause: a gap answer ends with its first statement once the model has begun
    #: another that is not the code below (see ``_first_statement_done``).
    brief: bool = False


@dataclass(frozen=True)
class _Facts:
    """What the rules need to know about the cursor, computed once per context."""

    rules: LanguageRules
    mode: Mode
    tokens: tuple[str, ...]
    line_prefix: str
    line_suffix: str
    #: The line prefix is blank: the answer's first line is a whole line.
    at_line_start: bool
    #: Text to the right of a blank line prefix: the answer is whole lines inserted above it.
    insert_above: bool
    #: The cursor line's leading whitespace.
    cursor_indent: str
    #: Indentation of the line that opened the block being written (BLOCK after an opener).
    opener_indent: int | None
    #: Nothing but whitespace after the cursor: the user is writing new code at the end.
    at_end: bool
    #: BLOCK on a line of its own after a statement at the end of the file: the rest of the
    #: body being written, not an empty one (a brief answer is its first statement).
    goes_on_at_end: bool
    #: BLOCK after an opener inside a definition at the end of the file, asked for (not brief):
    #: the body, then the rest of the definition (``else:``, its body, the function's
    #: ``return``). While typing, the body alone.
    to_definition_end: bool
    #: (indentation, stripped text) of the first non-blank lines that follow the answer.
    next_lines: tuple[tuple[int, str], ...]
    #: Nearest non-blank line above the cursor line.
    previous_line: str | None
    #: Quote character of a string the cursor is inside (on its line), or "".
    open_quote: str
    prose_ok: bool
    prefix: str
    language: str
    #: The word before the cursor when it is a fragment of another (see ``open_word``).
    open_word: str = ""


@lru_cache(maxsize=16)
def _facts(ctx: CleanupContext) -> _Facts:
    rules = rules_for(ctx.language)
    mode = ctx.mode
    line_prefix, line_suffix = split_cursor_line(ctx.prefix, ctx.suffix)
    at_line_start = not line_prefix.strip()
    insert_above = at_line_start and bool(line_suffix.strip())
    cursor_indent = line_prefix[: len(line_prefix) - len(line_prefix.lstrip(" \t"))]
    previous = previous_code_line(ctx.prefix)
    opener_indent: int | None = None
    if mode in (Mode.BLOCK, Mode.GAP):
        if not at_line_start:
            opener_indent = indent_width(line_prefix)
        elif previous is not None and opens_block(previous, rules):
            opener_indent = indent_width(previous)
    next_lines: list[tuple[int, str]] = []
    if line_suffix.strip():
        width = indent_width(line_prefix + line_suffix) if insert_above else len(cursor_indent)
        next_lines.append((width, line_suffix.strip()))
    nl = ctx.suffix.find("\n")
    if nl >= 0:
        for line in ctx.suffix[nl + 1 :].split("\n", 40)[:40]:
            if line.strip():
                next_lines.append((indent_width(line), line.strip()))
                if len(next_lines) >= 3:
                    break
    tokens = tuple(dict.fromkeys(t for t in (*ctx.special_tokens, *BUILTIN_SPECIAL_TOKENS) if t))
    language = ctx.language.lower()
    in_comment = _cursor_in_comment(line_prefix, rules)
    at_end = not ctx.suffix.strip()
    # At the end of the file, a block on a line of its own: after a statement, or after an
    # opener inside a definition.
    block_at_end = mode is Mode.BLOCK and at_line_start and at_end
    return _Facts(
        rules=rules,
        mode=mode,
        tokens=tokens,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        at_line_start=at_line_start,
        insert_above=insert_above,
        cursor_indent=cursor_indent,
        opener_indent=opener_indent,
        at_end=at_end,
        goes_on_at_end=(
            block_at_end
            and opener_indent is None
            and previous is not None
            and not in_empty_body(ctx.prefix, previous, rules)
        ),
        to_definition_end=block_at_end and not ctx.brief and bool(opener_indent),
        next_lines=tuple(next_lines),
        previous_line=previous,
        open_quote="" if in_comment else _open_quote(line_prefix, language),
        prose_ok=language in PROSE_LANGUAGES or in_comment,
        prefix=ctx.prefix,
        language=language,
        open_word=open_word(ctx.prefix, ctx.suffix),
    )


# --------------------------------------------------------------------------- streaming


def answer_complete(partial: str, ctx: CleanupContext) -> bool:
    """True as soon as more tokens cannot change what ``clean`` keeps."""
    f = _facts(ctx)
    if ("<" in partial or "[" in partial) and (
        any(t in partial for t in f.tokens) or _TOKEN_SHAPE.search(partial)
    ):
        return True
    if f.mode is Mode.NONE:
        return True
    if "\n" not in partial:
        return False
    if not f.prose_ok and _closing_fence_seen(partial):
        return True
    if f.mode is Mode.LINE:
        head = partial.lstrip(" \t")
        if head.startswith(("\n", "\r")) and f.line_suffix.strip() and not f.at_line_start:
            return True  # a line break cannot fill a gap inside this line
        body = partial.lstrip() if f.at_line_start or head.startswith(("\n", "\r")) else partial
        if "\n" not in body.rstrip(" \t\r"):
            return False
        lines = body.split("\n")
        if _goes_on_below(lines[0], f):
            # A statement written over several lines: complete once its brackets close.
            end = _statement_end(lines, f)
            # Past the last line it may take, only its first line will be kept: stop there.
            return len(lines) > _STATEMENT_LINES or (end is not None and end < len(lines) - 1)
        return True
    lines = partial.split("\n")
    if f.mode is Mode.GAP and _rejoin(lines, f, streaming=True) is not None:
        return True
    end = _block_end(lines, f, streaming=True)
    if end is not None and not (f.mode is Mode.GAP and _on_its_way_back(lines, end, f)):
        return True
    brief = ctx.brief and (f.mode is Mode.GAP or f.goes_on_at_end)
    return brief and _first_statement_done(lines, f)


def _first_statement_done(lines: list[str], f: _Facts) -> bool:
    """The gap answer's first statement is complete and the model has begun another at its
    level that cannot become the code below.

    Only a later return to that code would keep more than the first statement, and waiting
    for one costs seconds of generation (an ``if`` chain at acorn.js:623 in
    benchmarks/real_use.py ran to ``max_tokens``, past the user's pause). A user who is typing
    gets the first statement now, and the next after accepting it (speculation).
    """
    lines = _drop_leading_blank_lines(list(lines), f)
    done = len(lines) - 1
    first = _first_statement(lines[:done], f) if done > 0 else ""
    if not first:
        return False
    later = next((k for k in range(first.count("\n") + 1, len(lines)) if lines[k].strip()), None)
    if later is None or _width(lines, later, f) > _width(lines, 0, f):
        return False  # nothing after it yet, or still inside it (a body, a continuation)
    if later < done:
        return True  # a whole line that is not the code below (``_rejoin`` ran first)
    written = lines[later].strip()
    word = _written_word(written)
    if word is None or _is_clause(word, f):
        return False  # a word still being written, a closer, or ``else``/``except``
    return not (f.next_lines and f.next_lines[0][1].startswith(written))


def _closing_fence_seen(partial: str) -> bool:
    lines = partial.split("\n")
    fences = [i for i, line in enumerate(lines[:-1]) if _FENCE.match(line)]
    if not fences:
        return False
    first_code = next((i for i, line in enumerate(lines) if line.strip()), 0)
    return fences[0] != first_code or len(fences) >= 2


# --------------------------------------------------------------------------- final cut


def clean(raw: str, ctx: CleanupContext) -> str:
    """The text to insert at the cursor; "" means no suggestion."""
    f = _facts(ctx)
    if f.mode is Mode.NONE:
        return ""
    text = cut_special_tokens(raw, f.tokens)
    text = text.replace("\r\n", "\n")
    if not f.prose_ok:
        text = strip_chat_wrapping(text, f.line_prefix)
    if f.mode is Mode.LINE:
        text = continue_word(text, f)
        if f.open_word and not is_word_char(text[:1]):
            text = ""  # ``contex`` + `` is None``: the word was not finished
        text = shape_line(text, f)
    elif f.mode is Mode.BLOCK:
        text = shape_block(text, f)
        if f.goes_on_at_end:
            text = _closed_statements(text, f)
            if ctx.brief and text.strip():
                text = _first_statement(text.split("\n"), f)
    else:
        text = shape_gap(text, f)
    if not text.strip():
        return ""
    text = fit_indentation(text, f)
    text = cut_stranding_jump(text, f)
    if not text.strip():
        return ""
    if (
        closes_too_early(text, f)
        or closes_nothing(text, f)
        or misplaced_clause(text, f)
        or empty_subscript(text, f)
        or leaves_the_body(text, f)
    ):
        return ""
    text = balance_with_suffix(text, f)
    text = cut_stray_closer(text, f)
    text = trim_trailing_whitespace(text, f)
    if not text.strip() or repeats_line_above(text, f) or duplicates_next_line(text, f):
        return ""
    return finish_lines(text, f)


#: Longest group of lines ``cut_loop`` looks for.
_LOOP_PERIOD = 6
_WORD = re.compile(r"\w")


def cut_loop(text: str) -> str:
    """One copy of a group of lines the answer writes again and again up to its end.

    A small model that loses its way loops until ``max_tokens``: pydantic/v1/networks.py:441
    in benchmarks/real_holes.py got ``if part.startswith('host:'):`` and then the same
    ``elif`` branch three times. For an answer cut short (``max_tokens``, the time budget)
    only: one the model ended itself may repeat lines on purpose (four rows of zeros before
    the ``]`` below the cursor), and repeats that stop before the end (two equal increments,
    then a ``return``) are code either way.
    """
    lines = text.split("\n")
    ending = [""] if len(lines) > 1 and not lines[-1] else []
    body = lines[: len(lines) - len(ending)]
    found = _loop_start(body)
    if found is None:
        return text
    start, period = found
    # The copy kept begins at the group's outermost line (``elif …:``, not the branch's body).
    head = min(range(start, start + period), key=lambda k: (_loop_indent(body[k]), k))
    return "\n".join(body[: head + period] + ending)


def _loop_indent(line: str) -> int:
    return indent_width(line) if line.strip() else 1 << 16


def _loop_start(lines: list[str]) -> tuple[int, int] | None:
    """(first line, period) of the earliest group of lines that repeats to the end of
    ``lines``, at least two lines beyond its first copy, and holds a word (``}`` lines
    repeat legitimately)."""
    keys = [line.rstrip() for line in lines]
    worded = [_WORD.search(key) is not None for key in keys]
    n = len(keys)
    for start in range(n - 2):
        for period in range(1, _LOOP_PERIOD + 1):
            if n - start - period < max(2, period):
                break
            if not any(worded[start : start + period]):
                continue
            group = keys[start : start + period]
            if all(keys[j] == group[(j - start) % period] for j in range(start + period, n)):
                return start, period
    return None


def cut_special_tokens(text: str, tokens: tuple[str, ...]) -> str:
    """Cut at the first special token; drop a token half-written when generation stopped."""
    cut = len(text)
    for token in tokens:
        at = text.find(token, 0, cut)
        if at >= 0:
            cut = at
    shaped = _TOKEN_SHAPE.search(text, 0, cut)
    if shaped:
        cut = shaped.start()
    text = text[:cut]
    tail = text[-24:]
    for token in tokens:
        for k in range(min(len(token) - 1, len(tail)), 1, -1):
            piece = token[:k]
            if tail.endswith(piece) and (k >= 3 or piece in ("<|", "<\uff5c")):
                return text[: len(text) - k]
    return text


def strip_chat_wrapping(text: str, line_prefix: str) -> str:
    """Unwrap code fences and drop prose lead-ins (chat-tuned models add both)."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return text
    if _LEAD_IN.match(lines[first]) and not _FENCE.match(lines[first]):
        fence = next((i for i in range(first + 1, len(lines)) if _FENCE.match(lines[i])), None)
        if fence is None:
            return ""  # prose only
        lines, first = lines[fence:], 0
    if _FENCE.match(lines[first]):
        if (
            lines[first].strip() in ("```", "~~~")
            and not "".join(lines[first + 1 : first + 2]).strip()
        ):
            # A bare fence, then a blank line: the model closed a code block it imagined
            # and writes prose about it next (seen at the end of httpx's _client.py).
            return ""
        body = lines[first + 1 :]
        end = next((i for i, line in enumerate(body) if _FENCE.match(line)), len(body))
        body = body[:end]
        echoed = line_prefix.strip()
        if body and echoed and body[0].strip().startswith(echoed):
            rest = body[0].strip()[len(echoed) :]
            body[0] = rest.lstrip() if line_prefix[-1:].isspace() else rest
        elif body and not echoed and line_prefix:
            body[0] = body[0][len(line_prefix) :] if body[0].startswith(line_prefix) else body[0]
        return "\n".join(body)
    closing = next((i for i in range(first + 1, len(lines)) if _FENCE.match(lines[i])), None)
    return text if closing is None else "\n".join(lines[:closing])


def shape_line(text: str, f: _Facts) -> str:
    """LINE mode: the rest of this line, or (after a finished line) the next line."""
    if f.at_line_start:
        stripped = text.lstrip("\n")
        if len(stripped) != len(text) and f.line_prefix and stripped.startswith(f.line_prefix):
            stripped = stripped[len(f.line_prefix) :]
        return _statement_at(stripped, f, own_line=True)
    head = text.lstrip(" \t")
    if head.startswith("\n"):
        if f.line_suffix.strip():
            return ""  # a line break inside a gap on this line is never wanted
        rest = head.lstrip("\n")
        line = _statement_at(rest, f, own_line=True) if rest.strip() else ""
        return "\n" + line if line else ""
    return _statement_at(text, f, own_line=False)


def _statement_at(text: str, f: _Facts, *, own_line: bool) -> str:
    """The answer's first line, or the statement it begins over several lines up to its
    closing bracket. When that bracket never comes: the first line where the user is typing
    that line (``own_line`` false), nothing on a line of its own (``return Request(`` alone
    would leave an unclosed call on screen: after Enter at httpx's ``_client.py``:481)."""
    lines = text.split("\n")
    if not _goes_on_below(lines[0], f):
        return lines[0]
    end = _statement_end(lines, f)
    if end is None:
        return "" if own_line else lines[0]
    return "\n".join(lines[: end + 1])


#: Lines a statement continued over several lines may take (``f(`` then one argument a line).
_STATEMENT_LINES = 8
#: The same in a gap, where the code below bounds the answer anyway.
_GAP_STATEMENT_LINES = 16


def _goes_on_below(first: str, f: _Facts) -> bool:
    """Nothing is right of the cursor and the answer's first line ends with brackets it opened
    and left open (``def f(``, ``foo(`` before one argument a line). Not a ``{``: in C-family
    languages that is mostly a block, which a pause at the end of a line does not ask for."""
    return not f.line_suffix.strip() and _left_open(code_part(first, f.rules))


def _left_open(code: str) -> bool:
    """The line ends inside brackets it opened, at ``(``, ``[`` or ``,``: the statement goes on
    over the next lines. (Not ``{``: in C-family languages that is mostly a block.)"""
    return code[-1:] in "([," and _opens_brackets(code)


def _statement_end(lines: list[str], f: _Facts, limit: int = _STATEMENT_LINES) -> int | None:
    """The index of the line where the brackets the first line opened are closed again, within
    ``limit`` lines; None when they are not (then only the first line is kept)."""
    code = [code_part(line, f.rules) for line in lines[:limit]]
    return next(
        (i for i in range(1, len(code)) if not _opens_brackets("\n".join(code[: i + 1]))), None
    )


def continue_word(text: str, f: _Facts) -> str:
    """After a word the user is typing, an answer continues it; it never starts a new line's
    indentation on the cursor's line (``ret`` + ``    if x:``) or types the word again
    (``de`` + `` def f():``, which becomes ``f f():``).

    One space after a whole word is ordinary code (``return`` + `` x``), so a single space is
    only suspect when the word typed so far is a fragment: it is not a word anywhere before it.
    """
    typed = typed_word(f.line_prefix)
    if not typed or text[:1] not in (" ", "\t"):
        return text
    rest = text.lstrip(" \t")
    if not rest or rest.startswith(("\n", "\r")):
        return text  # the line is finished: shape_line decides about the next one
    lead = text[: len(text) - len(rest)]
    retyped = rest.startswith(typed) and len(rest) > len(typed) and is_word_char(rest[len(typed)])
    if lead == " ":
        before = f.prefix[: len(f.prefix) - len(typed)]
        if not retyped or re.search(rf"(?<!\w){re.escape(typed)}(?!\w)", before):
            return text
    return rest[len(typed) :] if retyped else ""


def open_word(prefix: str, suffix: str) -> str:
    """The word before the cursor when the user is plainly still typing it: two characters or
    more, no word character after the cursor, and used around it only as the beginning of
    longer words, never whole (``contex`` where ``context`` is used). An answer there goes on
    with the word; "" when that is not known (``ret`` in a file without ``return`` may be a
    name of its own)."""
    typed = typed_word(prefix[prefix.rfind("\n") + 1 :])
    if len(typed) < 2 or typed[0].isdigit() or is_word_char(suffix[:1]):
        return ""
    around = prefix[: len(prefix) - len(typed)] + "\n" + suffix
    word = re.escape(typed)
    if re.search(rf"(?<!\w){word}(?!\w)", around):
        return ""
    return typed if re.search(rf"(?<!\w){word}\w", around) else ""


def shape_gap(text: str, f: _Facts) -> str:
    """GAP mode: the lines up to where the answer reaches the code after the cursor; one
    statement when it never does (or leaves its function first, or wanders on after its
    block). A small model that does not come back to that code within its budget is writing
    something else, and only its first statement is likely to belong in the gap (measured on
    HumanEval infilling, docs/quality.md)."""
    lines = _drop_leading_blank_lines(text.split("\n"), f)
    end = _block_end(lines, f, streaming=False)
    back = _rejoin(lines, f, streaming=False)
    if back is not None and (end is None or back <= end or _on_its_way_back(lines[:back], end, f)):
        return "\n".join(_drop_dangling_openers(lines[:back], f))
    return _first_statement(lines, f)


#: Lines a gap answer may write after leaving the cursor's block before it is back at the code
#: below (HumanEval/106: one). More is rarely a way back, and costs explicit requests seconds.
_WAY_BACK = 3


def _on_its_way_back(lines: list[str], end: int, f: _Facts) -> bool:
    """The answer left the cursor's block at line ``end`` and may still lead back to the code
    below: a few lines since, all inside the function (or class) around the cursor.

    The gap then spans the block's end (``end *= 2.0``, then ``while end - begin > 1e-10:``
    above the loop's body in HumanEval/32). Out of the definition, or wandering on, the answer
    is writing something else."""
    if not f.rules.indent_blocks:
        return False  # brace languages: methods and arrow functions are no `def` to find
    if sum(1 for line in lines[end:] if line.strip()) > _WAY_BACK:
        return False
    floor = _definition_indent(f)
    if floor is None:
        return False
    # A line being written has its final indentation once its text has begun.
    return all(_width(lines, k, f) > floor for k in range(len(lines)) if lines[k].strip())


def _definition_indent(f: _Facts) -> int | None:
    """Indentation of the definition line (``def``, ``function``, ``class``…) that encloses
    the cursor's line, if one does before top-level code."""
    width = indent_width(f.line_prefix)
    if f.at_line_start and f.next_lines:
        width = max(width, f.next_lines[0][0])
    lines = f.prefix.split("\n")
    lines.pop()  # the cursor's own line
    for line in reversed(lines):
        if not line.strip() or f.rules.closer.match(line.strip()[:1]):
            continue  # `) -> str:` ends a signature begun further up
        at = indent_width(line)
        if at < width:
            if _DEFINITION.match(line):
                return at
            if at == 0:
                return None
            width = at
    return None


def _first_statement(lines: list[str], f: _Facts) -> str:
    """The answer's first line, with the body the model wrote for it when that line opens a
    block and the code below is not its body: ``if x:`` alone would not parse. Nothing when
    that body is missing, unfinished or the code below again (the model wrapped it)."""
    first = lines[0]
    width = _width(lines, 0, f)
    if _left_open(code_part(first, f.rules)):
        # ``return Request(`` then one argument a line: the statement ends at its closer
        end = _statement_end(lines, f, _GAP_STATEMENT_LINES)
        if end is None:
            return ""  # never closed: the first line alone would not parse
        if not opens_block(lines[end], f.rules):
            return "\n".join(lines[: end + 1])
    if not _dangles(first, width, f):
        return first
    end = next(
        (k for k in range(1, len(lines)) if lines[k].strip() and indent_width(lines[k]) <= width),
        len(lines),
    )
    if not f.rules.indent_blocks:
        if end == len(lines) or not f.rules.closer.match(lines[end].strip()):
            return ""  # the closing bracket never came
        end += 1
    body = [line.strip() for line in lines[1:end] if line.strip() and indent_width(line) > width]
    wrapped = bool(f.next_lines) and f.next_lines[0][1] in body
    if not body or wrapped:
        return ""
    kept = _drop_dangling_openers(lines[:end], f)
    while kept and not kept[-1].strip():
        kept.pop()
    return "" if len(kept) < 2 else "\n".join(kept)


def _rejoin(lines: list[str], f: _Facts, *, streaming: bool) -> int | None:
    """Index of the answer's first line that is the code after the cursor again: the same
    line, or (from the second line on) a close variant of it at the same indentation. A short
    line (``}``, ``break``) only counts when the next line also matches or the answer ends."""
    if not f.next_lines:
        return None
    next_width, next_text = f.next_lines[0]
    done = _finished(lines, streaming)
    for k in range(done):
        stripped = lines[k].strip()
        if not stripped or _width(lines, k, f) != next_width:
            continue
        if stripped == next_text:
            if not _is_trivial(stripped, f.rules):
                return k
            later = _next_code_line(lines, k + 1, done)
            if later is None:
                return None if streaming else k
            if len(f.next_lines) > 1 and (indent_width(later), later.strip()) == f.next_lines[1]:
                return k
        elif k > 0 and _resembles(stripped, next_text):
            return k
    return None


def _finished(lines: list[str], streaming: bool) -> int:
    """How many of the answer's lines are final: while streaming, the last is still written."""
    return len(lines) - 1 if streaming else len(lines)


def _width(lines: list[str], k: int, f: _Facts) -> int:
    """Indentation of the answer's line ``k`` as it will stand in the document (the first line
    continues the cursor's line)."""
    return indent_width(f.line_prefix + lines[k]) if k == 0 else indent_width(lines[k])


def _next_code_line(lines: list[str], start: int, end: int) -> str | None:
    return next((line for line in lines[start:end] if line.strip()), None)


def _resembles(line: str, target: str) -> bool:
    """The same statement with small differences (the model's take on the next line)."""
    if min(len(line), len(target)) < 12:
        return False
    return SequenceMatcher(None, line, target, autojunk=False).ratio() >= 0.8


def _drop_leading_blank_lines(lines: list[str], f: _Facts) -> list[str]:
    if f.at_line_start and len(lines) > 1 and not lines[0].strip():
        while len(lines) > 1 and not lines[0].strip():
            lines.pop(0)  # leading blank lines would be left behind as extra blank lines
        if f.line_prefix and lines[0].startswith(f.line_prefix):
            lines[0] = lines[0][len(f.line_prefix) :]  # that line brought its own indent
    return lines


def _closed_statements(text: str, f: _Facts) -> str:
    """The answer up to its last line that closes every bracket it opened: a call cut by
    ``max_tokens`` (``return Request(`` and one argument) would not parse."""
    lines = text.split("\n")
    code = [code_part(line, f.rules) for line in lines]
    for n in range(len(lines), 0, -1):
        if not _opens_brackets("\n".join(code[:n])):
            return "\n".join(lines[:n])
    return ""


def shape_block(text: str, f: _Facts) -> str:
    lines = _drop_leading_blank_lines(text.split("\n"), f)
    if not f.at_line_start and len(lines) > 2 and not lines[0].strip():
        while len(lines) > 2 and not lines[1].strip():
            lines.pop(1)  # `def f():` + blank lines + body: no blank line after the opener
    end = _block_end(lines, f, streaming=False)
    if end is not None:
        lines = _drop_dangling_openers(lines[:end], f)
    return "\n".join(lines)


def _block_end(lines: list[str], f: _Facts, *, streaming: bool) -> int | None:
    """Index of the first line not to keep (the block is over), or None.

    A short line (``}``, ``break``) equal to the suffix's next line is only a repeat when the
    answer ends after it or goes on repeating; ``pending`` holds it until that is known.
    """
    floor = f.opener_indent
    if f.to_definition_end and floor is not None:
        floor = _enclosing_indent(f, floor + 1)
    body_seen = False
    pending: int | None = None
    last = len(lines) - 1
    for k in range(0 if f.at_line_start else 1, len(lines)):
        line = lines[k]
        stripped = line.strip()
        if not stripped:
            continue
        width = _width(lines, k, f)
        if streaming and k == last:
            # Still being written: only its indentation is final, and its first word once
            # written out. At the enclosing level, a line that cannot become a closer or a
            # continuation clause ends the block (`this.parse…` after a body).
            out = floor is not None and (width < floor or _leaves_at(width, stripped, floor, f))
            if body_seen and out:
                return k if pending is None else pending
            return None
        if pending is not None and len(f.next_lines) > 1 and (width, stripped) == f.next_lines[1]:
            return pending
        repeat = _repeat_kind(lines, k, width, f)
        if repeat == "strong" or (k > 0 and _rewraps_suffix(lines, k, f, streaming=streaming)):
            return k if pending is None else pending
        if not body_seen:
            body_seen = True
            if floor is None:
                floor = _enclosing_indent(f, width)
            verdict = _first_line_verdict(width, stripped, f)
        else:
            verdict = _line_verdict(width, stripped, floor, f)
        if verdict != "keep":
            if pending is not None:
                return pending
            return k + 1 if verdict == "cut_after" else k
        pending = k if repeat == "weak" else None
    if pending is not None and not streaming:
        return pending  # the answer ends on a copy of the next line: it would be doubled
    return None


def _leaves_at(width: int, partial: str, floor: int, f: _Facts) -> bool:
    """A line being written at the enclosing level (``floor``) already shows it is no closer
    and no continuation: its first word is written out and neither can start with it. In a gap
    it must not be able to become the code below either (the answer would lead back there)."""
    if width != floor:
        return False
    if f.mode is Mode.GAP and f.next_lines and f.next_lines[0][0] == width:
        return False
    word = _written_word(partial)
    if word is None:
        return False  # `}` `)` or a word still being written
    return not (f.rules.closer.match(word) or _is_clause(word, f))


_FIRST_WORD = re.compile(r"([A-Za-z_$][\w$]*)[^\w$]")


def _written_word(line: str) -> str | None:
    """The first word of a (stripped) line being written, once it is written out."""
    word = _FIRST_WORD.match(line)
    return word.group(1) if word else None


def _is_clause(word: str, f: _Facts) -> bool:
    """``word`` begins a continuation clause (``else``, ``except``, ``catch``)."""
    return bool(f.rules.continuation.match(word + " "))


def _rewraps_suffix(lines: list[str], k: int, f: _Facts, *, streaming: bool) -> bool:
    """Line ``k`` is a continuation clause (``else:``) whose body is the code after the cursor
    again, indented one level deeper: the model wrapped the rest of the function in a branch."""
    if not f.next_lines or not f.rules.continuation.match(lines[k].strip()):
        return False
    later = _next_code_line(lines, k + 1, _finished(lines, streaming))
    next_width, next_text = f.next_lines[0]
    return later is not None and later.strip() == next_text and indent_width(later) != next_width


def _drop_dangling_openers(lines: list[str], f: _Facts) -> list[str]:
    """A block must not end on a line that opens another one (``else:`` with no body), unless
    the code after the cursor is that body."""
    while len(lines) > 1:
        last = next((i for i in range(len(lines) - 1, 0, -1) if lines[i].strip()), None)
        if last is None or not _dangles(lines[last], indent_width(lines[last]), f):
            break
        del lines[last:]
    return lines


def _dangles(line: str, width: int, f: _Facts) -> bool:
    """``line`` (at indentation ``width``) opens a block, and the code after the cursor is not
    its body: nothing after it in the answer would leave it without one."""
    return opens_block(line, f.rules) and not (f.next_lines and f.next_lines[0][0] > width)


def _first_line_verdict(width: int, stripped: str, f: _Facts) -> str:
    if f.opener_indent is not None and width <= f.opener_indent:
        if f.rules.closer.match(stripped) and not f.rules.indent_blocks:
            return "cut_after" if _closer_wanted(width, f) else "cut_before"
        return "cut_before"  # nothing went into the body
    return "keep"


def _line_verdict(width: int, stripped: str, floor: int | None, f: _Facts) -> str:
    if floor is None:
        return "keep"
    if width < floor:
        return "cut_before"
    if width > floor:
        return "keep"
    if f.rules.continuation.match(stripped):
        return "keep"
    if f.rules.closer.match(stripped):
        return "cut_after" if _closer_wanted(width, f) else "cut_before"
    return "cut_before"


def _enclosing_indent(f: _Facts, body_indent: int) -> int | None:
    """Indentation of the line that encloses the body: the nearest less indented line, or at
    the end of the document the enclosing definition (the outermost line when none matches)."""
    lines = f.prefix.split("\n")
    if f.at_line_start:
        lines.pop()  # the cursor's own blank line
    threshold = body_indent
    outermost: int | None = None
    for line in reversed(lines):
        if not line.strip():
            continue
        width = indent_width(line)
        if width < threshold:
            if not f.at_end or _DEFINITION.match(line):
                return width
            threshold = outermost = width
            if width == 0:
                break
    return outermost


def _closer_wanted(width: int, f: _Facts) -> bool:
    """Keep a block's closing line unless the text after the cursor already closes it."""
    if not f.next_lines:
        return True
    next_width, next_text = f.next_lines[0]
    if next_width > width:
        return False  # the code after the cursor is still inside this block
    if next_width == width:
        return not (f.rules.closer.match(next_text) or f.rules.continuation.match(next_text))
    return True


def _is_trivial(stripped: str, rules: LanguageRules) -> bool:
    return (
        len(stripped) <= 6
        or not any(ch.isalnum() for ch in stripped)
        or rules.closer.match(stripped) is not None
    )


def _repeat_kind(lines: list[str], k: int, width: int, f: _Facts) -> str:
    """Whether line ``k`` repeats the code after the cursor: "strong", "weak" or "none"."""
    if not f.next_lines:
        return "none"
    stripped = lines[k].strip()
    next_width, next_text = f.next_lines[0]
    if stripped != next_text:
        return "none"
    if width == next_width:
        return "weak" if _is_trivial(stripped, f.rules) else "strong"
    # Differently indented: only a two-line match counts.
    later = _next_code_line(lines, k + 1, len(lines) - 1)
    if later is None or len(f.next_lines) < 2:
        return "none"
    return "strong" if (indent_width(later), later.strip()) == f.next_lines[1] else "none"


def balance_with_suffix(text: str, f: _Facts) -> str:
    """Stop where the answer closes a bracket or quote that the text on the right closes."""
    follow = f.line_suffix.lstrip()
    if not follow or f.insert_above:
        return text
    line_end = text.find("\n", 1) if text.startswith("\n") else text.find("\n")
    first = text if line_end < 0 else text[:line_end]
    quote = f.open_quote
    stack: list[str] = []
    i = 0
    while i < len(first):
        ch = first[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                if f.open_quote and quote == f.open_quote and not stack:
                    if follow.startswith(ch):
                        return first[:i]
                    return text
                quote = ""
        elif ch in "\"'`" and not (ch == "'" and _apostrophe(first, i)):
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if stack and _MATCH[stack[-1]] == ch:
                stack.pop()
            elif follow.startswith(ch):
                return first[:i]
        i += 1
    # The answer ends by retyping the rest of the line (`x█:` + `> 0:`): drop the copy,
    # unless the copy's brackets close ones the answer itself opened (`f(█)` + `g(a)`).
    tail = follow.rstrip()
    body = first.rstrip()
    if body.endswith(tail) and len(body) > len(tail) and not _opens_brackets(body[: -len(tail)]):
        return body[: -len(tail)]
    return text


def fit_indentation(text: str, f: _Facts) -> str:
    """On a line the user has indented, the answer starts at that indentation: the user (or
    the editor's auto-indent) chose it, and more would be typed twice (in Python, an unexpected
    indent). The answer's lines move left by the extra amount, and a later line less indented
    than that ends it. Left alone where a deeper line is due: after a line that opens a block
    and is no less indented than the cursor."""
    if not (f.at_line_start and f.line_prefix) or text[:1] not in (" ", "\t"):
        return text
    above = f.previous_line
    if (
        above is not None
        and opens_block(above, f.rules)
        and indent_width(above) >= indent_width(f.line_prefix)
    ):
        return text
    lines = text.split("\n")
    extra = lines[0][: len(lines[0]) - len(lines[0].lstrip(" \t"))]
    kept = [lines[0][len(extra) :]]
    for line in lines[1:]:
        if line.strip() and not line.startswith(extra):
            break
        kept.append(line[len(extra) :])
    return "\n".join(kept)


def closes_too_early(text: str, f: _Facts) -> bool:
    """A line of its own that only closes (``}``, ``});``, ``)``) where the code around the
    cursor says the block goes on: the code below is deeper (inside what it would close), or
    the closer is deeper than the line that opened its bracket while the code below is at
    least as deep or is that bracket's own closer. ``} else {`` stays (the code below may
    well be its body), and so does closing an unfinished body before code further out. In a
    brace language a closer that may not end the statement stays before deeper code
    (``}))`` before an ``if``'s braceless body, ``})`` before ``.then(``)."""
    if not f.at_line_start or not f.next_lines:
        return False
    first = text.split("\n", 1)[0]
    stripped = first.strip()
    if not f.rules.closer.match(stripped) or opens_block(first, f.rules):
        return False
    if not (f.rules.indent_blocks or stripped.endswith((";", "}"))):
        return False
    width = indent_width(f.line_prefix + first)
    below, below_text = f.next_lines[0]
    if below > width:
        return True
    scan = _scan_brackets(f.prefix, "", f.language)
    if scan is None or not scan.open or scan.open[-1][0] != _CLOSES[stripped[0]]:
        return False  # unknown, or a stray closer (cut_stray_closer's case)
    at = scan.open[-1][1]
    opener_width = indent_width(f.prefix[f.prefix.rfind("\n", 0, at) + 1 :])
    if width <= opener_width:
        return False
    return below >= width or (below == opener_width and below_text[:1] == stripped[0])


_ONLY_CLOSERS = re.compile(r"[)\]}]+[,;:]?")


def _own_line_in_indented_code(f: _Facts) -> bool:
    """The answer is a line of its own in a language whose blocks are indented: there the
    line above tells what may follow it (no brace block may still be open further up)."""
    return f.at_line_start and f.rules.indent_blocks


def closes_nothing(text: str, f: _Facts) -> bool:
    """A line of its own that only closes brackets where nothing is open: ``)`` after a
    finished call at the end of a method (hypothesis' ``core.py`` in benchmarks/real_use.py,
    after Enter). Only in languages whose blocks are indented, where a bracket rarely stays
    open longer than the 4,000 characters the scan sees (a brace language's function may
    well have opened its ``{`` further up), and only after a line that ends its statement."""
    if f.previous_line is None or not _own_line_in_indented_code(f):
        return False
    if not _ONLY_CLOSERS.fullmatch(text.split("\n", 1)[0].strip()):
        return False
    above = code_part(f.previous_line, f.rules).rstrip()
    if not above or above.endswith((",", "(", "[", "{", "\\")) or opens_block(above, f.rules):
        return False
    scan = _scan_brackets(f.prefix, "", f.language)
    return scan is not None and not scan.open and not scan.inside


#: A compound statement's first word: a clause after it on the same level can be valid (the
#: one-line ``if x: a()`` before ``else: b()``).
_COMPOUND = re.compile(r"(?:async\s+)?(?:if|elif|else|for|while|try|except|finally|with|case)\b")


def misplaced_clause(text: str, f: _Facts) -> bool:
    """A line of its own that begins with ``elif``/``else``/``except`` at the width of a plain
    statement just above it, in a language whose blocks are indented: no ``if`` or ``try``
    there for it to continue. An answer that meant to dedent (``        elif x:`` at a cursor
    indented 12) lost its indentation to the one already typed (seen at pygls' ``json_rpc.py``,
    an empty line in the body of an ``if``)."""
    above = f.previous_line
    if above is None or not _own_line_in_indented_code(f):
        return False
    first = text.split("\n", 1)[0]
    word = _written_word(first.strip())
    if word is None or not _is_clause(word, f):
        return False
    if indent_width(above) != indent_width(f.line_prefix + first):
        return False
    return not _COMPOUND.match(above.strip())


def cut_stranding_jump(text: str, f: _Facts) -> str:
    """Cut the answer's last statement when it is a ``return`` (``raise``, ``throw``,
    ``break``, ``continue``) of its own with code of the same block (or deeper) right below:
    that code could never run (deeper, it would not even parse in Python). A small model that
    writes the function's end in a gap has not read the code below (``return res`` above
    ``for arr in lst:`` in HumanEval/113; 12 of 100 multi-line first answers), and one that
    finishes a signature may write a body of its own above the real one (httpx's
    ``_auth.py``:169). What comes before it stays when it stands alone (the signature); an
    answer that was only the jump is nothing. A jump the user typed stays theirs."""
    start = _stranding_jump(text, f)
    if start is None:
        return text
    new_line = text.startswith("\n")
    lines = (text[1:] if new_line else text).split("\n")[:start]
    while lines and not code_part(lines[-1], f.rules).strip():
        lines.pop()  # comments and blank lines that led to it
    if not lines or _opens_brackets("\n".join(code_part(line, f.rules) for line in lines)):
        return ""
    return ("\n" if new_line else "") + "\n".join(lines)


def _stranding_jump(text: str, f: _Facts) -> int | None:
    """The index of the answer line where a jump that strands the code below begins."""
    jump = f.rules.jump
    if jump is None or not f.next_lines or (f.line_suffix.strip() and not f.insert_above):
        return None  # (text right of the cursor would join the answer's last line)
    new_line, lines = _whole_lines(text, f)
    code = [code_part(line, f.rules) for line in lines]
    start = next(
        (
            k
            for k in range(len(code) - 1, -1, -1)
            if code[k].strip() and not _opens_brackets("\n".join(code[:k]))
        ),
        None,
    )
    if start is None or (start == 0 and not new_line and not f.at_line_start):
        return None
    statement = "\n".join(code[start:]).strip()
    if not jump.match(statement) or _opens_brackets(statement):
        return None
    if not re.search(r"""[\w)\]}'"`;]$""", statement):
        return None  # ``return a +``: the statement goes on below
    width = indent_width(lines[start])
    for below_width, below_text in f.next_lines:
        if not code_part(below_text, f.rules):
            continue  # a comment
        if below_width < width or (
            f.rules.closer.match(below_text)
            or f.rules.continuation.match(below_text)
            or (f.rules.reachable is not None and f.rules.reachable.match(below_text))
        ):
            return None
        return start
    return None


def _whole_lines(text: str, f: _Facts) -> tuple[bool, list[str]]:
    """(the answer starts a new line, its lines as they will read: the first one with the
    text before the cursor unless the answer starts a new line)."""
    new_line = text.startswith("\n")
    lines = (text[1:] if new_line else text).split("\n")
    if not new_line:
        lines[0] = f.line_prefix + lines[0]
    return new_line, lines


def leaves_the_body(text: str, f: _Facts) -> bool:
    """Lines of their own, in a language whose blocks are indented, that break the block
    structure around them: the first one not deeper than an opener right above it (that
    opener is left without a body), the last one followed by deeper code (an unexpected
    indent) or the first one out at the level of the definition the code below belongs to
    (``if __name__ == "__main__":`` at column 0 between a docstring and the function's
    ``return``, HumanEval/66: the rest of the function becomes that block's body). An editor
    leaves an empty line's cursor at column 0, so the model's own indentation is all there is.
    A continuation clause (``else:``) and a closing bracket may dedent; inside brackets or a
    string any indentation goes."""
    if not _own_line_in_indented_code(f) or f.previous_line is None or not f.next_lines:
        return False
    _, lines = _whole_lines(text, f)
    code = [(indent_width(line), code_part(line, f.rules).strip()) for line in lines]
    code = [(width, stripped) for width, stripped in code if stripped]
    if not code or code[0][1][0] in ")]}":
        return False  # comments go anywhere; a closer's rules are its own (closes_nothing)
    scan = _scan_brackets(f.prefix, "", f.language)
    if scan is None or scan.open or scan.inside:
        return False
    (first_width, first), (last_width, last) = code[0], code[-1]
    below = f.next_lines[0][0]
    if opens_block(f.previous_line, f.rules) and first_width <= indent_width(f.previous_line):
        return True
    if (
        below > last_width
        and not opens_block(last, f.rules)
        and not last.endswith("\\")
        and not _opens_brackets("\n".join(stripped for _, stripped in code))
    ):
        return True
    if f.rules.continuation.match(first):
        return False
    definition = _definition_indent(f)
    return definition is not None and first_width <= definition < below


#: Languages where ``x[]`` is never code (TypeScript's ``string[]`` type is).
_NO_EMPTY_SUBSCRIPT = frozenset({"python", "javascript", "javascriptreact"})


def empty_subscript(text: str, f: _Facts) -> bool:
    """``args[`` + ``];``: the model left the index out, and ``x[]`` is not an expression in
    Python or JavaScript (an empty list after an operator or a keyword is)."""
    head = f.line_prefix
    if f.language not in _NO_EMPTY_SUBSCRIPT or not head.endswith("["):
        return False
    if f.open_quote or f.prose_ok:
        return False  # in a string or a comment
    if not text.lstrip(" \t").startswith("]"):
        return False
    before = head[:-1]
    if before.endswith((")", "]")):
        return True
    word = typed_word(before)  # a name right before the bracket (not `return [`)
    return bool(word) and not word[0].isdigit() and not keyword.iskeyword(word)


_CLOSES = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class _Brackets:
    #: Brackets open at the cursor, innermost last, with their offsets in the prefix.
    open: tuple[tuple[str, int], ...]
    #: Index in the answer's line of the first closer that meets another open bracket.
    stray: int | None
    #: The cursor is inside a string or comment (then nothing counts as open).
    inside: bool


def cut_stray_closer(text: str, f: _Facts) -> str:
    """Cut the cursor's line where the answer closes a bracket that is not the innermost one
    open (``Callable[[A]`` + ``]], None],`` inside a ``def f(``: the last ``]`` meets the
    ``(``): the model has lost count of what is open, and what follows is wrong too."""
    line_end = text.find("\n", 1) if text.startswith("\n") else text.find("\n")
    first = text if line_end < 0 else text[:line_end]
    scan = _scan_brackets(f.prefix, first, f.language)
    if scan is None or scan.stray is None:
        return text
    return first[: scan.stray]


@lru_cache(maxsize=16)
def _scan_brackets(prefix: str, line: str, language: str) -> _Brackets | None:
    """Brackets open at the cursor, then the answer's line scanned on from there (None where
    the scan does not know the language's strings and comments).

    The window may start inside a bracket, a comment or a docstring: the scan starts at its
    second line, a closer with nothing open is not judged, one above the cursor that does not
    match drops the openers it skips, a cursor inside a string or comment has nothing open,
    and a closer in the answer is only judged against an opener on the cursor's line or at
    the end of its own line (where code opens brackets that stay open; prose in a docstring
    the scan took for code rarely does)."""
    scanner = _bracket_scanner(language)
    if scanner is None:
        return None
    # The newline ends the answer's line, and shows a string still open at the cursor.
    text, cursor, rules = prefix + line + "\n", len(prefix), rules_for(language)
    pos = prefix.find("\n") + 1 if prefix.count("\n") > 1 else 0
    stack: list[tuple[str, int]] = []  # JavaScript template literals hold "`" and "${"
    at_cursor: tuple[tuple[str, int], ...] | None = None
    inside = False
    while match := (_TEMPLATE_TEXT if stack and stack[-1][0] == "`" else scanner).search(text, pos):
        token, start, pos = match.group(), match.start(), match.end()
        inside = inside or start < cursor < pos
        if at_cursor is None and start >= cursor:
            at_cursor = tuple(stack)
        if stack and stack[-1][0] == "`":  # the text of a template literal
            if token == "`":
                stack.pop()
            elif token == "${":
                stack.append((token, start))
        elif token in ("(", "[", "{", "`"):
            stack.append((token, start))
        elif token in _CLOSES and _close(stack, token, start >= cursor, prefix, rules):
            return _Brackets(at_cursor or (), start - cursor, inside)
    if at_cursor is None:  # no token after the cursor: inside the last one if it goes on
        at_cursor = () if pos > cursor else tuple(stack)
    return _Brackets(at_cursor, None, inside)


def _close(
    stack: list[tuple[str, int]], token: str, in_answer: bool, prefix: str, rules: LanguageRules
) -> bool:
    """Apply a closer to the open brackets; True when it is a stray one in the answer."""
    wants = ("{", "${") if token == "}" else (_CLOSES[token],)
    if stack and stack[-1][0] in wants:
        stack.pop()
        return False
    if in_answer:
        return bool(stack) and (
            stack[-1][1] >= len(prefix) or _ends_its_line(prefix, stack[-1][1], rules)
        )
    for k in range(len(stack) - 1, -1, -1):
        if stack[k][0] in wants:
            del stack[k:]
            break
    return False


def _ends_its_line(prefix: str, at: int, rules: LanguageRules) -> bool:
    """The bracket at ``at`` is on the cursor's line or the last code on its own line."""
    end = prefix.find("\n", at)
    return end < 0 or not code_part(prefix[at + 1 : end], rules).strip()


_JS_FAMILY = frozenset({"javascript", "typescript"})
#: Inside a template literal's text: an escape, an interpolation, or its end.
_TEMPLATE_TEXT = re.compile(r"\\[\s\S]|\$\{|`")


@lru_cache(maxsize=32)
def _bracket_scanner(language: str) -> re.Pattern[str] | None:
    """Brackets, and the strings and comments whose brackets do not count, for languages whose
    strings and comments the scan knows (Python and the C family, JSX text excepted).
    JavaScript's template literals are a token of their own (``_scan_brackets`` follows them
    into their interpolations), and so are its regular expressions."""
    family = block_family(language)
    if family not in ("python", "c_like") or language.endswith("react"):
        return None
    js = language in _JS_FAMILY
    parts = [r"\\[\s\S]", r'"""[\s\S]*?(?:"""|\Z)', r"'''[\s\S]*?(?:'''|\Z)"]
    parts += [r"#[^\n]*"] if family == "python" else [r"//[^\n]*", r"/\*[\s\S]*?(?:\*/|\Z)"]
    if js:  # a regular expression literal where an operand starts
        parts.append(
            r"(?:(?<=[(,=:\[!&|?{};\n])|(?<=\breturn))[ \t]*/(?![/*])"
            r"(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/"
        )
    for quote in string_quotes(language):
        if quote == "`":
            parts.append("`" if js else r"`(?:[^`\\]|\\[\s\S])*`?")
        else:
            parts.append(rf"{quote}(?:[^{quote}\\\n]|\\[\s\S])*{quote}?")
    parts.append(r"[()\[\]{}]")
    return re.compile("|".join(parts))


def _opens_brackets(text: str) -> bool:
    """Whether ``text`` leaves a bracket of its own open (strings ignored)."""
    depth = 0
    quote = ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return depth > 0


_MATCH = {"(": ")", "[": "]", "{": "}"}


def _apostrophe(text: str, i: int) -> bool:
    """``don't``: a quote between two letters is not a string delimiter."""
    return 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()


def trim_trailing_whitespace(text: str, f: _Facts) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    out = "\n".join(lines)
    follow = f.line_suffix
    if (
        f.mode is Mode.LINE
        and follow[:1].strip()
        and follow[0] not in ")]},;:.'\"`"
        and text.split("\n", 1)[0].endswith(" ")
        and "\n" not in out
    ):
        out += " "  # `x = |+ 1` -> `x = a + 1`: the space before the suffix belongs
    return out


def repeats_line_above(text: str, f: _Facts) -> bool:
    """A one-line answer that makes its line a copy of the line above."""
    body = text[1:] if text.startswith("\n") else text
    if "\n" in body or not body.strip():
        return False
    if text.startswith("\n"):
        above: str | None = f.line_prefix
        line = body
    else:
        above = f.previous_line
        line = f.line_prefix + body
    return above is not None and bool(above.strip()) and line.rstrip() == above.rstrip()


def duplicates_next_line(text: str, f: _Facts) -> bool:
    """A one-line answer on its own line that already follows the cursor."""
    if not f.next_lines or "\n" in text.strip("\n"):
        return False
    if text.startswith("\n"):
        line = text.strip("\n")
    elif f.at_line_start:
        line = f.line_prefix + text
    else:
        return False
    return (indent_width(line), line.strip()) == f.next_lines[0]


def finish_lines(text: str, f: _Facts) -> str:
    """Keep the text after the cursor on its own, correctly indented line."""
    if f.insert_above:
        return text + "\n" + f.line_prefix
    if f.mode is not Mode.LINE and f.line_suffix.strip() and "\n" in text.rstrip():
        return text + "\n" + f.cursor_indent
    return text


def _cursor_in_comment(line_prefix: str, rules: LanguageRules) -> bool:
    return code_part(line_prefix + " x", rules) != (line_prefix + " x").rstrip()


def _open_quote(line_prefix: str, language: str) -> str:
    """The quote of a string left open before the cursor on its line ("" if none)."""
    quotes = string_quotes(language)
    quote = ""
    i = 0
    while i < len(line_prefix):
        ch = line_prefix[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in quotes and not (ch == "'" and _apostrophe(line_prefix, i)):
            quote = ch
        i += 1
    return quote

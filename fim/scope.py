"""The opening lines of the definitions that enclose a window cut out of a longer file.

A window that starts inside a function shows the model a body without the function's name,
parameters or class. At a new place on a slow CPU the window the engine can read in time is a
few lines (64 prefix tokens at 44 tokens/s on a 2017 server core), and a model that cannot see
the ``def`` writes it again. The enclosing definitions' first lines (what Continue calls the
cursor's root path) give that back for a few tokens, and are the same for every cursor
position inside the window, so they do not disturb the reuse of the model's KV cache.
"""

from __future__ import annotations

import re

#: Lines of text above the window searched for enclosing definitions.
SCAN_LINES = 2000
#: Innermost enclosing definitions kept (a method and its class, a nested function).
MAX_HEADERS = 3
#: A header longer than this is left out rather than cut (it would cost a window's worth).
MAX_HEADER_CHARS = 240
#: Lines a Python signature may take when it is written over several.
_SIGNATURE_LINES = 12

_PY_DEFINITION = re.compile(r"(?:async\s+def|def|class)\s")
_BRACE_CONTROL = re.compile(
    r"(?:\}\s*)?(?:if|else|for|while|do|switch|try|catch|finally|with|case|default)\b"
)
_BRACE_DEFINITION = re.compile(
    r".*\b(?:function|class|interface|namespace|module|enum|struct|impl|trait|fn|func)\b"
    r"|.*=>\s*\{$"
    r"|(?:(?:public|private|protected|internal|static|async|export|default|override|abstract"
    r"|readonly|get|set|final|virtual)\s+)*[\w$<>\[\],.?* ]*[\w$]\s*\(.*\)[^;=]*\{$"
)

#: Block grammar families ``scope_header`` knows.
FAMILIES = ("python", "c_like")


def scope_header(before: str, window: str, family: str) -> str:
    """The first lines of the definitions that enclose every line of ``window``, outermost
    first, each ending with a newline; "" when the window's own outermost level is the top of
    the file or none is found.

    ``before`` is the text above the window (it ends with a newline); ``family`` is the
    language's block grammar, ``"python"`` or ``"c_like"`` (others get ""). In Python, a window
    that starts inside a docstring gets the docstring's opening quotes after the header, so
    its closing quotes do not read as the opening of a string.
    """
    if family not in FAMILIES or not before:
        return ""
    need = width = _outermost_indent(window)
    if not need:
        return ""
    lines = before.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    stop = max(0, len(lines) - SCAN_LINES)
    headers: list[str] = []
    inner_header_at: int | None = None
    for i in range(len(lines) - 1, stop - 1, -1):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//", "/*", "*")):
            continue  # blank, or a comment (its indentation says nothing)
        indent = _indent(line)
        if indent >= need or stripped[0] in ")]}":
            continue  # inside the window's level, or the end of something above it
        if family == "python":
            definition = _PY_DEFINITION.match(stripped)
            if not definition and not stripped.endswith(":"):
                continue  # a statement at an outer level: its block is somewhere above
            need = indent
            header = _python_signature(lines, i) if definition else None
            if header is not None:
                headers.append(header)
                if inner_header_at is None:
                    inner_header_at = i
        else:
            if not stripped.endswith("{"):
                continue
            need = indent
            if (
                not _BRACE_CONTROL.match(stripped)
                and _BRACE_DEFINITION.match(stripped)
                and len(line) <= MAX_HEADER_CHARS
            ):
                headers.append(line)
        if len(headers) >= MAX_HEADERS or need == 0:
            break
    if not headers:
        return ""
    text = "".join(h + "\n" for h in reversed(headers))
    if family == "python" and inner_header_at is not None:
        text += _docstring_opening(lines[inner_header_at:], width)
    return text


def _outermost_indent(window: str) -> int:
    widths = [_indent(line) for line in window.split("\n") if line.strip()]
    return min(widths) if widths else 0


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _python_signature(lines: list[str], at: int) -> str | None:
    """The ``def``/``class`` line at ``at``, with the lines of a signature written over
    several, up to the one that ends it with ``:``; None when that is too long."""
    end = at
    while not lines[end].rstrip().endswith(":"):
        end += 1
        if end >= len(lines) or end - at >= _SIGNATURE_LINES:
            return None
    header = "\n".join(lines[at : end + 1])
    return header if len(header) <= MAX_HEADER_CHARS else None


def _docstring_opening(lines: list[str], width: int) -> str:
    """The opening quotes of a docstring the window starts inside (an odd number of triple
    quotes between the definition and the window), indented like the window."""
    text = "\n".join(lines)
    for quotes in ('"""', "'''"):
        if text.count(quotes) % 2 == 1:
            return " " * width + quotes + "\n"
    return ""

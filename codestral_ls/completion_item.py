"""The AI suggestion shaped as a `textDocument/completion` item, for editors without ghost text.

Helix, Eglot, Vim, Kakoune, Sublime and Zed only ask for completions, and each of them filters,
sorts and inserts items its own way. The item is built so that none of them drops or mangles it:

- its ``textEdit`` replaces the typed word (range from the word's start to the cursor), so the
  client's filter compares what the user typed with a ``filterText``/``label`` that starts with
  that very word (Eglot filters on the label, Helix and VS Code on ``filterText``);
- it is plain text (``insertTextFormat`` 1), so ``$1`` or ``${`` in code is never taken as a
  snippet placeholder, and ``insertTextMode`` is ``asIs`` because the model writes continuation
  lines with their final indentation (Eglot and Helix insert plain text as-is; VS Code would
  re-indent without it);
- the label is one short line ending in the ``…`` marker, the whole suggestion is in the
  documentation as a fenced code block in the file's language (plain text for a client that does
  not declare markdown documentation);
- ``sortText``/``preselect`` put it first without removing the editor's other completions, and the
  list is ``isIncomplete`` so the client asks again on the next keystroke (the suggestion changes
  as the user types, and an empty answer while the model loads must not stick).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types as lsp

from .languages import EXTRA_WORD_CHARS, FENCE_NAMES

MARKER = "…"
LABEL_WIDTH = 50
SORT_TEXT = "!"  # sorts before digits and letters, which is what servers usually put there
DETAIL = "codestral-ls"


@dataclass(frozen=True)
class CompletionFormat:
    """What the client's completion capabilities let the item use."""

    markdown: bool = False
    adjust_indentation: bool = False


def completion_format(caps: lsp.ClientCapabilities) -> CompletionFormat:
    completion = caps.text_document.completion if caps.text_document else None
    item = completion.completion_item if completion else None
    if completion is None or item is None:
        return CompletionFormat()
    modes = item.insert_text_mode_support.value_set if item.insert_text_mode_support else []
    if modes:
        adjust = lsp.InsertTextMode.AsIs not in modes  # asIs cannot be asked for
    else:
        # The item's insertTextMode is ignored: the client's default applies.
        adjust = completion.insert_text_mode == lsp.InsertTextMode.AdjustIndentation
    return CompletionFormat(
        markdown=lsp.MarkupKind.Markdown in (item.documentation_format or []),
        adjust_indentation=adjust,
    )


def word_start(line_text: str, cursor_char: int, language: str) -> int:
    """Index where the word that ends at the cursor starts (== cursor_char when there is none)."""
    extra = EXTRA_WORD_CHARS.get(language, "")
    start = cursor_char
    while start > 0:
        char = line_text[start - 1]
        if not (char.isalnum() or char == "_" or char in extra):
            break
        start -= 1
    return start


def completion_list(
    suggestion: str,
    *,
    line_text: str,
    cursor_char: int,
    line: int,
    language: str,
    encoding_units: Callable[[str], int],
    adjust_indentation: bool = False,
    markdown: bool = True,
) -> lsp.CompletionList:
    """The completion answer for `suggestion` inserted at the cursor; no item when it is empty.

    `adjust_indentation` is for a client that re-indents continuation lines itself (it supports
    only ``insertTextMode`` adjustIndentation): the cursor line's indentation is then removed from
    them, so the client adding it back gives the same text. `markdown`: the client renders
    markdown documentation; otherwise the preview is plain text (no fences shown literally).
    """
    if not suggestion.strip():
        return lsp.CompletionList(is_incomplete=True, items=[])
    cursor_char = max(0, min(cursor_char, len(line_text)))
    start = word_start(line_text, cursor_char, language)
    word = line_text[start:cursor_char]
    inserted = word + suggestion
    if adjust_indentation:
        inserted = _strip_line_indent(inserted, _indent_of(line_text))
    first_line = inserted.split("\n", 1)[0].rstrip("\r")
    edit_range = lsp.Range(
        start=lsp.Position(line=line, character=encoding_units(line_text[:start])),
        end=lsp.Position(line=line, character=encoding_units(line_text[:cursor_char])),
    )
    label = _label(word, inserted)
    item = lsp.CompletionItem(
        label=label,
        label_details=lsp.CompletionItemLabelDetails(description="codestral"),
        kind=lsp.CompletionItemKind.Text,
        detail=DETAIL,
        documentation=_preview(line_text[:cursor_char] + suggestion, language, markdown),
        preselect=True,
        sort_text=SORT_TEXT,
        filter_text=first_line if first_line.strip() else label[: -len(MARKER)],
        insert_text_format=lsp.InsertTextFormat.PlainText,
        insert_text_mode=(
            lsp.InsertTextMode.AdjustIndentation if adjust_indentation else lsp.InsertTextMode.AsIs
        ),
        text_edit=lsp.TextEdit(range=edit_range, new_text=inserted),
    )
    return lsp.CompletionList(is_incomplete=True, items=[item])


def _label(word: str, inserted: str) -> str:
    """One line that starts with the typed word (clients filter on it) and ends in the marker."""
    lines = inserted.split("\n")
    head = lines[0].rstrip()
    if not head[len(word) :].strip():
        # The suggestion starts on the next line: show the typed word and that line.
        rest = next((candidate.strip() for candidate in lines[1:] if candidate.strip()), "")
        head = f"{word} ⏎ {rest}" if word else rest
    head = head.strip() if not word else head
    if len(head) > LABEL_WIDTH:
        head = head[:LABEL_WIDTH].rstrip()
    return head + MARKER


def _preview(code: str, language: str, markdown: bool) -> lsp.MarkupContent | str:
    """Markdown only for a client that declares it; a plain string is valid for every client."""
    if markdown:
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=_fenced(code, language))
    return _dedented(code)


def _dedented(code: str) -> str:
    return textwrap.dedent(code.replace("\r\n", "\n")).strip("\n")


def _fenced(code: str, language: str) -> str:
    """A markdown code block that no backtick run inside `code` can close early."""
    body = _dedented(code)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    name = FENCE_NAMES.get(language, language)
    return f"{fence}{name}\n{body}\n{fence}"


def _indent_of(line_text: str) -> str:
    return line_text[: len(line_text) - len(line_text.lstrip(" \t"))]


def _strip_line_indent(text: str, indent: str) -> str:
    if not indent:
        return text
    first, *rest = text.split("\n")
    stripped = [part[len(indent) :] if part.startswith(indent) else part for part in rest]
    return "\n".join([first, *stripped])

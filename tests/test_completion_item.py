"""The completion-item fallback: what editors without ghost text receive and insert."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from codestral_ls.completion_item import (
    MARKER,
    CompletionFormat,
    completion_format,
    completion_list,
    word_start,
)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def only_item(result: lsp.CompletionList) -> lsp.CompletionItem:
    assert result.is_incomplete is True
    assert len(result.items) == 1
    return result.items[0]


def edit_of(item: lsp.CompletionItem) -> lsp.TextEdit:
    assert isinstance(item.text_edit, lsp.TextEdit)
    return item.text_edit


def apply(line_text: str, cursor: int, item: lsp.CompletionItem) -> str:
    """What the line becomes when a client applies the edit (ranges here are plain str indices)."""
    edit = edit_of(item)
    start, end = edit.range.start.character, edit.range.end.character
    return line_text[:start] + edit.new_text + line_text[end:]


def test_edit_replaces_the_typed_word_and_keeps_the_rest_of_the_line() -> None:
    line = "    result = compu(x)"
    cursor = line.index("(")
    item = only_item(
        completion_list(
            "te_total",
            line_text=line,
            cursor_char=cursor,
            line=7,
            language="python",
            encoding_units=len,
        )
    )
    edit = edit_of(item)
    assert edit.range.start == lsp.Position(line=7, character=line.index("compu"))
    assert edit.range.end == lsp.Position(line=7, character=cursor)
    assert apply(line, cursor, item) == "    result = compute_total(x)"
    assert item.filter_text == "compute_total"
    assert item.label.startswith("compu")


def test_plain_text_never_a_snippet_even_with_dollar_signs() -> None:
    item = only_item(
        completion_list(
            'echo "${HOME}/$1"',
            line_text="",
            cursor_char=0,
            line=0,
            language="shellscript",
            encoding_units=len,
        )
    )
    assert item.insert_text_format == lsp.InsertTextFormat.PlainText
    assert edit_of(item).new_text == 'echo "${HOME}/$1"'


def test_label_is_one_short_line_with_the_marker_and_docs_hold_everything() -> None:
    suggestion = "fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)"
    item = only_item(
        completion_list(
            suggestion,
            line_text="def ",
            cursor_char=4,
            line=0,
            language="python",
            encoding_units=len,
        )
    )
    assert item.label == "fib(n):" + MARKER
    assert "\n" not in item.label
    assert item.detail == "codestral-ls"
    assert isinstance(item.documentation, lsp.MarkupContent)
    assert item.documentation.kind == lsp.MarkupKind.Markdown
    assert item.documentation.value == (
        "```python\ndef fib(n):\n    if n < 2:\n        return n\n"
        "    return fib(n - 1) + fib(n - 2)\n```"
    )


def test_long_first_line_is_cut_in_the_label_but_inserted_whole() -> None:
    suggestion = "x = " + " + ".join(f"value_{i}" for i in range(30))
    item = only_item(
        completion_list(
            suggestion, line_text="", cursor_char=0, line=0, language="python", encoding_units=len
        )
    )
    assert len(item.label) <= 51
    assert item.label.endswith(MARKER)
    assert edit_of(item).new_text == suggestion


def test_shows_first_without_hiding_other_items_and_client_asks_again() -> None:
    result = completion_list(
        "rint('hi')", line_text="p", cursor_char=1, line=0, language="python", encoding_units=len
    )
    item = only_item(result)
    assert item.preselect is True
    assert item.sort_text is not None
    # Servers put letters and digits in sortText; the item must sort before all of them.
    assert all(item.sort_text < other for other in ("0", "00001", "a", "Aardvark", "~"))


def test_empty_suggestion_gives_an_incomplete_empty_list() -> None:
    for nothing in ("", "   ", "\n\n"):
        result = completion_list(
            nothing, line_text="x = ", cursor_char=4, line=3, language="python", encoding_units=len
        )
        assert result.is_incomplete is True
        assert result.items == []


def test_range_counts_utf16_units_before_the_word() -> None:
    line = 'greeting = "héllo 👋" + na'
    cursor = len(line)
    item = only_item(
        completion_list(
            "me",
            line_text=line,
            cursor_char=cursor,
            line=2,
            language="python",
            encoding_units=utf16,
        )
    )
    edit = edit_of(item)
    # The emoji is two UTF-16 units, one Python character.
    assert edit.range.start.character == line.index("na") + 1
    assert edit.range.end.character == cursor + 1
    assert edit.new_text == "name"


def test_range_counts_utf8_bytes_when_negotiated() -> None:
    line = "é = tota"
    item = only_item(
        completion_list(
            "l",
            line_text=line,
            cursor_char=len(line),
            line=0,
            language="python",
            encoding_units=utf8,
        )
    )
    edit = edit_of(item)
    assert edit.range.start.character == utf8("é = ")
    assert edit.range.end.character == utf8(line)


def test_unicode_identifier_is_one_word() -> None:
    line = "x = größe"
    assert word_start(line, len(line), "python") == 4


@pytest.mark.parametrize(
    ("language", "line", "word"),
    [
        ("javascript", "const x = $ele", "$ele"),
        ("python", "x = $ele", "ele"),
        ("css", "  background-co", "background-co"),
        ("emacs-lisp", "(with-current-buf", "with-current-buf"),
        ("rust", "let v = self.ite", "ite"),
        ("go", "fmt.Pr", "Pr"),
    ],
)
def test_typed_word_follows_the_language(language: str, line: str, word: str) -> None:
    item = only_item(
        completion_list(
            "X",
            line_text=line,
            cursor_char=len(line),
            line=0,
            language=language,
            encoding_units=len,
        )
    )
    assert edit_of(item).new_text == word + "X"
    assert item.label.startswith(word)


def test_multi_line_continuation_lines_keep_their_indentation_as_is() -> None:
    line = "    def area(self):"
    suggestion = "\n        return self.w * self.h\n"
    item = only_item(
        completion_list(
            suggestion,
            line_text=line,
            cursor_char=len(line),
            line=4,
            language="python",
            encoding_units=len,
        )
    )
    assert item.insert_text_mode == lsp.InsertTextMode.AsIs
    assert edit_of(item).new_text == suggestion
    # Nothing typed and nothing on the first line: the label shows the next line instead.
    assert item.label == "return self.w * self.h" + MARKER


def test_suggestion_starting_on_next_line_after_a_word_keeps_the_word_in_the_label() -> None:
    line = "    return total"
    suggestion = "\n\nprint(total)"
    item = only_item(
        completion_list(
            suggestion,
            line_text=line,
            cursor_char=len(line),
            line=0,
            language="python",
            encoding_units=len,
        )
    )
    assert item.label.startswith("total")
    assert item.label.endswith("print(total)" + MARKER)
    assert item.filter_text == "total"
    assert edit_of(item).new_text == "total\n\nprint(total)"


def test_adjust_indentation_mode_removes_the_line_indent_the_client_adds_back() -> None:
    line = "        for x in it"
    suggestion = "ems:\n            total += x\n        return total"
    item = only_item(
        completion_list(
            suggestion,
            line_text=line,
            cursor_char=len(line),
            line=0,
            language="python",
            encoding_units=len,
            adjust_indentation=True,
        )
    )
    assert item.insert_text_mode == lsp.InsertTextMode.AdjustIndentation
    assert edit_of(item).new_text == "items:\n    total += x\nreturn total"
    # A client adjusting indentation prefixes the cursor line's indent to each new line.
    readjusted = edit_of(item).new_text.replace("\n", "\n        ")
    assert readjusted == "it" + suggestion


def test_documentation_fence_cannot_be_closed_by_backticks_in_code() -> None:
    suggestion = 'doc = """\n```python\nprint(1)\n```\n"""'
    item = only_item(
        completion_list(
            suggestion, line_text="", cursor_char=0, line=0, language="python", encoding_units=len
        )
    )
    assert isinstance(item.documentation, lsp.MarkupContent)
    value = item.documentation.value
    assert value.startswith("````python\n")
    assert value.endswith("\n````")


def test_fence_uses_markdown_names_for_lsp_language_ids() -> None:
    item = only_item(
        completion_list(
            "<div/>",
            line_text="",
            cursor_char=0,
            line=0,
            language="typescriptreact",
            encoding_units=len,
        )
    )
    assert isinstance(item.documentation, lsp.MarkupContent)
    assert item.documentation.value.startswith("```tsx\n")


def test_cursor_past_the_line_end_is_clamped() -> None:
    item = only_item(
        completion_list(
            "()", line_text="foo", cursor_char=10, line=0, language="python", encoding_units=len
        )
    )
    edit = edit_of(item)
    assert edit.range.start.character == 0
    assert edit.range.end.character == 3
    assert edit.new_text == "foo()"


def test_item_serialises_to_the_lsp_wire_shape() -> None:
    from lsprotocol import converters

    result = completion_list(
        "nt('hi')", line_text="pri", cursor_char=3, line=1, language="python", encoding_units=len
    )
    wire = converters.get_converter().unstructure(result, lsp.CompletionList)
    assert wire["isIncomplete"] is True
    item = wire["items"][0]
    assert item["textEdit"] == {
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 3}},
        "newText": "print('hi')",
    }
    assert item["insertTextFormat"] == 1
    assert item["insertTextMode"] == 1
    assert item["filterText"] == "print('hi')"
    assert item["label"] == "print('hi')" + MARKER


def _caps(
    item: lsp.ClientCompletionItemOptions, default_mode: int | None = None
) -> CompletionFormat:
    completion = lsp.CompletionClientCapabilities(
        completion_item=item,
        insert_text_mode=lsp.InsertTextMode(default_mode) if default_mode else None,
    )
    return completion_format(
        lsp.ClientCapabilities(
            text_document=lsp.TextDocumentClientCapabilities(completion=completion)
        )
    )


def test_documentation_is_markdown_only_for_clients_that_render_it() -> None:
    markdown = [lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText]
    assert _caps(lsp.ClientCompletionItemOptions(documentation_format=markdown)).markdown
    assert not _caps(lsp.ClientCompletionItemOptions()).markdown
    assert not completion_format(lsp.ClientCapabilities()).markdown
    line = "    total = "
    item = only_item(
        completion_list(
            "sum(xs)\n    return total",
            line_text=line,
            cursor_char=len(line),
            line=0,
            language="python",
            encoding_units=len,
            markdown=False,
        )
    )
    assert item.documentation == "total = sum(xs)\nreturn total"  # a plain string: always valid


def test_indentation_is_left_to_clients_that_always_adjust_it() -> None:
    both = lsp.ClientCompletionItemInsertTextModeOptions(
        value_set=[lsp.InsertTextMode.AsIs, lsp.InsertTextMode.AdjustIndentation]
    )
    only_adjust = lsp.ClientCompletionItemInsertTextModeOptions(
        value_set=[lsp.InsertTextMode.AdjustIndentation]
    )
    options = lsp.ClientCompletionItemOptions
    assert not _caps(options(insert_text_mode_support=both)).adjust_indentation
    assert _caps(options(insert_text_mode_support=only_adjust)).adjust_indentation
    # no support for the item's mode: the client's default decides
    assert _caps(options(), lsp.InsertTextMode.AdjustIndentation).adjust_indentation
    assert not _caps(options(), lsp.InsertTextMode.AsIs).adjust_indentation
    assert not _caps(options()).adjust_indentation

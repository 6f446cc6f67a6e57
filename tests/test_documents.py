"""Positions from the editor must cut the text at exactly the cursor, in every encoding."""

from __future__ import annotations

import pytest

from codestral_ls.documents import UTF8, UTF16, UTF32, Document, DocumentStore, PositionError, units


def doc(text: str, encoding: str = UTF16) -> Document:
    return Document("file:///t.py", "python", 1, text, encoding)


@pytest.mark.parametrize(
    ("encoding", "character"),
    [(UTF16, 11), (UTF8, 15), (UTF32, 9)],
)
def test_emoji_before_cursor_cuts_exactly(encoding: str, character: int) -> None:
    # 'x = "😀😀' is 7 code points; the emoji are 2 UTF-16 units / 4 UTF-8 bytes each
    text = 'x = "😀😀ab"\nnext\n'
    d = doc(text, encoding)
    offset = d.offset_at(0, character)
    assert text[:offset] == 'x = "😀😀ab'
    assert d.position_at(offset) == (0, character)


def test_cjk_and_combining_marks_in_utf16() -> None:
    text = "名前 = 'café'  # e\u0301\n"
    d = doc(text)
    cursor = text.index("#")
    line, char = d.position_at(cursor)
    assert (line, char) == (0, units(text[:cursor], UTF16))
    assert d.offset_at(line, char) == cursor


def test_position_inside_a_surrogate_pair_never_splits_it() -> None:
    d = doc("a😀b")
    assert d.offset_at(0, 2) == 1  # between the two halves: snaps before the emoji
    assert d.offset_at(0, 3) == 2


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings(eol: str) -> None:
    text = eol.join(["first", "second", "third"])
    d = doc(text)
    assert text[d.offset_at(1, 0) :].startswith("second")
    assert d.offset_at(1, 99) == text.index("second") + len("second")  # past line end: end
    assert d.offset_at(2, 5) == len(text)


def test_only_lsp_line_breaks_count() -> None:
    # U+2028, form feed and NEL are not LSP line ends (str.splitlines would split there)
    text = "a\u2028b\x0cc\x85d\nsecond"
    d = doc(text)
    assert d.offset_at(1, 0) == text.index("second")


def test_past_the_end_clamps_and_negative_is_an_error() -> None:
    d = doc("one\ntwo")
    assert d.offset_at(50, 0) == len("one\ntwo")
    with pytest.raises(PositionError):
        d.offset_at(-1, 0)
    with pytest.raises(PositionError):
        d.offset_at(0, -3)


def test_incremental_edits_match_full_text() -> None:
    store = DocumentStore(UTF16)
    d = store.open("file:///a.py", "python", 1, "def f():\n    pass\n")
    d.apply_change("return 1", (1, 4, 1, 8))
    assert d.text == "def f():\n    return 1\n"
    d.apply_change("😀", (0, 0, 0, 0))
    d.apply_change("", (0, 0, 0, 2))  # delete the emoji: two UTF-16 units
    assert d.text == "def f():\n    return 1\n"
    d.apply_change("x\n", (2, 0, 2, 0))  # insert at the very end
    assert d.text.endswith("return 1\nx\n")
    d.apply_change("whole", None)
    assert d.text == "whole"


def test_empty_document() -> None:
    d = doc("")
    assert d.offset_at(0, 0) == 0
    assert d.position_at(0) == (0, 0)
    d.apply_change("hi", (0, 0, 0, 0))
    assert d.text == "hi"

"""Open documents and LSP position <-> string offset conversion.

pygls keeps a workspace too, but it splits lines with ``str.splitlines`` (which also breaks at
U+2028, form feeds and other characters LSP does not treat as line ends) and re-splits the whole
text on every position lookup. Completion positions must cut prefix and suffix at exactly the
cursor, so this store follows the LSP rules: lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only, and
``character`` counts code units of the negotiated encoding (UTF-16 by default).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


class PositionError(ValueError):
    """A position or range that does not exist in the document (negative numbers)."""


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _char_index(line: str, character: int, encoding: str) -> int:
    """Index into ``line`` for a position in code units; past the end means the end.

    A position inside a multi-unit character (half a surrogate pair) snaps to the character's
    start, so a cut never splits it.
    """
    if encoding == UTF32 or line.isascii():
        return min(character, len(line))
    count = 0
    for index, ch in enumerate(line):
        if encoding == UTF8:
            width = len(ch.encode("utf-8", "surrogatepass"))
        else:
            width = 2 if ord(ch) > 0xFFFF else 1
        if count + width > character:
            return index
        count += width
    return len(line)


@dataclass
class Document:
    uri: str
    language_id: str
    version: int
    text: str
    encoding: str = UTF16
    last_edit: float = field(default_factory=time.monotonic)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in _LINE_BREAK.finditer(self.text))
            self._line_starts = starts
        return self._line_starts

    def line_span(self, line: int) -> tuple[int, int]:
        """(start, end) offsets of ``line`` without its line break."""
        starts = self.line_starts()
        start = starts[line]
        end = starts[line + 1] if line + 1 < len(starts) else len(self.text)
        text = self.text
        if end > start and text[end - 1] == "\n":
            end -= 1
        if end > start and text[end - 1] == "\r":
            end -= 1
        return start, end

    def offset_at(self, line: int, character: int) -> int:
        """Offset for an LSP position; lines past the end clamp to the end of the document."""
        if line < 0 or character < 0:
            raise PositionError(f"negative position ({line}, {character})")
        starts = self.line_starts()
        if line >= len(starts):
            return len(self.text)
        start, end = self.line_span(line)
        return start + _char_index(self.text[start:end], character, self.encoding)

    def position_at(self, offset: int) -> tuple[int, int]:
        """LSP (line, character) for an offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts()
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        start = starts[lo]
        return lo, units(self.text[start:offset], self.encoding)

    def apply_change(self, text: str, range_: tuple[int, int, int, int] | None) -> None:
        """Replace ``range_`` (start line, start char, end line, end char), or everything."""
        if range_ is None:
            self.text = text
        else:
            start = self.offset_at(range_[0], range_[1])
            end = self.offset_at(range_[2], range_[3])
            if end < start:
                start, end = end, start
            self.text = self.text[:start] + text + self.text[end:]
        self._line_starts = None
        self.last_edit = time.monotonic()


class DocumentStore:
    def __init__(self, encoding: str = UTF16) -> None:
        self.encoding = encoding
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        doc = Document(uri, language_id, version, text, self.encoding)
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)

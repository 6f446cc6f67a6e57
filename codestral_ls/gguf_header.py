"""Read a GGUF file's metadata (its key/value header) without loading the model.

`codestral-ls model verify` and the model presets use it to say what a file is (name, FIM
family) before llama.cpp ever sees it: llama.cpp may abort the whole process on a malformed
file, while this reader only raises ``GgufError``. Only the header is read, never the tensors.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fim import detect_family

#: Arrays with more elements than this are skipped (counted, not kept) unless asked for:
#: a vocabulary holds ~150k strings, which nothing but the FIM check needs.
_KEEP_ARRAY = 64
#: No sane key or string in a header is longer; a larger length means a corrupt file.
_MAX_STRING = 16 * 1024 * 1024

_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

Value = int | float | bool | str | list["Value"]


class GgufError(ValueError):
    """The file is not a readable GGUF (wrong magic, unsupported version, cut short)."""


@dataclass
class GgufHeader:
    version: int
    tensor_count: int
    metadata: dict[str, Value] = field(default_factory=dict)
    #: The vocabulary (``tokenizer.ggml.tokens``), when it was asked for.
    tokens: list[str] = field(default_factory=list)

    def text(self, key: str) -> str:
        value = self.metadata.get(key)
        return "" if value is None else str(value)

    def fim_family(self) -> str | None:
        """The FIM prompt family this model's own vocabulary and metadata say (or None)."""
        strings = {k: str(v) for k, v in self.metadata.items() if not isinstance(v, list)}
        return detect_family(strings, set(self.tokens))


def read_header(path: Path, *, with_tokens: bool = False) -> GgufHeader:
    """Parse the metadata of the GGUF at ``path`` (v2 or v3)."""
    try:
        with path.open("rb") as f:
            return _parse(f, with_tokens)
    except struct.error:
        raise GgufError(f"{path}: the GGUF header is cut short") from None


def _parse(f: BinaryIO, with_tokens: bool) -> GgufHeader:
    if f.read(4) != b"GGUF":
        raise GgufError("not a GGUF file (wrong magic)")
    (version,) = _unpack(f, "<I")
    if version not in (2, 3):
        raise GgufError(f"unsupported GGUF version {version}")
    tensors, kv_count = _unpack(f, "<QQ")
    header = GgufHeader(version=version, tensor_count=tensors)
    for _ in range(kv_count):
        key = _string(f)
        (kind,) = _unpack(f, "<I")
        if kind == _ARRAY and key == "tokenizer.ggml.tokens" and with_tokens:
            header.tokens = [str(v) for v in _array(f, keep_all=True)]
            header.metadata[key] = f"<{len(header.tokens)} tokens>"
        else:
            header.metadata[key] = _value(f, kind)
    return header


def _unpack(f: BinaryIO, fmt: str) -> tuple[int, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    return struct.unpack(fmt, data)


def _string(f: BinaryIO) -> str:
    (length,) = _unpack(f, "<Q")
    if length > _MAX_STRING:
        raise GgufError(f"a string of {length} bytes in the header: the file is corrupt")
    data = f.read(length)
    if len(data) != length:
        raise GgufError("the GGUF header is cut short")
    return data.decode("utf-8", "replace")


def _value(f: BinaryIO, kind: int) -> Value:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        items = _array(f, keep_all=False)
        return items
    fmt = _SCALARS.get(kind)
    if fmt is None:
        raise GgufError(f"unknown GGUF value type {kind}")
    (value,) = struct.unpack(fmt, f.read(struct.calcsize(fmt)))
    return value  # type: ignore[no-any-return]


def _array(f: BinaryIO, *, keep_all: bool) -> list[Value]:
    kind, count = _unpack(f, "<IQ")
    keep = keep_all or count <= _KEEP_ARRAY
    out: list[Value] = []
    if kind in _SCALARS and not keep:
        f.seek(struct.calcsize(_SCALARS[kind]) * count, 1)
        return out
    read: Callable[[], Value] = (
        (lambda: _value(f, kind)) if kind != _STRING else (lambda: _string(f))
    )
    for _ in range(count):
        item = read()
        if keep:
            out.append(item)
    return out

"""Document sync fuzzing: random incremental edits applied to the server's document store and to
a plain reference model (robust_helpers.RefDoc) must keep them identical, under each position
encoding, and a cursor must cut prefix and suffix exactly where the editor means.

The same edits are also sent to the real server over stdio; the prefix and suffix that reach
the backend (a stand-in that records requests) must be the reference model's, to the character.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codestral_ls.documents import Document, DocumentStore
from robust_helpers import RawServer, RefDoc, mistral_session

ENCODINGS = ("utf-8", "utf-16", "utf-32")

#: Pieces that stress line and unit counting: every LSP line break, tabs, 2/3/4-byte UTF-8,
#: astral characters (surrogate pairs in UTF-16), combining marks, a ZWJ sequence, characters
#: str.splitlines() would break at but LSP does not, NUL, and a lone surrogate.
PIECES = (
    "a",
    "Z",
    "_",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "é",
    "€",
    "😀",
    "\U0001d518",  # MATHEMATICAL FRAKTUR CAPITAL U (astral)
    "e\u0301",
    "\u0308",
    "👨\u200d👩\u200d👧",
    "\u2028",
    "\x0c",
    "\x85",
    "\x00",
    "\ud800",
)
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


def draw_position(data: st.DataObject, ref: RefDoc) -> tuple[int, int]:
    """A position as an editor could send it: usually inside the text, sometimes at the very
    end, past a line's end or past the last line."""
    lines = ref.lines()
    kind = data.draw(st.sampled_from(["inside", "inside", "inside", "end", "past-line", "past"]))
    if kind == "end":
        start, end = lines[-1]
        return len(lines) - 1, sum(ref.width(c) for c in ref.text[start:end])
    if kind == "past":
        return data.draw(st.integers(len(lines), len(lines) + 3)), data.draw(st.integers(0, 9))
    line = data.draw(st.integers(0, len(lines) - 1))
    start, end = lines[line]
    width = sum(ref.width(c) for c in ref.text[start:end])
    if kind == "past-line":
        return line, data.draw(st.integers(width, width + 6))
    return line, data.draw(st.integers(0, width))


def check_same(doc: Document, ref: RefDoc, data: st.DataObject) -> None:
    assert doc.text == ref.text
    lines = ref.lines()
    assert len(doc.line_starts()) == len(lines)
    for number, span in enumerate(lines):
        assert doc.line_span(number) == span
    # every cursor position cuts prefix and suffix exactly where the reference does
    for _ in range(4):
        line, character = draw_position(data, ref)
        offset = doc.offset_at(line, character)
        assert offset == ref.offset(line, character), (line, character)
        prefix, suffix = doc.text[:offset], doc.text[offset:]
        assert prefix + suffix == ref.text
        assert prefix == ref.text[: ref.offset(line, character)]
    # and every offset maps to a position and back (except between \r and \n: no cursor there)
    for offset in range(len(ref.text) + 1):
        if 0 < offset < len(ref.text) and ref.text[offset - 1 : offset + 1] == "\r\n":
            continue
        position = doc.position_at(offset)
        assert position == ref.position(offset), offset
        assert doc.offset_at(*position) == offset


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=texts, data=st.data())
def test_random_edits_match_the_reference(encoding: str, initial: str, data: Any) -> None:
    store = DocumentStore(encoding)
    doc = store.open("file:///fuzz.py", "python", 1, initial)
    ref = RefDoc(initial, encoding)
    check_same(doc, ref, data)
    for _ in range(data.draw(st.integers(1, 12))):
        text = data.draw(texts)
        if data.draw(st.integers(0, 15)) == 0:
            doc.apply_change(text, None)  # a full-text change, as some clients send
            ref.apply(text, None)
        else:
            start = draw_position(data, ref)
            end = draw_position(data, ref) if data.draw(st.booleans()) else start
            doc.apply_change(text, (*start, *end))
            ref.apply(text, (*start, *end))
        check_same(doc, ref, data)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_cursor_inside_a_surrogate_pair_or_crlf_never_splits_it(encoding: str) -> None:
    doc = Document("file:///s.py", "python", 1, "a😀b\r\nc", encoding)
    # utf-16: 😀 is units 1..2; utf-8: bytes 1..4. Every unit inside snaps to its start.
    inside = {"utf-8": (2, 3, 4), "utf-16": (2,), "utf-32": ()}[encoding]
    for character in inside:
        assert doc.offset_at(0, character) == 1
    end_of_line = {"utf-8": 6, "utf-16": 4, "utf-32": 3}[encoding]
    assert doc.offset_at(0, end_of_line) == 3
    assert doc.offset_at(0, end_of_line + 1) == 3  # never between \r and \n
    assert doc.offset_at(1, 0) == 5


# ------------------------------------------------------------------ through the real server


def _random_edit(rng: random.Random, ref: RefDoc) -> tuple[tuple[int, int], tuple[int, int], str]:
    lines = ref.lines()

    def pos() -> tuple[int, int]:
        line = rng.randrange(len(lines))
        start, end = lines[line]
        width = sum(ref.width(c) for c in ref.text[start:end])
        return line, rng.choice([0, width, rng.randint(0, width), width + rng.randint(1, 3)])

    pieces = [p for p in PIECES if p not in ("\x00", "\ud800")] + ["x = 1", "def f():"]
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
    start = pos()
    end = pos() if rng.random() < 0.3 else start
    return start, end, text


async def _replay(server: RawServer, stand: Any, encoding: str, seed: int, tmp: Path) -> int:
    """Edit one document randomly over the wire; compare what reaches the backend."""
    rng = random.Random(seed)
    uri = (tmp / f"wire_{encoding}_{seed}.py").as_uri()
    initial = "def f(x):\r\n    return x  # 😀 é\n\tpass\n"
    ref = RefDoc(initial, encoding)
    await server.open(uri, initial)
    version, compared = 1, 0
    for step in range(120):
        start, end, text = _random_edit(rng, ref)
        version += 1
        await server.change(uri, version, start, end, text)
        ref.apply(text, (*start, *end))
        if step % 8 != 7:
            continue
        # a cursor at the end of a random line (where completions are asked for)
        lines = ref.lines()
        line = rng.randrange(len(lines))
        s, e = lines[line]
        character = sum(ref.width(c) for c in ref.text[s:e])
        seen = len(stand.requests)
        answer = await server.inline(uri, line, character)
        assert "result" in answer, answer
        if len(stand.requests) == seen:
            continue  # nothing to suggest at this position, or answered from the cache
        body = stand.requests[-1].json()
        offset = ref.offset(line, character)
        # trailing blanks of the cursor's line are held back from the prompt (token healing)
        assert body["prompt"] == ref.text[:offset].rstrip(" \t"), (seed, step)
        assert body["suffix"] == ref.text[offset:], (seed, step)
        compared += 1
    return compared


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
async def test_edits_over_the_wire_reach_the_backend_cut_exactly(
    tmp_path: Path, encoding: str
) -> None:
    caps = {
        "general": {"positionEncodings": [encoding]},
        "textDocument": {"inlineCompletion": {}, "completion": {}},
    }
    options = {"prefix_tokens": 8000, "suffix_tokens": 8000, "context_tokens": 0, "layout": "psm"}
    async with mistral_session(tmp_path, options=options, capabilities=caps) as (server, stand):
        compared = 0
        for seed in range(3):
            compared += await _replay(server, stand, encoding, seed, tmp_path)
        assert compared >= 6, f"only {compared} completions reached the backend"


BREAKERS = {"form feed": "\x0c", "U+2028": "\u2028", "FS": "\x1c", "VT": "\x0b", "NEL": "\x85"}


async def test_characters_python_splits_lines_at_do_not_shift_edits(tmp_path: Path) -> None:
    """GNU-style sources carry form feeds on their own lines; LSP does not end a line there
    (nor at U+2028, FS, VT or NEL). An edit after one must land where the editor put it,
    whatever str.splitlines thinks."""
    async with mistral_session(tmp_path, options={"layout": "psm", "candidates": 1}) as (
        server,
        stand,
    ):
        wrong = []
        for name, breaker in BREAKERS.items():
            text = f"def a():\n    pass\n{breaker}\ndef b():\n    return \n"
            uri = (tmp_path / f"gnu_{ord(breaker)}.py").as_uri()
            await server.open(uri, text)
            await server.change(uri, 2, (4, 11), (4, 11), "x")  # after 'return '
            seen = len(stand.requests)
            answer = await server.inline(uri, 4, 12)
            assert "result" in answer, answer
            assert len(stand.requests) == seen + 1, f"{name}: no completion was requested"
            body = stand.requests[-1].json()
            if not body["prompt"].endswith("\ndef b():\n    return x") or body["suffix"] != "\n":
                wrong.append(f"{name}: ...{body['prompt'][-30:]!r} | {body['suffix']!r}")
        assert not wrong, "edits landed elsewhere:\n" + "\n".join(wrong)

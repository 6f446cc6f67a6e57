"""The embedded model is loaded from a Q8_0 copy made once by llama.cpp; anything else as is."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from pathlib import Path

import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.backends.local.cpu_copy import copy_path, cpu_copy
from codestral_ls.config import Settings
from codestral_ls.gguf_header import read_header
from codestral_ls.model_presets import DEFAULT_PRESET

#: llama.cpp's file type number for "mostly Q8_0" (general.file_type).
Q8_0 = 7


def llama() -> object:
    import llama_cpp

    return llama_cpp


def test_the_copy_is_q8_0_made_once_and_remade_when_changed(
    embedded_model: Path, tmp_path: Path
) -> None:
    source = tmp_path / embedded_model.name
    source.symlink_to(embedded_model)
    copy = cpu_copy(source, DEFAULT_PRESET, llama())
    assert copy == copy_path(source, "q8_0") and copy.parent == tmp_path
    assert read_header(copy).metadata["general.file_type"] == Q8_0
    assert read_header(embedded_model).metadata["general.file_type"] != Q8_0
    made = copy.stat().st_mtime_ns
    assert cpu_copy(source, DEFAULT_PRESET, llama()) == copy
    assert copy.stat().st_mtime_ns == made  # reused, not converted again
    with copy.open("r+b") as f:  # a copy changed since it was made is not trusted
        f.seek(-1, os.SEEK_END)
        f.write(b"\0")
    os.utime(copy, ns=(made, made + 1000))
    assert cpu_copy(source, DEFAULT_PRESET, llama()) == copy
    assert copy.stat().st_mtime_ns != made + 1000
    assert not list(tmp_path.glob(".*partial"))


def test_a_file_the_user_chose_is_loaded_as_it_is(embedded_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "mine.gguf"
    source.symlink_to(embedded_model)
    assert cpu_copy(source, None, llama()) == source
    as_published = dataclasses.replace(DEFAULT_PRESET, cpu_copy=None)
    assert cpu_copy(source, as_published, llama()) == source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.gguf"]


def test_a_failed_conversion_loads_the_original(
    embedded_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "broken.gguf"
    source.write_bytes(b"GGUF" + b"\xff" * 4096)  # llama.cpp cannot read it
    with caplog.at_level(logging.WARNING):
        assert cpu_copy(source, DEFAULT_PRESET, llama()) == source
    assert "cannot make the q8_0 copy" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.gguf"]


@pytest.mark.parametrize("setting", ["", "embedded-path"])
def test_the_backend_loads_the_copy_only_for_the_embedded_default(
    embedded_model: Path, setting: str
) -> None:
    model = str(embedded_model) if setting else ""
    backend = LocalBackend(Settings(model=model, n_threads=1))

    async def run() -> str:
        await backend.start(lambda message, pct: None)
        try:
            text = ""
            async for piece in backend.stream(
                FimRequest(prefix="def add(a, b):\n    return ", suffix="\n", max_tokens=6)
            ):
                text += piece
            return text
        finally:
            await backend.aclose()

    text = asyncio.run(run())
    expected = copy_path(embedded_model, "q8_0") if not setting else embedded_model
    assert backend.info.model == expected.name
    assert "a + b" in text

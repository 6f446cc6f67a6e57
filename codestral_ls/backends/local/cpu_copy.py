"""A copy of a pinned model in the quantization llama.cpp's CPU kernels read fastest, made once.

The embedded Qwen2.5-Coder 0.5B is published as "Q4_K_M", but its 896-wide rows do not fill
K-quant blocks (256 wide), so most of its tensors fell back to q5_0, which llama.cpp reads more
slowly than q8_0. Requantizing every tensor to q8_0 re-rounds 4- and 5-bit weights to 8 bits,
so the answers stay the model's: on a 2-core EPYC it read prompts 42 -> 49 tokens/s and
generated 20 -> 23 tokens/s, with the same greedy answers but for near-ties (docs/engine.md).

llama.cpp itself does the conversion (``llama_model_quantize``); we only decide which files get
it (presets that name a ``cpu_copy`` type, never a user's own GGUF), keep the result next to the
verified original, and fall back to the original on any failure: a full disk costs speed, never
the completion.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from typing import Any

from ...model_files import mark_verified, marker_matches
from ...model_presets import Preset

log = logging.getLogger(__name__)

#: The quantizations a preset may ask for, by llama.cpp's file-type constant name.
_FTYPES = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0"}


def copy_path(source: Path, kind: str) -> Path:
    return source.with_name(f"{source.stem}.{kind}.gguf")


def cpu_copy(source: Path, preset: Preset | None, llama_cpp: Any) -> Path:
    """The file to load for ``source``: its faster copy when the preset names one (made now
    if missing or stale), else ``source`` itself."""
    if preset is None or preset.cpu_copy is None:
        return source
    kind = preset.cpu_copy
    target = copy_path(source, kind)
    # The marker ties the copy to the verified bytes it was made from.
    origin = f"{preset.sha256}:{kind}"
    if marker_matches(target, origin):
        return target
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # llama.cpp reports every tensor it converts; only its errors belong on our stderr.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = getattr(llama_cpp, _FTYPES[kind])
        params.allow_requantize = True
        params.nthread = max(1, min(os.cpu_count() or 1, 8))
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(tmp).encode(), ctypes.byref(params)
        )
        if status != 0:
            raise OSError(f"llama_model_quantize returned {status}")
        os.replace(tmp, target)
        mark_verified(target, origin)
    except (OSError, AttributeError, KeyError) as exc:
        log.warning("cannot make the %s copy of %s (%s): loading the original", kind, source, exc)
        return source
    finally:
        tmp.unlink(missing_ok=True)
    log.info("made %s from %s", target.name, source.name)
    return target

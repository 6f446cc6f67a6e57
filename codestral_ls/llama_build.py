"""Is the installed llama-cpp-python build safe on this CPU? (`codestral-ls doctor`)

`pip install llama-cpp-python` compiles llama.cpp "native" on x86-64: for every instruction set
the build machine has (AVX-512, AMX...). Such builds crash in the first decode on some CPUs, and
a build made elsewhere crashes with SIGILL on a CPU that lacks one of its instruction sets. The
library reports the instruction sets it was compiled with (``llama_print_system_info``), so we
compare them with the CPU's flags in /proc/cpuinfo and, when in doubt, print the reinstall
command for the portable AVX2 build that scripts/install.sh makes.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
CUDA_CMAKE_ARGS = "-DGGML_CUDA=on"
METAL_CMAKE_ARGS = "-DGGML_METAL=on"

#: llama.cpp's feature names -> the /proc/cpuinfo flag that must be present.
_CPU_FLAGS = {
    "SSE3": "pni",
    "SSSE3": "ssse3",
    "AVX": "avx",
    "AVX2": "avx2",
    "AVX_VNNI": "avx_vnni",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AVX512_FP16": "avx512_fp16",
    "AMX_INT8": "amx_int8",
}
#: Instruction sets only a native (or deliberately tuned) build turns on; the portable build
#: stops at AVX2/FMA/F16C.
_BEYOND_PORTABLE = {"AVX_VNNI", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"}
_BEYOND_PORTABLE |= {"AVX512_FP16", "AMX_INT8"}


@dataclass(frozen=True)
class BuildVerdict:
    ok: bool
    detail: str
    #: The command that installs a safe build, when one is needed.
    fix: str = ""


def compiled_features(system_info: str) -> set[str]:
    """The CPU features a build reports as on (``AVX2 = 1``) in its system info line."""
    cpu_part = system_info.split("|")
    found = set()
    for item in cpu_part:
        name, sep, value = item.rpartition("=")
        name = name.split(":")[-1].strip()
        if sep and value.strip() == "1" and name:
            found.add(name)
    return found


def cpu_flags(cpuinfo: str) -> set[str]:
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def assess(system_info: str, flags: set[str], machine: str, version: str) -> BuildVerdict:
    """The verdict for one build on one CPU (pure, so it can be tested with real strings)."""
    if machine.lower() not in ("x86_64", "amd64"):
        return BuildVerdict(True, f"llama-cpp-python {version} ({machine}: no x86 flags to check)")
    features = compiled_features(system_info)
    checked = {f for f in features if f in _CPU_FLAGS}
    missing = sorted(f for f in checked if _CPU_FLAGS[f] not in flags)
    fix = reinstall_command(version)
    if missing:
        return BuildVerdict(
            False,
            f"llama-cpp-python {version} was compiled for {', '.join(missing)}, which this CPU "
            "lacks: it will crash (SIGILL). Reinstall the portable build",
            fix,
        )
    native = sorted(checked & _BEYOND_PORTABLE)
    if native:
        return BuildVerdict(
            False,
            f"llama-cpp-python {version} is a native build ({', '.join(native)}); native builds "
            "crash in the first decode on some CPUs. Reinstall the portable build",
            fix,
        )
    shown = ", ".join(sorted(checked)) or "none reported"
    return BuildVerdict(True, f"llama-cpp-python {version}, portable build ({shown})")


def reinstall_command(version: str) -> str:
    """The exact command for this installation: uv tool environments have no pip."""
    pin = f"llama-cpp-python=={version}"
    env = f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}"'
    if (Path(sys.prefix) / "uv-receipt.toml").exists():
        return (
            f"{env} uv tool install --force --no-cache --reinstall-package llama-cpp-python "
            f"'codestral-ls[local]' --with '{pin}'"
        )
    return f"{env} {sys.executable} -m pip install --force-reinstall --no-cache-dir '{pin}'"


def check_installed() -> BuildVerdict:
    """Assess the llama-cpp-python importable here (importing it loads no model)."""
    try:
        import importlib.metadata

        import llama_cpp

        version = importlib.metadata.version("llama-cpp-python")
        info = llama_cpp.llama_print_system_info()
    except ImportError:
        return BuildVerdict(False, "llama-cpp-python is not installed (the local extra)")
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    try:
        flags = cpu_flags(Path("/proc/cpuinfo").read_text())
    except OSError:
        flags = set()
    if not flags and platform.system() != "Linux":
        return BuildVerdict(True, f"llama-cpp-python {version} ({platform.system()})")
    return assess(text, flags, platform.machine(), version)

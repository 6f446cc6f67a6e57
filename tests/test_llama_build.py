"""`doctor` tells a pip/uv user whether their llama-cpp-python build can crash on this CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from codestral_ls.llama_build import (
    PORTABLE_CMAKE_ARGS,
    assess,
    check_installed,
    compiled_features,
    cpu_flags,
)

# Lines as llama-cpp-python 0.3.36 prints them: the portable build (scripts/install.sh) and a
# default `pip install` on an AVX-512 server.
PORTABLE = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
    "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
NATIVE = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | "
    "BMI2 = 1 | AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | "
    "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
CUDA = "CUDA : ARCHS = 900 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + PORTABLE
# /proc/cpuinfo "flags" lines (shortened): an AVX-512 server, and a CPU without AVX2.
SERVER_FLAGS = cpu_flags(
    "flags\t\t: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 avx512f "
    "avx512dq avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni\n"
)
OLD_CPU_FLAGS = cpu_flags("flags\t\t: fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx\n")


def test_portable_build_passes() -> None:
    verdict = assess(PORTABLE, SERVER_FLAGS, "x86_64", "0.3.36")
    assert verdict.ok and "portable" in verdict.detail and not verdict.fix
    assert compiled_features(CUDA) >= {"AVX2", "USE_GRAPHS"}
    assert assess(CUDA, SERVER_FLAGS, "x86_64", "0.3.36").ok


def test_native_build_is_flagged_with_the_portable_reinstall_command() -> None:
    verdict = assess(NATIVE, SERVER_FLAGS, "x86_64", "0.3.36")
    assert not verdict.ok and "native build" in verdict.detail and "AVX512" in verdict.detail
    assert f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}"' in verdict.fix
    assert "--force-reinstall --no-cache-dir 'llama-cpp-python==0.3.36'" in verdict.fix


def test_build_for_instructions_this_cpu_lacks_is_flagged() -> None:
    verdict = assess(PORTABLE, OLD_CPU_FLAGS, "x86_64", "0.3.36")
    assert not verdict.ok and "SIGILL" in verdict.detail
    assert "AVX2" in verdict.detail and "F16C" in verdict.detail and verdict.fix


def test_other_architectures_are_left_alone() -> None:
    assert assess("CPU : NEON = 1 | ARM_FMA = 1 | ", set(), "arm64", "0.3.36").ok


def test_this_machines_installed_build_is_the_portable_one() -> None:
    pytest.importorskip("llama_cpp")
    assert cpu_flags(Path("/proc/cpuinfo").read_text())
    verdict = check_installed()
    assert verdict.ok, verdict.detail

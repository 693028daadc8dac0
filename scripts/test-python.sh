#!/usr/bin/env bash
# Builds the sigil-sdk wheel (sdk-python, pyo3 + maturin) in sdk-python/.venv,
# installs it, and runs ruff (format check + lint), mypy --strict, stubtest and pytest
# on the shared vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"

TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=$PWD/sdk-python/.venv
WHEELS=$TARGET_DIR/wheels
section() { printf '\n===== [python] %s =====\n' "$*"; }

section "Prerequisites"
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
RUFF_VERSION=0.17.6
if [ ! -x "$VENV/bin/maturin" ] || [ ! -x "$VENV/bin/pytest" ] || [ ! -x "$VENV/bin/mypy" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet maturin pytest mypy "ruff==$RUFF_VERSION"
fi
if [ "$("$VENV/bin/ruff" --version 2>/dev/null)" != "ruff $RUFF_VERSION" ]; then
  "$VENV/bin/pip" install --quiet "ruff==$RUFF_VERSION"
fi
cargo --version; "$VENV/bin/python" --version; "$VENV/bin/maturin" --version

# Hand-written Python only; ruff.toml at the repo root. To fix: `ruff format` and
# `ruff check --fix` on the same paths.
section "Lint: ruff"
"$VENV/bin/ruff" --version
"$VENV/bin/ruff" format --check sdk-python/python/sigil sdk-python/tests tests/interop/python
"$VENV/bin/ruff" check sdk-python/python/sigil sdk-python/tests tests/interop/python

section "Build the wheel (maturin, release, abi3)"
start=$SECONDS
rm -f "$WHEELS"/sigil_sdk-*.whl
(cd sdk-python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" build --release --out "$WHEELS")
wheel=$(ls "$WHEELS"/sigil_sdk-*.whl)
echo "maturin build: $((SECONDS - start)) s; $(basename "$wheel"): $(stat -c %s "$wheel") bytes"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

section "Typing: mypy --strict (stubs + typed tests) and stubtest"
cd sdk-python
"$VENV/bin/mypy" --strict python/sigil/__init__.pyi tests
"$VENV/bin/python" -m mypy.stubtest sigil

section "Tests: pytest (installed wheel)"
"$VENV/bin/python" -c 'import sigil; print("testing", sigil.__file__)'
"$VENV/bin/python" -m pytest -v tests

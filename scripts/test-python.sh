#!/usr/bin/env bash
# Builds the sigil-sdk wheel (sdk-python, pyo3 + maturin) in sdk-python/.venv,
# installs it, and runs ruff (format check + lint), mypy --strict, stubtest and pytest
# on the shared vectors.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
VENV=$SDK_PY_VENV
WHEELS=$TARGET_DIR/wheels
require "$VENV/bin/maturin" "$VENV/bin/pytest" "$VENV/bin/mypy" "$VENV/bin/ruff"
sub() { printf '\n----- [python] %s -----\n' "$*"; }
cargo --version; "$VENV/bin/python" --version; "$VENV/bin/maturin" --version

# Hand-written Python only; ruff.toml at the repo root. To fix: `ruff format` and
# `ruff check --fix` on the same paths.
sub "Lint: ruff"
"$VENV/bin/ruff" --version
"$VENV/bin/ruff" format --check sdk-python/python/sigil sdk-python/tests tests/interop/python
"$VENV/bin/ruff" check sdk-python/python/sigil sdk-python/tests tests/interop/python

sub "Build the wheel (maturin, release, abi3)"
start=$SECONDS
rm -f "$WHEELS"/sigil_sdk-*.whl
(cd sdk-python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" build --release --out "$WHEELS")
wheel=$(ls "$WHEELS"/sigil_sdk-*.whl)
echo "maturin build: $((SECONDS - start)) s; $(basename "$wheel"): $(stat -c %s "$wheel") bytes"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

sub "Typing: mypy --strict (stubs + typed tests) and stubtest"
cd sdk-python
"$VENV/bin/mypy" --strict python/sigil/__init__.pyi tests
"$VENV/bin/python" -m mypy.stubtest sigil

sub "Tests: pytest (installed wheel)"
"$VENV/bin/python" -c 'import sigil; print("testing", sigil.__file__)'
"$VENV/bin/python" -m pytest -v tests

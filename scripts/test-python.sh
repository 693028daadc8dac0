#!/usr/bin/env bash
# Builds the sigil-sdk wheel (sdk-python, pyo3 + maturin) in sdk-python/.venv,
# installs it, and runs ruff (format check + lint), mypy --strict, stubtest and pytest:
# the shared vectors, and suites against a real sigil-server --test-mode started by the
# package's own pytest plugin (sigil.testing) from $SIGIL_SERVER, by default the
# debug build in $TARGET_DIR (`cargo build -p sigil-server`; scripts/test.sh builds it).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
VENV=$SDK_PY_VENV
WHEELS=$TARGET_DIR/wheels
export SIGIL_SERVER=${SIGIL_SERVER:-$TARGET_DIR/debug/sigil-server}
require "$VENV/bin/maturin" "$VENV/bin/pytest" "$VENV/bin/mypy" "$VENV/bin/ruff"
[ -x "$SIGIL_SERVER" ] || {
  echo "no sigil-server at $SIGIL_SERVER: run \`cargo build -p sigil-server\` or set SIGIL_SERVER" >&2
  exit 1
}
sub() { printf '\n----- [python] %s -----\n' "$*"; }
cargo --version; "$VENV/bin/python" --version; "$VENV/bin/maturin" --version

# Hand-written Python only; ruff.toml at the repo root. To fix: `ruff format` and
# `ruff check --fix` on the same paths.
sub "Lint: ruff"
"$VENV/bin/ruff" --version
"$VENV/bin/ruff" format --check sdk-python/python/sigil sdk-python/tests sdk-python/bench \
  sdk-python/conformance tests/interop/python
"$VENV/bin/ruff" check sdk-python/python/sigil sdk-python/tests sdk-python/bench \
  sdk-python/conformance tests/interop/python

sub "Build the wheel (maturin, release, abi3)"
start=$SECONDS
rm -f "$WHEELS"/sigil_sdk-*.whl
(cd sdk-python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" build --release --out "$WHEELS")
wheel=$(ls "$WHEELS"/sigil_sdk-*.whl)
echo "maturin build: $((SECONDS - start)) s; $(basename "$wheel"): $(stat -c %s "$wheel") bytes"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

sub "Typing: mypy --strict (the package: _native.pyi + inline-typed modules; the typed tests) and stubtest"
cd sdk-python
"$VENV/bin/mypy" --strict python/sigil tests bench conformance
"$VENV/bin/python" -m mypy.stubtest sigil

sub "Tests: pytest (installed wheel)"
"$VENV/bin/python" -c 'import sigil; print("testing", sigil.__file__)'
echo "SIGIL_SERVER=$SIGIL_SERVER"
"$VENV/bin/python" -m pytest -v tests

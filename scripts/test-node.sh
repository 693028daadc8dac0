#!/usr/bin/env bash
# Lints the hand-written JS/TS of both JS bindings (prettier --check, tsc on the
# public .d.ts files), then builds @sigil/node (sdk-node, napi-rs) and runs its
# tests on the shared vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"

TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
section() { printf '\n===== [node] %s =====\n' "$*"; }

section "Prerequisites"
if ! command -v node >/dev/null; then
  apt-get update && apt-get install -y --no-install-recommends nodejs npm
fi
if [ ! -f tests/js/node_modules/.package-lock.json ] \
   || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
  (cd tests/js && npm ci --no-audit --no-fund)
fi
cargo --version; node --version

# Hand-written files only (sdk-wasm/pkg is wasm-bindgen output); .prettierrc.json
# and .prettierignore at the repo root. To reformat: the same command with --write.
section "Lint: prettier + tsc"
tests/js/node_modules/.bin/prettier --version
tests/js/node_modules/.bin/prettier --check \
  'sdk-wasm/js/*.js' 'sdk-wasm/*.d.ts' 'sdk-wasm/test/*.{js,cjs,mjs}' \
  'sdk-node/index.js' 'sdk-node/index.d.ts' 'sdk-node/test/*.js' \
  'tests/js/*.{cjs,ts,json}' 'tests/interop/node/*.mjs'
tests/js/node_modules/.bin/tsc --version
tests/js/node_modules/.bin/tsc -p tests/js
echo "tsc -p tests/js: no errors"

section "Build sigil-node (napi, release)"
start=$SECONDS
cargo build --release -p sigil-node
cp "$TARGET_DIR/release/libsigil_node.so" sdk-node/sigil.node
echo "cargo build: $((SECONDS - start)) s; sdk-node/sigil.node: $(stat -c %s sdk-node/sigil.node) bytes"

section "Tests: node --test (shared vectors + README quick start)"
cd sdk-node
node --test test/*.test.js

#!/usr/bin/env bash
# Lints the hand-written JS/TS of both JS bindings (prettier --check, tsc on the
# public .d.ts files), then builds @sigil/node (sdk-node, napi-rs) and runs its
# tests on the shared vectors.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require node tests/js/node_modules/.bin/prettier tests/js/node_modules/.bin/tsc
sub() { printf '\n----- [node] %s -----\n' "$*"; }
cargo --version; node --version

# Hand-written files only (sdk-wasm/pkg is wasm-bindgen output); .prettierrc.json
# and .prettierignore at the repo root. To reformat: the same command with --write.
sub "Lint: prettier + tsc"
tests/js/node_modules/.bin/prettier --version
tests/js/node_modules/.bin/prettier --check \
  'sdk-wasm/js/*.js' 'sdk-wasm/*.d.ts' 'sdk-wasm/test/*.{js,cjs,mjs}' \
  'sdk-node/*.{js,mjs,d.ts}' 'sdk-node/test/*.{js,mjs}' 'sdk-node/conformance/*.mjs' 'sdk-node/bench/*.{js,mjs}' \
  'tests/js/*.{cjs,ts,json}' 'tests/interop/node/*.mjs'
tests/js/node_modules/.bin/tsc --version
tests/js/node_modules/.bin/tsc -p tests/js
echo "tsc -p tests/js: no errors"

sub "Build sigil-node (napi, release)"
start=$SECONDS
cargo build --release -p sigil-node
node sdk-node/prepare.js
echo "cargo build: $((SECONDS - start)) s; sdk-node/sigil.node: $(stat -c %s sdk-node/sigil.node) bytes"

sub "Tests: node --test (shared vectors + README quick start)"
cd sdk-node
node --test test/*.test.js

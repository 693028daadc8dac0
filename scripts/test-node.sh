#!/usr/bin/env bash
# Lints the hand-written JS/TS of both JS bindings (prettier --check, tsc on the
# public .d.ts files), then builds @sigil/node (sdk-node, napi-rs) and runs its
# tests on the shared vectors.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require node tests/js/node_modules/.bin/prettier tests/js/node_modules/.bin/tsc tests/js/node_modules/.bin/napi
sub() { printf '\n----- [node] %s -----\n' "$*"; }
cargo --version; node --version

sub "Build sigil-node (napi build: the addon and its generated native.d.ts)"
start=$SECONDS
# The napi CLI runs cargo with napi-derive's type output on and writes
# sdk-node/native.d.ts, the generated types of the native layer; index.d.ts is
# the hand-written types of the thin JS layer over it. Absolute paths: the CLI
# resolves relative ones against --cwd.
tests/js/node_modules/.bin/napi build --cwd "$ROOT/sdk-node" --release \
  --manifest-path "$ROOT/sdk-node/Cargo.toml" --target-dir "$TARGET_DIR" \
  --output-dir "$ROOT/sdk-node" --dts native.d.ts
node sdk-node/prepare.js
echo "napi build: $((SECONDS - start)) s; sdk-node/sigil.node: $(stat -c %s sdk-node/sigil.node) bytes"

# Hand-written files only (sdk-wasm/pkg is wasm-bindgen output); .prettierrc.json
# and .prettierignore at the repo root. To reformat: the same command with --write.
sub "Lint: prettier + tsc"
tests/js/node_modules/.bin/prettier --version
tests/js/node_modules/.bin/prettier --check \
  'sdk-wasm/js/*.{js,d.ts}' 'sdk-wasm/*.{d.ts,mjs}' 'sdk-wasm/test/*.{js,cjs,mjs}' 'sdk-wasm/test/bundle/*.{js,html}' 'sdk-wasm/conformance/*.mjs' 'sdk-wasm/demo/*.js' \
  'sdk-node/*.{js,mjs,d.ts,d.mts}' 'sdk-node/test/*.{js,mjs}' 'sdk-node/conformance/*.mjs' 'sdk-node/bench/*.{js,mjs}' \
  'tests/js/*.{cjs,mjs,ts,json}' 'tests/interop/node/*.mjs'
tests/js/node_modules/.bin/tsc --version
tests/js/node_modules/.bin/tsc -p tests/js
echo "tsc -p tests/js: no errors"
# The .d.ts files declare exactly the values each entry exports at run time.
node tests/js/exports-check.mjs sdk-node/index.js @sigil/node
node tests/js/exports-check.mjs sdk-node/index.mjs @sigil/node/esm

sub "Tests: node --test (shared vectors + README quick start)"
cd sdk-node
node --test test/*.test.js

#!/usr/bin/env bash
# Builds @sigil/web (sdk-wasm) for wasm32 with Debian's rust-web toolchain,
# generates the nodejs and web packages with wasm-bindgen, and runs the Node
# tests plus one real headless-Chromium test. scripts/prereqs.sh installs the tools.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require "$DEB_RUSTC" "$DEB_CARGO" "$WASM_LD" "$WASM_OPT" "$CHROMIUM" wasm-bindgen node
[ "$(wasm-bindgen --version)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ] \
  || { echo "wasm-bindgen $WASM_BINDGEN_VERSION is required: run ./scripts/prereqs.sh" >&2; exit 1; }
require sdk-wasm/node_modules/playwright-core/package.json sdk-wasm/node_modules/vite/package.json \
  sdk-wasm/node_modules/webpack/package.json sdk-wasm/node_modules/esbuild/package.json \
  tests/js/node_modules/.bin/tsc
sub() { printf '\n----- [wasm] %s -----\n' "$*"; }
"$DEB_RUSTC" --version; wasm-bindgen --version; "$WASM_OPT" --version; node --version; "$CHROMIUM" --version 2>/dev/null

sub "Build sigil-wasm with the client (wasm32-unknown-unknown, build-std)"
start=$SECONDS
# The `wasm` profile (workspace Cargo.toml): opt-level z, fat LTO, one codegen unit.
# `client`: the whole SDK (login, sessions, tabs, API clients) over fetch.
wasm_cargo build --profile wasm -p sigil-wasm --features client
wasm="$TARGET_DIR/wasm32-unknown-unknown/wasm/sigil_wasm.wasm"
echo "cargo build: $((SECONDS - start)) s, $(stat -c %s "$wasm") bytes"

sub "wasm-bindgen (nodejs + web) and wasm-opt"
rm -rf sdk-wasm/pkg
wasm-bindgen --target nodejs --no-typescript --out-dir sdk-wasm/pkg/node "$wasm"
wasm-bindgen --target web --no-typescript --out-dir sdk-wasm/pkg/web "$wasm"
# pkg/web is ES modules; pkg/node is CommonJS requiring the ESM error-class snippet.
echo '{ "type": "module" }' > sdk-wasm/pkg/web/package.json
echo '{ "type": "commonjs" }' > sdk-wasm/pkg/node/package.json
echo '{ "type": "module" }' > sdk-wasm/pkg/node/snippets/package.json
for out in node web; do
  f=sdk-wasm/pkg/$out/sigil_wasm_bg.wasm
  before=$(stat -c %s "$f")
  "$WASM_OPT" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue "$f" -o "$f.opt"
  mv "$f.opt" "$f"
  echo "pkg/$out/sigil_wasm_bg.wasm: $before bytes -> $(stat -c %s "$f") bytes after wasm-opt -Oz"
done
gz() { gzip -9 -c "$@" | wc -c; }
wasm_gz=$(gz sdk-wasm/pkg/web/sigil_wasm_bg.wasm)
glue_gz=$(cat sdk-wasm/index.mjs sdk-wasm/js/browser.js sdk-wasm/pkg/web/*.js sdk-wasm/pkg/web/snippets/*/js/*.js | gzip -9 | wc -c)
echo "browser download (index.mjs + pkg/web, gzip -9): wasm $wasm_gz B + JS $glue_gz B = $((wasm_gz + glue_gz)) B" \
  "(budget: 100 KB; the module is over it, see sdk-wasm/README.md)"

sub "Exports: index.d.ts and node.d.ts declare exactly what index.mjs and node.cjs export"
node tests/js/exports-check.mjs sdk-wasm/index.mjs @sigil/web
node tests/js/exports-check.mjs sdk-wasm/node.cjs @sigil/web/node

sub "Tests: node --test (pkg/node vectors, README quick starts, headless Chromium on pkg/web, the demo app end to end, an app bundled by Vite, webpack and esbuild)"
cd sdk-wasm
node --test test/node.test.cjs test/readme.test.cjs test/browser.test.mjs test/e2e.test.mjs test/bundle.test.mjs

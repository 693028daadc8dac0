#!/usr/bin/env bash
# Builds @sigil/web (sdk-wasm) for wasm32 with Debian's rust-web toolchain,
# generates the nodejs and web packages with wasm-bindgen, and runs the Node
# tests plus one real headless-Chromium test. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
section() { printf '\n===== [wasm] %s =====\n' "$*"; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update; apt_updated=1; fi
  apt-get install -y --no-install-recommends "$@"
}

section "Prerequisites"
[ -x /usr/bin/rustc ] || apt_install rustc-web cargo-web rust-web-src lld-22
[ -x /usr/bin/chromium ] || apt_install chromium
command -v wasm-opt >/dev/null || apt_install binaryen
command -v node >/dev/null || apt_install nodejs npm
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # Not --locked: the registry snapshot lacks one locked dependency.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ ! -f sdk-wasm/node_modules/.package-lock.json ] \
   || [ sdk-wasm/package-lock.json -nt sdk-wasm/node_modules/.package-lock.json ]; then
  (cd sdk-wasm && npm ci --no-audit --no-fund)
fi
/usr/bin/rustc --version; wasm-bindgen --version; wasm-opt --version; node --version; /usr/bin/chromium --version 2>/dev/null

section "Build sigil-wasm (wasm32-unknown-unknown, build-std)"
start=$SECONDS
# Without reference types: Debian's binaryen (108) mis-encodes the externref
# table wasm-bindgen uses with them, and the module no longer instantiates.
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/bin/rust-lld \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types" \
  /usr/bin/cargo build --release -p sigil-wasm \
  -Z build-std=std,panic_abort --target wasm32-unknown-unknown
wasm="$TARGET_DIR/wasm32-unknown-unknown/release/sigil_wasm.wasm"
echo "cargo build: $((SECONDS - start)) s, $(stat -c %s "$wasm") bytes"

section "wasm-bindgen (nodejs + web) and wasm-opt"
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
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue "$f" -o "$f.opt"
  mv "$f.opt" "$f"
  echo "pkg/$out/sigil_wasm_bg.wasm: $before bytes -> $(stat -c %s "$f") bytes after wasm-opt -Oz"
done

section "Tests: node --test (pkg/node vectors, README quick starts, headless Chromium on pkg/web)"
cd sdk-wasm
node --test test/node.test.cjs test/readme.test.cjs test/browser.test.mjs

#!/usr/bin/env bash
# Installs everything this repository needs (idempotently: whatever is present
# is skipped) and runs every test of every SDK: lints, the Rust core and server
# suites with the published vectors, the wasm32 build check, the conformance
# runner against a real sigil-server process, standard OAuth clients
# (oauth4webapi, authlib) against it, the WASM / Node / Python
# bindings (headless Chromium included), and bounded fuzzing of each parser.
#
#   ./scripts/test.sh            everything
#   FUZZ_SECONDS=5 ./scripts/test.sh   shorter fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
started=$SECONDS
section() { printf '\n===== %s (%ss) =====\n' "$*" "$((SECONDS - started))"; }

section "Prerequisites"
command -v cargo >/dev/null || { echo "cargo (rustup) is required" >&2; exit 1; }
missing=()
[ -x /usr/bin/rustc ] || missing+=(rustc-web cargo-web rust-web-src lld-22)
command -v cc >/dev/null || missing+=(gcc)
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"
fi
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2
cargo --version; /usr/bin/rustc --version; node --version; python3 --version

section "Lints: cargo fmt, cargo clippy -D warnings"
cargo fmt --all -- --check
(cd sdk-core/fuzz && cargo fmt -- --check)
cargo clippy --workspace --all-targets -- -D warnings

section "Rust: sdk-core, sigil-server, conformance (unit, wiremock, vectors, doc tests)"
# The napi and pyo3 crates are cdylibs that only link inside their host
# runtimes; their tests run under node and pytest below.
cargo test --workspace --exclude sigil-node --exclude sigil-python --exclude sigil-wasm

section "sdk-core builds for wasm32-unknown-unknown with default features off"
# Same flags as scripts/test-wasm.sh (reference types off for Debian's
# binaryen), so std is built from source once for both.
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/bin/rust-lld \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types" \
  /usr/bin/cargo build --release -p sigil --no-default-features \
  -Z build-std=std,panic_abort --target wasm32-unknown-unknown

section "Conformance: the Rust SDK against a real sigil-server process"
cargo build -p sigil-server -p sigil-conformance
./target/debug/sigil-conformance --server ./target/debug/sigil-server

section "Interop: oauth4webapi + jose (Node) and authlib (Python) against the server"
./scripts/test-interop.sh

section "Bindings"
./scripts/test-wasm.sh
./scripts/test-node.sh
./scripts/test-python.sh

section "Benchmarks compile (run them with ./scripts/bench.sh)"
cargo bench -p sigil --no-run

section "Fuzzing: each parser for ${FUZZ_SECONDS}s"
for target in webhook_headers callback_url jws signature_input; do
  log=$(mktemp)
  if (cd sdk-core && RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" -- \
      -max_total_time="$FUZZ_SECONDS") >"$log" 2>&1; then
    echo "fuzz $target: $(grep -E '^Done' "$log")"
  else
    tail -40 "$log"
    echo "fuzz target $target failed" >&2
    exit 1
  fi
  rm -f "$log"
done

section "All suites passed"

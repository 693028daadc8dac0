#!/usr/bin/env bash
# Installs everything this repository needs (scripts/prereqs.sh, idempotent:
# whatever is present is skipped) and runs every test of every SDK: lints, the
# Rust core and server suites with the published vectors, the wasm32 build
# check, the conformance runner against a real sigil-server process, standard
# OAuth clients (oauth4webapi, authlib) against it, the WASM / Node / Python
# bindings (headless Chromium included), and bounded fuzzing of each parser.
# Prints each section's time and the total at the end, pass or fail.
#
#   ./scripts/test.sh                  everything
#   FUZZ_SECONDS=5 ./scripts/test.sh   shorter fuzzing
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
trap print_times EXIT

section "Prerequisites (scripts/prereqs.sh)"
./scripts/prereqs.sh
cargo --version; "$DEB_RUSTC" --version; node --version; python3 --version

section "Lints: cargo fmt, cargo clippy -D warnings"
cargo fmt --all -- --check
(cd sdk-core/fuzz && cargo fmt -- --check)
cargo clippy --workspace --all-targets -- -D warnings

section "Rust: sdk-core, sigil-server, conformance (unit, wiremock, vectors, doc tests)"
# RUST_PACKAGES (lib.sh) leaves out the binding crates. One build makes the
# tests and the sigil-server / sigil-conformance binaries every later section
# uses: --all-targets gives the binaries the same feature set as the tests
# (dev-dependencies included), so `cargo test` reuses them and nothing
# compiles the server a second time.
cargo build "${RUST_PACKAGES[@]}" --all-targets
cargo test "${RUST_PACKAGES[@]}"
export SIGIL_SERVER=$TARGET_DIR/debug/sigil-server

section "sdk-core builds for wasm32-unknown-unknown with default features off"
# Same flags and profile as scripts/test-wasm.sh, so std is built from source once for both.
wasm_cargo build --profile wasm -p sigil --no-default-features

section "PostgreSQL: the server suites, a database restart and two nodes on one throwaway cluster"
./scripts/test-postgres.sh

section "Interop: oauth4webapi + jose (Node) and authlib (Python) against the server"
./scripts/test-interop.sh

section "OpenAPI contract: schemathesis against a --test-mode server"
./scripts/test-openapi.sh

section "Bindings: WASM (@sigil/web)"
./scripts/test-wasm.sh

section "Bindings: Node (@sigil/node)"
./scripts/test-node.sh

section "Bindings: Python (sigil-sdk)"
./scripts/test-python.sh

# After the bindings: the node driver loads sdk-node/sigil.node, the python
# driver the wheel installed in sdk-python/.venv, the wasm driver the client
# build in sdk-wasm/pkg/node.
section "Conformance: the scenario matrix (rust, node, python, wasm drivers) against a real sigil-server process"
"$TARGET_DIR/debug/sigil-conformance" --server "$SIGIL_SERVER" --drivers rust,node,python,wasm
# The mode for users' CI (README): --url and --credentials against a server
# that is already running. What needs test mode must be skipped, never
# passed, and the rest must pass.
port=$(free_port)
SIGIL_LOG=warn "$SIGIL_SERVER" serve --bind "127.0.0.1:$port" --database sqlite::memory: \
  --test-mode --fixtures reference-server/fixtures.example.json &
url_server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
url_log=$(mktemp)
url_rc=0
"$TARGET_DIR/debug/sigil-conformance" --url "http://127.0.0.1:$port" \
  --credentials reference-server/fixtures.example.json --drivers rust,node \
  --matrix-out "$TARGET_DIR/conformance-url" >"$url_log" || url_rc=$?
kill "$url_server"
wait "$url_server" 2>/dev/null || true
grep -E '^(FAIL|skip) ' "$url_log" || true
tail -1 "$url_log"
if [ "$url_rc" != 0 ] || ! grep -Eq '^conformance: [0-9]+ passed, 0 failed, [0-9]+ skipped$' "$url_log"; then
  echo "sigil-conformance --url: expected every scenario to pass or be skipped" >&2
  exit 1
fi

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

#!/usr/bin/env bash
# Builds @sigil/node (sdk-node, napi-rs) and runs its tests on the shared vectors.
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
cargo --version; node --version

section "Build sigil-node (napi, release)"
start=$SECONDS
cargo build --release -p sigil-node
cp "$TARGET_DIR/release/libsigil_node.so" sdk-node/sigil.node
echo "cargo build: $((SECONDS - start)) s; sdk-node/sigil.node: $(stat -c %s sdk-node/sigil.node) bytes"

section "Tests: node --test"
cd sdk-node
node --test test/*.test.js

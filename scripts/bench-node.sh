#!/usr/bin/env bash
# Prints the @sigil/node benchmark figures beside its npm peers, on this machine
# (sdk-node/bench/bench.mjs; each group in 3 fresh processes, each side at its
# best, the peer at its best in any group that timed it): Standard Webhooks verify
# at 1 KB and 64 KB beside `standardwebhooks` (target: at least 10x at 1 KB),
# EdDSA access-token verify beside `jose` jwtVerify (target: at least on par),
# the cost of one trivial binding call (`noop()`), and webhook verify through
# @sigil/web's WebAssembly build under Node (target: at least 3x at 1 KB; it needs
# sdk-wasm/pkg/node from ./scripts/test-wasm.sh). Builds the release addon
# first. The peers are pinned in sdk-node/bench/package-lock.json
# (scripts/prereqs.sh installs them).
#
#   ./scripts/bench-node.sh                  1.5 s per side per case (~1.5 min)
#   BENCH_SECONDS=5 ./scripts/bench-node.sh  steadier figures
#   BENCH_PROCESSES=5 ./scripts/bench-node.sh  more processes per group
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require node sdk-node/bench/node_modules/standardwebhooks sdk-node/bench/node_modules/jose \
  sdk-wasm/pkg/node/sigil_wasm.js
cargo build --release -p sigil-node
node sdk-node/prepare.js
node sdk-node/bench/bench.mjs

#!/usr/bin/env bash
# Prints the sigil-sdk (Python) benchmark figures beside its PyPI peers, measured
# in one process on this machine (sdk-python/bench/bench.py): Standard Webhooks
# verify at 1 KB and 64 KB beside `standardwebhooks` (target: at least 5x at
# 1 KB), EdDSA access-token verify beside pyjwt (target: on par), the cost of one
# trivial binding call (`sigil.noop()`), and 64 KB webhook verify from 4 threads
# against 1 (target: at least 1.6x on 2 cores, which needs the GIL released).
# Builds and installs the release extension into sdk-python/.venv first; the
# peers are pinned in scripts/prereqs.sh, which installs them.
#
#   ./scripts/bench-python.sh                  1 s per measurement
#   BENCH_SECONDS=3 ./scripts/bench-python.sh  steadier figures
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
VENV=$SDK_PY_VENV
require "$VENV/bin/maturin" "$VENV/bin/python"
"$VENV/bin/python" -c 'import standardwebhooks, jwt, cryptography' 2>/dev/null || {
  echo "the benchmark peers are missing from $VENV: run ./scripts/prereqs.sh" >&2
  exit 1
}
(cd sdk-python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" develop --release --quiet)
"$VENV/bin/python" sdk-python/bench/bench.py

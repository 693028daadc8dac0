#!/usr/bin/env bash
# Interoperability: standard, independent OAuth clients, exactly as published,
# against a real sigil-server process (test mode, in-memory store, the example
# fixtures):
#   tests/interop/node    oauth4webapi + jose, run by node --test; plus headless
#                         Chromium (/usr/bin/chromium, driven by playwright-core,
#                         JavaScript off) on the sign-in and consent pages
#   tests/interop/python  Authlib (httpx client, authlib.jose), run by pytest
# Installs only what is missing or stale: npm ci when node_modules does not
# match package-lock.json, the venv when it is missing or its pins changed.
#
#   ./scripts/test-interop.sh
#   SIGIL_SERVER=/path/to/sigil-server ./scripts/test-interop.sh   (skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"

NODE_DIR=$PWD/tests/interop/node
PY_DIR=$PWD/tests/interop/python
VENV=$PY_DIR/.venv
section() { printf '\n===== [interop] %s =====\n' "$*"; }

section "Prerequisites"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update && apt-get install -y --no-install-recommends nodejs npm
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && apt-get install -y --no-install-recommends chromium
fi
node --version; python3 --version; /usr/bin/chromium --version 2>/dev/null

section "sigil-server (debug)"
if [ -n "${SIGIL_SERVER:-}" ]; then
  echo "using SIGIL_SERVER=$SIGIL_SERVER"
else
  # A no-op when the binary is up to date.
  cargo build -p sigil-server
  export SIGIL_SERVER=${CARGO_TARGET_DIR:-$PWD/target}/debug/sigil-server
fi
[ -x "$SIGIL_SERVER" ] || { echo "$SIGIL_SERVER is not executable" >&2; exit 1; }

section "Node dependencies (npm ci when stale)"
lock_sum=$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)
stamp=$NODE_DIR/node_modules/.sigil-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
  echo "$lock_sum" >"$stamp"
else
  echo "node_modules matches package-lock.json"
fi
(cd "$NODE_DIR" && node -p '["oauth4webapi", "jose", "playwright-core"].map((p) => p + " " + require("./node_modules/" + p + "/package.json").version).join(", ")')

section "Python venv (created when missing)"
req_sum=$(sha256sum "$PY_DIR/requirements.txt" | cut -d' ' -f1)
stamp=$VENV/.sigil-requirements-sha256
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$req_sum" ]; then
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet -r "$PY_DIR/requirements.txt"
  echo "$req_sum" >"$stamp"
else
  echo "venv matches requirements.txt"
fi
"$VENV/bin/python" -c 'import authlib, httpx, pytest; print(f"authlib {authlib.__version__}, httpx {httpx.__version__}, pytest {pytest.__version__}")'

# Both suites run even if the first fails; the script fails if either did.
status=0

section "Node: oauth4webapi + jose, Chromium (node --test)"
(cd "$NODE_DIR" && node --test --test-timeout=120000 interop.test.mjs browser.test.mjs) || status=1

section "Python: Authlib (pytest)"
(cd "$PY_DIR" && "$VENV/bin/python" -m pytest -v) || status=1

exit "$status"

#!/usr/bin/env bash
# Interoperability: standard, independent OAuth clients, exactly as published,
# against a real sigil-server process (test mode, in-memory store, the example
# fixtures):
#   tests/interop/node    oauth4webapi + jose, run by node --test; plus headless
#                         Chromium (/usr/bin/chromium, driven by playwright-core,
#                         JavaScript off) on the sign-in and consent pages
#   tests/interop/python  Authlib (httpx client, authlib.jose), run by pytest
# scripts/prereqs.sh installs the npm packages, the venv and Chromium.
#
#   ./scripts/test-interop.sh
#   SIGIL_SERVER=/path/to/sigil-server ./scripts/test-interop.sh   (skip the build)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
NODE_DIR=$ROOT/tests/interop/node
PY_DIR=$ROOT/tests/interop/python
require node "$CHROMIUM" "$INTEROP_PY_VENV/bin/pytest" "$NODE_DIR/node_modules/oauth4webapi/package.json"
sub() { printf '\n----- [interop] %s -----\n' "$*"; }

if [ -z "${SIGIL_SERVER:-}" ]; then
  # Run alone; scripts/test.sh passes the server it built for every section.
  cargo build -p sigil-server
  export SIGIL_SERVER=$TARGET_DIR/debug/sigil-server
fi
[ -x "$SIGIL_SERVER" ] || { echo "$SIGIL_SERVER is not executable" >&2; exit 1; }
echo "server: $SIGIL_SERVER"
(cd "$NODE_DIR" && node -p '["oauth4webapi", "jose", "playwright-core"].map((p) => p + " " + require("./node_modules/" + p + "/package.json").version).join(", ")')
"$INTEROP_PY_VENV/bin/python" -c 'import authlib, httpx, pytest; print(f"authlib {authlib.__version__}, httpx {httpx.__version__}, pytest {pytest.__version__}")'

# Both suites run even if the first fails; the script fails if either did.
status=0

sub "Node: oauth4webapi + jose, Chromium (node --test)"
(cd "$NODE_DIR" && node --test --test-timeout=120000 interop.test.mjs browser.test.mjs) || status=1

sub "Python: Authlib (pytest)"
(cd "$PY_DIR" && "$INTEROP_PY_VENV/bin/python" -m pytest -v) || status=1

exit "$status"

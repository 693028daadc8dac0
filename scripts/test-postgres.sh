#!/usr/bin/env bash
# The server's integration suites on PostgreSQL, then the multi-node suite
# (two sigil-server processes on one database), on a throwaway cluster that
# is stopped and deleted at the end.
#
#   ./scripts/test-postgres.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "$0")/postgres.sh"
cd "$ROOT"

pg_start
trap pg_stop EXIT
cargo build -q -p sigil-server --bin sigil-server
# The multi-node suite writes its figures (revocation delays, kill -9
# counts) here; they are printed at the end.
export SIGIL_TEST_FIGURES="$_pg_dir/figures.txt"
cargo test -q -p sigil-server --tests --no-fail-fast
echo "multi-node figures:"
cat "$SIGIL_TEST_FIGURES"

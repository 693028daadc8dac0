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
# The same package selection and targets as the Rust section of
# scripts/test.sh, so its build is reused (a build of `-p sigil-server`
# alone unifies features differently and links every test again).
cargo build -q "${RUST_PACKAGES[@]}" --all-targets
server_tests=()
for file in reference-server/tests/*.rs; do server_tests+=(--test "$(basename "$file" .rs)"); done
# The multi-node suite writes its figures (revocation delays, kill -9
# counts) here; they are printed at the end.
export SIGIL_TEST_FIGURES="$_pg_dir/figures.txt"
cargo test -q "${RUST_PACKAGES[@]}" "${server_tests[@]}" --no-fail-fast
echo "multi-node figures:"
cat "$SIGIL_TEST_FIGURES"

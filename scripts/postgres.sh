# A throwaway PostgreSQL cluster for the tests (sourced, never run):
# `pg_start` makes one in a temp dir on a free loopback port and exports
# SIGIL_TEST_POSTGRES (its URL); `pg_stop` stops it and deletes the dir.
# Debian's postgresql-15 provides the binaries (scripts/prereqs.sh). The
# server refuses to run as root, so as root it runs as the `postgres` user.

PG_BIN=/usr/lib/postgresql/15/bin
_pg_dir=

_pg_as() {
  if [ "$(id -u)" = 0 ]; then /sbin/runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  require "$PG_BIN/initdb" "$PG_BIN/pg_ctl"
  _pg_dir=$(mktemp -d /tmp/sigil-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$_pg_dir"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  _pg_as "$PG_BIN/initdb" -D "$_pg_dir/data" -A trust -U postgres --no-sync >/dev/null
  # In the cluster's own configuration, so a restart (tests/postgres_restart.rs)
  # comes back on the same port.
  printf "port = %s\nunix_socket_directories = '%s'\nlisten_addresses = '127.0.0.1'\nmax_connections = 400\n" \
    "$port" "$_pg_dir" | _pg_as tee -a "$_pg_dir/data/postgresql.conf" >/dev/null
  _pg_as "$PG_BIN/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/log" -w start >/dev/null
  export SIGIL_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  local as_owner=
  [ "$(id -u)" = 0 ] && as_owner="/sbin/runuser -u postgres --"
  export SIGIL_TEST_PG_CTL="$as_owner $PG_BIN/pg_ctl -D $_pg_dir/data -l $_pg_dir/log"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($_pg_dir)"
}

pg_stop() {
  [ -n "$_pg_dir" ] || return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$_pg_dir"
  _pg_dir=
}

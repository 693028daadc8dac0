#!/usr/bin/env bash
# Load-tests the reference server on loopback with oha and prints req/s,
# p50, p99 and HTTP success rate for client_credentials, API-key exchange
# and introspection, plus idle and peak RSS, beside the targets (printed,
# not asserted). A release build on a temp-file SQLite database; rate limits
# are raised so the limiter still runs on every request without capping the
# run. Bounded: BENCH_DURATION (default 10s) per endpoint, BENCH_CONNECTIONS
# (default 64) connections. Not part of scripts/test.sh.
#
# Agent tokens: `tokens_verify` posts 1,000 distinct valid agent tokens (one
# request body per line, oha -Z), `tokens_verify_batch` posts 100 tokens per
# request (tokens/s = req/s x 100), and `tokens_issue` issues tokens with an
# API key while one active policy is evaluated and every issuance is
# appended to the audit chain.
#
# PostgreSQL: the same client_credentials, introspection, tokens/verify and
# issuance runs on one node over a throwaway PostgreSQL cluster
# (scripts/postgres.sh), then on two nodes sharing it, each node loaded by its
# own oha with half the connections (req/s summed, p99 the worse node's);
# then the delay from a key revoked on one node to its refusal on the other.
# BENCH_POSTGRES=0 skips it.
#
# Webhook delivery: BENCH_WEBHOOK_EVENTS (default 20000) events are put in
# the outbox first (examples/fill_outbox.rs), then a server in --dev mode (so
# a loopback receiver is allowed) delivers them to examples/webhook_sink.rs,
# which verifies every signature with sdk-core and reports verified events/s
# between the first and the last arrival: delivery alone, on SQLite and on
# PostgreSQL, first with the server's default in-flight limits (the 5,000
# events/s target), then with BENCH_WEBHOOK_IN_FLIGHT (default 256) attempts
# in flight per endpoint and twice that in all.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "$0")/postgres.sh"
cd "$ROOT"

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "bench-server: $tool is required" >&2; exit 1; }
done
if ! oha --version >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/oha" ]; then
    :
  else
    echo "bench-server: installing oha 1.16.0" >&2
    cargo install oha --version 1.16.0 --locked
  fi
fi
OHA="$(command -v oha || echo "$HOME/.cargo/bin/oha")"

cargo build --release -p sigil-server --bin sigil-server --example webhook_sink --example fill_outbox >&2
BIN="$PWD/target/release/sigil-server"
SINK="$PWD/target/release/examples/webhook_sink"
FILL="$PWD/target/release/examples/fill_outbox"
IN_FLIGHT="${BENCH_WEBHOOK_IN_FLIGHT:-256}"
WEBHOOK_EVENTS="${BENCH_WEBHOOK_EVENTS:-20000}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench.XXXXXX")"
SERVER_PID=""
SINK_PID=""
stop() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
NODE_PIDS=()
cleanup() {
  stop "$SERVER_PID"
  stop "$SINK_PID"
  for pid in "${NODE_PIDS[@]}"; do stop "$pid"; done
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

DB="sqlite://$WORK/sigil.db"
PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"

# Limits far above what one machine can send, so they never bind.
export SIGIL_IP_RATE=100000000 SIGIL_IP_BURST=100000000
export SIGIL_KEY_RATE=100000000 SIGIL_KEY_BURST=100000000
export SIGIL_LOG="${SIGIL_LOG:-warn}"
# The issuance run must not stop at the monthly plan quota.
export SIGIL_PLAN_MAX_TOKENS_PER_MONTH=1000000000

KEY="$("$BIN" create-key --database "$DB" --email bench@sigil.local --preset full 2>>"$WORK/server.log")"
start_server() { # extra serve arguments
  "$BIN" serve --bind "127.0.0.1:$PORT" --database "$DB" "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fsS "$BASE/healthz" >/dev/null
}
start_server

APP="$(curl -fsS "$BASE/v1/apps" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"name":"bench","redirectUris":["https://bench.example/cb"],"scopes":["keys.read"]}')"
CLIENT_ID="$(jq -r .data.clientId <<<"$APP")"
CLIENT_SECRET="$(jq -r .data.clientSecret <<<"$APP")"
TOKEN="$(curl -fsS "$BASE/oauth/token" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials | jq -r .access_token)"
# The token must be valid for the whole run (default lifetime 600 s).
[ "$(curl -fsS "$BASE/oauth/introspect" -u "$CLIENT_ID:$CLIENT_SECRET" -d "token=$TOKEN" | jq -r .active)" = true ]

rss_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status"; }
sleep 1
IDLE_RSS_KB="$(rss_kb VmRSS)"

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
run() { # name, then oha arguments
  local name="$1"; shift
  echo "bench-server: $name for $DURATION with $CONNECTIONS connections" >&2
  "$OHA" -z "$DURATION" -c "$CONNECTIONS" --no-tui --output-format json "$@" >"$WORK/$name.json"
  jq -r --arg name "$name" '
    (.statusCodeDistribution // {}) as $codes
    | ([$codes | to_entries[] | .value] | add // 0) as $total
    | ([$codes | to_entries[] | select(.key | startswith("2")) | .value] | add // 0) as $ok
    | [$name,
       (.summary.requestsPerSec | floor),
       ((.latencyPercentiles.p50 // 0) * 1000 * 100 | round / 100),
       ((.latencyPercentiles.p99 // 0) * 1000 * 100 | round / 100),
       (if $total > 0 then ($ok / $total * 10000 | round / 100) else 0 end),
       $total]
    | @tsv' "$WORK/$name.json" >>"$RESULTS"
}

run client_credentials -m POST -a "$CLIENT_ID:$CLIENT_SECRET" \
  -T application/x-www-form-urlencoded -d 'grant_type=client_credentials' "$BASE/oauth/token"
run api_key_exchange -m POST -T application/json -d "{\"apiKey\":\"$KEY\"}" "$BASE/auth/token/exchange"
run introspection -m POST -a "$CLIENT_ID:$CLIENT_SECRET" \
  -T application/x-www-form-urlencoded -d "token=$TOKEN" "$BASE/oauth/introspect"
# The latency targets hold "at those rates": the same calls at a fixed offered
# load (oha -q) instead of at saturation, where queueing dominates p99.
run client_credentials_at_15k -q 15000 -m POST -a "$CLIENT_ID:$CLIENT_SECRET" \
  -T application/x-www-form-urlencoded -d 'grant_type=client_credentials' "$BASE/oauth/token"
run introspection_at_25k -q 25000 -m POST -a "$CLIENT_ID:$CLIENT_SECRET" \
  -T application/x-www-form-urlencoded -d "token=$TOKEN" "$BASE/oauth/introspect"

# 1,000 distinct agent tokens (ten agents, valid for an hour).
AGENTS=()
for i in $(seq 1 10); do
  AGENTS+=("$(curl -fsS "$BASE/v1/agents" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d "{\"name\":\"bench-$i\"}" | jq -r .data.id)")
done
curl -fsS "$BASE/v1/policies" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"name":"bench-allow","rules":[{"effect":"allow","match":{"scopes":["agents.read"]}}]}' >/dev/null
echo "bench-server: issuing 1000 agent tokens" >&2
TOKENS="$WORK/tokens.txt"
: >"$TOKENS"
for i in $(seq 0 999); do
  curl -fsS "$BASE/v1/tokens" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d "{\"agent_id\":\"${AGENTS[$((i % 10))]}\",\"scope\":[\"agents.read\"],\"ttl\":3600}" | jq -r .data.token
done >"$TOKENS"
[ "$(sort -u "$TOKENS" | wc -l)" -eq 1000 ]
jq -R -c '{token: ., required_scope: "agents.read"}' "$TOKENS" >"$WORK/verify-bodies.txt"
[ "$(curl -fsS "$BASE/v1/tokens/verify" -H 'content-type: application/json' \
  -d "$(head -n 1 "$WORK/verify-bodies.txt")" | jq -r .data.valid)" = true ]
head -n 100 "$TOKENS" | jq -R . | jq -s -c '{tokens: ., required_scope: "agents.read"}' >"$WORK/batch-body.json"
[ "$(curl -fsS "$BASE/v1/tokens/verify/batch" -H 'content-type: application/json' \
  -d @"$WORK/batch-body.json" | jq '[.data.results[] | select(.valid)] | length')" -eq 100 ]

run tokens_verify -m POST -T application/json -Z "$WORK/verify-bodies.txt" "$BASE/v1/tokens/verify"
run tokens_verify_batch -m POST -T application/json -D "$WORK/batch-body.json" "$BASE/v1/tokens/verify/batch"
run tokens_issue -m POST -T application/json -H "authorization: Bearer $KEY" \
  -d "{\"agent_id\":\"${AGENTS[0]}\",\"scope\":[\"agents.read\"],\"intent\":\"bench\"}" "$BASE/v1/tokens"
AUDIT_OK="$(curl -fsS "$BASE/v1/audit/verify" -H "authorization: Bearer $KEY" | jq -c .data)"

PEAK_RSS_KB="$(rss_kb VmHWM)"

stop "$SERVER_PID"
SERVER_PID=""

# --- PostgreSQL: one node, then two nodes on one database --------------------
PG_RESULTS="$WORK/pg-results.tsv"
: >"$PG_RESULTS"
REVOKE_DELAY_MS="-"
start_node() { # database, port
  "$BIN" serve --bind "127.0.0.1:$2" --database "$1" >>"$WORK/server.log" 2>&1 &
  NODE_PIDS+=("$!")
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2
  exit 1
}
stop_nodes() {
  for pid in "${NODE_PIDS[@]}"; do stop "$pid"; done
  NODE_PIDS=()
}
# One oha per node, each with an equal share of the connections, at once;
# prints one results row: summed req/s, mean p50, worst p99, 2xx share.
run_nodes() { # label, name, then oha arguments with @BASE@ for the node URL
  local label="$1" name="$2"; shift 2
  local i=0 base files=() pids=() pid
  echo "bench-server: $label $name for $DURATION" >&2
  for base in "${NODE_BASES[@]}"; do
    "$OHA" -z "$DURATION" -c "$((CONNECTIONS / ${#NODE_BASES[@]}))" --no-tui --output-format json \
      "${@//@BASE@/$base}" >"$WORK/$label-$name-$i.json" &
    pids+=("$!")
    files+=("$WORK/$label-$name-$i.json")
    i=$((i + 1))
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  jq -s -r --arg run "$label" --arg name "$name" '
    def total: [(.statusCodeDistribution // {}) | to_entries[] | .value] | add // 0;
    def ok: [(.statusCodeDistribution // {}) | to_entries[] | select(.key | startswith("2")) | .value] | add // 0;
    [$run, $name,
     (map(.summary.requestsPerSec) | add | floor),
     ((map(.latencyPercentiles.p50 // 0) | add / length) * 1000 * 100 | round / 100),
     ((map(.latencyPercentiles.p99 // 0) | max) * 1000 * 100 | round / 100),
     ((map(ok) | add) as $ok | (map(total) | add) as $t | if $t > 0 then ($ok / $t * 10000 | round / 100) else 0 end)]
    | @tsv' "${files[@]}" >>"$PG_RESULTS"
}
pg_bench() { # label, database, nodes
  local label="$1" db="$2" nodes="$3" key app id secret token agent i
  key="$("$BIN" create-key --database "$db" --email "bench-$label@sigil.local" --preset full 2>>"$WORK/server.log")"
  NODE_BASES=()
  for i in $(seq 1 "$nodes"); do
    local port
    port="$(free_port)"
    start_node "$db" "$port"
    NODE_BASES+=("http://127.0.0.1:$port")
  done
  local first="${NODE_BASES[0]}"
  app="$(curl -fsS "$first/v1/apps" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"name":"bench","redirectUris":["https://bench.example/cb"],"scopes":["keys.read"]}')"
  id="$(jq -r .data.clientId <<<"$app")"
  secret="$(jq -r .data.clientSecret <<<"$app")"
  token="$(curl -fsS "$first/oauth/token" -u "$id:$secret" -d grant_type=client_credentials | jq -r .access_token)"
  agent="$(curl -fsS "$first/v1/agents" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"name":"bench"}' | jq -r .data.id)"
  curl -fsS "$first/v1/policies" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"name":"bench-allow","rules":[{"effect":"allow","match":{"scopes":["agents.read"]}}]}' >/dev/null
  for i in $(seq 0 199); do
    curl -fsS "$first/v1/tokens" -H "authorization: Bearer $key" -H 'content-type: application/json' \
      -d "{\"agent_id\":\"$agent\",\"scope\":[\"agents.read\"],\"ttl\":3600}" | jq -c '{token: .data.token, required_scope: "agents.read"}'
  done >"$WORK/$label-verify.txt"
  run_nodes "$label" client_credentials -m POST -a "$id:$secret" \
    -T application/x-www-form-urlencoded -d 'grant_type=client_credentials' "@BASE@/oauth/token"
  run_nodes "$label" introspection -m POST -a "$id:$secret" \
    -T application/x-www-form-urlencoded -d "token=$token" "@BASE@/oauth/introspect"
  run_nodes "$label" tokens_verify -m POST -T application/json -Z "$WORK/$label-verify.txt" "@BASE@/v1/tokens/verify"
  run_nodes "$label" tokens_issue -m POST -T application/json -H "authorization: Bearer $key" \
    -d "{\"agent_id\":\"$agent\",\"scope\":[\"agents.read\"],\"intent\":\"bench\"}" "@BASE@/v1/tokens"
  echo "audit chain after the $label runs: $(curl -fsS "$first/v1/audit/verify" -H "authorization: Bearer $key" | jq -c .data)" >>"$WORK/pg-notes.txt"
  if [ "$nodes" -ge 2 ]; then
    # A key used on node 2, revoked on node 1: ms until node 2 refuses it.
    local created revoke_id revoke_key start
    created="$(curl -fsS "$first/v1/api-keys" -H "authorization: Bearer $key" -H 'content-type: application/json' -d '{"name":"revoked","preset":"read"}')"
    revoke_id="$(jq -r .data.id <<<"$created")"
    revoke_key="$(jq -r .data.key <<<"$created")"
    curl -fsS "${NODE_BASES[1]}/v1/api-keys" -H "authorization: Bearer $revoke_key" >/dev/null
    start="$(date +%s%N)"
    curl -fsS -X POST "$first/v1/api-keys/$revoke_id/revoke" -H "authorization: Bearer $key" >/dev/null
    for _ in $(seq 1 1000); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' "${NODE_BASES[1]}/v1/api-keys" -H "authorization: Bearer $revoke_key")" = 401 ] && break
      sleep 0.001
    done
    REVOKE_DELAY_MS="$(( ($(date +%s%N) - start) / 1000000 ))"
  fi
  stop_nodes
}
pg_url() { echo "$SIGIL_TEST_POSTGRES?options[search_path]=$1"; }
if [ "${BENCH_POSTGRES:-1}" != 0 ]; then
  pg_start >&2
  for schema in bench1 bench2 outbox outbox_defaults; do
    "$PG_BIN/psql" "$SIGIL_TEST_POSTGRES" -qc "CREATE SCHEMA $schema"
  done
  pg_bench postgres_1_node "$(pg_url bench1)" 1
  pg_bench postgres_2_nodes "$(pg_url bench2)" 2
fi

# --- Webhook delivery from a pre-filled outbox -------------------------------
: >"$WORK/webhook.txt"
webhook_bench() { # label, database, in flight per endpoint ("" for the server's defaults)
  local sink_port port secret limits=()
  sink_port="$(free_port)"
  port="$(free_port)"
  secret="$("$FILL" --database "$2" --url "http://127.0.0.1:$sink_port/" --events "$WEBHOOK_EVENTS" 2>>"$WORK/server.log")"
  "$SINK" --bind "127.0.0.1:$sink_port" --secret "$secret" --expect "$WEBHOOK_EVENTS" --timeout-secs 120 \
    >"$WORK/sink.json" &
  SINK_PID=$!
  sleep 0.3
  echo "bench-server: webhook delivery of $WEBHOOK_EVENTS events ($1)" >&2
  [ -n "$3" ] && limits=(--webhook-in-flight-per-endpoint "$3" --webhook-in-flight "$(($3 * 2))")
  "$BIN" serve --dev --bind "127.0.0.1:$port" --database "$2" "${limits[@]}" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait "$SINK_PID" || true
  SINK_PID=""
  stop "$SERVER_PID"
  SERVER_PID=""
  local rate
  rate="$(jq -r '.eventsPerSec' "$WORK/sink.json")"
  echo "webhook delivery, $1: $(jq -r '"\(.eventsPerSec) verified events/s (\(.events) events, \(.deliveries) deliveries, \(.rejected) rejected, \(.seconds) s first to last; complete: \(.complete))"' "$WORK/sink.json")$([ -z "$3" ] && echo "   target >= 5000: $([ "${rate%.*}" -ge 5000 ] && echo met || echo MISSED)")" >>"$WORK/webhook.txt"
}
webhook_bench "sqlite, default limits" "sqlite://$WORK/webhooks-defaults.db" ""
webhook_bench "sqlite, $IN_FLIGHT per endpoint, $((IN_FLIGHT * 2)) in all" "sqlite://$WORK/webhooks.db" "$IN_FLIGHT"
if [ "${BENCH_POSTGRES:-1}" != 0 ]; then
  webhook_bench "postgres, default limits" "$(pg_url outbox_defaults)" ""
  webhook_bench "postgres, $IN_FLIGHT per endpoint, $((IN_FLIGHT * 2)) in all" "$(pg_url outbox)" "$IN_FLIGHT"
fi

target() {
  case "$1" in
    client_credentials) echo ">= 15000" ;;
    introspection) echo ">= 25000" ;;
    client_credentials_at_15k) echo "15000 offered; p99 < 10 ms" ;;
    introspection_at_25k) echo "25000 offered; p99 < 10 ms" ;;
    tokens_verify) echo ">= 20000" ;;
    tokens_issue) echo ">= 10000" ;;
    *) echo "-" ;;
  esac
}
echo
printf '%-20s %10s %10s %10s %9s %10s   %s\n' endpoint 'req/s' 'p50 ms' 'p99 ms' '2xx %' requests 'target (req/s; p99 < 10 ms)'
while IFS=$'\t' read -r name rps p50 p99 ok total; do
  printf '%-20s %10s %10s %10s %9s %10s   %s\n' "$name" "$rps" "$p50" "$p99" "$ok" "$total" "$(target "$name")"
done <"$RESULTS"
batch_rps="$(awk -F'\t' '$1 == "tokens_verify_batch" { print $2 }' "$RESULTS")"
echo "tokens_verify_batch: $((batch_rps * 100)) tokens/s (100 tokens per request)"
echo "audit chain after the runs: $AUDIT_OK"
cat "$WORK/webhook.txt"
if [ -s "$PG_RESULTS" ]; then
  echo
  echo "SQLite beside PostgreSQL (req/s, p99 ms):"
  printf '%-20s %20s %20s %20s\n' endpoint 'sqlite, 1 node' 'postgres, 1 node' 'postgres, 2 nodes'
  for name in client_credentials introspection tokens_verify tokens_issue; do
    cell() { awk -F'\t' -v l="$1" -v n="$name" '($1 == l && $2 == n) { printf "%s (p99 %s)", $3, $5 }' "$PG_RESULTS"; }
    sqlite="$(awk -F'\t' -v n="$name" '$1 == n { printf "%s (p99 %s)", $2, $4 }' "$RESULTS")"
    printf '%-20s %20s %20s %20s\n' "$name" "$sqlite" "$(cell postgres_1_node)" "$(cell postgres_2_nodes)"
  done
  cat "$WORK/pg-notes.txt"
  echo "cross-node revocation (key revoked on node 1, refused on node 2): $REVOKE_DELAY_MS ms"
  echo "(rate limits are per node; the two nodes share the same 2 CPUs as PostgreSQL and the load generators)"
fi
echo
printf 'idle RSS  %6.1f MB   (target < 30 MB)\n' "$(awk -v k="$IDLE_RSS_KB" 'BEGIN { print k / 1024 }')"
printf 'peak RSS  %6.1f MB\n' "$(awk -v k="$PEAK_RSS_KB" 'BEGIN { print k / 1024 }')"
echo "($(nproc) CPUs shared by server and load generator; $DURATION per endpoint, $CONNECTIONS connections)"

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
# Webhook delivery: a second server in --dev mode (so a loopback receiver is
# allowed) with one endpoint subscribed to `token.issued`; BENCH_WEBHOOK_EVENTS
# (default 20000) tokens are issued and the receiver (examples/webhook_sink.rs,
# which verifies every signature with sdk-core) reports verified events/s
# between the first and the last arrival.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

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

cargo build --release -p sigil-server --bin sigil-server --example webhook_sink >&2
BIN="$PWD/target/release/sigil-server"
SINK="$PWD/target/release/examples/webhook_sink"
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
cleanup() {
  stop "$SERVER_PID"
  stop "$SINK_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

DB="sqlite://$WORK/sigil.db"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
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

# Webhook delivery throughput, on a fresh database in --dev mode.
stop "$SERVER_PID"
DB="sqlite://$WORK/webhooks.db"
KEY="$("$BIN" create-key --database "$DB" --email bench@sigil.local --preset full 2>>"$WORK/server.log")"
start_server --dev
SINK_PORT="$(free_port)"
WH_AGENT="$(curl -fsS "$BASE/v1/agents" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"name":"bench-webhooks"}' | jq -r .data.id)"
WH_SECRET="$(curl -fsS "$BASE/v1/webhooks" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"url\":\"http://127.0.0.1:$SINK_PORT/\",\"events\":[\"token.issued\"]}" | jq -r .data.secret)"
"$SINK" --bind "127.0.0.1:$SINK_PORT" --secret "$WH_SECRET" --expect "$WEBHOOK_EVENTS" --timeout-secs 120 \
  >"$WORK/sink.json" &
SINK_PID=$!
sleep 0.3
echo "bench-server: webhook delivery of $WEBHOOK_EVENTS events" >&2
"$OHA" -n "$WEBHOOK_EVENTS" -c 32 --no-tui --output-format json -m POST -T application/json \
  -H "authorization: Bearer $KEY" -d "{\"agent_id\":\"$WH_AGENT\",\"scope\":[\"agents.read\"]}" \
  "$BASE/v1/tokens" >"$WORK/webhook-issue.json"
wait "$SINK_PID" || true
SINK_PID=""
WEBHOOK_RESULT="$(cat "$WORK/sink.json")"

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
echo "webhook delivery: $(jq -r '"\(.eventsPerSec) verified events/s (\(.events) events, \(.deliveries) deliveries, \(.rejected) rejected, \(.seconds) s first to last; complete: \(.complete))"' <<<"$WEBHOOK_RESULT")"
echo
printf 'idle RSS  %6.1f MB   (target < 30 MB)\n' "$(awk -v k="$IDLE_RSS_KB" 'BEGIN { print k / 1024 }')"
printf 'peak RSS  %6.1f MB\n' "$(awk -v k="$PEAK_RSS_KB" 'BEGIN { print k / 1024 }')"
echo "($(nproc) CPUs shared by server and load generator; $DURATION per endpoint, $CONNECTIONS connections)"

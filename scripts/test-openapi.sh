#!/usr/bin/env bash
# The OpenAPI contract: schemathesis (tests/openapi/requirements.txt, in
# tests/openapi/.venv from scripts/prereqs.sh) generates requests for every
# operation of /openapi.json and runs them against a real --test-mode
# sigil-server (in-memory store, reference-server/fixtures.example.json),
# with every check on, response_schema_conformance included:
#   - schema-valid requests must be accepted and schema-invalid ones refused;
#   - every status, header, content type and body must be documented;
#   - OpenAPI links drive the stateful phase (create -> read/update/delete).
# About 40 examples per operation, at most 3 minutes; zero failures allowed.
#
# The run authenticates as the fixtures' full-preset key (and, for the app
# API and OAuth client authentication, an app it creates first); hooks.py
# keeps it from revoking or deleting those, and schemathesis.toml says which
# answers depend on state the document cannot describe. POST /_test/clock is
# left out: it moves the server's clock under every other operation.
#
#   ./scripts/test-openapi.sh
#   SIGIL_SERVER=/path/to/sigil-server ./scripts/test-openapi.sh   (skip the build)
#   SCHEMATHESIS_SEED=123 ./scripts/test-openapi.sh                (replay a run)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DIR=$ROOT/tests/openapi
VENV=$DIR/.venv
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-40}
BUDGET_SECS=180
FULL_KEY=sgl_test_bELURrAIJLHruJuP4cPaQXZ4xWHCDkJf2V0H7Z # fixtures.example.json, preset full
require "$VENV/bin/schemathesis" curl python3

if [ -z "${SIGIL_SERVER:-}" ]; then
  # Run alone; scripts/test.sh passes the server it built for every section.
  cargo build -p sigil-server
  SIGIL_SERVER=$TARGET_DIR/debug/sigil-server
fi
[ -x "$SIGIL_SERVER" ] || { echo "$SIGIL_SERVER is not executable" >&2; exit 1; }
"$VENV/bin/schemathesis" --version

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A DNS server that answers NXDOMAIN, for POST /v1/domains/{id}/verify.
python3 "$DIR/dns_stub.py" >"$work/dns.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/dns.port" ] && break; sleep 0.1; done
dns_port=$(cat "$work/dns.port")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# Rate limits high enough never to stand between schemathesis and the
# behaviour under test (429 stays documented on every operation).
SIGIL_IP_RATE=1000000 SIGIL_IP_BURST=1000000 SIGIL_KEY_RATE=1000000 SIGIL_KEY_BURST=1000000 \
  SIGIL_LOG=warn "$SIGIL_SERVER" serve --bind "127.0.0.1:$port" --database sqlite::memory: \
  --test-mode --fixtures reference-server/fixtures.example.json \
  --dns-resolver "127.0.0.1:$dns_port" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

# The run's OAuth app: client authentication on /oauth/*, and its
# client_credentials token for the app API (every app-API scope but
# ai.chat, whose upstream this server does not have). The run's key holds
# no operator scope, so it can neither disable nor restrict its own
# account (the operator API answers it 403), and its app knows no user
# slug, so its reports cannot escalate anyone.
curl -fs "$base/v1/apps" -H "authorization: Bearer $FULL_KEY" -H 'content-type: application/json' \
  -d '{"name": "openapi contract", "redirectUris": ["https://contract.example/cb"],
       "scopes": ["identity.read", "messages.send", "reports.write", "webhooks.read", "webhooks.write"]}' >"$work/app.json"
read -r client_id client_secret < <(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["data"]
print(d["id"], d["clientSecret"])' "$work/app.json")
key_id=$(curl -fs "$base/v1/api-keys" -H "authorization: Bearer $FULL_KEY" |
  python3 -c 'import json, sys; print(next(k["id"] for k in json.load(sys.stdin)["data"] if k["name"] == "ci-full"))')

export SIGIL_CONTRACT_KEY=$FULL_KEY SIGIL_CONTRACT_CLIENT_ID=$client_id SIGIL_CONTRACT_CLIENT_SECRET=$client_secret
export SIGIL_CONTRACT_PROTECTED=$key_id,$client_id SCHEMATHESIS_HOOKS=$DIR/hooks.py
seed=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$SCHEMATHESIS_SEED")
status=0
# The run ends when every operation had its examples (and the stateful
# phase its scenarios); --max-time would instead repeat fuzzing until the
# budget is spent, so the budget is a wall-clock `timeout`: over it, fail.
(cd "$work" && timeout --kill-after=10 "$BUDGET_SECS" "$VENV/bin/schemathesis" \
  --config-file "$DIR/schemathesis.toml" run "$base/openapi.json" \
  --max-examples "$EXAMPLES" --no-color "${seed[@]}") \
  | tee "$work/run.txt" || status=${PIPESTATUS[0]}

summary=$(grep -E '^ *[0-9]+ generated' "$work/run.txt" | tail -1 | sed 's/^ *//')
operations=$(grep -E '^ *Tested: [0-9]+' "$work/run.txt" | tail -1 | tr -dc '0-9')
echo "schemathesis: ${operations:-?} operations tested; ${summary:-no summary (see above)}"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "the OpenAPI contract run took over ${BUDGET_SECS}s" >&2
fi
if [ "$status" -ne 0 ]; then
  echo "the OpenAPI contract run failed (exit $status); server log:" >&2
  tail -50 "$work/server.log" >&2
fi
exit "$status"

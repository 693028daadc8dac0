#!/usr/bin/env bash
# Prints the sdk-core benchmark figures (criterion): webhook verify beside a
# raw HMAC-SHA256 of the same 1 KB / 64 KB body, PKCE generation, EdDSA JWS
# verify, RFC 9421 ed25519 sign + verify. Then the webhook/HMAC ratios, whose
# target is at most 1.3.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo bench -p sigil --bench core -- --warm-up-time 1 --measurement-time "${BENCH_SECONDS:-5}" \
  2>&1 | tee /tmp/sigil-bench.txt | grep -E '^[a-z_/0-9]+|time:'
python3 - <<'PY'
import json, pathlib
base = pathlib.Path("target/criterion/webhook_vs_hmac")
for size in ("1024", "65536"):
    est = lambda name: json.loads((base / name / size / "new" / "estimates.json").read_text())["median"]["point_estimate"]
    raw, verify = est("raw_hmac"), est("webhook_verify")
    print(f"webhook verify / raw HMAC at {size} bytes: {verify / raw:.3f}x  ({verify:.0f} ns vs {raw:.0f} ns)")
PY

// @sigil/node beside its npm peers, same machine, same process, same inputs,
// same checks:
//   (a) Standard Webhooks verify at 1 KB and 64 KB: Webhook.verify vs standardwebhooks,
//       and at 1 KB the share of the payload's JSON parse, which both sides pay
//   (b) EdDSA access-token verify (RFC 9068 at+jwt): TokenVerifier.verify vs jose jwtVerify
//   (c) one trivial binding call: noop()
//   (d) Standard Webhooks verify through @sigil/web's WebAssembly build under
//       Node (its Node entry, sdk-wasm/node.cjs over pkg/node from
//       scripts/test-wasm.sh) vs standardwebhooks
// Each pair runs in alternating rounds (ours, peer, ours, peer, ...), so load
// from other processes on a shared machine hits both sides alike. Each round
// times ~10 ms batches with process.hrtime.bigint(); a side's figure is the
// median batch of all its rounds, and the ratio is the median of the rounds'
// ratios (min–max shown). BENCH_SECONDS (default 1.5) is the measured time per
// side per case, after a warm-up. Run it with scripts/bench-node.sh.

import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from 'jose';

const require = createRequire(import.meta.url);
const sigil = require('../index.js');
const web = require('../../sdk-wasm/node.cjs');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const ROUNDS = 6;
const BATCH_NS = 10e6;
const now = () => process.hrtime.bigint();

/**
 * A timer for `fn` (sync, or async when `isAsync`: awaited once per call, as
 * an app awaits it): `round(seconds)` returns the ns/op of each batch.
 */
function timer(fn, isAsync) {
  let batch = 1;
  const runBatch = isAsync
    ? async () => {
        const t0 = now();
        for (let i = 0; i < batch; i++) await fn();
        return Number(now() - t0);
      }
    : () => {
        const t0 = now();
        for (let i = 0; i < batch; i++) fn();
        return Number(now() - t0);
      };
  return {
    /** Warm-up (JIT tiers, caches) and sizing of the batch to ~10 ms. */
    async warm(seconds) {
      const end = now() + BigInt(Math.round(seconds * 1e9));
      for (;;) {
        const dt = await runBatch();
        if (dt < BATCH_NS) batch *= 2;
        else if (now() > end) return;
      }
    },
    async round(seconds) {
      const samples = [];
      const end = now() + BigInt(Math.round(seconds * 1e9));
      do samples.push((await runBatch()) / batch);
      while (now() < end || samples.length < 3);
      return samples;
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** ns/op of `ours` and `peer` (medians), and their per-round ratios. */
async function compare(ours, peer) {
  const a = timer(ours.fn, ours.isAsync);
  const b = timer(peer.fn, peer.isAsync);
  const warm = Math.min(0.5, SECONDS / 3);
  await a.warm(warm);
  await b.warm(warm);
  const all = { a: [], b: [] };
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const sa = await a.round(SECONDS / ROUNDS);
    const sb = await b.round(SECONDS / ROUNDS);
    all.a.push(...sa);
    all.b.push(...sb);
    ratios.push(median(sb) / median(sa));
  }
  return { ours: median(all.a), peer: median(all.b), ratios };
}

function fmt(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const missed = [];
function report(name, peerName, { ours, peer, ratios }, target, label = '@sigil/node') {
  const ratio = median(ratios);
  const range = `${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}`;
  let verdict = '';
  if (target !== undefined) {
    verdict = `target >= ${target}x: ${ratio >= target ? 'met' : 'MISSED'}`;
    if (ratio < target) missed.push(name);
  }
  console.log(
    [
      name.padEnd(28),
      `${label} ${fmt(ours).padStart(8)}/op`,
      `${peerName.padStart(18)} ${fmt(peer).padStart(8)}/op`,
      `${ratio.toFixed(2).padStart(6)}x (rounds ${range})`.padEnd(26),
      verdict,
    ]
      .join('  ')
      .trimEnd(),
  );
}

console.log(
  `@sigil/node benchmarks: node ${process.version}, ${process.platform}-${process.arch}; ` +
    `${SECONDS}s per side per case (BENCH_SECONDS) in ${ROUNDS} alternating rounds`,
);
console.log('ratio = peer time / @sigil/node time (higher: @sigil/node faster)\n');

// ---------------------------------------------------------------------------
// (a) Standard Webhooks: the raw body as a Buffer (what express.raw() or a read
// stream gives), headers in Node's IncomingMessage shape. Both check the
// timestamp tolerance, compare in constant time and JSON.parse the payload.
// ---------------------------------------------------------------------------

/** A JSON event of `size` bytes, as a sender serializes it. */
function event(size) {
  const base = { type: 'message.delivered', timestamp: '2026-01-01T00:00:00Z', data: { pad: '' } };
  base.data.pad = 'x'.repeat(Math.max(0, size - JSON.stringify(base).length));
  return Buffer.from(JSON.stringify(base));
}

/**
 * The part of a verify that both sides pay and no binding can speed up: the
 * strict UTF-8 decode and JSON.parse of the payload, timed in the same rounds
 * as the peer. (The other fixed part, one HMAC-SHA256 of the signed content,
 * is `raw_hmac` in sdk-core's criterion benchmarks.)
 */
async function parseShare(body, peerFn, verifyFn) {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parse = await compare({ fn: () => JSON.parse(decoder.decode(body)) }, { fn: verifyFn });
  const peerParse = await compare({ fn: () => JSON.parse(decoder.decode(body)) }, { fn: peerFn });
  console.log(
    `${'  of which the JSON parse'.padEnd(28)}  ${fmt(parse.ours)}/op: ` +
      `${Math.round((100 * parse.ours) / parse.peer)}% of @sigil/node's verify, ` +
      `${Math.round((100 * peerParse.ours) / peerParse.peer)}% of the peer's`,
  );
}

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const ours = new sigil.Webhook(secret);
const oursWasm = new web.Webhook(secret);
const peer = new StandardWebhook(secret);
const wasmCases = [];

for (const size of [1024, 64 * 1024]) {
  const body = event(size);
  const id = `msg_${randomBytes(12).toString('hex')}`;
  const ts = Math.floor(Date.now() / 1000);
  // Each side reads its own copy (equal contents): V8's caches on one shared
  // object would couple the two sides' timings.
  const sent = {
    host: 'hooks.example',
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'sigil-webhooks/0.1.0',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': ours.sign(id, ts, body),
  };
  const headers = { ...sent };
  const peerHeaders = { ...sent };
  const wasmHeaders = { ...sent };
  // Both accept the message, with the same payload, before anything is timed.
  const a = ours.verify(headers, body).payload;
  const b = peer.verify(body, peerHeaders);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('the payloads differ');
  report(
    `webhook verify ${size >> 10} KB`,
    'standardwebhooks',
    await compare(
      { fn: () => ours.verify(headers, body) },
      { fn: () => peer.verify(body, peerHeaders) },
    ),
    size === 1024 ? 10 : undefined,
  );
  if (size === 1024) {
    await parseShare(
      body,
      () => peer.verify(body, peerHeaders),
      () => ours.verify(headers, body),
    );
  }
  if (JSON.stringify(oursWasm.verify(wasmHeaders, body).payload) !== JSON.stringify(b)) {
    throw new Error('the wasm payload differs');
  }
  wasmCases.push({
    size,
    fn: () => oursWasm.verify(wasmHeaders, body),
    peer: () => peer.verify(body, peerHeaders),
  });
}

// ---------------------------------------------------------------------------
// (b) EdDSA JWT: one Ed25519 key (jose generates it), one token, the same
// checks on both sides: signature, alg EdDSA, typ at+jwt, iss, aud, exp.
// jose's jwtVerify is async: it is awaited once per call.
// ---------------------------------------------------------------------------

const issuer = 'https://auth.example';
const audience = 'https://api.example';
const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key-1', alg: 'EdDSA', use: 'sig' };
const jwks = { keys: [jwk] };
const token = await new SignJWT({
  client_id: 'app_bench',
  scope: 'keys.read apps.read',
  sid: 'sid_bench',
  session_type: 'app',
})
  .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid })
  .setIssuer(issuer)
  .setAudience(audience)
  .setSubject('usr_bench')
  .setJti('at_bench')
  .setIssuedAt()
  .setExpirationTime('10m')
  .sign(privateKey);

const verifier = new sigil.TokenVerifier(jwks, { issuer, audience });
const joseOptions = {
  issuer,
  audience,
  typ: 'at+jwt',
  algorithms: ['EdDSA'],
  requiredClaims: ['exp'],
};
const localJwks = createLocalJWKSet(jwks);
if (verifier.verify(token).sub !== 'usr_bench') throw new Error('@sigil/node refused the token');
for (const key of [publicKey, localJwks]) {
  if ((await jwtVerify(token, key, joseOptions)).payload.sub !== 'usr_bench') {
    throw new Error('jose refused the token');
  }
}
report(
  'JWT verify (EdDSA, at+jwt)',
  'jose (KeyObject)',
  await compare(
    { fn: () => verifier.verify(token) },
    { fn: () => jwtVerify(token, publicKey, joseOptions), isAsync: true },
  ),
  1,
);
report(
  'JWT verify, JWKS by kid',
  'jose (local JWKS)',
  await compare(
    { fn: () => verifier.verify(token) },
    { fn: () => jwtVerify(token, localJwks, joseOptions), isAsync: true },
  ),
);

// ---------------------------------------------------------------------------
// (c) The floor of any binding call.
// ---------------------------------------------------------------------------

const { noop } = sigil;
const jsNoop = () => undefined;
const call = await compare({ fn: () => noop() }, { fn: () => jsNoop() });
console.log(
  `${'binding call: noop()'.padEnd(28)}  @sigil/node ${fmt(call.ours).padStart(8)}/op` +
    `  (a plain JS function call: ${fmt(call.peer)}/op)`,
);

// ---------------------------------------------------------------------------
// (d) The same webhook cases through @sigil/web's WebAssembly build under Node:
// what a browser tool or an edge runtime without native addons gets.
// ---------------------------------------------------------------------------
console.log('');
for (const c of wasmCases) {
  report(
    `webhook verify ${c.size >> 10} KB (wasm)`,
    'standardwebhooks',
    await compare({ fn: c.fn }, { fn: c.peer }),
    c.size === 1024 ? 3 : undefined,
    '@sigil/web ',
  );
}

if (missed.length) console.log(`\nmissed targets: ${missed.join(', ')}`);

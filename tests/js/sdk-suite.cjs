'use strict';
// Tests shared by the JS bindings: @sigil/node (sdk-node, napi-rs) and the
// Node entry of @sigil/web (sdk-wasm/node.cjs over pkg/node, wasm-bindgen),
// offline: the vectors, PKCE, webhooks and the error classes. The client
// against a real server is in the other *-suite.cjs files. Each package's
// test file requires its package and calls the suites, then adds only the
// tests that differ per package.
//
//   const sdkSuite = require('../../tests/js/sdk-suite.cjs');
//   const { spec, headersOf } = sdkSuite(sigil, { name: '@sigil/node' });
//
// Options: `name` labels the suite; `dispose(obj)` releases a Webhook once a
// vector test is done (wasm-bindgen objects own WASM memory: `o => o.free()`).
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'vectors', 'standards.json'), 'utf8'),
);
const cases = vectors.standard_webhooks;
const spec = cases[0];

function headersOf(c) {
  const h = { 'webhook-id': c.id, 'webhook-timestamp': String(c.timestamp) };
  if (c.signature !== null) h['webhook-signature'] = c.signature;
  return h;
}

// Byte bodies both bindings accept (a Buffer is a Uint8Array subclass).
const byteBodies = [
  ['Buffer', (s) => Buffer.from(s, 'utf8')],
  ['Uint8Array', (s) => new TextEncoder().encode(s)],
];

module.exports = function sdkSuite(sigil, { name, dispose = () => {} } = {}) {
  describe(`${name ?? 'sdk'}: shared suite`, () => {
    test('pkce_rfc7636 vector', () => {
      const v = vectors.pkce_rfc7636;
      assert.equal(sigil.pkceChallenge(v.code_verifier), v.code_challenge);
    });

    test('pkce() returns an S256 pair', () => {
      const p = sigil.pkce();
      assert.equal(p.method, 'S256');
      assert.equal(p.verifier.length, 43);
      assert.equal(sigil.pkceChallenge(p.verifier), p.challenge);
      assert.notEqual(sigil.pkce().verifier, p.verifier);
    });

    test('pkceChallenge rejects an invalid verifier with InvalidInputError', () => {
      assert.throws(
        () => sigil.pkceChallenge('too-short'),
        (e) => {
          assert.ok(e instanceof sigil.InvalidInputError);
          assert.ok(e instanceof sigil.SigilError);
          assert.ok(e instanceof Error);
          assert.equal(e.name, 'InvalidInputError');
          assert.equal(e.code, 'invalid_input');
          assert.equal(e.status, undefined);
          return true;
        },
      );
    });

    test('there are 9 standard_webhooks vectors', () => assert.equal(cases.length, 9));

    for (const c of cases) {
      test(`standard_webhooks: ${c.name}`, () => {
        const wh = new sigil.Webhook(c.secret, c.tolerance_seconds ?? 300);
        try {
          for (const [kind, encode] of byteBodies) {
            const body = encode(c.body);
            if (c.valid) {
              const v = wh.verify(headersOf(c), body, { now: c.now });
              assert.equal(v.id, c.id, kind);
              assert.equal(v.timestamp, c.timestamp, kind);
              assert.deepEqual(v.payload, JSON.parse(c.body), kind);
            } else {
              assert.throws(
                () => wh.verify(headersOf(c), body, { now: c.now }),
                (e) => {
                  assert.ok(e instanceof sigil.WebhookVerificationError, `${kind}: ${e}`);
                  assert.ok(e instanceof sigil.SigilError, kind);
                  assert.equal(e.code, c.error, kind);
                  return true;
                },
              );
            }
          }
        } finally {
          dispose(wh);
        }
      });
    }

    test('sign reproduces the spec signature; string, Buffer, Uint8Array, object and Headers inputs', () => {
      const wh = new sigil.Webhook([spec.secret]);
      assert.equal(wh.sign(spec.id, spec.timestamp, spec.body), spec.signature);
      for (const [kind, encode] of byteBodies) {
        assert.equal(wh.sign(spec.id, spec.timestamp, encode(spec.body)), spec.signature, kind);
      }
      const now = { now: spec.now };
      assert.equal(wh.verify(headersOf(spec), spec.body, now).id, spec.id);
      assert.equal(wh.verify(new Headers(headersOf(spec)), spec.body, now).id, spec.id);
    });

    test('rotation, and the system clock when `now` is omitted', () => {
      const other = 'whsec_YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtbG9uZyE=';
      const wh = new sigil.Webhook([other, spec.secret]);
      assert.equal(wh.verify(headersOf(spec), spec.body, { now: spec.now }).id, spec.id);
      for (const options of [undefined, {}, { now: undefined }, { now: null }]) {
        assert.throws(() => wh.verify(headersOf(spec), spec.body, options), {
          code: 'timestamp_out_of_tolerance',
        });
      }
    });

    test('bad secrets and inputs are typed errors', () => {
      assert.throws(
        () => new sigil.Webhook('whsec_!!!'),
        (e) => e instanceof sigil.WebhookVerificationError && e.code === 'invalid_secret',
      );
      assert.throws(() => new sigil.Webhook(spec.secret, -1), sigil.InvalidInputError);
      assert.throws(() => new sigil.Webhook(spec.secret, '300'), sigil.InvalidInputError);
      assert.throws(() => new sigil.Webhook(42), sigil.InvalidInputError);
      new sigil.Webhook(spec.secret, null).free();
      const wh = new sigil.Webhook(spec.secret);
      const sig = wh.sign('msg_1', 1000, 'not json');
      const h = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1000', 'webhook-signature': sig };
      assert.throws(() => wh.verify(h, 'not json', { now: 1000 }), {
        name: 'WebhookVerificationError',
        code: 'invalid_payload',
      });
      for (const headers of [null, 'webhook-id: msg_1', 42]) {
        assert.throws(() => wh.verify(headers, 'not json', { now: 1000 }), {
          name: 'InvalidInputError',
          code: 'invalid_input',
        });
      }
      for (const now of ['1000', {}, NaN, Infinity]) {
        assert.throws(() => wh.verify(h, 'not json', { now }), {
          name: 'InvalidInputError',
          code: 'invalid_input',
        });
      }
      assert.throws(() => wh.sign(42, 1000, 'x'), { name: 'InvalidInputError' });
      assert.throws(() => wh.sign('msg_1', '1000', 'x'), { name: 'InvalidInputError' });
      wh.free();
      for (const body of ['not json', { parsed: true }]) {
        assert.throws(() => wh.verify(h, body, { now: 1000 }), {
          name: 'InvalidInputError',
          message: 'this Webhook was freed',
        });
      }
      assert.throws(() => wh.sign('msg_1', 1000, 'x'), { name: 'InvalidInputError' });
      wh.free();
    });

    test('error class hierarchy', () => {
      assert.ok(new sigil.RateLimitError('x') instanceof sigil.ApiError);
      assert.ok(new sigil.TokenExpiredError('x') instanceof sigil.TokenError);
      const subclasses = [
        'OAuthError',
        'ApiError',
        'TransportError',
        'WebhookVerificationError',
        'TokenError',
        'SignatureError',
        'InvalidInputError',
      ];
      for (const cls of subclasses) {
        const e = new sigil[cls]('m', { code: 'c', status: 400, requestId: 'r', retryAfter: 1 });
        assert.ok(e instanceof sigil.SigilError, cls);
        assert.equal(e.name, cls);
        assert.deepEqual([e.code, e.status, e.requestId, e.retryAfter], ['c', 400, 'r', 1]);
      }
    });

    test('verify also takes an ArrayBuffer body and Map headers', () => {
      const wh = new sigil.Webhook([spec.secret]);
      const h = headersOf(spec);
      const now = { now: spec.now };
      assert.equal(wh.verify(h, new TextEncoder().encode(spec.body).buffer, now).id, spec.id);
      assert.equal(wh.verify(new Map(Object.entries(h)), spec.body, now).id, spec.id);
      dispose(wh);
    });

    test('a signed body that is not UTF-8 is an invalid payload, not a mangled event', () => {
      const wh = new sigil.Webhook(spec.secret);
      const body = Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"\xff"}
      const h = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': '1000',
        'webhook-signature': wh.sign('msg_1', 1000, body),
      };
      assert.throws(() => wh.verify(h, body, { now: 1000 }), {
        name: 'WebhookVerificationError',
        code: 'invalid_payload',
      });
      dispose(wh);
    });

    test('header values are byte strings; bodies are text or bytes of any size, in any order', () => {
      // HTTP stacks give header values as byte strings (Node's http and
      // fetch's Headers: a character per byte). @sigil/web writes each
      // message into one buffer in WebAssembly memory: it must size it,
      // grow it, and follow memory growth.
      const wh = new sigil.Webhook(spec.secret);
      const now = 1700000000;
      const headers = (id, body) => ({
        'webhook-id': Buffer.from(id).toString('latin1'),
        'webhook-timestamp': String(now),
        'webhook-signature': wh.sign(id, now, body),
      });
      const check = (id, body) => {
        const event = wh.verify(headers(id, body), body, { now });
        assert.equal(event.timestamp, now);
        return event;
      };
      const text = '{"text":"héllo ✓ 😀"}';
      assert.deepEqual(check('msg_é✓😀', text).payload, JSON.parse(text));
      check('msg_1', Buffer.from('{"a":1}'));
      const big = JSON.stringify({ pad: 'x'.repeat(8 << 20) });
      assert.equal(check('msg_big', Buffer.from(big)).payload.pad.length, 8 << 20);
      check('msg_2', '{"a":2}');
      // Another large allocation between two verifies (signing 8 MB of text).
      wh.sign('msg_3', now, `${big} `);
      check('msg_3', '{"a":3}');
      // Not what was signed: a character past 0xFF (no byte string), bytes
      // that are not UTF-8, an id over the 1,024-byte limit.
      // 'msg_\u0131' is sent with the signature of 'msg_1', the low bytes
      // of its characters.
      for (const id of ['msg_\u0131', 'msg_é', 'm'.repeat(1025)]) {
        const h = { ...headers('msg_1', '{}'), 'webhook-id': id };
        assert.throws(() => wh.verify(h, '{}', { now }), {
          name: 'WebhookVerificationError',
          code: 'invalid_header',
        });
      }
      const missing = headers('msg_5', '{}');
      delete missing['webhook-id'];
      assert.throws(() => wh.verify(missing, '{}', { now }), { code: 'missing_header' });
      dispose(wh);
    });

    test('verify reads mixed-case keys, and svix- headers where webhook- ones are absent', () => {
      const wh = new sigil.Webhook([spec.secret]);
      const now = { now: spec.now };
      const h = headersOf(spec);
      const mixed = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
      assert.equal(wh.verify(mixed, spec.body, now).id, spec.id);
      const svix = Object.fromEntries(
        Object.entries(h).map(([k, v]) => [k.replace('webhook-', 'svix-'), v]),
      );
      const event = wh.verify(svix, spec.body, now);
      assert.deepEqual([event.id, event.timestamp], [spec.id, spec.timestamp]);
      assert.deepEqual(event.payload, JSON.parse(spec.body));
      assert.throws(() => wh.verify({ ...h, 'webhook-signature': 'v1,AAAA' }, spec.body, now), {
        code: 'invalid_signature',
      });
      dispose(wh);
    });

    test('wrongly typed arguments are InvalidInputError', () => {
      assert.throws(() => new sigil.Webhook(42), {
        name: 'InvalidInputError',
        code: 'invalid_input',
      });
      const wh = new sigil.Webhook(spec.secret);
      assert.throws(() => wh.verify(headersOf(spec), 42), sigil.InvalidInputError);
      // A body parsed before verification names the fix, in both packages.
      assert.throws(
        () => wh.verify(headersOf(spec), JSON.parse(spec.body)),
        (e) => {
          assert.ok(e instanceof sigil.RawBodyRequiredError);
          assert.equal(e.code, 'raw_body_required');
          assert.match(e.message, /raw request body/);
          return true;
        },
      );
      assert.throws(() => wh.sign('id', 1, { parsed: true }), sigil.RawBodyRequiredError);
      assert.throws(() => wh.sign('id', 'not a number', 'x'), sigil.InvalidInputError);
      assert.throws(() => sigil.pkceChallenge(42), sigil.InvalidInputError);
      dispose(wh);
    });
  });

  return { vectors, cases, spec, headersOf };
};

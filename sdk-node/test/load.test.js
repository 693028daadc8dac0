'use strict';
// Both entry points load through the package's own `exports` map (a package
// may import itself by name): `require('@sigil/node')` → index.js and
// `import('@sigil/node')` → index.mjs, and they are the same objects.

const test = require('node:test');
const assert = require('node:assert/strict');

const EXPECTED = [
  'SigilError',
  'OAuthError',
  'ApiError',
  'RateLimitError',
  'TransportError',
  'WebhookVerificationError',
  'TokenError',
  'TokenExpiredError',
  'SignatureError',
  'InvalidInputError',
  'RawBodyRequiredError',
  'LoginRequiredError',
  'StorageError',
  'AbortError',
  'Sigil',
  'Webhook',
  'TokenVerifier',
  'webhookMiddleware',
  'verifyWebhookIncoming',
  'verifyWebhookRequest',
  'signRequest',
  'verifyRequest',
  'operations',
  'pkce',
  'pkceChallenge',
  'noop',
];

test(
  'CommonJS: require("@sigil/node") is index.js with the whole surface',
  { timeout: 20_000 },
  () => {
    const cjs = require('@sigil/node');
    assert.equal(cjs, require('..'));
    assert.equal(require.resolve('@sigil/node'), require.resolve('../index.js'));
    assert.deepEqual(Object.keys(cjs).sort(), [...EXPECTED].sort());
    assert.equal(cjs.noop(), undefined);
    assert.equal(cjs.pkce().method, 'S256');
  },
);

test(
  'ESM: import("@sigil/node") is index.mjs with the same objects',
  { timeout: 20_000 },
  async () => {
    const cjs = require('@sigil/node');
    const esm = await import('@sigil/node');
    const direct = await import('../index.mjs');
    assert.equal(esm, direct, 'the "import" condition resolves to index.mjs');
    assert.equal(esm.default, cjs);
    const named = Object.keys(esm).filter((k) => k !== 'default');
    assert.deepEqual(named.sort(), [...EXPECTED].sort());
    for (const name of named) assert.equal(esm[name], cjs[name], name);
    const { verifier, challenge } = esm.pkce();
    assert.equal(esm.pkceChallenge(verifier), challenge);
  },
);

test('an unbuilt checkout names the platform and the build command', () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigil-node-unbuilt-'));
  try {
    fs.copyFileSync(path.join(__dirname, '..', 'index.js'), path.join(dir, 'index.js'));
    const expectUnbuilt = (file) =>
      assert.throws(
        () => require(path.join(dir, 'index.js')),
        (e) => {
          assert.ok(e.message.includes(`${process.platform}-${process.arch}`), e.message);
          assert.ok(e.message.includes(`sdk-node/${file}`), e.message);
          assert.ok(
            e.message.includes('cargo build --release -p sigil-node && node sdk-node/prepare.js'),
            e.message,
          );
          return true;
        },
      );
    // Nothing built, then the shared JS written but no native module.
    expectUnbuilt('errors.js');
    fs.copyFileSync(path.join(__dirname, '..', 'errors.js'), path.join(dir, 'errors.js'));
    expectUnbuilt('sigil.node');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

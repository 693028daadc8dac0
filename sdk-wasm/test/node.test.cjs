'use strict';
// The package's Node entry (node.cjs over pkg/node): the suites shared with
// @sigil/node (tests/js/*-suite.cjs): the vectors, every error class from a
// real call, the storage adapter and tokenChange events, request() and
// single-flight renewal.
const sigil = require('..');

const options = {
  name: '@sigil/web (node.cjs)',
  // Webhook objects own WASM memory; the tests release theirs.
  dispose: (wh) => wh.free(),
  // The client is an EventTarget: the event is in `detail`. A custom storage
  // adapter also opens a BroadcastChannel for other tabs; events that arrive
  // through it (`remote`) are another client's, not this one's.
  onTokenChange: (client, listener) =>
    client.addEventListener('tokenChange', ({ detail }) => {
      if (!detail.remote) listener(detail);
    }),
};
require('../../tests/js/sdk-suite.cjs')(sigil, options);
require('../../tests/js/errors-suite.cjs')(sigil, options);
require('../../tests/js/storage-suite.cjs')(sigil, options);
require('../../tests/js/request-suite.cjs')(sigil, options);
require('../../tests/js/single-flight-suite.cjs')(sigil, options);

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

test('both entries export the public surface only, and the same one', async () => {
  const browser = await import(pathToFileURL(path.join(__dirname, '..', 'index.mjs')).href);
  const names = (o) => Object.keys(o).sort();
  const expected = names(sigil);
  assert.deepEqual(
    names(browser).filter((n) => !['default', 'initSync'].includes(n)),
    expected,
  );
  // The module's own handles and converters stay inside: their raw argument
  // conversions trust the classes built on them.
  for (const internal of [
    'NativeClient',
    'WebhookHandle',
    'webhookVerify',
    'messageBuffer',
    'moduleMemory',
    'requestParts',
  ]) {
    assert.ok(!expected.includes(internal), internal);
  }
  for (const name of ['Sigil', 'Webhook', 'pkce', 'signRequest', 'SigilError', 'AbortError']) {
    assert.ok(expected.includes(name), name);
  }
});

test('a webhook message over 1 MiB does not keep its buffer: its memory serves the next allocation', () => {
  // The module's memory (an internal export of pkg/node, which node.cjs loads).
  const memory = require('../pkg/node/sigil_wasm.js').moduleMemory();
  const wh = new sigil.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const now = 1_700_000_000;
  const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(16 << 20) }));
  const headers = {
    'webhook-id': 'msg_big',
    'webhook-timestamp': String(now),
    'webhook-signature': wh.sign('msg_big', now, body),
  };
  assert.equal(wh.verify(headers, body, { now }).payload.pad.length, 16 << 20);
  const pages = memory.buffer.byteLength;
  // Signing copies the 16 MB body into module memory: it fits where the
  // verify's buffer was. A buffer kept after the verify would grow memory.
  wh.sign('msg_big', now, body);
  assert.equal(memory.buffer.byteLength, pages);
  // Small messages verify after it as before.
  const small = '{"a":1}';
  const h = { ...headers, 'webhook-signature': wh.sign('msg_big', now, small) };
  assert.deepEqual(wh.verify(h, small, { now }).payload, { a: 1 });
  wh.free();
});

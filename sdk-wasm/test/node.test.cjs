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

'use strict';
// The package's Node entry (node.cjs over pkg/node): the suite shared with
// @sigil/node (tests/js/sdk-suite.cjs).
const sdkSuite = require('../../tests/js/sdk-suite.cjs');
const sigil = require('..');

// Webhook objects own WASM memory; the vector tests release theirs.
sdkSuite(sigil, { name: '@sigil/web (node.cjs)', dispose: (wh) => wh.free() });

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
  for (const internal of ['NativeClient', 'WebhookHandle', 'webhookVerify', 'requestParts']) {
    assert.ok(!expected.includes(internal), internal);
  }
  for (const name of ['Sigil', 'Webhook', 'pkce', 'signRequest', 'SigilError', 'AbortError']) {
    assert.ok(expected.includes(name), name);
  }
});

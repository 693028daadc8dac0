'use strict';
// The nodejs build (pkg/node) against the shared vectors: the suite shared with
// @sigil/node (tests/js/sdk-suite.cjs), plus what only the wasm binding does.
const test = require('node:test');
const assert = require('node:assert/strict');
const sdkSuite = require('../../tests/js/sdk-suite.cjs');
const sigil = require('../pkg/node/sigil_wasm.js');

// wasm-bindgen objects own WASM memory; the vector tests release theirs.
const { spec, headersOf } = sdkSuite(sigil, { name: '@sigil/web (pkg/node)', dispose: (wh) => wh.free() });

test('verify also takes an ArrayBuffer body and Map headers', () => {
  const wh = new sigil.Webhook([spec.secret]);
  const h = headersOf(spec);
  const now = { now: spec.now };
  assert.equal(wh.verify(h, new TextEncoder().encode(spec.body).buffer, now).id, spec.id);
  assert.equal(wh.verify(new Map(Object.entries(h)), spec.body, now).id, spec.id);
  wh.free();
});

test('a non-string secret and a non-bytes body are InvalidInputError', () => {
  assert.throws(() => new sigil.Webhook(42), sigil.InvalidInputError);
  const wh = new sigil.Webhook(spec.secret);
  assert.throws(() => wh.verify(headersOf(spec), 42), sigil.InvalidInputError);
  wh.free();
});

'use strict';
// @sigil/web under Node (tests of apps that use it, tools): the nodejs build of
// the module (pkg/node, ready on require) with the same `Sigil` and `Webhook` classes and
// signing functions as the browser entry (index.mjs), over Node's fetch. Only
// the 'memory' storage and custom adapters exist here (no web storage).
const wasm = require('./pkg/node/sigil_wasm.js');
const { createSigil, createSigning, createWebhook } = require('./js/browser.js');

module.exports = {
  ...wasm,
  Sigil: createSigil(wasm),
  Webhook: createWebhook(wasm),
  ...createSigning(wasm),
};

'use strict';
// The nodejs build (pkg/node) against the shared vectors: the suite shared with
// @sigil/node (tests/js/sdk-suite.cjs).
const sdkSuite = require('../../tests/js/sdk-suite.cjs');
const sigil = require('../pkg/node/sigil_wasm.js');

// wasm-bindgen objects own WASM memory; the vector tests release theirs.
sdkSuite(sigil, { name: '@sigil/web (pkg/node)', dispose: (wh) => wh.free() });

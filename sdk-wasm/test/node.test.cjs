'use strict';
// The package's Node entry (node.cjs over pkg/node): the suite shared with
// @sigil/node (tests/js/sdk-suite.cjs).
const sdkSuite = require('../../tests/js/sdk-suite.cjs');
const sigil = require('..');

// wasm-bindgen objects own WASM memory; the vector tests release theirs.
sdkSuite(sigil, { name: '@sigil/web (node.cjs)', dispose: (wh) => wh.free() });

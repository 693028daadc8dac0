'use strict';
// @sigil/node (napi-rs) against the shared vectors. Everything both JS bindings
// have in common lives in tests/js/sdk-suite.cjs; nothing here differs yet.
const sdkSuite = require('../../tests/js/sdk-suite.cjs');
const sigil = require('..');

sdkSuite(sigil, { name: '@sigil/node' });

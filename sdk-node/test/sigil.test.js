'use strict';
// @sigil/node (napi-rs) against the suites both JS bindings share
// (tests/js/*-suite.cjs): the vectors, every error class from a real call, the
// storage adapter and tokenChange events, request() and single-flight renewal.
// What only @sigil/node has is in the other files here (the Express and
// IncomingMessage webhook helpers, load, the README).
const sigil = require('..');

const options = {
  name: '@sigil/node',
  // The client is an EventEmitter: a listener gets the event itself.
  onTokenChange: (client, listener) => client.on('tokenChange', listener),
};
require('../../tests/js/sdk-suite.cjs')(sigil, options);
require('../../tests/js/errors-suite.cjs')(sigil, options);
require('../../tests/js/storage-suite.cjs')(sigil, options);
require('../../tests/js/request-suite.cjs')(sigil, options);
require('../../tests/js/single-flight-suite.cjs')(sigil, options);

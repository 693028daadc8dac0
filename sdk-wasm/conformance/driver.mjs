// The @sigil/web conformance driver: the public `Sigil` class and signing
// functions of the browser entry (js/browser.js) over the WebAssembly build
// with the client feature (sdk-wasm/pkg/node, built by scripts/test-wasm.sh),
// run under Node, whose global fetch is the transport the browser uses. The
// commands are @sigil/node's (tests/js/driver-loop.mjs): the names are shared.
import { createRequire } from 'node:module';
import { serve, sdkCommands } from '../../tests/js/driver-loop.mjs';
import { createSigil, createSigning } from '../js/browser.js';

const require = createRequire(import.meta.url);
const web = require('../pkg/node/sigil_wasm.js');

await serve(
  sdkCommands({
    Sigil: createSigil(web),
    Webhook: web.Webhook,
    ...createSigning(web),
    pkce: web.pkce,
  }),
);

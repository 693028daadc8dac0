// The @sigil/web conformance driver: the package's Node entry (node.cjs, the
// same `Sigil`, `Webhook` and signing as the browser entry over the WebAssembly
// build with the client feature, sdk-wasm/pkg/node from scripts/test-wasm.sh),
// whose global fetch is the transport the browser uses. The commands are
// @sigil/node's (tests/js/driver-loop.mjs): the names are shared.
import { createRequire } from 'node:module';
import { serve, sdkCommands } from '../../tests/js/driver-loop.mjs';

const require = createRequire(import.meta.url);

await serve(sdkCommands(require('../node.cjs')));

// @sigil/web for browsers and bundlers: the WebAssembly module's exports, the
// `Sigil` client and `Webhook` classes, and RFC 9421 signing with the same request shape as
// @sigil/node. Call the default export, `init()`, once before anything else.
import init, * as wasm from './pkg/web/sigil_wasm.js';
import { createSigil, createSigning, createWebhook } from './js/browser.js';

export * from './pkg/web/sigil_wasm.js';
export { init as default };
export const Sigil = createSigil(wasm);
export const Webhook = createWebhook(wasm);
export const { signRequest, verifyRequest } = createSigning(wasm);

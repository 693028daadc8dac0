// @sigil/web for browsers and bundlers: the `Sigil` client and `Webhook`
// classes, PKCE, RFC 9421 signing with the same request shape as @sigil/node,
// and the error classes. Call the default export, `init()`, once before
// anything else. Only the public surface is exported: the module's own
// exports (the handles and converters the classes are built on) stay inside.
import init, * as wasm from './pkg/web/sigil_wasm.js';
import { createSigil, createSigning, createTokenVerifier, createWebhook } from './js/browser.js';

export { init as default };
export {
  initSync,
  pkce,
  pkceChallenge,
  SigilError,
  OAuthError,
  ApiError,
  RateLimitError,
  TransportError,
  WebhookVerificationError,
  TokenError,
  TokenExpiredError,
  SignatureError,
  InvalidInputError,
  RawBodyRequiredError,
  LoginRequiredError,
  StorageError,
  AbortError,
} from './pkg/web/sigil_wasm.js';
export const Sigil = createSigil(wasm);
export const Webhook = createWebhook(wasm);
export const TokenVerifier = createTokenVerifier(wasm);
export const { signRequest, verifyRequest } = createSigning(wasm);

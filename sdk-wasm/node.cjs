'use strict';
// @sigil/web under Node (tests of apps that use it, tools): the nodejs build of
// the module (pkg/node, ready on require) with the same public surface as the
// browser entry (index.mjs, less `init`), over Node's fetch. Only the 'memory'
// storage and custom adapters exist here (no web storage).
const wasm = require('./pkg/node/sigil_wasm.js');
const {
  createSigil,
  createSigning,
  createTokenVerifier,
  createWebhook,
} = require('./js/browser.js');

module.exports = {
  pkce: wasm.pkce,
  pkceChallenge: wasm.pkceChallenge,
  SigilError: wasm.SigilError,
  OAuthError: wasm.OAuthError,
  ApiError: wasm.ApiError,
  RateLimitError: wasm.RateLimitError,
  TransportError: wasm.TransportError,
  WebhookVerificationError: wasm.WebhookVerificationError,
  TokenError: wasm.TokenError,
  TokenExpiredError: wasm.TokenExpiredError,
  SignatureError: wasm.SignatureError,
  InvalidInputError: wasm.InvalidInputError,
  RawBodyRequiredError: wasm.RawBodyRequiredError,
  LoginRequiredError: wasm.LoginRequiredError,
  StorageError: wasm.StorageError,
  AbortError: wasm.AbortError,
  Sigil: createSigil(wasm),
  Webhook: createWebhook(wasm),
  TokenVerifier: createTokenVerifier(wasm),
  ...createSigning(wasm),
};

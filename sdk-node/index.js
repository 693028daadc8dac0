'use strict';
// @sigil/node: re-exports the native module and turns its thrown errors
// (plain Errors tagged with `sigilClass`) into the typed error classes.

const native = require('./sigil.node');

class SigilError extends Error {
  constructor(message, { code = 'sigil_error', status, requestId, retryAfter } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}
class OAuthError extends SigilError {}
class ApiError extends SigilError {}
class RateLimitError extends ApiError {}
class TransportError extends SigilError {}
class WebhookVerificationError extends SigilError {}
class TokenError extends SigilError {}
class TokenExpiredError extends TokenError {}
class SignatureError extends SigilError {}
class InvalidInputError extends SigilError {}

const errors = {
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
};
for (const [name, cls] of Object.entries(errors)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

function call(fn) {
  try {
    return fn();
  } catch (e) {
    // napi rejects a wrongly typed argument before our code runs; it is the
    // caller's input error all the same.
    if (e && typeof e.code === 'string' && /^(InvalidArg|\w+Expected)$/.test(e.code)) {
      throw new InvalidInputError(e.message, { code: 'invalid_input' });
    }
    const Cls = e && typeof e.sigilClass === 'string' ? (errors[e.sigilClass] ?? SigilError) : null;
    if (!Cls) throw e;
    throw new Cls(e.message, e);
  }
}

function bytes(body) {
  return body instanceof ArrayBuffer ? new Uint8Array(body) : body;
}

function plainHeaders(headers) {
  const iterable = headers instanceof globalThis.Headers || headers instanceof Map;
  return iterable ? Object.fromEntries(headers) : headers;
}

class Webhook {
  #inner;
  constructor(secrets, toleranceSeconds) {
    this.#inner = call(() => new native.Webhook(secrets, toleranceSeconds));
  }
  verify(headers, body, options) {
    return call(() => this.#inner.verify(plainHeaders(headers), bytes(body), options));
  }
  sign(id, timestamp, body) {
    return call(() => this.#inner.sign(id, timestamp, bytes(body)));
  }
}

module.exports = {
  ...errors,
  Webhook,
  pkce: () => native.pkce(),
  pkceChallenge: (verifier) => call(() => native.pkceChallenge(verifier)),
};

'use strict';
// The error classes of @sigil/node. The Rust side picks the class
// (`ErrorKind::class_name` in sdk-core) and sends every field; this module only
// builds the instance, so the languages agree on one hierarchy.

class SigilError extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code ?? 'sigil_error';
    this.status = fields.status;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
  }
}
class OAuthError extends SigilError {
  constructor(message, fields = {}) {
    super(message, fields);
    /** The RFC 6749 `error`. */
    this.error = fields.error ?? this.code;
    this.errorDescription = fields.errorDescription;
  }
}
class ApiError extends SigilError {}
class RateLimitError extends ApiError {}
class TransportError extends SigilError {}
class WebhookVerificationError extends SigilError {}
class TokenError extends SigilError {}
class TokenExpiredError extends TokenError {}
class SignatureError extends SigilError {}
class InvalidInputError extends SigilError {}
class RawBodyRequiredError extends InvalidInputError {}
class LoginRequiredError extends SigilError {}
class StorageError extends SigilError {}
class AbortError extends SigilError {}

const classes = {
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
};
for (const [name, cls] of Object.entries(classes)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** Marks a native error message that carries the core's `ErrorInfo` as JSON. */
const MARK = '\u0001sigil:';

/** The typed error for anything the native module threw. */
function fromNative(e) {
  if (e instanceof SigilError) return e;
  const message = e && typeof e.message === 'string' ? e.message : '';
  if (message.startsWith(MARK)) {
    const info = JSON.parse(message.slice(MARK.length));
    const Cls = classes[info.class] ?? SigilError;
    return new Cls(info.message, info);
  }
  // napi rejects a wrongly typed argument before the core runs; it is the
  // caller's input error all the same.
  if (e && typeof e.code === 'string' && /^(InvalidArg|\w+Expected)$/.test(e.code)) {
    return new InvalidInputError(message, { code: 'invalid_input', cause: e });
  }
  return e;
}

module.exports = { ...classes, fromNative };

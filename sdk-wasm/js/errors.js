// Error classes of @sigil/web. The Rust side picks the class (see
// `class_name` in src/lib.rs) and calls createSigilError.

export class SigilError extends Error {
  constructor(message, { code = 'sigil_error', status, requestId, retryAfter } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}
export class OAuthError extends SigilError {}
export class ApiError extends SigilError {}
export class RateLimitError extends ApiError {}
export class TransportError extends SigilError {}
export class WebhookVerificationError extends SigilError {}
export class TokenError extends SigilError {}
export class TokenExpiredError extends TokenError {}
export class SignatureError extends SigilError {}
export class InvalidInputError extends SigilError {}
export class LoginRequiredError extends SigilError {}
export class StorageError extends SigilError {}
export class AbortError extends SigilError {}

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
  LoginRequiredError,
  StorageError,
  AbortError,
};
for (const [name, cls] of Object.entries(classes)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

export function createSigilError(className, message, code, status, requestId, retryAfter) {
  const Cls = classes[className] ?? SigilError;
  return new Cls(message, { code, status, requestId, retryAfter });
}

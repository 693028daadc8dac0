// The error classes of @sigil/web and @sigil/node, the `Webhook` class, and
// the conversions both packages share between JS values and the core (token
// events, the API namespaces, header pairs, request parts): this one file
// serves both.
// @sigil/web imports it as an ES module (a wasm-bindgen snippet); the Node build
// turns its final `export { ... }` into `module.exports = { ... }` to make
// sdk-node/errors.js (see scripts/test-node.sh), so it must stay free of other
// `export`s and of imports. The Rust side picks the class
// (`ErrorKind::class_name` in sdk-core) and sends every field (`ErrorInfo`).

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

/** The typed error for the core's `ErrorInfo` (`{ class, message, code, ... }`). */
function errorFromInfo(info) {
  const Cls = classes[info.class] ?? SigilError;
  return new Cls(info.message, info);
}

/** The wasm binding's entry: one positional argument per field. */
function createSigilError(className, message, code, status, requestId, retryAfter) {
  return errorFromInfo({ class: className, message, code, status, requestId, retryAfter });
}

/** Marks a native (napi) error message that carries `ErrorInfo` as JSON. */
const NATIVE_MARK = '\u0001sigil:';

/** The typed error for anything a native addon threw. */
function fromNative(e) {
  if (e instanceof SigilError) return e;
  const message = e && typeof e.message === 'string' ? e.message : '';
  if (message.startsWith(NATIVE_MARK))
    return errorFromInfo(JSON.parse(message.slice(NATIVE_MARK.length)));
  // napi rejects a wrongly typed argument before the core runs; it is the
  // caller's input error all the same.
  if (e && typeof e.code === 'string' && /^(InvalidArg|\w+Expected)$/.test(e.code)) {
    return new InvalidInputError(message, { code: 'invalid_input', cause: e });
  }
  return e;
}

/** A `tokenChange` detail: a `discarded` event's `error` becomes its typed error. */
function tokenEvent(event) {
  return event && event.type === 'discarded' && event.error && !(event.error instanceof Error)
    ? { ...event, error: errorFromInfo(event.error) }
    : event;
}

/**
 * `management` (`management.apiKeys.create(...)`) and `app` (with
 * `app.webhooks`) from the core's operation names; each method is `run(name)`.
 */
function apiClients(operations, run) {
  const management = {};
  const app = { webhooks: {} };
  for (const op of operations) {
    const [resource, method] = op.split('.');
    if (resource === 'app') app[method] = run(op);
    else if (resource === 'appWebhooks') app.webhooks[method] = run(op);
    else (management[resource] ??= {})[method] = run(op);
  }
  return { management, app };
}

/** `[name, value]` pairs from a plain object, `Headers`, a `Map` or pairs. */
function headerPairs(headers) {
  if (headers === undefined || headers === null) return [];
  let entries = headers;
  if (typeof headers[Symbol.iterator] !== 'function') {
    if (typeof headers !== 'object' || Array.isArray(headers)) {
      throw new InvalidInputError('headers must be an object', { code: 'invalid_input' });
    }
    entries = Object.entries(headers);
  }
  const pairs = [];
  for (const [name, value] of entries) {
    if (Array.isArray(value)) for (const v of value) pairs.push([String(name), String(v)]);
    else if (value !== undefined) pairs.push([String(name), String(value)]);
  }
  return pairs;
}

/**
 * A header's value from a `Headers` or `Map` (its `get`) or a plain object
 * (the lowercase key, else a key equal ignoring case); `undefined` unless a
 * string.
 */
function headerValue(headers, name) {
  let v;
  if (typeof headers.get === 'function') v = headers.get(name);
  else {
    v = headers[name];
    if (v === undefined) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name) v = headers[key];
    }
  }
  return typeof v === 'string' ? v : undefined;
}

/** A string as it is, bytes as a `Uint8Array` view; `undefined` for anything else. */
function bodyOf(body) {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

const utf8Encoder = new TextEncoder();

/** The bytes of a string or bytes `bodyOf` gave (a string as UTF-8). */
const utf8Bytes = (body) => (typeof body === 'string' ? utf8Encoder.encode(body) : body);

/** The raw body as received; parsed JSON is refused with the fix named. */
function rawBody(body) {
  const raw = bodyOf(body);
  if (raw !== undefined) return raw;
  throw new RawBodyRequiredError(
    'webhook verification needs the raw request body (Buffer, Uint8Array or string), not a parsed object: ' +
      "use express.raw({ type: 'application/json' }) for this route, or read request.arrayBuffer() / request.text() " +
      'before any JSON parsing',
    { code: 'raw_body_required' },
  );
}

/** Request body bytes (a string as UTF-8); `undefined` for none. */
function requestBody(body) {
  if (body === undefined || body === null) return undefined;
  const raw = bodyOf(body);
  if (raw !== undefined) return utf8Bytes(raw);
  throw new InvalidInputError(
    'body must be a string, Buffer, Uint8Array or ArrayBuffer (or use `json`)',
    { code: 'invalid_input' },
  );
}

/**
 * A `fetch`-shaped call's parts for the core's `request`: `{ method, url,
 * headers: [name, value][], body: Uint8Array | undefined }`. Headers may be a
 * plain object, `Headers`, a `Map` or pairs; `json` is serialized with its
 * content type unless one is given.
 */
function requestParts(input, init) {
  if (init !== undefined && init !== null && (typeof init !== 'object' || Array.isArray(init)))
    throw new InvalidInputError('init must be an object', { code: 'invalid_input' });
  const { method, headers, body, json } = init ?? {};
  const pairs = headerPairs(headers);
  let bytes = requestBody(body);
  if (json !== undefined) {
    bytes = utf8Encoder.encode(JSON.stringify(json));
    if (!pairs.some(([n]) => n.toLowerCase() === 'content-type'))
      pairs.push(['content-type', 'application/json']);
  }
  const url = input instanceof URL ? input.href : input;
  if (typeof url !== 'string')
    throw new InvalidInputError('url must be a string or URL', { code: 'invalid_input' });
  if (method !== undefined && typeof method !== 'string')
    throw new InvalidInputError('method must be a string', { code: 'invalid_input' });
  return { method, url, headers: pairs, body: bytes };
}

// Strict: JSON is UTF-8 (RFC 8259), and a signed body that is not is refused.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A verified delivery as the app reads it: `{ id, timestamp, payload }`, the
 * payload parsed from the raw body (bytes or text) that the core verified.
 */
function webhookEvent(id, timestamp, body) {
  let payload;
  try {
    payload = JSON.parse(typeof body === 'string' ? body : utf8.decode(body));
  } catch (e) {
    throw new WebhookVerificationError(`webhook payload is not a valid event: ${e.message}`, {
      code: 'invalid_payload',
    });
  }
  return { id, timestamp, payload };
}

/** `fn()`, with what it throws passed through `mapError` (a binding's error mapping). */
function mapped(mapError, fn) {
  try {
    return fn();
  } catch (e) {
    throw mapError(e);
  }
}

/**
 * The `TokenVerifier` class of both packages: Sigil tokens verified offline
 * against a JWKS the caller holds (the document, as an object or JSON text),
 * parsed once by `new native.TokenVerifier(jwksBytes, options)`, whose
 * `verify(token, now)` gives the claims as JSON text. `mapError` as for
 * `webhookClass`; `bytes` turns the JWKS text into what the native
 * constructor takes (UTF-8 bytes; napi wants a Buffer).
 */
function tokenVerifierClass(native, { mapError = (e) => e, bytes = utf8Bytes } = {}) {
  const call = (fn) => mapped(mapError, fn);
  const optionsObject = (options) => {
    if (
      options !== undefined &&
      options !== null &&
      (typeof options !== 'object' || Array.isArray(options))
    )
      throw new InvalidInputError('options must be an object', { code: 'invalid_input' });
    return options ?? undefined;
  };
  return class TokenVerifier {
    #inner;
    /** `jwks`: the JWKS document; `options` as for `verifyToken`. */
    constructor(jwks, options) {
      const text = typeof jwks === 'string' ? jwks : JSON.stringify(jwks ?? null);
      const checked = optionsObject(options);
      this.#inner = call(() => new native.TokenVerifier(bytes(text), checked));
    }
    /** The token's claims; `options.now` (UNIX seconds) overrides the clock. */
    verify(token, options) {
      if (typeof token !== 'string')
        throw new InvalidInputError('token must be a string', { code: 'invalid_input' });
      const now = optionsObject(options)?.now ?? undefined;
      if (now !== undefined && typeof now !== 'number')
        throw new InvalidInputError('options.now must be UNIX seconds', { code: 'invalid_input' });
      return JSON.parse(call(() => this.#inner.verify(token, now)));
    }
  };
}

/** A character of a string that is not a byte (past 0xFF), and every such. */
const NOT_A_BYTE = /[^\u0000-\u00ff]/;
const NOT_BYTES = /[^\u0000-\u00ff]/g;

/** A storage adapter, checked: an object with `get`, `set` and `delete` functions. */
function storageAdapter(adapter) {
  for (const name of ['get', 'set', 'delete']) {
    if (typeof adapter?.[name] !== 'function')
      throw new InvalidInputError(`storage.${name} must be a function`, { code: 'invalid_input' });
  }
  return adapter;
}

/**
 * The `Webhook` class of both packages, over a binding's native verifier:
 * `native.webhookNew(secrets, toleranceSeconds)` makes a handle,
 * `native.webhookVerify(handle, id, timestamp, signature, body, now)` throws
 * unless the message verifies, `native.webhookSign(handle, id, timestamp,
 * body)` signs, and `native.webhookHeaderNames()` gives the core's `[name,
 * fallback]` header pairs. `mapError` turns what the native layer throws
 * into the error classes (the wasm module throws them itself). A body
 * reaches the native layer as the caller gave it: a string or bytes.
 *
 * Verify is a hot path, so the header lookup and the payload's `JSON.parse`
 * stay on this side: one native call per verify with the three header values
 * and the body.
 *
 * Header values are byte strings, a character per byte, as Node's http and
 * fetch's `Headers` give them, and both bindings read them as bytes. A
 * character past 0xFF is no byte: it becomes 0xFF, which UTF-8 never holds,
 * so the core refuses the value as malformed (napi's Latin-1 read would
 * otherwise keep its low byte and verify another value).
 */
function webhookClass(native, { mapError = (e) => e } = {}) {
  const call = (fn) => mapped(mapError, fn);
  let names;
  const header = (headers, i) => {
    const [name, fallback] = names[i];
    const value = headerValue(headers, name) ?? headerValue(headers, fallback);
    return value === undefined || !NOT_A_BYTE.test(value)
      ? value
      : value.replace(NOT_BYTES, '\xff');
  };
  class Webhook {
    #handle;
    /**
     * `secrets`: one `whsec_…` secret or several (rotation);
     * `toleranceSeconds`: allowed clock skew each way, default 300.
     */
    constructor(secrets, toleranceSeconds) {
      // A number, not what the wasm boundary would coerce to one.
      if (toleranceSeconds != null && typeof toleranceSeconds !== 'number')
        throw new InvalidInputError('toleranceSeconds must be a number of seconds', {
          code: 'invalid_input',
        });
      names ??= native.webhookHeaderNames();
      this.#handle = call(() => native.webhookNew(secrets, toleranceSeconds ?? undefined));
    }
    /** `{ id, timestamp, payload }` once the raw body verifies against `headers`. */
    verify(headers, body, options) {
      const handle = this.#live();
      if (typeof headers !== 'object' || headers === null)
        throw new InvalidInputError('headers must be an object, a Headers or a Map', {
          code: 'invalid_input',
        });
      const now = options?.now ?? undefined;
      if (now !== undefined && typeof now !== 'number')
        throw new InvalidInputError('options.now must be UNIX seconds', { code: 'invalid_input' });
      const raw = rawBody(body);
      const id = header(headers, 0);
      const timestamp = header(headers, 1);
      const signature = header(headers, 2);
      // Not through `call`: no closure on the hot path.
      try {
        native.webhookVerify(handle, id, timestamp, signature, raw, now);
      } catch (e) {
        throw mapError(e);
      }
      return webhookEvent(id, Number(timestamp), raw);
    }
    /** The `webhook-signature` header value for a message. */
    sign(id, timestamp, body) {
      const handle = this.#live();
      if (typeof timestamp !== 'number')
        throw new InvalidInputError('timestamp must be UNIX seconds', { code: 'invalid_input' });
      return call(() => native.webhookSign(handle, id, timestamp, rawBody(body)));
    }
    /** Releases the native verifier now instead of at garbage collection. */
    free() {
      this.#handle?.free?.();
      this.#handle = undefined;
    }
    [Symbol.dispose ?? Symbol.for('nodejs.dispose')]() {
      this.free();
    }
    #live() {
      if (this.#handle === undefined)
        throw new InvalidInputError('this Webhook was freed', { code: 'invalid_input' });
      return this.#handle;
    }
  }
  return Webhook;
}

export {
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
  errorFromInfo,
  createSigilError,
  fromNative,
  tokenEvent,
  apiClients,
  requestParts,
  storageAdapter,
  tokenVerifierClass,
  webhookClass,
};

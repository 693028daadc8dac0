'use strict';
// @sigil/node: the Rust core (sdk-core) as a napi-rs addon. This file only
// adapts shapes to Node's idioms (EventEmitter, Response, AbortSignal, Buffer)
// and maps errors; every behaviour lives in the core.

const { EventEmitter } = require('node:events');
const errors = requireBuilt('./errors.js');

const {
  fromNative,
  tokenEvent,
  apiClients,
  requestParts,
  storageAdapter,
  webhookClass,
  tokenVerifierClass,
  InvalidInputError,
  RawBodyRequiredError,
  AbortError,
} = errors;
const native = requireBuilt('./sigil.node');

/**
 * One of the files the build writes (the native module, and errors.js from
 * the shared JS); when it is missing or does not load here, an error naming
 * this platform and the build command.
 */
function requireBuilt(file) {
  try {
    return require(file);
  } catch (e) {
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_DLOPEN_FAILED')) {
      throw new Error(
        `@sigil/node: not built for ${process.platform}-${process.arch} (sdk-node/${file.slice(2)} ` +
          'does not load). Build it from the repository root: ' +
          'cargo build --release -p sigil-node && node sdk-node/prepare.js',
        { cause: e },
      );
    }
    throw e;
  }
}

function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

async function callAsync(fn) {
  try {
    return await fn();
  } catch (e) {
    throw fromNative(e);
  }
}

function object(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object`, { code: 'invalid_input' });
  }
  return value;
}

/** The core's request from a `fetch`-shaped call (the body as a `Buffer` view). */
function nativeRequest(input, init) {
  const parts = requestParts(input, init);
  const { body } = parts;
  if (body) parts.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return parts;
}

/** The bridge the core awaits: `(op, key, value) => Promise<string | null>`. */
function storageBridge(adapter) {
  storageAdapter(adapter);
  return (op, key, value) =>
    new Promise((resolve) => {
      if (op === 'get') resolve(adapter.get(key));
      else if (op === 'set') resolve(adapter.set(key, value));
      else resolve(adapter.delete(key));
    }).then((v) => {
      if (op !== 'get' || v === undefined || v === null) return null;
      if (typeof v !== 'string')
        throw new TypeError(`storage.get returned a ${typeof v}, not a string`);
      return v;
    });
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The Sigil client: login, a self-renewing session, every grant, typed API
 * clients. Emits `tokenChange` with `{ type, tokens?, error? }` (`error`, a
 * `StorageError`, on `discarded`).
 */
class Sigil extends EventEmitter {
  #native;

  constructor(config) {
    super();
    const { storage, ...rest } = object(config, 'config') ?? {};
    const bridge = storage === undefined ? undefined : storageBridge(storage);
    this.#native = call(
      () => new native.Client(rest, bridge, (event) => this.emit('tokenChange', tokenEvent(event))),
    );
    const run =
      (op) =>
      (...args) =>
        callAsync(() => this.#native.call(op, args));
    Object.assign(this, apiClients(native.operations(), run));
  }

  discover() {
    return callAsync(() => this.#native.discover());
  }
  authorizationUrl(options) {
    return callAsync(() => this.#native.authorizationUrl(object(options, 'options')));
  }
  handleCallback(url) {
    return callAsync(() => this.#native.handleCallback(url instanceof URL ? url.href : url));
  }
  accessToken() {
    return callAsync(() => this.#native.accessToken());
  }
  async tokens() {
    return (await callAsync(() => this.#native.tokens())) ?? undefined;
  }
  setTokens(tokens) {
    return callAsync(() => this.#native.setTokens(tokens));
  }
  logout() {
    return callAsync(() => this.#native.logout());
  }
  clientCredentials(scopes) {
    return callAsync(() => this.#native.clientCredentials(scopes));
  }
  exchangeApiKey(apiKey, scopes) {
    return callAsync(() => this.#native.exchangeApiKey(apiKey, scopes));
  }
  tokenExchange(options) {
    return callAsync(() => this.#native.tokenExchange(options));
  }
  introspect(token, hint) {
    return callAsync(() => this.#native.introspect(token, hint));
  }
  revoke(token, hint) {
    return callAsync(() => this.#native.revoke(token, hint));
  }
  verifyToken(token, options) {
    return callAsync(() => this.#native.verifyToken(token, object(options, 'options')));
  }

  /**
   * An authenticated request (a path is resolved against the issuer): renews and
   * replays once on 401, honours Retry-After on 429/503, adds Idempotency-Key
   * where the API needs one. Resolves to a WHATWG `Response`; error statuses
   * reject with the typed error.
   */
  async request(input, init = {}) {
    const { signal } = object(init, 'init') ?? {};
    if (signal?.aborted) throw new AbortError('the call was aborted', { code: 'aborted' });
    const request = call(() => nativeRequest(input, init));
    const cancellation = signal ? new native.Cancellation() : undefined;
    const onAbort = () => cancellation.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await callAsync(() => this.#native.request(request, cancellation));
      return new Response(NULL_BODY.has(res.status) ? null : res.body, {
        status: res.status,
        headers: res.headers,
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Standard Webhooks verifier and signer (the class both JS packages share). */
const Webhook = webhookClass(native, { mapError: fromNative });

function readStream(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Verifies a webhook on a Node `IncomingMessage` (plain `http`, Express, Fastify's
 * `raw`). Reads the body itself when no parser ran; given `express.json()`'s
 * parsed object it throws `RawBodyRequiredError`.
 */
async function verifyWebhookIncoming(webhook, req, options) {
  const body =
    req.body !== undefined ? req.body : req.readableEnded ? undefined : await readStream(req);
  if (body === undefined) {
    throw new RawBodyRequiredError(
      'the request body was already consumed; verify before any body parser',
      {
        code: 'raw_body_required',
      },
    );
  }
  return webhook.verify(req.headers, body, options);
}

/**
 * Express middleware: sets `req.webhook` to the verified event, answers 400
 * with the code when verification fails, and passes `RawBodyRequiredError` on.
 */
function webhookMiddleware(secrets, options) {
  const webhook =
    secrets instanceof Webhook ? secrets : new Webhook(secrets, options?.toleranceSeconds);
  return (req, res, next) => {
    verifyWebhookIncoming(webhook, req).then(
      (event) => {
        req.webhook = event;
        next();
      },
      (e) => {
        if (e instanceof errors.WebhookVerificationError) res.status(400).json({ error: e.code });
        else next(e);
      },
    );
  };
}

/** Verifies a fetch-style `Request` (Next.js route handlers, Hono, Deno, Bun) on its raw body. */
async function verifyWebhookRequest(webhook, request, options) {
  if (request.bodyUsed) {
    throw new RawBodyRequiredError(
      'the Request body was already read (request.json()?); call verifyWebhookRequest first and use event.payload',
      { code: 'raw_body_required' },
    );
  }
  const body = new Uint8Array(await request.arrayBuffer());
  return webhook.verify(request.headers, body, options);
}

/** Verifies Sigil tokens offline against a JWKS you hold. */
/** Sigil tokens verified offline against a JWKS you hold (the class both JS packages share). */
const TokenVerifier = tokenVerifierClass(native, {
  mapError: fromNative,
  bytes: (text) => Buffer.from(text),
});

/** `{ method, url, headers, body | json }` as the native request. */
function requestArg(request) {
  const init = object(request, 'request');
  if (init === undefined)
    throw new InvalidInputError('request must be an object', { code: 'invalid_input' });
  return nativeRequest(init.url, init);
}

/** The headers that sign `request` (RFC 9421 with Content-Digest), as an object. */
function signRequest(request, options) {
  const req = call(() => requestArg(request));
  return Object.fromEntries(call(() => native.signRequest(req, options)));
}

/** Verifies the RFC 9421 signature of `request`; returns what it covered. */
function verifyRequest(request, options) {
  const req = call(() => requestArg(request));
  const { now, ...rest } = object(options, 'options') ?? {};
  return call(() => native.verifyRequest(req, rest, now));
}

/** The error classes, without the conversion helpers. */
function withoutHelpers(all) {
  return Object.fromEntries(Object.entries(all).filter(([name]) => /^[A-Z]/.test(name)));
}

module.exports = {
  ...withoutHelpers(errors),
  Sigil,
  Webhook,
  TokenVerifier,
  webhookMiddleware,
  verifyWebhookIncoming,
  verifyWebhookRequest,
  signRequest,
  verifyRequest,
  operations: () => native.operations(),
  pkce: () => native.pkce(),
  pkceChallenge: (verifier) => call(() => native.pkceChallenge(verifier)),
  noop: () => native.noop(),
};

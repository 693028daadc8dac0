'use strict';
// Shared by the JS bindings (called like sdk-suite.cjs, with its `name` and
// `dispose` options): every error class, each produced by a real call (against
// a real sigil-server --test-mode process where an HTTP answer causes it),
// never constructed here: the class, its place in the hierarchy, `name`,
// `code`, and `status`/`requestId`/`retryAfter` when a response caused it. Then
// wrongly typed arguments everywhere: typed errors, never a crash. Then
// TokenVerifier (offline, against a JWKS the caller holds).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createPrivateKey, createPublicKey } = require('node:crypto');
const { startServer, freePort, fixtures } = require('./test-server.cjs');

/**
 * `assertTyped(e, Cls, code, http?)` over the classes of `sigil`,
 * `caught(fn)`, the error a sync or async call threw, and
 * `notInvalidInput(cases)`.
 */
function errorAssertions(sigil) {
  // Every error class the package exports.
  const ALL = Object.values(sigil).filter(
    (v) => v === sigil.SigilError || v?.prototype instanceof sigil.SigilError,
  );
  const { SigilError, ApiError, TokenError, InvalidInputError } = sigil;

  /** Which classes `e` must (and must not) be an instance of, besides its own. */
  const PARENTS = new Map([
    [sigil.RateLimitError, [ApiError]],
    [sigil.TokenExpiredError, [TokenError]],
    [sigil.RawBodyRequiredError, [InvalidInputError]],
  ]);

  /** The error a sync or async call threw; fails when it did not throw. */
  async function caught(fn) {
    try {
      await fn();
    } catch (e) {
      return e;
    }
    assert.fail('expected the call to throw');
  }

  /**
   * Asserts `e` is exactly a `Cls` of the family with `code`, and carries the
   * HTTP fields iff `http` (then `status` equals `http.status`).
   */
  function assertTyped(e, Cls, code, http) {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.constructor, Cls);
    assert.ok(e instanceof SigilError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, Cls.name);
    const parents = PARENTS.get(Cls) ?? [];
    for (const Other of ALL) {
      if (Other === Cls || Other === SigilError || parents.includes(Other)) continue;
      assert.ok(!(e instanceof Other), `${Cls.name} must not be an instance of ${Other.name}`);
    }
    for (const P of parents) assert.ok(e instanceof P, `${Cls.name} must be a ${P.name}`);
    assert.equal(e.code, code);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.ok(typeof e.stack === 'string' && e.stack.includes(Cls.name));
    if (http) {
      assert.equal(e.status, http.status);
      assert.match(e.requestId, /^[0-9a-f-]{36}$/, 'requestId is the server X-Request-Id');
    } else {
      assert.equal(e.status, undefined);
      assert.equal(e.requestId, undefined);
    }
  }

  /** The labels of `cases` (label: call) that did not throw InvalidInputError, with what they did. */
  async function notInvalidInput(cases) {
    const wrong = [];
    for (const [label, fn] of Object.entries(cases)) {
      const e = await caught(fn).catch((x) => x);
      if (!(e instanceof InvalidInputError) || e.code !== 'invalid_input') {
        wrong.push(`${label}: ${e?.constructor?.name} ${e?.code} ${e?.message}`);
      }
    }
    return wrong;
  }

  return { assertTyped, caught, notInvalidInput };
}

module.exports = function errorsSuite(sigil, { name, dispose = () => {} } = {}) {
  const { Sigil, Webhook, TokenVerifier, TokenError, TokenExpiredError } = sigil;
  const { assertTyped, caught, notInvalidInput } = errorAssertions(sigil);

  describe(`${name}: every error class from a real call`, { timeout: 60_000 }, () => {
    let server;
    let limited;
    before(async () => {
      [server, limited] = await Promise.all([
        startServer(),
        // Management API: 1 request/s per key, burst 2, so a third call is a 429.
        startServer({ args: ['--key-rate-per-sec', '1', '--key-rate-burst', '2'] }),
      ]);
    });
    after(async () => {
      await Promise.all([server?.stop(), limited?.stop()]);
    });

    it('SigilError: a callback whose state matches no pending authorization', async () => {
      const client = new Sigil({ issuer: server.base, clientId: fixtures.spa.clientId });
      const e = await caught(() =>
        client.handleCallback('http://127.0.0.1/callback?code=abc&state=never-issued'),
      );
      assertTyped(e, sigil.SigilError, 'state_mismatch');
    });

    it('SigilError: a callback from another issuer (RFC 9207 iss), its authorization spent', async () => {
      const client = new Sigil({
        issuer: server.base,
        clientId: fixtures.spa.clientId,
        redirectUri: 'http://127.0.0.1/callback',
      });
      const { url } = await client.authorizationUrl();
      const state = new URL(url).searchParams.get('state');
      const callback = (iss) =>
        `http://127.0.0.1/callback?code=abc&state=${state}&iss=${encodeURIComponent(iss)}`;
      const e = await caught(() => client.handleCallback(callback('https://evil.example')));
      assertTyped(e, sigil.SigilError, 'issuer_mismatch');
      assert.match(e.message, /evil\.example/);
      // The pending authorization went with the refused callback: it cannot
      // be replayed with the right issuer.
      const again = await caught(() => client.handleCallback(callback(server.base)));
      assertTyped(again, sigil.SigilError, 'state_mismatch');
    });

    it('OAuthError: client_credentials with a wrong client secret (RFC 6749 error)', async () => {
      const client = new Sigil({
        issuer: server.base,
        clientId: fixtures.backend.clientId,
        clientSecret: 'sgl_cs_wrong',
      });
      const e = await caught(() => client.clientCredentials(['keys.read']));
      assertTyped(e, sigil.OAuthError, 'invalid_client', { status: 401 });
      assert.equal(e.error, 'invalid_client');
      assert.equal(e.retryAfter, undefined);
    });

    it("LoginRequiredError: a refused refresh carries the server's invalid_grant", async () => {
      const client = new Sigil({ issuer: server.base, clientId: fixtures.spa.clientId });
      await client.setTokens({
        accessToken: 'stale',
        expiresAt: 1,
        refreshToken: 'sgl_rt_unknown',
      });
      const e = await caught(() => client.accessToken());
      assertTyped(e, sigil.LoginRequiredError, 'invalid_grant', { status: 400 });
      assert.match(e.message, /unknown refresh token/);
      assert.equal(await client.tokens(), undefined, 'a refused refresh ends the session');
    });

    it('OAuthError: the token endpoint refuses an unknown subject token with invalid_grant', async () => {
      const client = new Sigil({ issuer: server.base, ...fixtures.backend });
      const e = await caught(() =>
        client.tokenExchange({
          subjectToken: 'sgl_test_unknown',
          subjectTokenType: 'urn:sigil:params:oauth:token-type:api_key',
        }),
      );
      assertTyped(e, sigil.OAuthError, 'invalid_grant', { status: 400 });
      assert.equal(e.error, 'invalid_grant');
      assert.equal(typeof e.errorDescription, 'string');
    });

    it('ApiError: apiKeys.get of an unknown id is 404 not_found', async () => {
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      const e = await caught(() => client.management.apiKeys.get('nope'));
      assertTyped(e, sigil.ApiError, 'not_found', { status: 404 });
      assert.equal(e.retryAfter, undefined);
    });

    it('ApiError: exchanging a malformed API key is 401 invalid_token', async () => {
      const client = new Sigil({ issuer: server.base });
      const e = await caught(() => client.exchangeApiKey('sgl_test_not-a-key'));
      assertTyped(e, sigil.ApiError, 'invalid_token', { status: 401 });
    });

    it('RateLimitError: a 429 with Retry-After once retries are spent', async () => {
      const client = new Sigil({ issuer: limited.base, apiKey: fixtures.fullKey, maxRetries: 0 });
      let e;
      for (let i = 0; i < 5 && !e; i++) {
        e = await client.management.apiKeys.list().then(
          () => undefined,
          (err) => err,
        );
      }
      assert.ok(e, 'the server never answered 429');
      assertTyped(e, sigil.RateLimitError, 'rate_limited', { status: 429 });
      assert.equal(typeof e.retryAfter, 'number');
      assert.ok(e.retryAfter >= 1 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`);
    });

    it('TransportError: nothing listens on the port', async () => {
      const port = await freePort();
      const client = new Sigil({ issuer: `http://127.0.0.1:${port}`, apiKey: fixtures.fullKey });
      const e = await caught(() => client.accessToken());
      assertTyped(e, sigil.TransportError, 'network_error');
    });

    it('WebhookVerificationError: a body that is not what was signed', async () => {
      const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      try {
        const now = Math.floor(Date.now() / 1000);
        const headers = {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(now),
          'webhook-signature': wh.sign('msg_1', now, '{"type":"key.created"}'),
        };
        const e = await caught(() => wh.verify(headers, '{"type":"key.revoked"}'));
        assertTyped(e, sigil.WebhookVerificationError, 'invalid_signature');
        const missing = await caught(() => wh.verify({}, '{}'));
        assertTyped(missing, sigil.WebhookVerificationError, 'missing_header');
      } finally {
        dispose(wh);
      }
    });

    it('TokenError: the wrong audience, through the client (JWKS from the server)', async () => {
      const token = await new Sigil({
        issuer: server.base,
        apiKey: fixtures.fullKey,
      }).accessToken();
      const client = new Sigil({ issuer: server.base });
      const e = await caught(() =>
        client.verifyToken(token, { audience: 'https://other.example' }),
      );
      assert.ok(
        e instanceof sigil.TokenError && !(e instanceof sigil.TokenExpiredError),
        e.message,
      );
      assertTyped(e, sigil.TokenError, e.code);
      assert.match(e.code, /audience/);
    });

    it('SignatureError: an RFC 9421 signature over another body', async () => {
      const seed = Buffer.alloc(32, 7).toString('base64url');
      const request = {
        method: 'POST',
        url: 'https://api.example/v1/things',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      };
      const signature = sigil.signRequest(request, { keyId: 'k1', key: seed });
      const options = { keys: { k1: { key: ed25519PublicKey(seed) } } };
      const verified = sigil.verifyRequest(
        { ...request, headers: { ...request.headers, ...signature } },
        options,
      );
      assert.equal(verified.keyId, 'k1');
      const e = await caught(() =>
        sigil.verifyRequest(
          { ...request, body: '{"a":2}', headers: { ...request.headers, ...signature } },
          options,
        ),
      );
      assertTyped(e, sigil.SignatureError, e.code);
      assert.match(e.code, /digest|signature/);
    });

    it('InvalidInputError: an unknown config member, named in the message', async () => {
      const e = await caught(() => new Sigil({ issuer: server.base, clientSecert: 'x' }));
      assertTyped(e, sigil.InvalidInputError, 'invalid_input');
      assert.match(e.message, /clientSecert/);
    });

    it('RawBodyRequiredError: a parsed JSON object instead of the raw body', async () => {
      const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      try {
        const e = await caught(() => wh.verify({}, { type: 'key.created' }));
        assertTyped(e, sigil.RawBodyRequiredError, 'raw_body_required');
        assert.match(e.message, /express\.raw/);
      } finally {
        dispose(wh);
      }
    });

    it('LoginRequiredError: accessToken() on a user-session client with no tokens', async () => {
      const client = new Sigil({ issuer: server.base, clientId: fixtures.spa.clientId });
      const e = await caught(() => client.accessToken());
      assertTyped(e, sigil.LoginRequiredError, 'not_authenticated');
    });

    it('StorageError: a storage adapter whose get rejects', async () => {
      const storage = {
        get: async () => {
          throw new Error('redis is down');
        },
        set: async () => {},
        delete: async () => {},
      };
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
      const e = await caught(() => client.accessToken());
      assertTyped(e, sigil.StorageError, 'storage_error');
      assert.match(e.message, /redis is down/);
    });

    it('AbortError: request() with an already aborted signal', async () => {
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      const controller = new AbortController();
      controller.abort();
      const e = await caught(() => client.request('/v1/api-keys', { signal: controller.signal }));
      assertTyped(e, sigil.AbortError, 'aborted');
    });

    /**
     * A client that retries 429s, and `limit()`, which spends the key's bucket
     * on the limited server (shared by both clients' tokens) so that the
     * client's next call is answered 429 with a Retry-After.
     */
    async function rateLimited() {
      const client = new Sigil({
        issuer: limited.base,
        apiKey: fixtures.fullKey,
        maxRetries: 3,
        maxRetryDelaySeconds: 30,
      });
      await client.accessToken();
      const probe = new Sigil({ issuer: limited.base, apiKey: fixtures.fullKey, maxRetries: 0 });
      const limit = async () => {
        let limitedNow = false;
        for (let i = 0; i < 5 && !limitedNow; i++) {
          limitedNow = await probe.management.apiKeys.list().then(
            () => false,
            (e) => e instanceof sigil.RateLimitError,
          );
        }
        assert.ok(limitedNow, 'the limited server never answered 429');
      };
      return { client, limit };
    }

    it('request() waits out a 429 for its Retry-After, then succeeds', async () => {
      const { client, limit } = await rateLimited();
      const refused = () => limited.requests('/v1/api-keys', { status: 429 });
      for (let attempt = 0; ; attempt++) {
        await limit();
        const before = await refused();
        const res = await client.request('/v1/api-keys');
        assert.equal(res.status, 200);
        if ((await refused()) === before && attempt < 3) continue; // the bucket refilled in between
        assert.ok((await refused()) > before, 'the call was answered 429 before its 200');
        break;
      }
    });

    it('AbortError: request() aborted while it waits out a Retry-After', async () => {
      // No request is in flight while the client sleeps before its retry, so the
      // abort cannot cut a server handler off mid-query.
      const { client, limit } = await rateLimited();
      for (let attempt = 0; ; attempt++) {
        await limit();
        const controller = new AbortController();
        const started = Date.now();
        const pending = client.request('/v1/api-keys', { signal: controller.signal });
        setTimeout(() => controller.abort(), 150);
        const outcome = await pending.then(
          (res) => res,
          (e) => e,
        );
        if (outcome instanceof Response && attempt < 3) continue; // the bucket refilled in between
        assertTyped(outcome, sigil.AbortError, 'aborted');
        assert.ok(Date.now() - started < 900, 'the abort ended the wait, not the Retry-After');
        break;
      }
    });
  });

  describe(
    `${name}: wrongly typed arguments: typed errors, never a crash`,
    { timeout: 60_000 },
    () => {
      let server;
      let client;
      let wh;
      before(async () => {
        server = await startServer();
        client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
        wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      });
      after(async () => {
        if (wh) dispose(wh);
        await server?.stop();
      });
      const signed = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': '1',
        'webhook-signature': 'v1,AAAA',
      };
      const cases = {
        'new Sigil()': () => new Sigil(),
        'new Sigil("x")': () => new Sigil('x'),
        'new Sigil([])': () => new Sigil([]),
        'new Sigil({issuer: 5})': () => new Sigil({ issuer: 5 }),
        'new Sigil({issuer: "ftp://x"})': () => new Sigil({ issuer: 'ftp://x' }),
        'new Sigil({scopes: "a"})': () => new Sigil({ issuer: server.base, scopes: 'a' }),
        'new Sigil({skewSeconds: -1})': () => new Sigil({ issuer: server.base, skewSeconds: -1 }),
        'new Sigil({storage: 5})': () => new Sigil({ issuer: server.base, storage: 5 }),
        'new Sigil({storage: {get}})': () =>
          new Sigil({ issuer: server.base, storage: { get() {} } }),
        'request(123)': () => client.request(123),
        'request(path, "x")': () => client.request('/v1/api-keys', 'x'),
        'request({method: 5})': () => client.request('/v1/api-keys', { method: 5 }),
        'request({headers: 5})': () => client.request('/v1/api-keys', { headers: 5 }),
        'request({body: {}})': () => client.request('/v1/api-keys', { method: 'POST', body: {} }),
        'setTokens("x")': () => client.setTokens('x'),
        'setTokens({foo})': () => client.setTokens({ foo: 1 }),
        'clientCredentials(5)': () => client.clientCredentials(5),
        'exchangeApiKey(5)': () => client.exchangeApiKey(5),
        'tokenExchange({})': () => client.tokenExchange({}),
        'introspect(5)': () => client.introspect(5),
        'revoke({})': () => client.revoke({}),
        'verifyToken(5)': () => client.verifyToken(5),
        'verifyToken(t, {nope})': () => client.verifyToken('a.b.c', { nope: 1 }),
        'authorizationUrl without clientId': () => client.authorizationUrl({}),
        'authorizationUrl(5)': () => client.authorizationUrl(5),
        'handleCallback(5)': () => client.handleCallback(5),
        'handleCallback("not a url")': () => client.handleCallback('not a url'),
        'apiKeys.get(5)': () => client.management.apiKeys.get(5),
        'apiKeys.get("a", "b")': () => client.management.apiKeys.get('a', 'b'),
        'apiKeys.create({nmae})': () => client.management.apiKeys.create({ nmae: 'x' }),
        'webhooks.create("x")': () => client.management.webhooks.create('x'),
        'agents.list({status: 7})': () => client.management.agents.list({ status: 7 }),
        'new Webhook(5)': () => new Webhook(5),
        'new Webhook(s, -1)': () => new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', -1),
        'webhook.verify({now: "x"})': () => wh.verify(signed, '{}', { now: 'x' }),
        'webhook.verify({now: NaN})': () => wh.verify(signed, '{}', { now: NaN }),
        'webhook.sign(5, "x", body)': () => wh.sign(5, 'x', '{}'),
        'webhook.sign(id, NaN, body)': () => wh.sign('m', NaN, '{}'),
        'signRequest(req, {key: "bad"})': () =>
          sigil.signRequest({ url: 'http://x/', method: 'GET' }, { keyId: 'k', key: 'bad' }),
        'signRequest(req)': () => sigil.signRequest({ url: 'http://x/', method: 'GET' }),
        'signRequest(null, opts)': () => sigil.signRequest(null, { keyId: 'k', key: 'x' }),
        'verifyRequest(null, opts)': () => sigil.verifyRequest(null, { keys: {} }),
        'verifyRequest({url: 5}, opts)': () => sigil.verifyRequest({ url: 5 }, { keys: {} }),
        'pkceChallenge(5)': () => sigil.pkceChallenge(5),
        'pkceChallenge("abc")': () => sigil.pkceChallenge('abc'),
      };
      it('every entry point refuses wrong types with InvalidInputError', async () => {
        const wrong = await notInvalidInput(cases);
        assert.deepEqual(wrong, [], 'calls that did not throw InvalidInputError');

        // The process and the client are still fine.
        const res = await client.request('/v1/api-keys');
        assert.equal(res.status, 200);
      });
    },
  );

  describe(`${name}: tokens from the server, verified offline`, { timeout: 60_000 }, () => {
    let server;
    let token;
    let jwks;
    before(async () => {
      server = await startServer();
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      token = await client.accessToken();
      jwks = await (await fetch(`${server.base}/.well-known/jwks.json`)).json();
    });
    after(async () => {
      await server?.stop();
    });

    it('the token verifies now (the baseline)', () => {
      const claims = new TokenVerifier(jwks, { issuer: server.base }).verify(token);
      assert.equal(claims.iss, server.base);
    });

    it('TokenExpiredError: TokenVerifier with `now` an hour after exp', async () => {
      const verifier = new TokenVerifier(jwks, { issuer: server.base });
      const { exp } = verifier.verify(token);
      const e = await caught(() => verifier.verify(token, { now: exp + 3600 }));
      assertTyped(e, TokenExpiredError, 'token_expired');
    });

    it('TokenError: a signature that does not verify', async () => {
      const verifier = new TokenVerifier(jwks, { issuer: server.base });
      const [h, p, s] = token.split('.');
      const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      const e = await caught(() => verifier.verify(`${h}.${p}.${flipped}`));
      assertTyped(e, TokenError, 'invalid_signature');
    });
  });

  it(`${name}: TokenVerifier refuses wrong types with InvalidInputError`, async () => {
    const verifier = new TokenVerifier({ keys: [] });
    const cases = {
      'new TokenVerifier("nope")': () => new TokenVerifier('nope'),
      'new TokenVerifier(5)': () => new TokenVerifier(5),
      'new TokenVerifier(jwks, {bogus})': () => new TokenVerifier({ keys: [] }, { bogus: 1 }),
      'verifier.verify(5)': () => verifier.verify(5),
    };
    const wrong = await notInvalidInput(cases);
    assert.deepEqual(wrong, [], 'calls that did not throw InvalidInputError');
  });
};

/** The base64url Ed25519 public key of a base64url seed (node:crypto, PKCS#8). */
function ed25519PublicKey(seed) {
  const der = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.from(seed, 'base64url'),
  ]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return createPublicKey(key).export({ format: 'jwk' }).x;
}

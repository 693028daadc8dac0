'use strict';
// Shared by the JS bindings (called like sdk-suite.cjs, with the `name`,
// `onTokenChange` options of storage-suite.cjs): single-flight
// renewal, counted by the server: 50 concurrent calls on one client send ONE
// /auth/token/exchange (from sigil_http_requests_total in the server's GET
// /metrics), on a fresh client, near expiry, and when the server's test clock
// has moved past the token's expiry so every request gets a 401.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, waitFor, fixtures } = require('./test-server.cjs');

const N = 50;
const EXCHANGE = '/auth/token/exchange';

module.exports = function singleFlightSuite(sigil, { name, onTokenChange } = {}) {
  const { Sigil } = sigil;

  describe(`${name}: single-flight renewal, counted on the server`, { timeout: 60_000 }, () => {
    let server;
    before(async () => {
      // Room for 2 × N management calls on one key within a second.
      server = await startServer({ args: ['--key-rate-burst', '1000'] });
    });
    after(async () => {
      await server?.stop();
    });

    it(`${N} concurrent accessToken() on a fresh API-key client: one exchange`, async () => {
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      const before = await server.requests(EXCHANGE);
      const discovery = await server.requests('/.well-known/oauth-authorization-server');

      const tokens = await Promise.all(Array.from({ length: N }, () => client.accessToken()));

      assert.equal(new Set(tokens).size, 1, 'every caller gets the same token');
      assert.match(tokens[0], /^eyJ/);
      assert.equal(await server.requests(EXCHANGE), before + 1);
      assert.equal(await server.requests(EXCHANGE, { status: 200 }), before + 1);
      assert.equal(
        await server.requests('/.well-known/oauth-authorization-server'),
        discovery + 1,
        'discovery is single-flight too',
      );
    });

    it(`${N} concurrent calls within the skew window of expiry: one renewal`, async () => {
      const events = [];
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      onTokenChange(client, (e) => events.push(e.type));
      const first = await client.exchangeApiKey();
      // Age the held token: 20 s left, inside the default 60 s skew.
      await client.setTokens({ ...first, expiresAt: Math.floor(Date.now() / 1000) + 20 });
      const before = await server.requests(EXCHANGE);

      const tokens = await Promise.all(Array.from({ length: N }, () => client.accessToken()));

      assert.equal(new Set(tokens).size, 1);
      assert.notEqual(tokens[0], first.accessToken, 'the aged token was replaced');
      assert.equal(await server.requests(EXCHANGE), before + 1);
      const held = await client.tokens();
      assert.equal(held.accessToken, tokens[0]);
      assert.ok(held.expiresAt > Date.now() / 1000 + 500);
      await waitFor(() => events.length >= 3, 'three tokenChange events', 2_000);
      assert.deepEqual(events, ['refreshed', 'stored', 'refreshed']);
    });

    it(`after the test clock passes expiry, ${N} concurrent requests renew once`, async () => {
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      const old = await client.accessToken();
      // The client still thinks its token is fresh (its own clock); the server
      // now answers 401 to it, and each request renews-and-replays once.
      await server.advanceClock(601);
      const before = await server.requests(EXCHANGE);
      const refused = await server.requests('/v1/api-keys', { status: 401 });

      const responses = await Promise.all(
        Array.from({ length: N }, () => client.request('/v1/api-keys')),
      );

      assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
      await Promise.all(responses.map((r) => r.arrayBuffer()));
      assert.equal(await server.requests(EXCHANGE), before + 1);
      const held = await client.accessToken();
      assert.notEqual(held, old);
      const unauthorized = (await server.requests('/v1/api-keys', { status: 401 })) - refused;
      assert.ok(unauthorized >= 1 && unauthorized <= N, `${unauthorized} requests got 401`);

      // The renewed token carries the server's (moved) clock.
      const claims = JSON.parse(Buffer.from(held.split('.')[1], 'base64url'));
      assert.ok(claims.iat > Date.now() / 1000 + 500, 'issued at the moved server time');
    });
  });
};

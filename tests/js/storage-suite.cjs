'use strict';
// Shared by the JS bindings (called like sdk-suite.cjs): the storage adapter
// (`storage: { get, set, delete }`, async, in both packages' config) and the
// tokenChange events of an API-key client against a real sigil-server: what
// is stored where, which events fire, and that a failing or corrupt store
// surfaces StorageError once and leaves the client usable.
//
// Options: `name` labels the suite; `onTokenChange(client, listener)` calls
// `listener({ type, tokens?, error? })` for each tokenChange event the client
// itself emits (an EventEmitter's event in @sigil/node, an EventTarget's
// `event.detail` in @sigil/web).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, waitFor, fixtures } = require('./test-server.cjs');

/** A Map-backed async adapter that records every call. */
function mapStorage(initial = []) {
  const map = new Map(initial);
  const calls = [];
  return {
    map,
    calls,
    async get(key) {
      calls.push(['get', key]);
      return map.get(key);
    },
    async set(key, value) {
      calls.push(['set', key]);
      map.set(key, value);
    },
    async delete(key) {
      calls.push(['delete', key]);
      map.delete(key);
    },
  };
}

/** Rejection of `promise`; fails when it resolves. */
async function rejection(promise) {
  return promise.then(
    (v) => assert.fail(`expected a rejection, got ${JSON.stringify(v)}`),
    (e) => e,
  );
}

module.exports = function storageSuite(sigil, { name, onTokenChange } = {}) {
  const { Sigil, StorageError } = sigil;

  /** Events emitted on `client` as `tokenChange`, collected. */
  function recordEvents(client) {
    const events = [];
    onTokenChange(client, (event) => events.push(event));
    return events;
  }

  describe(`${name}: storage adapter and tokenChange events`, { timeout: 60_000 }, () => {
    let server;
    before(async () => {
      server = await startServer();
    });
    after(async () => {
      await server?.stop();
    });

    it('the token set is stored as JSON under sigil:tokens and a refreshed event fires', async () => {
      const storage = mapStorage();
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
      const event = new Promise((resolve) => onTokenChange(client, resolve));
      const exchanges = await server.requests('/auth/token/exchange');

      const tokens = await client.exchangeApiKey();
      assert.match(tokens.accessToken, /^eyJ/);
      assert.equal(tokens.tokenType, 'Bearer');
      assert.ok(tokens.expiresAt > Date.now() / 1000 + 60);

      assert.deepEqual([...storage.map.keys()], ['sigil:tokens']);
      const stored = JSON.parse(storage.map.get('sigil:tokens'));
      assert.equal(stored.access_token, tokens.accessToken);
      assert.equal(stored.expires_at, tokens.expiresAt);
      assert.equal(stored.scope, tokens.scope);

      const change = await event;
      assert.equal(change.type, 'refreshed');
      assert.deepEqual(change.tokens, tokens);

      // Cached: the next calls read the store and send nothing.
      const sets = storage.calls.filter(([op]) => op === 'set').length;
      assert.equal(await client.accessToken(), tokens.accessToken);
      assert.deepEqual(await client.exchangeApiKey(), tokens);
      assert.deepEqual(await client.tokens(), tokens);
      assert.equal(storage.calls.filter(([op]) => op === 'set').length, sets);
      assert.equal(await server.requests('/auth/token/exchange'), exchanges + 1);
    });

    it('an adapter shared by two clients keeps them apart with storagePrefix', async () => {
      const storage = mapStorage();
      const a = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
      const b = new Sigil({
        issuer: server.base,
        apiKey: fixtures.readKey,
        storage,
        storagePrefix: 'bob',
      });
      const [ta, tb] = await Promise.all([a.accessToken(), b.accessToken()]);
      assert.notEqual(ta, tb);
      assert.deepEqual([...storage.map.keys()].sort(), ['bob:tokens', 'sigil:tokens']);
      assert.equal(JSON.parse(storage.map.get('bob:tokens')).access_token, tb);
    });

    it('a token set written by the adapter is what the client uses', async () => {
      const storage = mapStorage();
      const writer = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
      const token = await writer.accessToken();
      // A second process reading the same store (same key) reuses the session.
      const reader = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
      const exchanges = await server.requests('/auth/token/exchange');
      assert.equal(await reader.accessToken(), token);
      assert.equal(await server.requests('/auth/token/exchange'), exchanges);
    });

    it('setTokens emits stored; a refused renewal emits expired and clears the store', async () => {
      const storage = mapStorage();
      const client = new Sigil({ issuer: server.base, clientId: fixtures.spa.clientId, storage });
      const events = recordEvents(client);
      const tokens = { accessToken: 'stale', expiresAt: 1, refreshToken: 'sgl_rt_unknown' };
      await client.setTokens(tokens);
      assert.equal(JSON.parse(storage.map.get('sigil:tokens')).refresh_token, 'sgl_rt_unknown');

      const e = await rejection(client.accessToken());
      assert.equal(e.code, 'invalid_grant');
      assert.equal(storage.map.has('sigil:tokens'), false);
      await waitFor(() => events.length >= 2, 'two tokenChange events', 2_000);
      assert.deepEqual(
        events.map((ev) => ev.type),
        ['stored', 'expired'],
      );
      assert.deepEqual(events[0].tokens, { ...tokens, tokenType: 'Bearer' });
    });

    it('an adapter that throws surfaces StorageError; the next call works', async () => {
      let failing = null;
      const storage = mapStorage();
      const flaky = {
        get: async (key) => {
          if (failing === 'get') throw new Error('get failed: connection reset');
          return storage.get(key);
        },
        set: (key, value) => {
          // A synchronous throw, not a rejection.
          if (failing === 'set') throw new Error('set failed: read-only replica');
          return storage.set(key, value);
        },
        delete: (key) => storage.delete(key),
      };
      const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage: flaky });

      failing = 'get';
      let e = await rejection(client.accessToken());
      assert.ok(e instanceof StorageError, e.message);
      assert.equal(e.code, 'storage_error');
      assert.match(e.message, /connection reset/);

      failing = 'set';
      e = await rejection(client.accessToken());
      assert.ok(e instanceof StorageError, e.message);
      assert.match(e.message, /read-only replica/);
      assert.equal(storage.map.has('sigil:tokens'), false);

      failing = null;
      const token = await client.accessToken();
      assert.match(token, /^eyJ/);
      assert.equal(JSON.parse(storage.map.get('sigil:tokens')).access_token, token);
      const res = await client.request('/v1/api-keys');
      assert.equal(res.status, 200);
    });

    it('an adapter returning a non-string surfaces StorageError', async () => {
      for (const value of [42, { accessToken: 'x' }, true]) {
        const storage = { get: async () => value, set: async () => {}, delete: async () => {} };
        const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
        const e = await rejection(client.accessToken());
        assert.ok(e instanceof StorageError, `${typeof value}: ${e.message}`);
        assert.match(e.message, new RegExp(`returned a ${typeof value}`));
      }
    });

    it('a corrupt stored value is discarded with StorageError and a discarded event; the next call works', async () => {
      for (const corrupt of ['{not json', '{"access_token": 5}', '"just a string"', '[]']) {
        const storage = mapStorage([['sigil:tokens', corrupt]]);
        const client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey, storage });
        const events = recordEvents(client);
        const e = await rejection(client.accessToken());
        assert.ok(e instanceof StorageError, `${corrupt}: ${e.message}`);
        assert.equal(e.code, 'storage_error');
        assert.match(e.message, /discarded/);
        assert.equal(storage.map.has('sigil:tokens'), false, 'the corrupt value is deleted');

        const token = await client.accessToken();
        assert.equal(JSON.parse(storage.map.get('sigil:tokens')).access_token, token);
        await waitFor(() => events.length >= 2, 'two tokenChange events', 2_000);
        assert.deepEqual(
          events.map((ev) => ev.type),
          ['discarded', 'refreshed'],
        );
        // The event carries the typed error the call rejected with.
        assert.ok(events[0].error instanceof StorageError, `${corrupt}: event error`);
        assert.equal(events[0].error.code, 'storage_error');
      }
    });
  });
};

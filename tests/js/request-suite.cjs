'use strict';
// Shared by the JS bindings (called like sdk-suite.cjs, with its `name`
// option): client.request() against a real sigil-server, a
// path resolved against the issuer, a `json` body, a WHATWG Response back, the
// bearer token added by the SDK; an error status rejects with the typed error
// carrying the request id.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, fixtures } = require('./test-server.cjs');

module.exports = function requestSuite(sigil, { name } = {}) {
  const { Sigil, ApiError } = sigil;

  describe(`${name}: request()`, { timeout: 60_000 }, () => {
    let server;
    let client;
    before(async () => {
      server = await startServer();
      client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
    });
    after(async () => {
      await server?.stop();
    });

    it('a path is resolved against the issuer and answered with a Response', async () => {
      const res = await client.request('/v1/api-keys');
      assert.ok(res instanceof Response);
      assert.equal(res.status, 200);
      assert.equal(res.ok, true);
      assert.match(res.headers.get('content-type'), /application\/json/);
      assert.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
      const { data, meta } = await res.json();
      assert.ok(data.some((k) => k.name === 'ci-full'));
      assert.equal(meta.requestId, res.headers.get('x-request-id'));
    });

    it('a URL object and an absolute URL work the same, with any header shape', async () => {
      for (const input of [new URL('/v1/api-keys', server.base), `${server.base}/v1/api-keys`]) {
        const res = await client.request(input);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      const accept = 'application/json';
      for (const headers of [new Map([['accept', accept]]), [['accept', accept]], { accept }]) {
        const res = await client.request('/v1/api-keys', { headers });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    });

    it('`json` sends a JSON body with its content type', async () => {
      const res = await client.request('/v1/api-keys', {
        method: 'POST',
        json: { name: 'made-by-request', preset: 'read' },
      });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.equal(data.name, 'made-by-request');
      assert.match(data.key, /^sgl_test_/);
      // The typed client sees what request() created.
      const fetched = await client.management.apiKeys.get(data.id);
      assert.equal(fetched.name, 'made-by-request');
      assert.equal(fetched.key, undefined, 'the secret is shown once');
    });

    it('a string body with explicit headers is sent as given', async () => {
      const res = await client.request('/v1/api-keys', {
        method: 'POST',
        headers: new Headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ name: 'string-body', scopes: ['keys.read'] }),
      });
      assert.equal(res.status, 201);
      assert.deepEqual((await res.json()).data.scopes, ['keys.read']);
    });

    it('a 404 rejects with ApiError carrying status, code and requestId', async () => {
      await assert.rejects(client.request('/v1/api-keys/key_doesnotexist'), (e) => {
        assert.ok(e instanceof ApiError, e.message);
        assert.equal(e.status, 404);
        assert.equal(e.code, 'not_found');
        assert.match(e.requestId, /^[0-9a-f-]{36}$/);
        return true;
      });
      await assert.rejects(client.request('/v1/no-such-route'), (e) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 404);
        assert.match(e.requestId, /^[0-9a-f-]{36}$/);
        return true;
      });
    });

    it('a 422 from the server is an ApiError too, and the client keeps working', async () => {
      await assert.rejects(
        client.request('/v1/api-keys', { method: 'POST', json: { name: '' } }),
        (e) => {
          assert.ok(e instanceof ApiError, e.message);
          assert.ok(e.status === 400 || e.status === 422, `status ${e.status}`);
          assert.match(e.requestId, /^[0-9a-f-]{36}$/);
          return true;
        },
      );
      assert.equal((await client.request('/v1/api-keys')).status, 200);
    });
  });
};

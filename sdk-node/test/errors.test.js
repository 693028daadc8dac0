'use strict';
// @sigil/node only: `TokenVerifier` (offline verification against a JWKS you
// hold), which @sigil/web does not export. Every other error class, each from
// a real call, and the wrongly typed arguments of the rest of the surface are
// in tests/js/errors-suite.cjs, which both packages run (test/sigil.test.js).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const sigil = require('..');
const { errorAssertions } = require('../../tests/js/errors-suite.cjs');
const { startServer, fixtures } = require('../../tests/js/test-server.cjs');

const { Sigil, TokenVerifier, TokenError, TokenExpiredError } = sigil;
const { assertTyped, caught, notInvalidInput } = errorAssertions(sigil);

describe('tokens from the server, verified offline', { timeout: 60_000 }, () => {
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

it('TokenVerifier refuses wrong types with InvalidInputError', async () => {
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

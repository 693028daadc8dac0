// Interoperability: unmodified, published OAuth libraries (panva's
// oauth4webapi and jose) against a real sigil-server process. Nothing here
// adapts a library to the server; if one of these fails, the server is the
// suspect.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Browser, startServer } from './helpers.mjs';

const BACKEND = { client_id: 'app_ci_backend' };
const BACKEND_SECRET = 'sgl_cs_ci-known-client-secret-0000000000000000';
const SPA = { client_id: 'app_ci_spa' };
// RFC 8252 §7.3: the registered loopback URI has no port; any port matches.
const SPA_REDIRECT = 'http://127.0.0.1:53187/callback';
const USER = 'interop-node@example.com';

// The issuer is plain http on loopback, which oauth4webapi refuses unless
// told otherwise; this is its documented opt-in, passed to every request.
const insecure = { [oauth.allowInsecureRequests]: true };

let server;
let as;

before(async () => {
  server = await startServer();
  const issuer = new URL(server.base);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  as = await oauth.processDiscoveryResponse(issuer, res);
});

after(async () => {
  await server?.stop();
});

async function clientCredentials(scope) {
  const res = await oauth.clientCredentialsGrantRequest(
    as,
    BACKEND,
    oauth.ClientSecretBasic(BACKEND_SECRET),
    new URLSearchParams(scope ? { scope } : {}),
    insecure,
  );
  return oauth.processClientCredentialsResponse(as, BACKEND, res);
}

async function introspect(token) {
  const res = await oauth.introspectionRequest(
    as,
    BACKEND,
    oauth.ClientSecretBasic(BACKEND_SECRET),
    token,
    insecure,
  );
  return oauth.processIntrospectionResponse(as, BACKEND, res);
}

async function verifyAccessToken(token) {
  const jwks = createRemoteJWKSet(new URL(as.jwks_uri));
  return jwtVerify(token, jwks, {
    typ: 'at+jwt',
    issuer: as.issuer,
    audience: as.issuer,
  });
}

describe('oauth4webapi', () => {
  test('discovery (RFC 8414) via discoveryRequest + processDiscoveryResponse', () => {
    assert.equal(as.issuer, server.base);
    assert.equal(as.token_endpoint, `${server.base}/oauth/token`);
    assert.equal(as.authorization_endpoint, `${server.base}/oauth/authorize`);
    assert.ok(as.code_challenge_methods_supported.includes('S256'));
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    for (const k of ['jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
      assert.ok(as[k]?.startsWith(server.base), k);
    }
  });

  test('discovery at the OpenID path (algorithm: oidc) gives the same metadata', async () => {
    const issuer = new URL(server.base);
    const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure });
    assert.equal(new URL(res.url).pathname, '/.well-known/openid-configuration');
    assert.deepEqual(await oauth.processDiscoveryResponse(issuer, res), as);
  });

  test('client_credentials with ClientSecretBasic', async () => {
    const tokens = await clientCredentials('keys.read');
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(typeof tokens.access_token, 'string');
    assert.ok(tokens.expires_in > 0);
    assert.equal(tokens.scope, 'keys.read');
    assert.equal(tokens.refresh_token, undefined);
  });

  test('client_credentials: a wrong Basic secret is a 401 Basic challenge (RFC 6749 §5.2)', async () => {
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      BACKEND,
      oauth.ClientSecretBasic('sgl_cs_wrong'),
      new URLSearchParams(),
      insecure,
    );
    // §5.2: a client that authenticated with the Authorization header gets
    // 401 and a WWW-Authenticate for the scheme it used; oauth4webapi
    // reports that challenge before the JSON body's invalid_client.
    await assert.rejects(oauth.processClientCredentialsResponse(as, BACKEND, res), (err) => {
      assert.ok(err instanceof oauth.WWWAuthenticateChallengeError, err);
      assert.equal(err.status, 401);
      assert.equal(err.cause[0].scheme, 'basic');
      return true;
    });
    assert.equal((await res.json()).error, 'invalid_client');
  });

  test('introspection: active, then inactive after revocation', async () => {
    const { access_token } = await clientCredentials('keys.read apps.read');
    const live = await introspect(access_token);
    assert.equal(live.active, true);
    assert.equal(live.client_id, BACKEND.client_id);
    assert.equal(live.scope, 'keys.read apps.read');
    assert.equal(live.iss, as.issuer);

    const res = await oauth.revocationRequest(
      as,
      BACKEND,
      oauth.ClientSecretBasic(BACKEND_SECRET),
      access_token,
      insecure,
    );
    assert.equal(await oauth.processRevocationResponse(res), undefined);

    const dead = await introspect(access_token);
    assert.equal(dead.active, false);
  });

  test('authorization code + PKCE (public client), then refresh rotation and reuse', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();

    const authorizationUrl = new URL(as.authorization_endpoint);
    authorizationUrl.searchParams.set('response_type', 'code');
    authorizationUrl.searchParams.set('client_id', SPA.client_id);
    authorizationUrl.searchParams.set('redirect_uri', SPA_REDIRECT);
    authorizationUrl.searchParams.set('scope', 'profile.basic');
    authorizationUrl.searchParams.set('code_challenge', codeChallenge);
    authorizationUrl.searchParams.set('code_challenge_method', 'S256');
    authorizationUrl.searchParams.set('state', state);

    const browser = new Browser(server.base);
    const location = await browser.authorize(authorizationUrl.href, USER);
    const callback = new URL(location);
    assert.equal(`${callback.origin}${callback.pathname}`, SPA_REDIRECT);

    // Checks state and the RFC 9207 `iss` (the metadata advertises it).
    const params = oauth.validateAuthResponse(as, SPA, callback, state);

    const res = await oauth.authorizationCodeGrantRequest(
      as,
      SPA,
      oauth.None(),
      params,
      SPA_REDIRECT,
      codeVerifier,
      insecure,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, SPA, res);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'profile.basic');
    assert.equal(typeof tokens.refresh_token, 'string');

    const { payload } = await verifyAccessToken(tokens.access_token);
    assert.equal(payload.client_id, SPA.client_id);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      SPA,
      await oauth.refreshTokenGrantRequest(as, SPA, oauth.None(), tokens.refresh_token, insecure),
    );
    assert.equal(typeof refreshed.access_token, 'string');
    assert.equal(typeof refreshed.refresh_token, 'string');
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh token rotates');

    // The old refresh token was used once already.
    const reuse = await oauth.refreshTokenGrantRequest(
      as,
      SPA,
      oauth.None(),
      tokens.refresh_token,
      insecure,
    );
    await assert.rejects(oauth.processRefreshTokenResponse(as, SPA, reuse), (err) => {
      assert.ok(err instanceof oauth.ResponseBodyError, err);
      assert.equal(err.error, 'invalid_grant');
      assert.equal(err.status, 400);
      return true;
    });
  });

  test('authorization code for a confidential client (ClientSecretPost), then revoke the refresh token', async () => {
    const redirectUri = 'https://app.example/callback';
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: BACKEND.client_id,
      redirect_uri: redirectUri,
      scope: 'profile.basic keys.read',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    })) {
      authorizationUrl.searchParams.set(k, v);
    }
    const browser = new Browser(server.base);
    const params = oauth.validateAuthResponse(
      as,
      BACKEND,
      new URL(await browser.authorize(authorizationUrl.href, USER)),
      state,
    );
    const post = oauth.ClientSecretPost(BACKEND_SECRET);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      BACKEND,
      await oauth.authorizationCodeGrantRequest(
        as,
        BACKEND,
        post,
        params,
        redirectUri,
        codeVerifier,
        insecure,
      ),
    );
    assert.equal(tokens.scope, 'profile.basic keys.read');
    assert.equal(typeof tokens.refresh_token, 'string');
    assert.equal((await introspect(tokens.access_token)).active, true);

    // RFC 7009: revoking the refresh token ends the grant.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, BACKEND, post, tokens.refresh_token, {
        additionalParameters: { token_type_hint: 'refresh_token' },
        ...insecure,
      }),
    );
    const res = await oauth.refreshTokenGrantRequest(
      as,
      BACKEND,
      post,
      tokens.refresh_token,
      insecure,
    );
    await assert.rejects(oauth.processRefreshTokenResponse(as, BACKEND, res), (err) => {
      assert.ok(err instanceof oauth.ResponseBodyError, err);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  test('authorization code: a wrong code_verifier is invalid_grant', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: SPA.client_id,
      redirect_uri: SPA_REDIRECT,
      scope: 'profile.basic',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    })) {
      authorizationUrl.searchParams.set(k, v);
    }
    const browser = new Browser(server.base);
    const params = oauth.validateAuthResponse(
      as,
      SPA,
      new URL(await browser.authorize(authorizationUrl.href, USER)),
      state,
    );
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      SPA,
      oauth.None(),
      params,
      SPA_REDIRECT,
      oauth.generateRandomCodeVerifier(),
      insecure,
    );
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, SPA, res), (err) => {
      assert.ok(err instanceof oauth.ResponseBodyError, err);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  test('a denied consent comes back as an access_denied AuthorizationResponseError', async () => {
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: SPA.client_id,
      redirect_uri: SPA_REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
      state,
    })) {
      authorizationUrl.searchParams.set(k, v);
    }
    const browser = new Browser(server.base);
    const location = await browser.authorize(authorizationUrl.href, USER, 'deny');
    assert.throws(
      () => oauth.validateAuthResponse(as, SPA, new URL(location), state),
      (err) => {
        assert.ok(err instanceof oauth.AuthorizationResponseError, err);
        assert.equal(err.error, 'access_denied');
        return true;
      },
    );
  });
});

describe('jose', () => {
  test('the access token is an RFC 9068 JWT verifiable against the JWKS', async () => {
    const { access_token } = await clientCredentials('keys.read');
    const { payload, protectedHeader } = await verifyAccessToken(access_token);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.ok(protectedHeader.kid);
    assert.equal(payload.iss, as.issuer);
    assert.equal(payload.client_id, BACKEND.client_id);
    assert.equal(payload.scope, 'keys.read');
    for (const claim of ['sub', 'exp', 'iat', 'jti'])
      assert.ok(payload[claim] !== undefined, claim);
  });

  test('a tampered access token fails verification', async () => {
    const { access_token } = await clientCredentials('keys.read');
    const [h, p, s] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.scope = 'keys.read apps.read';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    await assert.rejects(verifyAccessToken(forged), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });
});

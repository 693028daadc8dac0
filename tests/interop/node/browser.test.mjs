// A real browser on the server-rendered pages: headless Chromium (driven by
// playwright-core, JavaScript off, because the pages must work without it)
// goes from an oauth4webapi authorization URL through sign-in and consent to
// the client's loopback redirect URI, and oauth4webapi redeems the code.
// Needs /usr/bin/chromium; playwright-core never downloads a browser.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oauth from 'oauth4webapi';
import { chromium } from 'playwright-core';
import { startServer } from './helpers.mjs';

const SPA = { client_id: 'app_ci_spa' };
const SPA_NAME = 'CI single-page app';
const SCOPES = ['profile.basic', 'identity.read'];
const SCREENSHOT = '/tmp/sigil-consent.png';
// Every wait in a test is bounded by this (page actions, navigations, fetches).
const WAIT_MS = 10_000;

const insecure = { [oauth.allowInsecureRequests]: true };

let server;
let as;
let browser;
// The client's redirect URI: a loopback server that records each callback
// URL and answers 200. RFC 8252 §7.3: the registered URI has no port, so any
// port matches.
let callbackServer;
let redirectUri;
const callbacks = [];

before(async () => {
  server = await startServer();
  const issuer = new URL(server.base);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );

  callbackServer = createServer((req, res) => {
    const url = new URL(req.url, redirectUri);
    if (url.pathname !== '/callback') {
      // Chromium also asks for /favicon.ico.
      res.writeHead(404).end();
      return;
    }
    callbacks.push(url.href);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('callback received');
  });
  await new Promise((resolve, reject) => {
    callbackServer.once('error', reject);
    callbackServer.listen(0, '127.0.0.1', resolve);
  });
  redirectUri = `http://127.0.0.1:${callbackServer.address().port}/callback`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 15_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  if (callbackServer?.listening) {
    callbackServer.closeAllConnections();
    await new Promise((resolve) => callbackServer.close(resolve));
  }
  await server?.stop();
});

/** A fresh browser profile (no cookies) with JavaScript off. */
async function newPage() {
  const context = await browser.newContext({ javaScriptEnabled: false });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return { context, page: await context.newPage() };
}

async function authorizationRequest() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: SPA.client_id,
    redirect_uri: redirectUri,
    scope: SCOPES.join(' '),
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  })) {
    url.searchParams.set(k, v);
  }
  return { url: url.href, codeVerifier, state };
}

/** The newest sign-in code in the dev mailbox for `email` (polled, bounded). */
async function mailboxCode(email) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await fetch(`${server.base}/dev/mailbox?to=${encodeURIComponent(email)}`, {
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.equal(res.status, 200, 'GET /dev/mailbox');
    const { data } = await res.json();
    if (data.length) return data[0].code;
    if (Date.now() > deadline) throw new Error(`no sign-in code for ${email} in ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** From the authorization URL, through sign-in, to the consent page. */
async function signInToConsent(page, authorizationUrl, email) {
  await page.goto(authorizationUrl);

  // Not signed in: authorize → consent → the sign-in page.
  assert.equal(new URL(page.url()).pathname, '/signin');
  assert.match(await page.title(), /Sign in/);
  await page.getByRole('heading', { name: 'Sign in to Sigil' }).waitFor();
  const emailInput = page.getByLabel('Email');
  assert.ok(await emailInput.isVisible(), 'email input visible');
  assert.equal(await emailInput.getAttribute('type'), 'email');
  await emailInput.fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in code' }).click();

  await page.waitForURL((u) => u.pathname === '/signin/verify');
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  assert.ok(await page.getByText(email).isVisible(), 'verify page names the address');
  const codeInput = page.getByLabel('Sign-in code');
  assert.ok(await codeInput.isVisible(), 'code input visible');
  await codeInput.fill(await mailboxCode(email));
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.waitForURL((u) => u.pathname === '/oauth/consent');
  await page
    .getByRole('heading', { name: `${SPA_NAME} wants to access your Sigil account` })
    .waitFor();
}

/** Clicks `button` on the consent page; resolves to the callback URL. */
async function decide(page, button) {
  const before = callbacks.length;
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/callback');
  assert.equal(await page.locator('body').innerText(), 'callback received');
  assert.equal(callbacks.length, before + 1, 'the callback server saw exactly one request');
  const url = new URL(page.url());
  assert.equal(url.href, callbacks.at(-1), 'the browser and the callback server agree');
  assert.equal(`${url.origin}${url.pathname}`, redirectUri);
  return url;
}

describe('Chromium (JavaScript off) on the sign-in and consent pages', () => {
  test('sign in, approve, and redeem the code with oauth4webapi', async () => {
    const email = 'alice@example.com';
    const { url, codeVerifier, state } = await authorizationRequest();
    const { context, page } = await newPage();
    try {
      await signInToConsent(page, url, email);

      const main = page.locator('main');
      assert.ok(await main.getByText(SPA_NAME).first().isVisible(), 'app name visible');
      assert.ok(await main.getByText(`Signed in as ${email}`).isVisible(), 'signed-in user shown');
      const items = page.locator('ul.scopes li');
      assert.equal(await items.count(), SCOPES.length);
      for (const scope of SCOPES) {
        const item = items.filter({ has: page.locator('code', { hasText: scope }) });
        assert.ok(await item.isVisible(), `scope ${scope} listed`);
      }
      assert.ok(
        await main.getByText('See your basic profile').isVisible(),
        'profile.basic is described in words',
      );
      // It names the redirect URI's host and port: on loopback the port is
      // what tells one local program from another.
      assert.equal(
        await main.getByText('Either way you will be sent back to').locator('strong').innerText(),
        new URL(redirectUri).host,
      );
      assert.ok(await page.getByRole('button', { name: 'Approve', exact: true }).isVisible());
      assert.ok(await page.getByRole('button', { name: 'Deny', exact: true }).isVisible());
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      const callback = await decide(page, 'Approve');
      assert.equal(callback.searchParams.get('state'), state);
      assert.equal(callback.searchParams.get('iss'), as.issuer);
      assert.ok(callback.searchParams.get('code'), 'code present');

      const params = oauth.validateAuthResponse(as, SPA, callback, state);
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        SPA,
        oauth.None(),
        params,
        redirectUri,
        codeVerifier,
        { ...insecure, signal: AbortSignal.timeout(WAIT_MS) },
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, SPA, res);
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(typeof tokens.access_token, 'string');
      assert.ok(tokens.access_token.length > 0);
      assert.equal(tokens.scope, SCOPES.join(' '));
    } finally {
      await context.close();
    }
  });

  test('sign in, deny: the callback gets error=access_denied', async () => {
    const email = 'bob@example.com';
    const { url, state } = await authorizationRequest();
    const { context, page } = await newPage();
    try {
      await signInToConsent(page, url, email);

      const callback = await decide(page, 'Deny');
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('state'), state);
      assert.equal(callback.searchParams.get('iss'), as.issuer);
      assert.equal(callback.searchParams.get('code'), null);
      assert.throws(
        () => oauth.validateAuthResponse(as, SPA, callback, state),
        (err) => {
          assert.ok(err instanceof oauth.AuthorizationResponseError, err);
          assert.equal(err.error, 'access_denied');
          return true;
        },
      );
    } finally {
      await context.close();
    }
  });
});

// The demo single-page app (sdk-wasm/demo) on the client build of @sigil/web
// (index.mjs over pkg/web), end to end in real headless Chromium against a real
// `sigil-server --test-mode`: sign-in and consent on the server's HTML pages,
// the pairwise user id and a protected API call, exactly one refresh for two
// tabs sharing the `'local'` store (IndexedDB; 20 times, with the server's and
// the browser's clocks moved near expiry; and 5 times without
// BroadcastChannel), the bounded wait behind a tab that
// never releases the renewal lock and its release when that tab closes or
// crashes, logout reaching the other tab, and a deny
// arriving as access_denied. No page may throw or leave a rejection
// unhandled. Screenshots go to sdk-wasm/test/screenshots/ (git-ignored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentType, launchChromium } from './chromium.mjs';

const require = createRequire(import.meta.url);
const { startServer } = require('../../tests/js/test-server.cjs');

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgRoot = path.resolve(here, '..');
const repoRoot = path.resolve(pkgRoot, '..');
const shots = path.join(here, 'screenshots');
const EMAIL = 'alice@example.com';
const WAIT_MS = 15_000;
/** The fixtures' `full` API key (alice's), for the storage-option test. */
const FULL_KEY = JSON.parse(
  readFileSync(path.join(repoRoot, 'reference-server/fixtures.example.json'), 'utf8'),
).apiKeys.find((k) => k.preset === 'full').key;

let sigil;
let app;
let appOrigin;
let browser;

/** The issuer the demo is configured with (set once the server runs). */
let issuer;
/** The temp dir of the fixtures file the server starts with. */
let fixturesDir;

/** Serves the demo, the client build and the browser wrapper on loopback. */
function serveApp() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const { pathname } = new URL(req.url, 'http://x');
      if (pathname === '/config.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer }));
        return;
      }
      let file;
      if (pathname === '/' || pathname === '/callback')
        file = path.join(pkgRoot, 'demo/index.html');
      else if (pathname === '/app.js') file = path.join(pkgRoot, 'demo/app.js');
      else if (
        pathname === '/index.mjs' ||
        pathname.startsWith('/pkg/web/') ||
        pathname.startsWith('/js/')
      ) {
        file = path.join(pkgRoot, pathname);
      }
      try {
        const body = readFileSync(file);
        const type = contentType(file);
        res.writeHead(200, { 'content-type': type }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  // The demo's origin must be registered for CORS: it listens first, and the
  // server starts with fixtures naming that origin.
  app = await serveApp();
  appOrigin = `http://127.0.0.1:${app.address().port}`;
  const example = path.join(repoRoot, 'reference-server/fixtures.example.json');
  const fixtures = JSON.parse(readFileSync(example, 'utf8'));
  fixtures.apps.find((a) => a.id === 'app_ci_spa').allowedOrigins = [appOrigin];
  fixturesDir = mkdtempSync(path.join(tmpdir(), 'sigil-e2e-'));
  const file = path.join(fixturesDir, 'fixtures.json');
  writeFileSync(file, JSON.stringify(fixtures));
  sigil = await startServer({ fixturesFile: file });
  issuer = sigil.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  app?.closeAllConnections?.();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
  await sigil?.stop();
  if (fixturesDir) rmSync(fixturesDir, { recursive: true, force: true });
});

async function mailboxCode(email) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await fetch(`${sigil.base}/dev/mailbox?to=${encodeURIComponent(email)}`);
    const { data } = await res.json();
    if (data.length) return data[0].code;
    if (Date.now() > deadline) throw new Error('no sign-in code');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
}

/** The labels of the demo app's visible buttons. */
const buttons = (page) => page.getByRole('button').allInnerTexts();

/** Clicks "Sign in" and goes through the server's pages to the consent decision. */
async function signIn(page, decision, shot) {
  await page.goto(`${appOrigin}/`);
  await ready(page);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/signin');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByRole('button', { name: 'Email me a sign-in code' }).click();
  await page.waitForURL((u) => u.pathname === '/signin/verify');
  await page.getByLabel('Sign-in code').fill(await mailboxCode(EMAIL));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/oauth/consent');
  if (shot) await page.screenshot({ path: path.join(shots, 'consent.png'), fullPage: true });
  await page.getByRole('button', { name: decision, exact: true }).click();
  await page.waitForURL((u) => u.origin === appOrigin && u.pathname === '/callback');
  await ready(page);
}

/**
 * A browser profile whose pages' uncaught errors and unhandled rejections are
 * kept in `context.pageErrors`: the SDK must never crash the app.
 */
async function newContext({ clock = false } = {}) {
  const context = await browser.newContext();
  context.setDefaultTimeout(WAIT_MS);
  context.pageErrors = [];
  context.on('page', (page) =>
    page.on('pageerror', (e) => context.pageErrors.push(`${page.url()}: ${e}`)),
  );
  if (clock) await context.clock.install();
  return context;
}

/** Closes `context`, failing the test if any of its pages threw. */
async function closeContext(context) {
  const errors = context.pageErrors;
  await context.close();
  assert.deepEqual(errors, [], 'no uncaught error or unhandled rejection in the app');
}

/** A signed-in tab and a second, independent tab (its own renderer process) of one profile. */
async function twoTabs({ screenshot = false, broadcast = true } = {}) {
  const context = await newContext({ clock: true });
  if (!broadcast)
    await context.addInitScript(() => {
      delete globalThis.BroadcastChannel;
    });
  const one = await context.newPage();
  await signIn(one, 'Approve', screenshot);
  const two = await context.newPage();
  await two.goto(`${appOrigin}/`);
  await ready(two);
  return { context, one, two };
}

/**
 * The `tokenChange` events the tabs' `window.seen` recorded since the last
 * call, once there are `count` of them (bounded), each tab's sorted, the
 * tabs' lists sorted: which tab renewed does not matter.
 */
async function tokenEvents(tabs, count) {
  const lists = tabs.map(() => []);
  const deadline = Date.now() + WAIT_MS;
  while (lists.flat().length < count && Date.now() < deadline) {
    const taken = await Promise.all(tabs.map((t) => t.evaluate(() => window.seen.splice(0))));
    taken.forEach((events, i) => lists[i].push(...events));
    if (lists.flat().length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return lists.map((l) => l.sort()).sort();
}

/**
 * The server's and the browser's clocks, moved together 560 s at a time: of a
 * 600 s token, that is inside the SDK's own 60 s renewal window. `restore()`
 * puts the server back, for the other tests' browsers keep real time.
 */
function clocks(context) {
  let moved = 0;
  return {
    async move() {
      await sigil.advanceClock(560);
      moved += 560;
      await context.clock.fastForward(560_000);
    },
    restore: () => sigil.advanceClock(-moved),
  };
}

/** The renewal lock's name (js/browser.js): what every tab of the demo app takes. */
const lockName = () => `sigil:${issuer}:app_ci_spa:renewal`;

/** Takes the renewal lock in `tab`, as a renewal would, and never lets it go. */
const holdLock = (tab) =>
  tab.evaluate((name) => {
    navigator.locks.request(name, () => new Promise(() => {}));
  }, lockName());

/** Whether a request for the renewal lock is queued behind its holder. */
const lockWaiting = (page) =>
  page.evaluate(
    async (name) => (await navigator.locks.query()).pending.some((l) => l.name === name),
    lockName(),
  );

/** Waits (bounded) until a request for the renewal lock is queued behind its holder. */
async function lockWaiter(page) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await lockWaiting(page))) {
    if (Date.now() > deadline) throw new Error('no tab waits for the renewal lock');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `rounds` times: both clocks moved near expiry, then both tabs ask for a
 * token at once. Exactly one refresh request goes out, both tabs end with its
 * token, and no refresh is refused (a replayed refresh token would be).
 * `broadcast: false` runs the tabs without BroadcastChannel.
 */
async function race({ rounds, broadcast }) {
  const { context, one, two } = await twoTabs({ broadcast });
  const { move, restore } = clocks(context);
  // Each refresh is answered 200 ms late, so the other tab certainly asks
  // for the lock while the first holds it.
  await context.route(`${issuer}/oauth/token`, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await route.continue();
  });
  for (const tab of [one, two]) {
    await tab.evaluate(() => {
      window.seen = [];
      window.sigil.addEventListener('tokenChange', ({ detail }) =>
        window.seen.push(`${detail.type}${detail.remote ? ' (remote)' : ''}`),
      );
    });
  }
  const refused = await sigil.requests('/oauth/token', { status: 400 });
  try {
    let last = await one.evaluate(() => window.sigil.accessToken());
    for (let round = 0; round < rounds; round += 1) {
      const before = await sigil.requests('/oauth/token');
      await move();
      const [a, b] = await Promise.all(
        [one, two].map((p) => p.evaluate(() => window.sigil.accessToken())),
      );
      assert.equal(a, b, `round ${round}: both tabs hold the same fresh token`);
      assert.notEqual(a, last, `round ${round}: a fresh token`);
      last = a;
      const spent = (await sigil.requests('/oauth/token')) - before;
      assert.equal(spent, 1, `round ${round}: exactly one refresh`);
      assert.deepEqual(
        await tokenEvents([one, two], broadcast ? 2 : 1),
        broadcast ? [['refreshed'], ['refreshed (remote)']] : [[], ['refreshed']],
        `round ${round}: one tab refreshed, the other heard of it over BroadcastChannel, if any`,
      );
    }
    assert.equal(
      (await sigil.requests('/oauth/token', { status: 400 })) - refused,
      0,
      'no refresh was refused (a replayed refresh token is invalid_grant)',
    );
    // A replayed refresh token would have revoked the family and failed
    // the next renewal: one more, from one tab, still succeeds.
    await move();
    assert.match(await one.evaluate(() => window.sigil.accessToken()), /^ey/);
  } finally {
    await restore();
    await closeContext(context);
  }
}

describe('the demo app in Chromium', () => {
  test('sign in through the server pages; the app shows the pairwise id and calls the API', async () => {
    const { context, one, two } = await twoTabs({ screenshot: true });
    try {
      assert.equal(await one.locator('#status').innerText(), 'Signed in');
      const user = await one.locator('#user').innerText();
      assert.match(user, /^pw_[A-Za-z0-9_-]{8,}$/, 'the pairwise user id (base64url)');
      assert.equal(
        await one.locator('#alias').innerText(),
        user,
        'the identity lookup answered with the same pairwise id (no alias is set)',
      );
      assert.equal(new URL(one.url()).search, '', 'the callback parameters are gone');
      assert.deepEqual(await buttons(one), ['Sign out'], 'only the button that applies');
      await one.screenshot({ path: path.join(shots, 'signed-in.png'), fullPage: true });
      assert.equal(
        await two.locator('#user').innerText(),
        await one.locator('#user').innerText(),
        'the second tab shares the session',
      );
    } finally {
      await closeContext(context);
    }
  });

  // The race the Web Lock exists for. With localStorage as the shared store
  // this failed about one run in three (Chromium copies a write to other
  // renderer processes asynchronously, so the second tab could read the
  // spent refresh token after the handover); the shared store is IndexedDB.
  test('two tabs near expiry: one refresh request, the same fresh token, 20 times', () =>
    race({ rounds: 20, broadcast: true }));

  test('without BroadcastChannel (Web Locks there): one refresh, the other tab reads the store', () =>
    race({ rounds: 5, broadcast: false }));

  test(
    'a tab that holds the renewal lock and never lets go holds the others up for the bounded wait only',
    { timeout: 60_000 },
    async () => {
      const { context, one, two } = await twoTabs();
      const { move, restore } = clocks(context);
      try {
        // Tab one takes the lock, as in a renewal, and never lets it go: a hung tab.
        await holdLock(one);
        const first = await two.evaluate(() => window.sigil.accessToken());
        await move();
        let before = await sigil.requests('/oauth/token');
        const waiting = two.evaluate(() => window.sigil.accessToken());
        await lockWaiter(two);
        // The wait is 10 s of the page's clock (AbortSignal.timeout, faked by
        // playwright's clock along with Date and setTimeout).
        await context.clock.fastForward(9_000);
        assert.ok(await lockWaiting(two), 'still waiting at 9 s');
        assert.equal((await sigil.requests('/oauth/token')) - before, 0, 'no refresh yet');
        await context.clock.fastForward(1_500);
        const renewed = await waiting;
        assert.notEqual(renewed, first, 'renewed once the wait ran out');
        assert.equal((await sigil.requests('/oauth/token')) - before, 1, 'one refresh');

        // A tab that closes, or whose renderer crashes, while holding the lock
        // frees it at once: the waiting tab goes ahead with no clock moved.
        const holder = async () => {
          const tab = await context.newPage();
          await tab.goto(`${appOrigin}/`);
          await ready(tab);
          await holdLock(tab);
          return tab;
        };
        let token = renewed;
        for (const [how, end] of [
          ['closed', (tab) => tab.close()],
          [
            'crashed',
            async (tab) => {
              // The command gets no answer from a renderer that is gone.
              const crashed = tab.waitForEvent('crash');
              (await context.newCDPSession(tab)).send('Page.crash').catch(() => {});
              await crashed;
            },
          ],
        ]) {
          const tab = how === 'closed' ? one : await holder();
          await move();
          before = await sigil.requests('/oauth/token');
          const next = two.evaluate(() => window.sigil.accessToken());
          await lockWaiter(two);
          await end(tab);
          const fresh = await next;
          assert.notEqual(fresh, token, `renewed after the holder ${how}`);
          assert.equal((await sigil.requests('/oauth/token')) - before, 1, 'one refresh');
          token = fresh;
        }
      } finally {
        await restore();
        await closeContext(context);
      }
    },
  );

  test('a request the server never answers fails as TransportError timeout after 30 s', async () => {
    const context = await newContext({ clock: true });
    try {
      const page = await context.newPage();
      await signIn(page, 'Approve', false);
      let reached;
      const held = new Promise((resolve) => (reached = resolve));
      // The request gets as far as the network and is never answered.
      await context.route(`${issuer}/v1/account`, () => reached());
      await page.evaluate(() => {
        window.sigil.request('/v1/account').then(
          (r) => (window.outcome = `answered ${r.status}`),
          (e) =>
            (window.outcome = [
              e.constructor.name,
              e.code,
              e instanceof window.sigilModule.TransportError,
            ]),
        );
      });
      await held;
      // The timeout is `AbortSignal.timeout`, faked by playwright's clock.
      await context.clock.fastForward(29_000);
      assert.equal(await page.evaluate(() => window.outcome), undefined, 'pending at 29 s');
      await context.clock.fastForward(1_500);
      await page.waitForFunction(() => window.outcome !== undefined);
      assert.deepEqual(await page.evaluate(() => window.outcome), [
        'TransportError',
        'timeout',
        true,
      ]);
    } finally {
      await closeContext(context);
    }
  });

  test('logout in one tab signs out the other', async () => {
    const { context, one, two } = await twoTabs();
    try {
      assert.equal(await two.locator('#status').innerText(), 'Signed in');
      await one.getByRole('button', { name: 'Sign out', exact: true }).click();
      // Each tab renders once its own part is done; wait for both (bounded).
      for (const tab of [two, one]) {
        await tab.waitForFunction(
          () => document.getElementById('status').textContent === 'Signed out',
        );
        assert.deepEqual(await buttons(tab), ['Sign in']);
      }
    } finally {
      await closeContext(context);
    }
  });

  test('a revoked session is LoginRequiredError; a corrupt stored value is a discarded event', async () => {
    const { context, one, two } = await twoTabs();
    // One tab only: another would re-read the store on the `expired` event
    // and could discard the corrupt value before this tab reads it.
    await two.close();
    const { move, restore } = clocks(context);
    try {
      const tokens = await one.evaluate(() => window.sigil.tokens());
      const revoked = await fetch(`${sigil.base}/oauth/revoke`, {
        method: 'POST',
        body: new URLSearchParams({
          token: tokens.refreshToken,
          token_type_hint: 'refresh_token',
          client_id: 'app_ci_spa',
        }),
      });
      assert.equal(revoked.status, 200);
      // Near expiry, the SDK renews with the revoked refresh token.
      await move();
      const outcome = (page) =>
        page.evaluate(async () => {
          const events = [];
          const record = (e) => events.push(e.detail);
          window.sigil.addEventListener('tokenChange', record);
          try {
            await window.sigil.accessToken();
            return { ok: true };
          } catch (e) {
            const m = window.sigilModule;
            return {
              name: e.constructor.name,
              code: e.code,
              status: e.status,
              login: e instanceof m.LoginRequiredError,
              storage: e instanceof m.StorageError,
              events: events.map((d) => ({
                type: d.type,
                storage: d.error instanceof m.StorageError,
              })),
            };
          } finally {
            window.sigil.removeEventListener('tokenChange', record);
          }
        });
      const expired = await outcome(one);
      assert.deepEqual(
        expired,
        {
          name: 'LoginRequiredError',
          code: 'invalid_grant',
          status: 400,
          login: true,
          storage: false,
          events: [{ type: 'expired', storage: false }],
        },
        'a refused renewal asks for a new sign-in',
      );
      // A value in the shared store (IndexedDB) that is not a token set.
      await one.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open('sigil', 1);
            open.onsuccess = () => {
              const tx = open.result.transaction('kv', 'readwrite');
              tx.objectStore('kv').put('{not json', 'sigil:tokens');
              tx.oncomplete = resolve;
              tx.onerror = () => reject(tx.error);
            };
            open.onerror = () => reject(open.error);
          }),
      );
      const corrupt = await outcome(one);
      assert.equal(corrupt.name, 'StorageError');
      assert.equal(corrupt.storage, true);
      assert.deepEqual(corrupt.events, [{ type: 'discarded', storage: true }]);
      // Discarded: the app keeps running, signed out.
      const after = await outcome(one);
      assert.equal(after.name, 'LoginRequiredError');
      assert.equal(after.code, 'not_authenticated');
      assert.equal(await one.locator('#status').innerText(), 'Signed in', 'the page still runs');
    } finally {
      await restore();
      await closeContext(context);
    }
  });

  test('without Web Locks and BroadcastChannel a tab still signs in and renews on its own', async () => {
    const context = await newContext({ clock: true });
    // An older browser: neither API exists before the app loads.
    await context.addInitScript(() => {
      delete Navigator.prototype.locks;
      delete globalThis.BroadcastChannel;
    });
    const { move, restore } = clocks(context);
    try {
      const page = await context.newPage();
      await signIn(page, 'Approve', false);
      assert.equal(await page.locator('#status').innerText(), 'Signed in');
      assert.deepEqual(
        await page.evaluate(() => ['locks' in navigator, typeof globalThis.BroadcastChannel]),
        [false, 'undefined'],
      );
      const first = await page.evaluate(() => window.sigil.accessToken());
      const before = await sigil.requests('/oauth/token');
      await move();
      const renewed = await page.evaluate(() => window.sigil.accessToken());
      assert.notEqual(renewed, first, 'renewed near expiry');
      assert.equal((await sigil.requests('/oauth/token')) - before, 1, 'one refresh');
    } finally {
      await restore();
      await closeContext(context);
    }
  });

  test('request() takes any header and body shape and an AbortSignal; signing keeps bytes', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await signIn(page, 'Approve', false);
      const out = await page.evaluate(async () => {
        const { sigil: s, sigilModule: m } = window;
        const sub = (await s.verifyToken(await s.accessToken())).sub;
        const json = JSON.stringify({ userId: sub });
        const type = 'application/json';
        const lookup = (headers, body) =>
          s.request('/app/v1/identity/lookup', { method: 'POST', headers, body });
        const statuses = [];
        for (const [headers, body] of [
          [new Map([['content-type', type]]), new TextEncoder().encode(json).buffer],
          [[['content-type', type]], new TextEncoder().encode(json)],
          [new Headers({ 'content-type': type }), json],
          [{ 'Content-Type': type }, json],
        ]) {
          statuses.push((await lookup(headers, body)).status);
        }
        const aborted = new AbortController();
        aborted.abort();
        const abort = await s.request('/v1/account', { signal: aborted.signal }).then(
          () => 'resolved',
          (e) => [e instanceof m.AbortError, e.code],
        );
        let noConfig;
        try {
          new m.Sigil();
        } catch (e) {
          noConfig = [e instanceof m.InvalidInputError, e.code];
        }
        // Bytes that are not UTF-8 are signed as they are.
        const bytes = new Uint8Array([0xff, 0x00, 0x80, 0x7f]);
        const signed = m.signRequest(
          { method: 'POST', url: 'https://api.example/v1/x', body: bytes },
          { keyId: 'k1', key: 'c2VjcmV0LWtleS1mb3ItdGhlLWhtYWMtdGVzdA', alg: 'hmac-sha256' },
        );
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        const expected = `sha-256=:${btoa(String.fromCharCode(...digest))}:`;
        return { statuses, abort, noConfig, digest: [signed['content-digest'], expected] };
      });
      assert.deepEqual(
        out.statuses,
        [200, 200, 200, 200],
        'Map, pairs, Headers and object headers',
      );
      assert.deepEqual(out.abort, [true, 'aborted']);
      assert.deepEqual(out.noConfig, [true, 'invalid_input']);
      assert.equal(out.digest[0], out.digest[1]);
    } finally {
      await closeContext(context);
    }
  });

  test('each storage option keeps the session where its docs say', async () => {
    const run = async (page) =>
      page.evaluate(async (apiKey) => {
        const m = window.sigilModule;
        const { issuer } = await (await fetch('/config.json')).json();
        const stored = (storage) =>
          Object.keys(storage).filter((k) => k.endsWith(':tokens')).length;
        const fresh = () => {
          sessionStorage.clear();
          localStorage.clear();
        };
        // The token sets in the SDK's IndexedDB store (null: no IndexedDB).
        const inIndexedDb = () =>
          globalThis.indexedDB
            ? new Promise((resolve, reject) => {
                const open = indexedDB.open('sigil', 1);
                open.onupgradeneeded = () => open.result.createObjectStore('kv');
                open.onsuccess = () => {
                  const keys = open.result.transaction('kv').objectStore('kv').getAllKeys();
                  keys.onsuccess = () => {
                    resolve(keys.result.filter((k) => k.endsWith(':tokens')).length);
                    open.result.close();
                  };
                  keys.onerror = () => reject(keys.error);
                };
                open.onerror = () => reject(open.error);
              })
            : null;
        const out = {};
        fresh();
        await new m.Sigil({ issuer, apiKey }).accessToken();
        out.memory = [stored(sessionStorage), stored(localStorage), await inIndexedDb()];
        fresh();
        await new m.Sigil({ issuer, apiKey, storage: 'session' }).accessToken();
        out.session = [stored(sessionStorage), stored(localStorage)];
        fresh();
        const map = new Map();
        const calls = [];
        const adapter = {
          get: async (k) => (calls.push('get'), map.get(k) ?? null),
          set: async (k, v) => (calls.push('set'), map.set(k, v)),
          delete: async (k) => (calls.push('delete'), map.delete(k)),
        };
        const first = await new m.Sigil({ issuer, apiKey, storage: adapter }).accessToken();
        // A second client on the same adapter takes the stored token.
        const second = await new m.Sigil({ issuer, apiKey, storage: adapter }).accessToken();
        out.adapter = [calls.includes('set'), first === second, stored(sessionStorage)];
        fresh();
        await new m.Sigil({ issuer, apiKey, storage: 'local' }).accessToken();
        out.local = [stored(sessionStorage), stored(localStorage), await inIndexedDb()];
        return out;
      }, FULL_KEY);
    const context = await newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${appOrigin}/`);
      await ready(page);
      const out = await run(page);
      assert.deepEqual(out.memory, [0, 0, 0], "'memory' (the default) writes no browser storage");
      assert.deepEqual(out.session, [1, 0], "'session' is sessionStorage");
      assert.deepEqual(out.adapter, [true, true, 0], 'an adapter holds the session, shared');
      assert.deepEqual(out.local, [0, 0, 1], "'local' is IndexedDB where it exists");
    } finally {
      await closeContext(context);
    }
    // Where IndexedDB is missing, 'local' falls back to localStorage.
    const old = await newContext();
    await old.addInitScript(() => {
      delete globalThis.indexedDB;
    });
    try {
      const page = await old.newPage();
      await page.goto(`${appOrigin}/`);
      await ready(page);
      assert.deepEqual((await run(page)).local, [0, 1, null]);
    } finally {
      await closeContext(old);
    }
  });

  test('a deny on the consent page reaches the app as access_denied', async () => {
    const fresh = await newContext();
    try {
      const page = await fresh.newPage();
      await signIn(page, 'Deny', false);
      assert.equal(await page.locator('#error').innerText(), 'OAuthError: access_denied');
      assert.equal(await page.locator('#status').innerText(), 'Signed out');
      assert.equal(new URL(page.url()).search, '', 'the callback parameters are gone here too');
    } finally {
      await closeContext(fresh);
    }
  });
});

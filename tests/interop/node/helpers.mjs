// Test helpers for the interop suites: start a real sigil-server process on a
// free loopback port, and a tiny cookie-keeping "browser" (plain fetch, no
// redirects followed, no JavaScript) that drives the server-rendered sign-in
// and consent pages the way a user would.

import { createRequire } from 'node:module';
// One way to start the server for every Node-run suite.
export const { startServer } = createRequire(import.meta.url)('../../js/test-server.cjs');

/** The `<input type="hidden">` fields of a page, entities decoded. */
export function hiddenFields(html) {
  const fields = [];
  const re = /<input type="hidden" name="([^"]*)" value="([^"]*)"/g;
  for (const m of html.matchAll(re)) fields.push([decode(m[1]), decode(m[2])]);
  return fields;
}

function decode(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e) => {
    if (e[0] === '#') {
      return String.fromCodePoint(
        e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10),
      );
    }
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
  });
}

/** A user agent with a cookie jar that never follows redirects. */
export class Browser {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  url(pathOrUrl) {
    return new URL(pathOrUrl, this.base).href;
  }

  async request(method, pathOrUrl, form) {
    const headers = {};
    if (this.jar.size) {
      headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(this.url(pathOrUrl), { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  get(pathOrUrl) {
    return this.request('GET', pathOrUrl);
  }

  post(pathOrUrl, form) {
    return this.request('POST', pathOrUrl, form);
  }

  /** The newest sign-in code the dev mailbox holds for `email`. */
  async mailboxCode(email) {
    const res = await fetch(this.url(`/dev/mailbox?to=${encodeURIComponent(email)}`));
    if (!res.ok) throw new Error(`mailbox: ${res.status}`);
    const { data } = await res.json();
    if (!data.length) throw new Error(`no mail for ${email}`);
    return data[0].code;
  }

  /** Signs in on the HTML pages, starting at `signinPath` (`/signin?...`). */
  async signIn(signinPath, email) {
    const form = await this.get(signinPath);
    expectStatus(form, 200, 'GET /signin');
    const sent = await this.post('/signin', [...hiddenFields(form.body), ['email', email]]);
    expectStatus(sent, 303, 'POST /signin');
    const verify = await this.get(sent.location);
    expectStatus(verify, 200, 'GET /signin/verify');
    const code = await this.mailboxCode(email);
    return this.post('/signin/verify', [...hiddenFields(verify.body), ['code', code]]);
  }

  /**
   * Plays the user from the authorization URL to the redirect back to the
   * client: authorize → consent → sign-in (if needed) → consent → decision.
   * Returns the `Location` the server sends the browser to.
   */
  async authorize(authorizationUrl, email, decision = 'approve') {
    const toConsent = await this.get(authorizationUrl);
    expectStatus(toConsent, 302, 'GET /oauth/authorize');
    const consentPath = toConsent.location;
    let page = await this.get(consentPath);
    if (page.status === 302 || page.status === 303) {
      const signedIn = await this.signIn(page.location, email);
      expectStatus(signedIn, 303, 'POST /signin/verify');
      page = await this.get(signedIn.location);
    }
    expectStatus(page, 200, 'GET /oauth/consent');
    const back = await this.post('/oauth/consent', [
      ...hiddenFields(page.body),
      ['decision', decision],
    ]);
    expectStatus(back, 302, 'POST /oauth/consent');
    return back.location;
  }
}

function expectStatus(page, status, what) {
  if (page.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${page.status}\n${page.body.slice(0, 2000)}`);
  }
}

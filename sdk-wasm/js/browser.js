// The browser face of @sigil/web's client: login by redirect, the callback
// with URL cleaning, storage choices, and tab coordination (Web Locks around
// renewals through the core's SharedLock, BroadcastChannel for token
// changes). Everything else is the core's, through the wasm NativeClient.
//
// Where Web Locks is missing, each tab renews on its own; where
// BroadcastChannel is missing, other tabs learn of changes only when they
// next read the shared storage. Both degrade to per-tab behaviour.

/** A storage object over `localStorage` or `sessionStorage`. */
function webStorage(storage) {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    delete: (key) => storage.removeItem(key),
  };
}

/**
 * A storage object over IndexedDB, for what the app's tabs share. Not
 * localStorage: Chromium copies a localStorage write to the other tabs'
 * renderer processes asynchronously, so a tab that takes the renewal lock
 * right after another tab renewed can still read the spent refresh token
 * (and its reuse revokes the session). An IndexedDB transaction that has
 * completed is seen by every later one, in any tab.
 */
function sharedStorage(name = 'sigil') {
  const db = new Promise((resolve, reject) => {
    const open = globalThis.indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const run = async (mode, op) => {
    const tx = (await db).transaction('kv', mode);
    const request = op(tx.objectStore('kv'));
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    get: async (key) => (await run('readonly', (s) => s.get(key))) ?? null,
    set: (key, value) => run('readwrite', (s) => s.put(value, key)),
    delete: (key) => run('readwrite', (s) => s.delete(key)),
  };
}

/**
 * The shared `Webhook` class (as @sigil/node's) over the module's handle
 * functions; the module throws its error classes itself.
 */
export function createWebhook(wasm) {
  return wasm.webhookClass(webhookNative(wasm));
}

/** The message buffer's largest size kept between verifies. */
const KEEP_BYTES = 1 << 20;

/**
 * The module's webhook functions, taking what the shared class passes (a
 * body as a string, which is UTF-8 text, or bytes). `webhookVerify` writes
 * the three header values and the body into the module's message buffer and
 * passes their lengths, which spares four allocations per verify (src/lib.rs,
 * `MESSAGE`).
 */
function webhookNative(wasm) {
  const encoder = new TextEncoder();
  // Read at the first verify: the web build's module loads after this runs.
  let memory;
  let view;
  let start = 0;
  let capacity = 0;
  // Writes a header value at `offset` as the bytes it stands for: the shared
  // class passes byte strings (a character per byte, none past 0xFF).
  const write = (text, offset) => {
    const n = text.length;
    for (let i = 0; i < n; i++) view[offset + i] = text.charCodeAt(i);
    return n;
  };
  const length = (value) => (value === undefined ? 0 : value.length);
  return {
    webhookNew: wasm.webhookNew,
    webhookHeaderNames: wasm.webhookHeaderNames,
    webhookSign: (handle, id, timestamp, body) =>
      wasm.webhookSign(
        handle,
        id,
        timestamp,
        typeof body === 'string' ? encoder.encode(body) : body,
      ),
    webhookVerify(handle, id, timestamp, signature, body, now) {
      // A byte per header character; UTF-8 takes at most 3 per UTF-16 unit.
      const text = typeof body === 'string';
      const need =
        length(id) + length(timestamp) + length(signature) + (text ? 3 : 1) * body.length;
      if (need > capacity) {
        start = wasm.messageBuffer(need);
        capacity = need;
      }
      const end = start + capacity;
      memory ??= wasm.moduleMemory();
      // Growing memory replaces its buffer.
      if (view?.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
      const idLength = id === undefined ? undefined : write(id, start);
      let offset = start + (idLength ?? 0);
      const timestampLength = timestamp === undefined ? undefined : write(timestamp, offset);
      offset += timestampLength ?? 0;
      const signatureLength = signature === undefined ? undefined : write(signature, offset);
      offset += signatureLength ?? 0;
      let bodyLength = body.length;
      if (text) bodyLength = encoder.encodeInto(body, view.subarray(offset, end)).written;
      else view.set(body, offset);
      const error = wasm.webhookVerify(
        handle,
        idLength,
        timestampLength,
        signatureLength,
        bodyLength,
        now,
      );
      // A buffer grown for a message over 1 MiB is freed after it, for the
      // module's other allocations (WebAssembly memory itself never shrinks).
      if (capacity > KEEP_BYTES) {
        wasm.messageBuffer(0);
        capacity = 0;
      }
      if (error !== undefined) throw error;
    },
  };
}

/** The shared `TokenVerifier` class (as @sigil/node's) over the module's. */
export function createTokenVerifier(wasm) {
  return wasm.tokenVerifierClass(wasm);
}

/**
 * RFC 9421 `signRequest` and `verifyRequest` over the module's own, which take
 * headers as pairs and the body as bytes beside the request: here `headers` is
 * an object, a `Headers`, a `Map` or pairs, and `body` a string (UTF-8) or
 * bytes, signed as they are.
 */
export function createSigning(wasm) {
  const parts = (request) => {
    if (typeof request !== 'object' || request === null) {
      throw new wasm.InvalidInputError('request must be an object', { code: 'invalid_input' });
    }
    const { method = 'GET', url, headers, body } = wasm.requestParts(request.url, request);
    return [{ method, url, headers }, body];
  };
  return {
    signRequest: (request, options) => {
      const [head, body] = parts(request);
      return Object.fromEntries(wasm.signRequest(head, options, body));
    },
    verifyRequest: (request, { now, ...options } = {}) => {
      const [head, body] = parts(request);
      return wasm.verifyRequest(head, options, now, body);
    },
  };
}

const CALLBACK_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'];

/** `Sigil` over the module `wasm` (the client build's exports, after `init()`). */
export function createSigil(wasm) {
  return class Sigil extends EventTarget {
    #native;
    #channel;

    /**
     * `config` as SYSTEM.md names it, plus `storage`: `'memory'` (default, this
     * tab only), `'session'` (this tab, survives reloads), `'local'` (persistent,
     * shared by the app's tabs: IndexedDB, or localStorage where IndexedDB is
     * missing) or an object with `get`/`set`/`delete`.
     */
    constructor(options) {
      super();
      if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        throw new wasm.InvalidInputError('config must be an object', { code: 'invalid_input' });
      }
      const { storage = 'memory', ...config } = options;
      let store;
      if (storage === 'local') {
        store = globalThis.indexedDB ? sharedStorage() : webStorage(globalThis.localStorage);
      } else if (storage === 'session') store = webStorage(globalThis.sessionStorage);
      else if (typeof storage === 'object') store = wasm.storageAdapter(storage);
      else if (storage !== 'memory')
        throw new wasm.InvalidInputError(
          "storage must be 'memory', 'session', 'local' or an object with get, set and delete",
          { code: 'invalid_input' },
        );
      // Pending logins stay with the tab that started them.
      const pending = globalThis.sessionStorage ? webStorage(globalThis.sessionStorage) : undefined;
      const shared = storage === 'local' || typeof storage === 'object';
      const name = `sigil:${config.issuer}:${config.clientId ?? ''}`;
      if (shared && typeof BroadcastChannel === 'function') {
        this.#channel = new BroadcastChannel(name);
        this.#channel.onmessage = (e) => this.#emit(e.data, true);
        // Under Node (node.cjs) an open channel would keep the process alive.
        this.#channel.unref?.();
      }
      const lock = shared && globalThis.navigator?.locks ? `${name}:renewal` : undefined;
      const listener = (event) => {
        this.#emit(event, false);
        this.#channel?.postMessage(event);
      };
      this.#native = new wasm.NativeClient(config, store, pending, listener, lock);
      const run =
        (op) =>
        (...args) =>
          this.#native.call(op, args);
      Object.assign(this, wasm.apiClients(wasm.operations(), run));
    }

    /**
     * `tokenChange` events: `event.detail` is `{ type, tokens?, error?, remote }`;
     * `discarded` (a corrupt stored value was deleted) carries a `StorageError`.
     */
    #emit(event, remote) {
      const detail = { ...event, remote };
      this.dispatchEvent(new CustomEvent('tokenChange', { detail }));
    }

    /** Redirects to the authorization server (PKCE; state and verifier in sessionStorage). */
    async login(options = {}) {
      const { url } = await this.#native.authorizationUrl(options);
      globalThis.location.assign(url);
    }

    /**
     * Checks the callback (`state`, `iss`; `error=` becomes `OAuthError`, e.g.
     * `access_denied`), exchanges the code once, stores the tokens, and removes
     * the callback parameters from the address bar either way.
     */
    async handleCallback(url = globalThis.location?.href) {
      try {
        return await this.#native.handleCallback(String(url));
      } finally {
        // Outside a page (tests under Node) there is no address bar.
        const here = globalThis.location && new URL(globalThis.location.href);
        if (here && String(url) === here.href) {
          for (const p of CALLBACK_PARAMS) here.searchParams.delete(p);
          globalThis.history.replaceState(globalThis.history.state, '', here.href);
        }
      }
    }

    /**
     * The authorization URL (PKCE; state and verifier in sessionStorage), for
     * an app that navigates itself (a popup); `login()` redirects to it.
     */
    authorizationUrl(options = {}) {
      return this.#native.authorizationUrl(options);
    }

    /** A valid access token, renewed once across tabs before it expires. */
    accessToken() {
      return this.#native.accessToken();
    }

    async tokens() {
      return (await this.#native.tokens()) ?? undefined;
    }

    /** Stores tokens obtained elsewhere as the session. */
    setTokens(tokens) {
      return this.#native.setTokens(tokens);
    }

    clientCredentials(scopes) {
      return this.#native.clientCredentials(scopes);
    }

    exchangeApiKey(apiKey, scopes) {
      return this.#native.exchangeApiKey(apiKey ?? null, scopes);
    }

    tokenExchange(options) {
      return this.#native.tokenExchange(options);
    }

    introspect(token, hint) {
      return this.#native.introspect(token, hint ?? null);
    }

    revoke(token, hint) {
      return this.#native.revoke(token, hint ?? null);
    }

    /** Revokes, forgets, and tells the other tabs. */
    logout() {
      return this.#native.logout();
    }

    discover() {
      return this.#native.discover();
    }

    verifyToken(token, options) {
      return this.#native.verifyToken(token, options);
    }

    /**
     * `fetch`-shaped and authenticated: replays once after a refresh on 401,
     * honours Retry-After on 429, accepts an `AbortSignal`. Error statuses
     * reject with the typed error.
     */
    async request(input, init) {
      const { method = 'GET', url, headers, body } = wasm.requestParts(input, init);
      const signal = init?.signal;
      const cancellation = new wasm.Cancellation();
      if (signal?.aborted) cancellation.abort();
      const onAbort = () => cancellation.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await this.#native.request(method, url, headers, body, cancellation);
        const nullBody = [101, 204, 205, 304].includes(res.status);
        return new Response(nullBody ? null : res.body, {
          status: res.status,
          headers: res.headers,
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  };
}

// Compile-only check of the public types of @sigil/web and @sigil/node: `tsc -p tests/js`
// (run by scripts/test-node.sh). Every export is used the way the README shows, and each
// `@ts-expect-error` proves a misuse is rejected (tsc fails if the line compiles).
// Nothing here runs.

import init, * as web from '@sigil/web';
import { initSync } from '@sigil/web';
import * as webNode from '../../sdk-wasm/node';
import * as node from '@sigil/node';
// The ESM entry's types (index.d.mts): the same names, and the module as default.
import nodeDefault, { Sigil as EsmSigil } from '@sigil/node/esm';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const rotation = [secret, 'whsec_YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtbG9uZyE='];
const headers = {
  'webhook-id': 'msg_1',
  'webhook-timestamp': '1000',
  'webhook-signature': 'v1,x',
};
const body = '{"type":"user.created"}';

interface UserCreated {
  type: 'user.created';
}

/** `instanceof` narrows `unknown` to each class, with the typed fields. */
function errorFields(
  e: unknown,
  sdk: typeof web | typeof webNode | typeof node,
): string | number | undefined {
  if (e instanceof sdk.RateLimitError) return e.retryAfter;
  if (e instanceof sdk.ApiError) return e.status;
  if (e instanceof sdk.OAuthError) return e.requestId;
  if (e instanceof sdk.TransportError) return e.message;
  if (e instanceof sdk.WebhookVerificationError) return e.code;
  if (e instanceof sdk.TokenExpiredError) return e.name;
  if (e instanceof sdk.TokenError) return e.code;
  if (e instanceof sdk.SignatureError) return e.code;
  if (e instanceof sdk.InvalidInputError) return e.code;
  if (e instanceof sdk.SigilError) {
    const error: Error = e;
    return error.stack;
  }
  return undefined;
}

/** The error classes are constructible with and without fields, and form a hierarchy. */
function errorClasses(sdk: typeof web | typeof webNode | typeof node): void {
  const fields: web.SigilErrorFields & node.SigilErrorFields = {
    code: 'rate_limited',
    status: 429,
    requestId: 'req_1',
    retryAfter: 1.5,
  };
  const all: InstanceType<typeof sdk.SigilError>[] = [
    new sdk.SigilError('m'),
    new sdk.SigilError('m', {}),
    new sdk.OAuthError('m', { code: 'invalid_grant', status: 400 }),
    new sdk.ApiError('m', fields),
    new sdk.RateLimitError('m', fields),
    new sdk.TransportError('m'),
    new sdk.WebhookVerificationError('m', { code: 'invalid_signature' }),
    new sdk.TokenError('m'),
    new sdk.TokenExpiredError('m'),
    new sdk.SignatureError('m'),
    new sdk.InvalidInputError('m', { code: 'invalid_input' }),
  ];
  const code: string = all[0].code;
  const status: number | undefined = all[0].status;
  const requestId: string | undefined = all[0].requestId;
  const retryAfter: number | undefined = all[0].retryAfter;
  const asError: Error = new sdk.TokenExpiredError('m');
  void [code, status, requestId, retryAfter, asError, errorFields(all[0], sdk)];

  // @ts-expect-error: the message is required.
  new sdk.SigilError();
  // @ts-expect-error: status is a number.
  new sdk.ApiError('m', { status: '400' });
  // @ts-expect-error: the fields are named, not positional.
  new sdk.SigilError('m', 'invalid_input');
}

/** The @sigil/web API, identical in its browser (index.d.ts) and Node (node.d.ts) entries. */
function webApi(sdk: typeof web | typeof webNode): void {
  const pair: web.Pkce = sdk.pkce();
  const method: 'S256' = pair.method;
  const challenge: string = sdk.pkceChallenge(pair.verifier);

  const one = new sdk.Webhook(secret);
  const many = new sdk.Webhook(rotation, 300);
  const verified: web.VerifiedWebhook = one.verify(headers, body);
  const payload: unknown = verified.payload;
  const typed = many.verify<UserCreated>(new Headers(headers), new Uint8Array(8), { now: 1000 });
  const type: 'user.created' = typed.payload.type;
  const id: string = typed.id;
  const timestamp: number = typed.timestamp;
  many.verify(new Map(Object.entries(headers)), new ArrayBuffer(8), {});
  many.verify({ 'webhook-id': 'msg_1', 'set-cookie': ['a', 'b'], absent: undefined }, body);
  const options: web.VerifyOptions = { now: 1000 };
  const bodies: web.WebhookBody[] = [body, new TextEncoder().encode(body), new ArrayBuffer(0)];
  const headerForms: web.WebhookHeaders[] = [headers, new Headers(), new Map()];
  const signature: string = one.sign('msg_1', 1000, body);
  one.sign('msg_1', 1000, new Uint8Array(0));
  one.free();
  many[Symbol.dispose]();
  void [method, challenge, payload, type, id, timestamp, options, bodies, headerForms, signature];

  // @ts-expect-error: a secret is a string, not a number.
  new sdk.Webhook(42);
  // @ts-expect-error: rotation takes an array of strings.
  new sdk.Webhook([secret, 42]);
  // @ts-expect-error: the tolerance is a number of seconds.
  new sdk.Webhook(secret, '300');
  // @ts-expect-error: the verifier is a string.
  sdk.pkceChallenge(42);
  // @ts-expect-error: the method is always S256.
  const plain: 'plain' = pair.method;
  // @ts-expect-error: the body is bytes or a string.
  one.verify(headers, 42);
  // @ts-expect-error: headers are an object, Headers or Map, not a string.
  one.verify('webhook-id: msg_1', body);
  // @ts-expect-error: `now` is UNIX seconds, not a Date.
  one.verify(headers, body, { now: new Date() });
  // @ts-expect-error: the payload is unknown until narrowed or typed.
  one.verify(headers, body).payload.type;
  // @ts-expect-error: the timestamp is UNIX seconds.
  one.sign('msg_1', '1000', body);
  void plain;

  // Offline verification against a JWKS you hold: the class @sigil/node has.
  const verifier = new sdk.TokenVerifier('{"keys":[]}', { audience: 'api' });
  const claims: web.Claims = verifier.verify('token', { now: 1000 });
  void claims;
  // @ts-expect-error: `now` is UNIX seconds, not a Date.
  verifier.verify('token', { now: new Date() });

  errorClasses(sdk);
}

/** Browser / bundler entry: init() before use. */
async function webInit(): Promise<void> {
  await init();
  await init({ module_or_path: new URL('https://example.test/sigil_wasm_bg.wasm') });
  await init({ module_or_path: fetch('/sigil_wasm_bg.wasm') });
  initSync({ module: new Uint8Array(8) });
  // (WebAssembly.Module is an empty interface in lib.dom, so the values themselves are
  // loosely typed; the option names are not.)
  // @ts-expect-error: init takes `{ module_or_path }`, initSync `{ module }`.
  await init({ module: new Uint8Array(8) });
  // @ts-expect-error: initSync takes `{ module }`.
  initSync({ module_or_path: new Uint8Array(8) });
}

/** @sigil/node: the same API, except that its Webhook holds no WebAssembly memory. */
function nodeApi(): void {
  const pair: node.Pkce = node.pkce();
  const method: 'S256' = pair.method;
  const challenge: string = node.pkceChallenge(pair.verifier);

  const one = new node.Webhook(secret);
  const many = new node.Webhook(rotation, 300);
  const verified: node.VerifiedWebhook = one.verify(headers, body);
  const typed = many.verify<UserCreated>(new Headers(headers), new Uint8Array(8), { now: 1000 });
  const type: 'user.created' = typed.payload.type;
  const id: string = typed.id;
  const timestamp: number = typed.timestamp;
  many.verify(new Map(Object.entries(headers)), new ArrayBuffer(8), {});
  // Node's IncomingHttpHeaders: repeated headers are arrays, absent ones undefined.
  many.verify({ 'webhook-id': 'msg_1', 'set-cookie': ['a', 'b'], absent: undefined }, body);
  const options: node.VerifyOptions = { now: 1000 };
  const bodies: node.WebhookBody[] = [body, new TextEncoder().encode(body), new ArrayBuffer(0)];
  const headerForms: node.WebhookHeaders[] = [headers, new Headers(), new Map()];
  const signature: string = one.sign('msg_1', 1000, body);
  one.sign('msg_1', 1000, new Uint8Array(0));
  void [method, challenge, verified, type, id, timestamp, options, bodies, headerForms, signature];

  // @ts-expect-error: a secret is a string, not a number.
  new node.Webhook(42);
  // @ts-expect-error: rotation takes an array of strings.
  new node.Webhook([secret, 42]);
  // @ts-expect-error: the verifier is a string.
  node.pkceChallenge(42);
  // @ts-expect-error: the body is bytes or a string.
  one.verify(headers, 42);
  // @ts-expect-error: the timestamp is UNIX seconds.
  one.sign('msg_1', '1000', body);
  // The Webhook class is shared with @sigil/web, free() included.
  new node.Webhook(secret).free();

  errorClasses(node);
}

/** @sigil/node's client: sessions, grants, typed API clients, offline helpers. */
async function nodeClient(): Promise<void> {
  const store = new Map<string, string>();
  const client = new node.Sigil({
    issuer: 'https://auth.example.com',
    apiKey: 'sgl_live_x',
    scopes: ['keys.read'],
    storage: {
      get: async (k) => store.get(k),
      set: async (k, v) => void store.set(k, v),
      delete: async (k) => store.delete(k),
    },
  });
  client.on('tokenChange', (event) => {
    if (event.type === 'refreshed') void event.tokens.accessToken;
  });
  const token: string = await client.accessToken();
  const tokens: node.Tokens | undefined = await client.tokens();
  const start = await client.authorizationUrl({
    redirectUri: 'http://127.0.0.1/cb',
    scopes: ['profile.basic'],
  });
  const fromCallback: node.Tokens = await client.handleCallback(new URL(start.url));
  const response: Response = await client.request('/v1/api-keys', {
    method: 'POST',
    json: { name: 'ci' },
    signal: AbortSignal.timeout(5000),
  });
  const key: node.CreatedApiKey = await client.management.apiKeys.create({
    name: 'ci',
    preset: 'read',
  });
  const agents: node.AgentList = await client.management.agents.list({ status: 'active' });
  const issued: node.Issuance = await client.management.tokens.issue({
    agent_id: 'agt_1',
    scope: ['a.b'],
  });
  if (issued.status === 'issued') void issued.token;
  const account: node.Account = await client.management.account.update({ alias: null });
  const cap: node.CapToken = await client.management.capTokens.create({
    appId: 'app_1',
    scopes: ['identity.read'],
    origins: ['https://app.example'],
  });
  const identity = await client.app.lookupIdentity('usr_1');
  const hooks: node.WebhookInfo[] = await client.app.webhooks.list();
  const claims: node.Claims = await client.verifyToken(token, {
    audience: 'api',
    requiredScopes: ['a.b'],
  });
  const intro: node.Introspection = await client.introspect(token);
  await client.revoke(token, 'access_token');
  await client.logout();
  const verifier = new node.TokenVerifier({ keys: [] }, { tokenType: 'agent' });
  const agentClaims: node.Claims = verifier.verify(token, { now: 1000 });
  const signed: Record<string, string> = node.signRequest(
    { method: 'POST', url: 'https://auth.example.com/v1/tokens', body: '{}' },
    { keyId: 'agt_1', key: 'sgl_ask_x' },
  );
  const checked: node.VerifiedRequest = node.verifyRequest(
    { method: 'POST', url: 'https://auth.example.com/v1/tokens', headers: signed, body: '{}' },
    { keys: { agt_1: { key: 'base64url-public-key' } }, requireNonce: true },
  );
  const event = await node.verifyWebhookRequest(
    new node.Webhook(secret),
    new Request('https://x.example'),
  );
  const middleware = node.webhookMiddleware(secret);
  void [
    tokens,
    fromCallback,
    response,
    key,
    agents,
    account,
    cap,
    identity,
    hooks,
    claims,
    intro,
    agentClaims,
    checked,
    event,
    middleware,
  ];

  // @ts-expect-error: the issuer is required.
  new node.Sigil({ apiKey: 'sgl_live_x' });
  // @ts-expect-error: renewal is one of three kinds.
  new node.Sigil({ issuer: 'https://a.example', renewal: 'password' });
  // @ts-expect-error: a key needs a name.
  await client.management.apiKeys.create({ preset: 'read' });
  // @ts-expect-error: a capability token needs scopes.
  await client.management.capTokens.create({ appId: 'app_1' });
  // @ts-expect-error: tokenChange listeners get a TokenEvent.
  client.on('tokenChange', (event: string) => event);
}

/** The browser client of @sigil/web: the same names and data types as @sigil/node. */
async function webClient(): Promise<void> {
  await init();
  const sigil = new web.Sigil({
    issuer: 'https://auth.example.com',
    clientId: 'app_spa',
    redirectUri: 'https://app.example.com/callback',
    scopes: ['profile.basic'],
    storage: 'local',
  });
  const memory = new web.Sigil({ issuer: 'https://auth.example.com', storage: 'memory' });
  const adapter = new web.Sigil({
    issuer: 'https://auth.example.com',
    storage: { get: async () => null, set: async () => undefined, delete: () => undefined },
  });
  sigil.addEventListener('tokenChange', (e) => {
    const detail: web.TokenChangeDetail = e.detail;
    const remote: boolean = detail.remote;
    if (detail.type === 'refreshed') {
      const fresh: web.Tokens = detail.tokens;
      void fresh;
    }
    if (detail.type === 'discarded') {
      const error: web.StorageError = detail.error;
      void error;
    }
    void remote;
  });
  await sigil.login({ scopes: ['profile.basic'], extra: { prompt: 'login' } });
  const fromCallback: web.Tokens = await sigil.handleCallback();
  await sigil.handleCallback(new URL('https://app.example.com/callback?code=x&state=y'));
  const token: string = await sigil.accessToken();
  const stored: web.Tokens | undefined = await sigil.tokens();
  const metadata: web.ServerMetadata = await sigil.discover();
  const claims: web.Claims = await sigil.verifyToken(token, { requiredScopes: ['profile.basic'] });
  const controller = new AbortController();
  const res: Response = await sigil.request('/app/v1/identity/lookup', {
    method: 'POST',
    json: { userId: claims.sub },
    headers: new Headers({ 'x-trace': '1' }),
    signal: controller.signal,
  });
  const keys: web.ApiKeyInfo[] = await sigil.management.apiKeys.list();
  const identity: { slug: string } = await sigil.app.lookupIdentity('usr_1');
  const hooks: web.WebhookInfo[] = await sigil.app.webhooks.list();
  const start: { url: string; state: string } = await sigil.authorizationUrl({ scopes: ['x'] });
  const exchanged: web.Tokens = await sigil.exchangeApiKey();
  const intro: web.Introspection = await sigil.introspect(token, 'access_token');
  await sigil.revoke(token);
  await sigil.setTokens(exchanged);
  const account: web.Account = await sigil.management.account.get();
  await sigil.logout();
  const signed: Record<string, string> = web.signRequest(
    { method: 'POST', url: 'https://api.example/x', headers: { a: 'b' }, body: '{}' },
    { keyId: 'agt_1', key: 'sgl_ask_x' },
  );
  const covered: web.VerifiedRequest = web.verifyRequest(
    { url: 'https://api.example/x', headers: new Map(Object.entries(signed)) },
    { keys: { agt_1: { key: 'x' } } },
  );
  void [memory, adapter, fromCallback, stored, metadata, res, keys, identity, hooks, covered];
  void [start, intro, account];

  // @ts-expect-error: the issuer is required.
  new web.Sigil({ clientId: 'app_spa' });
  // @ts-expect-error: storage is 'memory', 'session', 'local' or an adapter.
  new web.Sigil({ issuer: 'https://a.example', storage: 'cookie' });
  // @ts-expect-error: a key needs a name.
  await sigil.management.apiKeys.create({ preset: 'read' });
  // @ts-expect-error: login options are an object.
  await sigil.login('profile.basic');
  // @ts-expect-error: only tokenChange events.
  sigil.addEventListener('tokenchange', (e: CustomEvent<web.TokenChangeDetail>) => e);
  // @ts-expect-error: the signing key id is required.
  web.signRequest({ url: 'https://api.example/x' }, { key: 'x' });
  // @ts-expect-error: token exchange needs its options.
  await sigil.tokenExchange();
}

webApi(web);
webApi(webNode);
void webClient();
void webInit();
nodeApi();
void nodeClient();

/** `import sigil from '@sigil/node'` is the whole module, with the named exports. */
void ([nodeDefault.Sigil, EsmSigil] satisfies [typeof node.Sigil, typeof EsmSigil]);

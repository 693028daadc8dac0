// The @sigil/web conformance driver: the WebAssembly build with the client
// feature (sdk-wasm/pkg/node, built by scripts/test-wasm.sh), run under
// Node, whose global fetch is the transport the browser uses. Same protocol
// as the other drivers: one JSON command per line on stdin, one answer per
// line on stdout (`{id, ok}` or `{id, error: {class, code, status, ...}}`).
import { createRequire } from 'node:module';
import { serve } from '../../tests/js/driver-loop.mjs';

const require = createRequire(import.meta.url);
const web = require('../pkg/node/sigil_wasm.js');

const clients = new Map();

function client(handle) {
  const c = clients.get(handle);
  if (!c) throw new Error(`no client \`${handle}\``);
  return c;
}

const pairs = (headers) => Object.entries(headers ?? {});

const commands = {
  newClient({ config }) {
    const handle = `c${clients.size + 1}`;
    clients.set(handle, new web.NativeClient(config));
    return handle;
  },
  pkce: () => web.pkce(),
  discover: (a) => client(a.client).discover(),
  authorizationUrl: (a) => client(a.client).authorizationUrl(a.options),
  handleCallback: (a) => client(a.client).handleCallback(a.url),
  accessToken: (a) => client(a.client).accessToken(),
  tokens: async (a) => (await client(a.client).tokens()) ?? null,
  setTokens: (a) => client(a.client).setTokens(a.tokens),
  logout: (a) => client(a.client).logout(),
  async request(a) {
    const body = a.body === undefined ? undefined : new TextEncoder().encode(a.body);
    const res = await client(a.client).request(
      a.method ?? 'GET',
      a.url,
      pairs(a.headers),
      body,
      new web.Cancellation(),
    );
    const headers = {};
    for (const [name, value] of res.headers) {
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { status: res.status, headers, body: new TextDecoder().decode(res.body) };
  },
  clientCredentials: (a) => client(a.client).clientCredentials(a.scopes),
  exchangeApiKey: (a) => client(a.client).exchangeApiKey(a.apiKey ?? null, a.scopes),
  tokenExchange: (a) => client(a.client).tokenExchange(a.options),
  introspect: (a) => client(a.client).introspect(a.token, a.hint ?? null),
  revoke: (a) => client(a.client).revoke(a.token, a.hint ?? null),
  verifyToken: (a) => client(a.client).verifyToken(a.token, a.options),
  call: (a) => client(a.client).call(a.op, a.args ?? []),
  signRequest: (a) =>
    Object.fromEntries(
      web.signRequest({ ...a.request, headers: pairs(a.request.headers) }, a.options),
    ),
  verifyRequest: (a) =>
    web.verifyRequest({ ...a.request, headers: pairs(a.request.headers) }, a.options),
  verifyWebhook: (a) => new web.Webhook(a.secrets).verify(a.headers, a.body),
  signWebhook: (a) => new web.Webhook(a.secrets).sign(a.id, a.timestamp, a.body),
};

await serve(commands);

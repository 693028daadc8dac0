// The @sigil/node conformance driver. The runner (tests/, `sigil-conformance`)
// holds every scenario; this process only maps one primitive command to one
// call of the public package API, so Node is held to the same assertions as
// every other SDK. Protocol: one JSON object per line on stdin,
// `{"id":N,"cmd":"<name>","args":{...}}`, answered in order on stdout with
// `{"id":N,"ok":<result>}` or `{"id":N,"error":{class,code,status,requestId,retryAfter,message}}`.
import { serve } from '../../tests/js/driver-loop.mjs';
import { Sigil, Webhook, signRequest, verifyRequest, pkce } from '../index.mjs';

const clients = new Map();

function client(handle) {
  const c = clients.get(handle);
  if (!c) throw new Error(`no client \`${handle}\``);
  return c;
}

/** `resource.method` on the client's typed API objects, as an application calls it. */
function operation(c, op) {
  const [resource, method] = op.split('.');
  const api =
    resource === 'app'
      ? c.app
      : resource === 'appWebhooks'
        ? c.app.webhooks
        : c.management[resource];
  const fn = api?.[method];
  if (typeof fn !== 'function') throw new Error(`no operation \`${op}\``);
  return fn;
}

const commands = {
  newClient({ config }) {
    const handle = `c${clients.size + 1}`;
    clients.set(handle, new Sigil(config));
    return handle;
  },
  pkce: () => pkce(),
  discover: (a) => client(a.client).discover(),
  authorizationUrl: (a) => client(a.client).authorizationUrl(a.options),
  handleCallback: (a) => client(a.client).handleCallback(a.url),
  accessToken: (a) => client(a.client).accessToken(),
  tokens: (a) => client(a.client).tokens(),
  setTokens: (a) => client(a.client).setTokens(a.tokens),
  logout: (a) => client(a.client).logout(),
  async request(a) {
    const res = await client(a.client).request(a.url, {
      method: a.method,
      headers: a.headers,
      body: a.body,
    });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  },
  clientCredentials: (a) => client(a.client).clientCredentials(a.scopes),
  exchangeApiKey: (a) => client(a.client).exchangeApiKey(a.apiKey, a.scopes),
  tokenExchange: (a) => client(a.client).tokenExchange(a.options),
  introspect: (a) => client(a.client).introspect(a.token, a.hint),
  revoke: (a) => client(a.client).revoke(a.token, a.hint),
  verifyToken: (a) => client(a.client).verifyToken(a.token, a.options),
  call: (a) => operation(client(a.client), a.op)(...(a.args ?? [])),
  signRequest: (a) => signRequest(a.request, a.options),
  verifyRequest: (a) => verifyRequest(a.request, a.options),
  verifyWebhook: (a) => new Webhook(a.secrets).verify(a.headers, a.body),
  signWebhook: (a) => new Webhook(a.secrets).sign(a.id, a.timestamp, a.body),
};

await serve(commands);

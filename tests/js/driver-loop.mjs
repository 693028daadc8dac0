// The JSON-lines loop of the JavaScript conformance drivers (@sigil/node and
// @sigil/web), and their commands: one call of the package's public API each.
// Both packages have the same names, so one table serves both.
// Protocol: one `{"id":N,"cmd":"<name>","args":{...}}` per line on stdin,
// answered in order on stdout with `{"id":N,"ok":<result>}` or
// `{"id":N,"error":{class,code,status,requestId,retryAfter,message}}`.
import { createInterface } from 'node:readline';

/** The error as the runner compares it: the class name and the typed fields. */
function errorInfo(e) {
  return {
    class: e?.constructor?.name ?? 'Error',
    code: e?.code,
    status: e?.status,
    requestId: e?.requestId,
    retryAfter: e?.retryAfter,
    message: String(e?.message ?? e),
  };
}

async function answer(commands, line) {
  let id = null;
  try {
    const command = JSON.parse(line);
    id = command.id;
    const run = commands[command.cmd];
    if (!run) throw new Error(`unknown command \`${command.cmd}\``);
    const ok = await run(command.args ?? {});
    return { id, ok: ok ?? null };
  } catch (e) {
    return { id, error: errorInfo(e) };
  }
}

/** Answers the runner's commands until stdin closes. */
export async function serve(commands) {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    process.stdout.write(`${JSON.stringify(await answer(commands, line))}\n`);
  }
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

/** The runner's commands over a package's public API. */
export function sdkCommands({ Sigil, Webhook, TokenVerifier, signRequest, verifyRequest, pkce }) {
  const clients = new Map();
  const client = (handle) => {
    const c = clients.get(handle);
    if (!c) throw new Error(`no client \`${handle}\``);
    return c;
  };
  return {
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
    // Concurrent calls on one client, as an app's request handlers make them.
    concurrentAccessTokens: (a) => {
      const c = client(a.client);
      if (!Number.isInteger(a.count) || a.count < 1)
        throw new Error('`count` must be a positive integer');
      return Promise.all(Array.from({ length: a.count }, () => c.accessToken()));
    },
    tokens: (a) => client(a.client).tokens(),
    setTokens: (a) => client(a.client).setTokens(a.tokens),
    logout: (a) => client(a.client).logout(),
    async request(a) {
      const res = await client(a.client).request(a.url, {
        method: a.method,
        headers: a.headers,
        body: a.body,
      });
      return {
        status: res.status,
        headers: Object.fromEntries(res.headers),
        body: await res.text(),
      };
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
    verifyOffline: (a) => new TokenVerifier(a.jwks, a.options).verify(a.token, { now: a.now }),
  };
}

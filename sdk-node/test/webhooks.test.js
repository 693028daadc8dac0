'use strict';
// Real webhook deliveries from sigil-server to a plain node:http receiver on
// 127.0.0.1 (test mode allows loopback targets; the SSRF guard refuses them
// otherwise), verified on the raw body four ways: verifyWebhookIncoming on the
// IncomingMessage, webhookMiddleware after an express.raw-style parser,
// webhookMiddleware after an express.json-style parser (RawBodyRequiredError),
// and verifyWebhookRequest on a fetch Request. Each route is its own endpoint
// with its own secret; creating one API key (`key.created`) reaches all four.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const {
  Sigil,
  Webhook,
  verifyWebhookIncoming,
  verifyWebhookRequest,
  webhookMiddleware,
  WebhookVerificationError,
  RawBodyRequiredError,
} = require('..');
const { startServer, waitFor, fixtures } = require('../../tests/js/test-server.cjs');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Express's `res.status(c).json(o)` on a plain ServerResponse. */
function expressResponse(res) {
  res.status = (code) => {
    res.statusCode = code;
    return res;
  };
  res.json = (value) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(value));
    return res;
  };
  return res;
}

/** Runs Express-style middleware; resolves to what it passed to `next` or answered. */
function runMiddleware(middleware, req, res) {
  return new Promise((resolve) => {
    const end = res.end.bind(res);
    res.end = (...args) => {
      end(...args);
      resolve({ answered: res.statusCode });
    };
    middleware(req, res, (err) => resolve({ next: err ?? null }));
  });
}

describe(
  'webhook deliveries from the server, verified on the raw body',
  { timeout: 60_000 },
  () => {
    let server;
    let receiver;
    let client;
    let key;
    const secrets = {};
    /** Everything each route saw, by route. */
    const seen = { plain: [], raw: [], parsed: [], fetch: [] };

    before(async () => {
      server = await startServer();
      client = new Sigil({ issuer: server.base, apiKey: fixtures.fullKey });
      receiver = http.createServer(async (req, res) => {
        const route = new URL(req.url, 'http://x').pathname.slice(1);
        const record = { headers: req.headers };
        try {
          if (route === 'plain') {
            // No body parser ran: the helper reads the stream itself.
            record.event = await verifyWebhookIncoming(new Webhook(secrets.plain), req);
          } else if (route === 'raw') {
            req.body = await readBody(req); // express.raw({ type: 'application/json' })
            record.raw = req.body;
            record.outcome = await runMiddleware(
              webhookMiddleware(secrets.raw),
              req,
              expressResponse(res),
            );
            record.event = req.webhook;
          } else if (route === 'parsed') {
            record.raw = await readBody(req);
            req.body = JSON.parse(record.raw); // express.json(): the raw bytes are gone
            record.outcome = await runMiddleware(
              webhookMiddleware([secrets.parsed]),
              req,
              expressResponse(res),
            );
          } else if (route === 'fetch') {
            record.raw = await readBody(req);
            const request = new Request(`http://127.0.0.1${req.url}`, {
              method: 'POST',
              headers: Object.entries(req.headers),
              body: record.raw,
            });
            record.event = await verifyWebhookRequest(new Webhook(secrets.fetch), request);
          }
        } catch (e) {
          record.error = e;
        }
        (seen[route] ?? []).push(record);
        // Always acknowledge, so the server does not retry.
        if (!res.writableEnded) res.writeHead(204).end();
      });
      await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const { port } = receiver.address();
      for (const route of Object.keys(seen)) {
        const created = await client.management.webhooks.create({
          url: `http://127.0.0.1:${port}/${route}`,
          events: ['key.created'],
          description: `node test: ${route}`,
        });
        assert.match(created.secret, /^whsec_/);
        assert.equal(created.status, 'active');
        secrets[route] = created.secret;
      }
      // The event: creating an API key emits `key.created` to all four endpoints.
      key = await client.management.apiKeys.create({ name: 'webhook-probe', preset: 'read' });
      await waitFor(
        () => Object.values(seen).every((list) => list.length >= 1),
        'a delivery on every route',
      );
    });

    after(async () => {
      await server?.stop();
      await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve()));
    });

    it('key.created reaches a plain http receiver and verifies (verifyWebhookIncoming)', async () => {
      const [{ event, error, headers }] = seen.plain;
      assert.equal(error, undefined, error?.message);
      assert.equal(event.payload.type, 'key.created');
      assert.equal(event.payload.data.keyId, key.id);
      assert.equal(event.payload.data.name, 'webhook-probe');
      assert.equal(event.id, headers['webhook-id']);
      assert.match(event.id, /^msg_/);
      assert.ok(Math.abs(event.timestamp - Date.now() / 1000) < 600, 'timestamp in seconds');
      assert.equal(event.timestamp, Number(headers['webhook-timestamp']));
    });

    it('webhookMiddleware after express.raw sets req.webhook and calls next()', () => {
      const [{ outcome, event, error }] = seen.raw;
      assert.equal(error, undefined, error?.message);
      assert.deepEqual(outcome, { next: null });
      assert.equal(event.payload.type, 'key.created');
    });

    it('webhookMiddleware after express.json passes RawBodyRequiredError to next', () => {
      const [{ outcome, error }] = seen.parsed;
      assert.equal(error, undefined, error?.message);
      assert.ok(outcome.next instanceof RawBodyRequiredError, String(outcome.next));
      assert.equal(outcome.next.code, 'raw_body_required');
      assert.match(outcome.next.message, /express\.raw/);
    });

    it('verifyWebhookRequest verifies a fetch Request', async () => {
      const [{ event, error, raw, headers }] = seen.fetch;
      assert.equal(error, undefined, error?.message);
      assert.equal(event.payload.type, 'key.created');
      // A Request whose body was already read is refused with the fix named.
      const used = new Request('http://127.0.0.1/fetch', {
        method: 'POST',
        headers: Object.entries(headers),
        body: raw,
      });
      await used.json();
      await assert.rejects(verifyWebhookRequest(new Webhook(secrets.fetch), used), (e) => {
        assert.ok(e instanceof RawBodyRequiredError);
        return true;
      });
    });

    it('the same delivery fails with another endpoint secret, a changed byte, or out of tolerance', () => {
      const [{ raw, headers }] = seen.raw;
      // The baseline: the right secret verifies these exact bytes.
      assert.equal(new Webhook(secrets.raw).verify(headers, raw).payload.type, 'key.created');
      const refusals = [
        () => new Webhook(secrets.plain).verify(headers, raw),
        () => new Webhook(secrets.raw).verify(headers, Buffer.from(` ${raw}`)),
        () => new Webhook(secrets.raw).verify(headers, raw.toString().replace('read', 'reap')),
        () =>
          new Webhook(secrets.raw).verify(headers, raw, {
            now: Number(headers['webhook-timestamp']) + 3600,
          }),
        () =>
          new Webhook(secrets.raw).verify(headers, raw, {
            now: Number(headers['webhook-timestamp']) - 3600,
          }),
      ];
      const codes = refusals.map((refuse) => {
        try {
          refuse();
        } catch (e) {
          assert.ok(e instanceof WebhookVerificationError, e.message);
          return e.code;
        }
        return 'accepted';
      });
      assert.deepEqual(codes.slice(0, 3), [
        'invalid_signature',
        'invalid_signature',
        'invalid_signature',
      ]);
      assert.ok(
        codes.slice(3).every((c) => c !== 'accepted' && c !== 'invalid_signature'),
        `tolerance codes: ${codes.slice(3)}`,
      );
    });

    it('the server records the deliveries as delivered', async () => {
      const [hook] = (await client.management.webhooks.list()).filter((w) =>
        w.url.endsWith('/plain'),
      );
      const deliveries = await waitFor(async () => {
        const list = await client.management.webhooks.deliveries(hook.id);
        return list.some((d) => d.status === 'delivered') && list;
      }, 'a delivered delivery');
      const delivered = deliveries.find((d) => d.status === 'delivered');
      assert.equal(delivered.eventType, 'key.created');
      assert.equal(delivered.lastStatusCode, 204);
      assert.equal(delivered.webhookId, seen.plain[0].event.id);
    });
  },
);

describe(
  'webhook header values are byte strings, as Node and fetch hold them',
  { timeout: 60_000 },
  () => {
    const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"type":"key.created"}';

    it('a UTF-8 webhook-id arrives as Latin-1 text and verifies on its bytes', () => {
      const id = 'msg_é€';
      const signature = wh.sign(id, ts, body); // the sender signs the UTF-8 bytes
      // What node:http (and undici's Headers) give for those bytes on the wire.
      const received = Buffer.from(id, 'utf8').toString('latin1');
      const headers = {
        'webhook-id': received,
        'webhook-timestamp': String(ts),
        'webhook-signature': signature,
      };
      assert.equal(wh.verify(headers, body).payload.type, 'key.created');
      assert.equal(wh.verify(new Headers(headers), body).id, received);
    });

    it('header bytes that are not UTF-8 are a malformed header, not a crash', () => {
      const headers = {
        'webhook-id': 'msg_\u00e9', // one byte, 0xE9: no sender could have signed it as text
        'webhook-timestamp': String(ts),
        'webhook-signature': wh.sign('msg_x', ts, body),
      };
      assert.throws(
        () => wh.verify(headers, body),
        (e) => e instanceof WebhookVerificationError && e.code === 'invalid_header',
      );
    });
  },
);

// The browser entry (index.mjs over pkg/web) in real headless Chromium: pkce() and
// the Standard Webhooks spec vector, run inside the page; and the README's browser
// quick start, unchanged (an import map resolves '@sigil/web' to index.mjs), whose console output
// must be the README's ```text block after it.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlock } from '../../tests/js/readme.cjs';
import { contentType, launchChromium } from './chromium.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const vectorsFile = path.join(root, '..', 'tests', 'vectors', 'standards.json');

const page = `<!doctype html><meta charset="utf-8"><title>sigil web test</title>
<script type="module">
import init, * as sigil from '/index.mjs';
try {
  await init();
  const vectors = await (await fetch('/vectors/standards.json')).json();
  const spec = vectors.standard_webhooks[0];
  const p = sigil.pkce();
  const wh = new sigil.Webhook(spec.secret, 300);
  const headers = new Headers({ 'webhook-id': spec.id, 'webhook-timestamp': String(spec.timestamp), 'webhook-signature': spec.signature });
  const verified = wh.verify(headers, new TextEncoder().encode(spec.body), { now: spec.now });
  let tampered;
  try { wh.verify(headers, spec.body + ' ', { now: spec.now }); } catch (e) {
    tampered = { webhookError: e instanceof sigil.WebhookVerificationError, sigilError: e instanceof sigil.SigilError, name: e.name, code: e.code };
  }
  window.__result = {
    pkce: { ...p, challengeMatches: sigil.pkceChallenge(p.verifier) === p.challenge },
    rfc7636: sigil.pkceChallenge(vectors.pkce_rfc7636.code_verifier) === vectors.pkce_rfc7636.code_challenge,
    verified, expectedPayload: JSON.parse(spec.body), spec: { id: spec.id, timestamp: spec.timestamp },
    signed: wh.sign(spec.id, spec.timestamp, spec.body) === spec.signature,
    tampered,
  };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
</script>`;

const readme = readmeBlock(
  readFileSync(path.join(root, 'README.md'), 'utf8'),
  '### Browser (ES modules)',
  'js',
);
const readmePage = `<!doctype html><meta charset="utf-8"><title>sigil README quick start</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "@sigil/web": "/index.mjs" } }</script>
<script type="module">
${readme.code.replaceAll('</script', '<\\/script')}
</script>`;

function serve() {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      let body, file;
      if (url.pathname === '/') {
        body = page;
        file = 'index.html';
      } else if (url.pathname === '/readme') {
        body = readmePage;
        file = 'readme.html';
      } else if (url.pathname === '/vectors/standards.json') {
        file = vectorsFile;
        body = await fs.readFile(file);
      } else if (
        url.pathname === '/index.mjs' ||
        url.pathname.startsWith('/pkg/web/') ||
        url.pathname.startsWith('/js/')
      ) {
        // The browser entry of the package: index.mjs, js/ and pkg/web.
        file = path.join(root, path.normalize(url.pathname));
        const inside = ['index.mjs', 'js', path.join('pkg', 'web')].some((p) =>
          file.startsWith(path.join(root, p)),
        );
        if (!inside) throw new Error('outside');
        body = await fs.readFile(file);
      } else {
        throw new Error('not found');
      }
      res.writeHead(200, {
        'content-type': contentType(file),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function launch(t) {
  const server = await serve();
  t.after(() => server.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const tab = await browser.newPage();
  const logs = [];
  tab.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  tab.on('pageerror', (e) => logs.push(`pageerror: ${e}`));
  return { tab, logs, origin: `http://127.0.0.1:${server.address().port}` };
}

test('web build in headless Chromium: pkce() and the spec webhook vector', async (t) => {
  const { tab, logs, origin } = await launch(t);
  await tab.goto(`${origin}/`);
  await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 20000 });
  const r = await tab.evaluate(() => window.__result);
  assert.equal(r.error, undefined, `${r.error}\n${logs.join('\n')}`);
  assert.equal(r.pkce.method, 'S256');
  assert.equal(r.pkce.verifier.length, 43);
  assert.ok(r.pkce.challengeMatches);
  assert.ok(r.rfc7636);
  assert.equal(r.verified.id, r.spec.id);
  assert.equal(r.verified.timestamp, r.spec.timestamp);
  assert.deepEqual(r.verified.payload, r.expectedPayload);
  assert.ok(r.signed);
  assert.deepEqual(r.tampered, {
    webhookError: true,
    sigilError: true,
    name: 'WebhookVerificationError',
    code: 'invalid_signature',
  });
});

test('README browser quick start in headless Chromium prints what the README shows', async (t) => {
  assert.ok(readme.output, 'the README shows no ```text output block after the browser code');
  const expected = readme.output.trimEnd().split('\n');
  const { tab, logs, origin } = await launch(t);
  await tab.goto(`${origin}/readme`);
  const done = () =>
    logs.some((l) => l.startsWith('pageerror:') || l.startsWith('error:')) ||
    logs.length >= expected.length;
  for (let waited = 0; !done() && waited < 20000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(
    logs,
    expected.map((line) => `log: ${line}`),
    logs.join('\n'),
  );
});

// @sigil/web through a bundler, as a user's app gets it: `npm pack` of this
// package (so its `files` list too) unpacked into the node_modules of the tiny
// app in test/bundle/, built by Vite (client build: the browser export
// conditions, so package.json `exports` picks index.mjs, not node.cjs), then
// served from the build output on loopback and run in headless Chromium. The
// `.wasm` must be an emitted, hashed asset that pkg/web finds through
// `new URL(..., import.meta.url)`. Prints what a bundler ships, gzipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, version as viteVersion } from 'vite';
import { contentType, launchChromium } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgRoot = path.resolve(here, '..');
const vectorsFile = path.join(pkgRoot, '..', 'tests/vectors/standards.json');
const vectors = JSON.parse(readFileSync(vectorsFile, 'utf8'));
const WAIT_MS = 20_000;

let tmp;
let outDir;
let server;
let browser;
/** The paths the browser asked the server for. */
const requested = [];

/** The app in a temp dir, with the packed @sigil/web in its node_modules. */
function makeApp() {
  const app = path.join(tmp, 'app');
  cpSync(path.join(here, 'bundle'), app, { recursive: true });
  cpSync(vectorsFile, path.join(app, 'public/standards.json'));
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: pkgRoot,
      encoding: 'utf8',
      timeout: 60_000,
    }),
  );
  const installed = path.join(app, 'node_modules/@sigil/web');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, filename), '-C', installed, '--strip-components=1'], {
    timeout: 60_000,
  });
  return app;
}

/** Serves the build output (nothing else) on loopback. */
function serve(dir) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      const { pathname } = new URL(req.url, 'http://x');
      requested.push(pathname);
      const file = path.join(dir, path.normalize(pathname === '/' ? '/index.html' : pathname));
      try {
        if (!file.startsWith(dir + path.sep)) throw new Error('outside');
        const body = readFileSync(file);
        res.writeHead(200, { 'content-type': contentType(file) }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

before(
  async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'sigil-bundle-'));
    outDir = path.join(tmp, 'dist');
    await build({
      root: makeApp(),
      configFile: false,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    server = await serve(outDir);
    browser = await launchChromium();
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const assets = () => readdirSync(path.join(outDir, 'assets'));

test(`vite ${viteVersion} build emits the .wasm as a hashed asset`, () => {
  const wasm = assets().filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm asset (pkg/web's, not pkg/node's): ${assets()}`);
  assert.match(wasm[0], /^sigil_wasm_bg-[\w-]{8,}\.wasm$/);
  assert.ok(
    readFileSync(path.join(outDir, 'assets', wasm[0])).equals(
      readFileSync(path.join(pkgRoot, 'pkg/web/sigil_wasm_bg.wasm')),
    ),
    'the asset is pkg/web/sigil_wasm_bg.wasm, unchanged',
  );
  const js = assets().filter((f) => f.endsWith('.js'));
  assert.ok(js.length >= 1, `a JS chunk: ${assets()}`);
  assert.ok(
    js.some((f) => readFileSync(path.join(outDir, 'assets', f), 'utf8').includes(wasm[0])),
    'the JS names the hashed .wasm',
  );
  // What a bundler ships (gzip -9, as scripts/test-wasm.sh measures pkg/web).
  const sizes = (files) => {
    const bytes = files.map((f) => readFileSync(path.join(outDir, 'assets', f)));
    const raw = bytes.reduce((n, b) => n + b.length, 0);
    const gz = bytes.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
    return `${raw} B (gzip -9: ${gz} B)`;
  };
  assert.ok(
    readFileSync(path.join(pkgRoot, 'README.md'), 'utf8')
      .replace(/\s+/g, ' ')
      .includes(`Vite ${viteVersion}`),
    `the README names the Vite version tested (${viteVersion})`,
  );
  console.log(
    `vite ${viteVersion} build of test/bundle: JS ${sizes(js)} [${js}], wasm ${sizes(wasm)}`,
  );
});

test('the built app runs in headless Chromium', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e}`));
  try {
    const { port } = server.address();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-result]', { timeout: WAIT_MS });
    const r = JSON.parse(await page.evaluate(() => document.body.dataset.result));
    assert.equal(r.error, undefined, `${r.error}\n${logs.join('\n')}`);
    // No fallback warning from instantiateStreaming, nor any other.
    assert.deepEqual(logs, []);
    assert.ok(
      requested.some((p) => /^\/assets\/sigil_wasm_bg-[\w-]+\.wasm$/.test(p)),
      `the page fetched the hashed .wasm: ${requested}`,
    );

    assert.equal(r.pkce.method, 'S256');
    assert.match(r.pkce.challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.match(r.pkce.verifier, /^[A-Za-z0-9._~-]{43,128}$/);
    assert.equal(r.rfc7636, vectors.pkce_rfc7636.code_challenge);

    const spec = vectors.standard_webhooks.find((v) => v.name === 'spec_vector_valid');
    assert.deepEqual(r.webhook, {
      id: spec.id,
      timestamp: spec.timestamp,
      payload: JSON.parse(spec.body),
    });
    assert.deepEqual(r.sigil, { constructed: true, login: 'function' });
    assert.deepEqual(r.thrown, {
      invalidInput: true,
      sigilError: true,
      name: 'InvalidInputError',
      code: 'invalid_input',
    });
  } finally {
    await page.close();
  }
});

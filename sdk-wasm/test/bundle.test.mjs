// @sigil/web through the bundlers apps are built with, as a user's app gets
// it: `npm pack` of this package (so its `files` list too) unpacked into the
// node_modules of the tiny app in test/bundle/, built for the browser by Vite,
// webpack and esbuild (browser export conditions, so package.json `exports`
// picks index.mjs, not node.cjs), each build served from its output on
// loopback and run in headless Chromium. Vite and webpack emit the `.wasm` as
// a hashed asset that pkg/web finds through `new URL(..., import.meta.url)`;
// esbuild leaves that URL as it is, so its build gets the file copied beside
// the bundle, as the README tells esbuild users to do. Prints what each
// bundler ships, gzipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { build as viteBuild, version as viteVersion } from 'vite';
import webpack from 'webpack';
import { contentType, launchChromium } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgRoot = path.resolve(here, '..');
const vectorsFile = path.join(pkgRoot, '..', 'tests/vectors/standards.json');
const vectors = JSON.parse(readFileSync(vectorsFile, 'utf8'));
const webWasm = readFileSync(path.join(pkgRoot, 'pkg/web/sigil_wasm_bg.wasm'));
const WAIT_MS = 20_000;

/** The app's own files a build serves beside the bundle (Vite copies public/ itself). */
function copyPublic(app, out) {
  cpSync(path.join(app, 'public'), out, { recursive: true });
}

/**
 * esbuild leaves `new URL(..., import.meta.url)` as it is, so the build puts
 * pkg/web's module at `wasmPath` in its output, as the README tells esbuild
 * users to; `url`, when given, is defined as the app's SIGIL_WASM_URL.
 */
function esbuildBuild(dir, wasmPath, url) {
  return {
    name: `esbuild ${esbuild.version}`,
    dir,
    wasm: new RegExp(`^${wasmPath.replace(/\./g, '\\.')}$`),
    async build(app, out) {
      const result = await esbuild.build({
        absWorkingDir: app,
        entryPoints: ['main.js'],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        minify: true,
        define: url === undefined ? {} : { SIGIL_WASM_URL: JSON.stringify(url) },
        outfile: path.join(out, 'main.js'),
        logLevel: 'silent',
      });
      assert.deepEqual([...result.errors, ...result.warnings], []);
      cpSync(path.join(app, 'index.html'), path.join(out, 'index.html'));
      cpSync(
        path.join(app, 'node_modules/@sigil/web/pkg/web/sigil_wasm_bg.wasm'),
        path.join(out, wasmPath),
      );
      copyPublic(app, out);
    },
  };
}

/**
 * Each bundler: its name as the README gives it, how it builds the app into
 * `out`, and the path its `.wasm` must have there.
 */
const BUNDLERS = [
  {
    name: `Vite ${viteVersion}`,
    dir: 'vite',
    wasm: /^assets\/sigil_wasm_bg-[\w-]{8,}\.wasm$/,
    async build(app, out) {
      await viteBuild({
        root: app,
        configFile: false,
        logLevel: 'warn',
        // Served under /vite/ beside the other builds.
        base: '/vite/',
        build: { outDir: out, emptyOutDir: true },
      });
    },
  },
  {
    name: `webpack ${webpack.version}`,
    dir: 'webpack',
    wasm: /^[0-9a-f]{16,}\.wasm$/,
    async build(app, out) {
      const stats = await new Promise((resolve, reject) =>
        webpack(
          {
            mode: 'production',
            context: app,
            entry: './main.js',
            target: 'web',
            output: { path: out, filename: 'main.js' },
            performance: { hints: false },
          },
          (err, result) => (err ? reject(err) : resolve(result)),
        ),
      );
      if (stats.hasErrors() || stats.hasWarnings())
        throw new Error(stats.toString('errors-warnings'));
      // A classic script: webpack's default `publicPath: 'auto'` finds the
      // assets from `document.currentScript`, which module scripts lack.
      const html = readFileSync(path.join(app, 'index.html'), 'utf8');
      const classic = html.replace(
        '<script type="module" src="./main.js"></script>',
        '<script defer src="./main.js"></script>',
      );
      assert.notEqual(classic, html, 'the app page loads main.js');
      writeFileSync(path.join(out, 'index.html'), classic);
      copyPublic(app, out);
    },
  },
  esbuildBuild('esbuild', 'sigil_wasm_bg.wasm'),
  // The other way the README gives: the module served elsewhere, its URL
  // passed to `init()` (the app reads it from SIGIL_WASM_URL).
  esbuildBuild('esbuild-url', 'static/sigil.wasm', '/esbuild-url/static/sigil.wasm'),
];

let tmp;
let server;
let browser;
/** The paths the browser asked the server for. */
const requested = [];

/** The app in a temp dir, with the packed @sigil/web in its node_modules. */
function makeApp() {
  const app = path.join(tmp, 'app');
  cpSync(path.join(here, 'bundle'), app, { recursive: true });
  mkdirSync(path.join(app, 'public'));
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

/** Serves the builds (nothing else) on loopback: `/<bundler dir>/...`. */
function serve(dir) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      const { pathname } = new URL(req.url, 'http://x');
      requested.push(pathname);
      const file = path.join(
        dir,
        path.normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname),
      );
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

const outOf = (bundler) => path.join(tmp, 'dist', bundler.dir);

before(
  async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'sigil-bundle-'));
    const app = makeApp();
    for (const bundler of BUNDLERS) await bundler.build(app, outOf(bundler));
    server = await serve(path.join(tmp, 'dist'));
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The build's files, as paths relative to its output folder. */
const files = (bundler) =>
  readdirSync(outOf(bundler), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(outOf(bundler), path.join(e.parentPath, e.name)));

/** The build's `.wasm`, checked to be pkg/web's, unchanged. */
function wasmOf(bundler) {
  const wasm = files(bundler).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm (pkg/web's, not pkg/node's): ${files(bundler)}`);
  assert.match(wasm[0], bundler.wasm);
  assert.ok(
    readFileSync(path.join(outOf(bundler), wasm[0])).equals(webWasm),
    'the .wasm is pkg/web/sigil_wasm_bg.wasm, unchanged',
  );
  return wasm[0];
}

const readme = readFileSync(path.join(pkgRoot, 'README.md'), 'utf8').replace(/\s+/g, ' ');

for (const bundler of BUNDLERS) {
  test(`${bundler.name} builds the app with pkg/web's .wasm (${bundler.dir}/)`, () => {
    const wasm = wasmOf(bundler);
    const js = files(bundler).filter((f) => f.endsWith('.js'));
    assert.ok(js.length >= 1, `a JS chunk: ${files(bundler)}`);
    const text = js.map((f) => readFileSync(path.join(outOf(bundler), f), 'utf8')).join('\n');
    assert.ok(
      text.includes(path.basename(wasm)),
      `the JS names the .wasm (${path.basename(wasm)})`,
    );
    assert.ok(
      readme.includes(bundler.name),
      `the README names the version tested (${bundler.name})`,
    );
    // What a bundler ships (gzip -9, as scripts/test-wasm.sh measures pkg/web).
    const sizes = (list) => {
      const bytes = list.map((f) => readFileSync(path.join(outOf(bundler), f)));
      const raw = bytes.reduce((n, b) => n + b.length, 0);
      const gz = bytes.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
      return `${raw} B (gzip -9: ${gz} B)`;
    };
    console.log(
      `${bundler.name} build of test/bundle: JS ${sizes(js)} [${js}], wasm ${sizes([wasm])}`,
    );
  });

  test(
    `the app ${bundler.name} built runs in headless Chromium (${bundler.dir}/)`,
    { timeout: 60_000 },
    async () => {
      const wasm = wasmOf(bundler);
      const page = await browser.newPage();
      const logs = [];
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e}`));
      try {
        const { port } = server.address();
        await page.goto(`http://127.0.0.1:${port}/${bundler.dir}/`);
        await page.waitForSelector('body[data-result]', { timeout: WAIT_MS });
        const r = JSON.parse(await page.evaluate(() => document.body.dataset.result));
        assert.equal(r.error, undefined, `${r.error}\n${logs.join('\n')}`);
        // No fallback warning from instantiateStreaming, nor any other.
        assert.deepEqual(logs, []);
        assert.ok(
          requested.includes(`/${bundler.dir}/${wasm}`),
          `the page fetched the .wasm: ${requested}`,
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
    },
  );
}

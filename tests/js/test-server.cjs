'use strict';
// Shared by the Node-run suites (@sigil/node, @sigil/web end to end, the
// interop clients; not a test file itself): starts a real
// `sigil-server serve --test-mode` process with the example fixtures and an
// in-memory database on a free loopback port, and reads its /metrics. The
// binary is $SIGIL_SERVER (scripts/test.sh exports it), else
// target/debug/sigil-server ($CARGO_TARGET_DIR honoured).

const { spawn } = require('node:child_process');
const { createServer } = require('node:net');
const { existsSync } = require('node:fs');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '../..');

/** Known values from reference-server/fixtures.example.json. */
const fixtures = {
  /** alice's key, preset `full`. */
  fullKey: 'sgl_test_bELURrAIJLHruJuP4cPaQXZ4xWHCDkJf2V0H7Z',
  /** bob's key, scopes `keys.read`. */
  readKey: 'sgl_test_xYZCIpBJ8DUFfR8JxW2EObjLFImZYDJ54dQOsO',
  /** A confidential app. */
  backend: {
    clientId: 'app_ci_backend',
    clientSecret: 'sgl_cs_ci-known-client-secret-0000000000000000',
  },
  /** A public app (user sessions renew with refresh tokens). */
  spa: { clientId: 'app_ci_spa' },
};

function serverBinary() {
  if (process.env.SIGIL_SERVER) return path.resolve(repoRoot, process.env.SIGIL_SERVER);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, 'target');
  return path.join(targetDir, 'debug', 'sigil-server');
}

/** A loopback port nothing listens on (just now). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server; `args` are extra `serve` flags (e.g. low rate limits).
 * Resolves once /healthz answers to
 * `{ base, stop, requests(route, filter?), advanceClock(seconds), log() }`.
 * `fixturesFile` replaces the example fixtures.
 */
async function startServer({ args = [], timeoutMs = 20_000, fixturesFile } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build -p sigil-server`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      'serve',
      '--bind',
      `127.0.0.1:${port}`,
      '--database',
      'sqlite::memory:',
      '--test-mode',
      '--fixtures',
      fixturesFile ?? path.join(repoRoot, 'reference-server/fixtures.example.json'),
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SIGIL_LOG: 'warn' } },
  );
  // Never outlive the test process, whatever happens to it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 200_000) stderr += d;
  });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    process.removeListener('exit', killOnExit);
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited)
      throw new Error(`sigil-server exited early (${JSON.stringify(exited)}):\n${stderr}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sigil-server did not become healthy in ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 3_000).unref();
    });

  /**
   * How many requests the server counted on `route` (its route template, e.g.
   * `/auth/token/exchange`), from `sigil_http_requests_total` in GET /metrics;
   * `filter` narrows by `method` and/or `status`.
   */
  async function requests(route, filter = {}) {
    const text = await (await fetch(`${base}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      const m = /^sigil_http_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)$/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries(
        [...m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
      );
      if (labels.route !== route) continue;
      if (filter.method && labels.method !== filter.method) continue;
      if (filter.status && labels.status !== String(filter.status)) continue;
      total += Number(m[2]);
    }
    return total;
  }

  /** Moves the server's test clock (`POST /_test/clock`); resolves to its new now. */
  async function advanceClock(seconds) {
    const res = await fetch(`${base}/_test/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advance: seconds }),
    });
    if (!res.ok) throw new Error(`POST /_test/clock: ${res.status} ${await res.text()}`);
    return (await res.json()).now;
  }

  return { base, stop, requests, advanceClock, log: () => stderr };
}

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs`. */
async function waitFor(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

module.exports = { startServer, freePort, waitFor, fixtures, repoRoot };

'use strict';
// The README's quick start, exactly as written: the first ```js block after
// "## Quick start", run unchanged in a child process whose node_modules/@sigil/node
// links to this package; its output must be the README's ```text block after it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { readmeBlock, runNode, assertRan } = require('../../tests/js/readme.cjs');
const { startServer, fixtures } = require('../../tests/js/test-server.cjs');

const pkgDir = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');

test('README quick start runs as written and prints what the README shows', () => {
  const { code, output } = readmeBlock(readme, '## Quick start', 'js');
  assert.match(code, /require\('@sigil\/node'\)/);
  const result = runNode(code, 'quickstart.js', { links: { '@sigil/node': pkgDir } });
  assertRan(result, output);
  assert.match(result.stdout, /^S256 true\nverified .*\nrejected invalid_signature\n$/);
});

test('README backend quick start runs as written against a real server', async () => {
  const { code, output } = readmeBlock(readme, '## Backend quick start', 'js');
  const server = await startServer();
  try {
    process.env.SIGIL_ISSUER = server.base;
    process.env.SIGIL_API_KEY = fixtures.fullKey;
    assertRan(runNode(code, 'backend.js', { links: { '@sigil/node': pkgDir } }), output);
  } finally {
    delete process.env.SIGIL_ISSUER;
    delete process.env.SIGIL_API_KEY;
    await server.stop();
  }
});

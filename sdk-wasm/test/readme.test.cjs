'use strict';
// The README's two quick starts, as written, each compared with the ```text
// output block after it:
// - "## Quick start" (Node, CommonJS) runs unchanged in a child process whose
//   node_modules/@sigil/web links to this package, so the `node` export
//   condition picks pkg/node as it does for users;
// - "### Browser (ES modules)" runs under Node against the browser entry: only
//   the import of '@sigil/web' is pointed at index.mjs (under Node the package
//   name resolves to node.cjs), and a preloaded fetch() serves file: URLs so the
//   block's own `await init()` loads sigil_wasm_bg.wasm next to the module.
// browser.test.mjs runs the browser block in headless Chromium too.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { readmeBlock, replaceOnce, runNode, assertRan } = require('../../tests/js/readme.cjs');

const pkgDir = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');

const fetchFileUrls = `import { readFile } from 'node:fs/promises';
const networkFetch = globalThis.fetch;
globalThis.fetch = async (input, options) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') return networkFetch(input, options);
  const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
  return new Response(await readFile(url), { headers: { 'content-type': type } });
};
`;

test('README Node quick start runs as written against pkg/node', () => {
  const { code, output } = readmeBlock(readme, '## Quick start', 'js');
  assert.match(code, /require\('@sigil\/web'\)/);
  const result = runNode(code, 'quickstart.js', { links: { '@sigil/web': pkgDir } });
  assertRan(result, output);
  assert.match(result.stdout, /^S256 true\nverified .*\nrejected invalid_signature\n$/);
});

test('README browser (ESM) quick start runs under Node against index.mjs', () => {
  const { code, output } = readmeBlock(readme, '### Browser (ES modules)', 'js');
  assert.match(code, /^await init\(\);$/m, 'the browser quick start calls init()');
  const web = pathToFileURL(path.join(pkgDir, 'index.mjs')).href;
  const local = replaceOnce(code, "from '@sigil/web'", `from ${JSON.stringify(web)}`);
  const result = runNode(local, 'quickstart.mjs', {
    nodeArgs: ['--import', './fetch-file-urls.mjs'],
    extraFiles: { 'fetch-file-urls.mjs': fetchFileUrls },
  });
  assertRan(result, output);
  assert.match(result.stdout, /^S256 43 43\nverified .*\nrejected invalid_signature\n$/);
});

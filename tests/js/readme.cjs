'use strict';
// Helpers for the README tests of @sigil/node and @sigil/web: extract a fenced
// code block and the output block after it from a README and run it in a child
// Node process, in a temporary directory whose node_modules links the package
// names to the local builds (so `require('@sigil/node')` runs unchanged).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// Fences of the form ```lang ... ``` at the start of a line.
function fences(markdown) {
  const blocks = [];
  const re = /^```(\w*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m; (m = re.exec(markdown));) blocks.push({ lang: m[1], code: m[2], index: m.index });
  return blocks;
}

/**
 * The first ```<lang> block after the line `heading` (exact match), and the
 * ```text block right after it (the documented output), if the next fence is one.
 */
function readmeBlock(markdown, heading, lang) {
  const at = markdown.search(
    new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
  );
  assert.ok(at >= 0, `README has no "${heading}" heading`);
  const blocks = fences(markdown).filter((b) => b.index > at);
  const i = blocks.findIndex((b) => b.lang === lang);
  assert.ok(i >= 0, `no \`\`\`${lang} block after "${heading}"`);
  const next = blocks[i + 1];
  return { code: blocks[i].code, output: next && next.lang === 'text' ? next.code : null };
}

/** Replaces `from` with `to`, asserting `from` occurs exactly once. */
function replaceOnce(code, from, to) {
  assert.equal(code.split(from).length - 1, 1, `expected exactly one ${from} in the README code`);
  return code.replace(from, () => to);
}

/**
 * Writes `code` to `file` in a temporary directory and runs it there with this Node.
 * `links` maps package names to directories (symlinked into node_modules),
 * `extraFiles` names to contents. Returns spawnSync's result.
 */
function runNode(code, file, { links = {}, nodeArgs = [], extraFiles = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigil-readme-'));
  try {
    for (const [name, target] of Object.entries(links)) {
      const link = path.join(dir, 'node_modules', ...name.split('/'));
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(target, link, 'dir');
    }
    for (const [name, text] of Object.entries(extraFiles)) {
      fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, file), code);
    return spawnSync(process.execPath, [...nodeArgs, path.join(dir, file)], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts a clean exit and that stdout is exactly the README's output block. */
function assertRan(result, expectedOutput) {
  const context = `\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
  assert.equal(result.error, undefined, `could not run the README code: ${result.error}`);
  assert.equal(result.status, 0, `the README code exited with ${result.status}${context}`);
  assert.ok(expectedOutput, 'the README shows no ```text output block after the code');
  assert.equal(result.stdout, expectedOutput, `output differs from the README${context}`);
}

module.exports = { readmeBlock, replaceOnce, runNode, assertRan };

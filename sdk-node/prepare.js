'use strict';
// Assembles @sigil/node from the build outputs, after
// `cargo build --release -p sigil-node`: the native addon (sigil.node) and
// errors.js, the CommonJS form of the one error module both JS packages share
// (sdk-wasm/js/errors.js, whose final `export {` becomes `module.exports = {`).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
// `cargo build --release` writes target/release; `napi build` writes
// target/<host triple>/release. The newest addon wins.
const releaseDirs = [path.join(targetDir, 'release')].concat(
  fs.existsSync(targetDir)
    ? fs.readdirSync(targetDir).map((d) => path.join(targetDir, d, 'release'))
    : [],
);
const addon = releaseDirs
  .flatMap((dir) =>
    ['libsigil_node.so', 'libsigil_node.dylib', 'sigil_node.dll'].map((n) => path.join(dir, n)),
  )
  .filter((file) => fs.existsSync(file))
  .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
if (!addon) {
  throw new Error(
    `no native addon under ${targetDir}: run cargo build --release -p sigil-node first`,
  );
}
// Copy, then rename over: a running process that has the old file mapped
// keeps it, where rewriting in place would crash it.
const staged = path.join(__dirname, `.sigil.node.${process.pid}`);
fs.copyFileSync(addon, staged);
fs.renameSync(staged, path.join(__dirname, 'sigil.node'));

const esm = fs.readFileSync(path.join(root, 'sdk-wasm', 'js', 'errors.js'), 'utf8');
const cjs = esm.replace(/^export \{$/m, 'module.exports = {');
if (cjs === esm) throw new Error('sdk-wasm/js/errors.js has no final `export {`');
const header =
  "'use strict';\n// Generated from sdk-wasm/js/errors.js by prepare.js; do not edit.\n";
const stagedErrors = path.join(__dirname, `.errors.js.${process.pid}`);
fs.writeFileSync(stagedErrors, header + cjs);
fs.renameSync(stagedErrors, path.join(__dirname, 'errors.js'));
// The types both packages share (errors, the core's data, the API resources).
const stagedTypes = path.join(__dirname, `.types.d.ts.${process.pid}`);
fs.copyFileSync(path.join(root, 'sdk-wasm', 'js', 'types.d.ts'), stagedTypes);
fs.renameSync(stagedTypes, path.join(__dirname, 'types.d.ts'));
console.log(`sdk-node: sigil.node (${fs.statSync(addon).size} bytes) errors.js and types.d.ts`);

// That a package's .d.ts declares exactly the values its entry exports at
// run time, by name: the entry is loaded, and `tsc` checks a generated file
// that sets those names against `typeof import(specifier)` both ways.
// (TypeScript 7 has no compiler API to read the declarations from JS.)
//
//   node tests/js/exports-check.mjs ENTRY SPECIFIER
//   e.g. node tests/js/exports-check.mjs sdk-wasm/index.mjs @sigil/web
//
// SPECIFIER is resolved through tests/js/tsconfig.json `paths`; `@sigil/web/node`
// names sdk-wasm/node.d.ts (the Node entry's types).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [entry, specifier] = process.argv.slice(2);
if (!entry || !specifier) {
  console.error('usage: node tests/js/exports-check.mjs ENTRY SPECIFIER');
  process.exit(2);
}
const file = path.resolve(entry);
const loaded = /\.(c?js)$/.test(file)
  ? createRequire(import.meta.url)(file)
  : await import(pathToFileURL(file).href);
const names = Object.keys(loaded).sort();

const union = names.map((n) => JSON.stringify(n)).join(' | ');
const check = `import type * as declared from '${specifier}';
type Declared = keyof typeof declared;
type Exported = ${union};
// Each is \`never\` when the sets agree; otherwise tsc names the difference.
export const declaredButNotExported: never = null as unknown as Exclude<Declared, Exported>;
export const exportedButNotDeclared: never = null as unknown as Exclude<Exported, Declared>;
`;
// Inside tests/js, so the base config's paths and node_modules types resolve.
const dir = mkdtempSync(path.join(here, '.exports-'));
try {
  writeFileSync(path.join(dir, 'check.ts'), check);
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: { noUnusedLocals: false },
      files: ['check.ts'],
    }),
  );
  execFileSync(path.join(here, 'node_modules/.bin/tsc'), ['-p', dir], { stdio: 'inherit' });
} catch (e) {
  console.error(`${entry}: its exports and the .d.ts of ${specifier} differ (above)`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (!process.exitCode)
  console.log(`${entry}: exports the ${names.length} values ${specifier} declares, no more`);

// Types of the ESM entry of @sigil/node (index.mjs): the CommonJS entry's
// named exports, and the whole module as the default export.
export * from './index.js';
import * as sigil from './index.js';
export default sigil;

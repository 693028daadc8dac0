// Node entry (`node.cjs` over `pkg/node`): ready on require, no init step; the
// same exports as the browser entry, less `init`.
export * from './api';
export type { BrowserConfig, BrowserStorage, TokenChangeDetail } from './index';
export { Sigil, signRequest, verifyRequest } from './index';

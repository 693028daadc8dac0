// Node entry (`node.cjs` over `pkg/node`): ready on require, no init step; the
// same `Sigil` class and signing functions as the browser entry.
export * from './api';
export type { BrowserConfig, BrowserStorage, TokenChangeDetail } from './index';
export { Sigil, signRequest, verifyRequest } from './index';

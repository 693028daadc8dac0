// Browser / bundler entry (`pkg/web`): call the default `init()` once before anything else.
export * from './api';

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the WebAssembly module (by default `sigil_wasm_bg.wasm` next to the JS file). */
export default function init(moduleOrPath?: {
  module_or_path: InitInput | Promise<InitInput>;
}): Promise<unknown>;

/** Instantiates the module synchronously from bytes or a compiled module. */
export function initSync(module: { module: BufferSource | WebAssembly.Module }): unknown;

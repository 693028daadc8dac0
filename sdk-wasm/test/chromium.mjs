// What the headless-Chromium tests share: Debian's /usr/bin/chromium (or
// $CHROMIUM) launched by playwright-core with no sandbox, no GPU and no
// background traffic, and the content types their loopback servers send (the
// `.wasm` one is what WebAssembly.instantiateStreaming needs).
import path from 'node:path';
import { chromium } from 'playwright-core';

const CONTENT_TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** The content type a loopback server sends for `file`. */
export const contentType = (file) =>
  CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';

/** A headless Chromium; the caller closes it. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

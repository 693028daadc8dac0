// What the browser brings to @sigil/web besides fetch: time, and the Web
// Locks API for renewals shared by tabs. Imported by the Rust side only.

/** `setTimeout` as a promise (Date.now() is read directly). */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Takes the Web Lock `name`, waiting at most `timeoutMs`, and resolves to the
 * function that releases it. Resolves to `null` where Web Locks is missing or
 * the wait timed out: the caller then renews on its own (per-tab behaviour).
 */
export function acquireLock(name, timeoutMs) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return Promise.resolve(null);
  return new Promise((resolve) => {
    locks
      .request(
        name,
        { signal: AbortSignal.timeout(timeoutMs) },
        () => new Promise((release) => resolve(release)),
      )
      .catch(() => resolve(null));
  });
}

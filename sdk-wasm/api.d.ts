import type { Claims, VerifyTokenOptions } from './js/types';

/** A PKCE verifier with its S256 challenge. */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** A fresh PKCE verifier and its S256 challenge. */
export function pkce(): Pkce;

/** The S256 challenge of `verifier`; throws `InvalidInputError` when invalid. */
export function pkceChallenge(verifier: string): string;

export interface VerifyOptions {
  /** Verify as if the time were `now` (UNIX seconds). Defaults to `Date.now()`. */
  now?: number;
}

export interface VerifiedWebhook<T = unknown> {
  /** `webhook-id`: stable across retries, use it to deduplicate. */
  id: string;
  /** `webhook-timestamp`, UNIX seconds. */
  timestamp: number;
  /** The parsed JSON body. */
  payload: T;
}

/** A plain object, a `Headers` or a `Map`; non-string values are ignored. */
export type WebhookHeaders =
  Headers | Map<string, string> | Record<string, string | string[] | undefined>;

/** Raw body bytes; a string is taken as UTF-8. */
export type WebhookBody = Uint8Array | ArrayBuffer | string;

/** Standard Webhooks verifier and signer. */
export class Webhook {
  /**
   * @param secrets one `whsec_…` secret, or several during a rotation
   * @param toleranceSeconds allowed clock skew each way (default 300)
   */
  constructor(secrets: string | string[], toleranceSeconds?: number);
  /** Verifies the raw body; throws `WebhookVerificationError` with a `code`. */
  verify<T = unknown>(
    headers: WebhookHeaders,
    body: WebhookBody,
    options?: VerifyOptions,
  ): VerifiedWebhook<T>;
  /** The `webhook-signature` header value for a message. */
  sign(id: string, timestamp: number, body: WebhookBody): string;
  /**
   * Releases the WebAssembly memory now instead of at garbage collection;
   * later calls throw `InvalidInputError`.
   */
  free(): void;
  [Symbol.dispose](): void;
}

/** Verifies Sigil access and agent tokens against a JWKS you hold. */
export class TokenVerifier {
  constructor(jwks: string | { keys: unknown[] }, options?: VerifyTokenOptions);
  verify(token: string, options?: { now?: number }): Claims;
}

export * from './js/types';

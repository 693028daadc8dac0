// Public types of @sigil/node. The classes and functions wrap the Rust core
// (sdk-core) one to one; field names are the core's serde names (camelCase).

import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

export * from './types';
import type {
  AppApi,
  AuthorizationOptions,
  BodyInput,
  Claims,
  HeadersInput,
  Introspection,
  Management,
  ServerMetadata,
  SigilConfig,
  SigilRequestInit,
  SignableRequest,
  SignRequestOptions,
  TokenEvent,
  TokenExchangeOptions,
  Tokens,
  VerifiedRequest,
  VerifyRequestOptions,
  VerifyTokenOptions,
} from './types';

// ---------------------------------------------------------------- PKCE

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

// ---------------------------------------------------------------- client

export class Sigil extends EventEmitter {
  constructor(config: SigilConfig);
  on(event: 'tokenChange', listener: (event: TokenEvent) => void): this;
  once(event: 'tokenChange', listener: (event: TokenEvent) => void): this;
  off(event: 'tokenChange', listener: (event: TokenEvent) => void): this;
  /** The server's RFC 8414 metadata (discovered once). */
  discover(): Promise<ServerMetadata>;
  /** The authorization URL (PKCE S256); the transaction waits in storage under its `state`. */
  authorizationUrl(options?: AuthorizationOptions): Promise<{ url: string; state: string }>;
  /** Checks `state`, `iss` and `error=`, exchanges the code once, stores the tokens. */
  handleCallback(url: string | URL): Promise<Tokens>;
  /** A valid access token, renewed once (single-flight) near expiry. */
  accessToken(): Promise<string>;
  tokens(): Promise<Tokens | undefined>;
  setTokens(tokens: Tokens): Promise<void>;
  /** Revokes the refresh and access tokens and forgets them. */
  logout(): Promise<void>;
  clientCredentials(scopes?: string[]): Promise<Tokens>;
  /** With a key: one exchange. Without: the configured `apiKey`'s cached, renewed token. */
  exchangeApiKey(apiKey?: string, scopes?: string[]): Promise<Tokens>;
  tokenExchange(options: TokenExchangeOptions): Promise<Tokens>;
  introspect(token: string, hint?: string): Promise<Introspection>;
  revoke(token: string, hint?: string): Promise<void>;
  /** Offline verification against the server's JWKS (cached, refetched on an unknown `kid`). */
  verifyToken(token: string, options?: VerifyTokenOptions): Promise<Claims>;
  /** Authenticated request: 401 → renew and replay once; 429/503 → Retry-After; rejects on error statuses. */
  request(url: string | URL, init?: SigilRequestInit): Promise<Response>;
  /** `/v1`. */
  readonly management: Management;
  /** `/app/v1` (the session must hold an app token). */
  readonly app: AppApi;
}

export function operations(): string[];

// ---------------------------------------------------------------- webhooks

export interface VerifyOptions {
  /** Verify as if the time were `now` (UNIX seconds). Defaults to the system clock. */
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

/**
 * `req.headers`, any plain object, a fetch `Headers` or a `Map`. Header values that are
 * not strings (e.g. repeated headers as arrays) are ignored.
 */
export type WebhookHeaders =
  Record<string, string | string[] | undefined> | Headers | Map<string, string>;

/** Raw body bytes (a `Buffer` is a `Uint8Array`); a string is taken as UTF-8. */
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
  /** Drops the native verifier; later calls throw `InvalidInputError`. */
  free(): void;
  [Symbol.dispose](): void;
}

/** Verifies a webhook on a Node request (reads the body itself when no parser ran). */
export function verifyWebhookIncoming<T = unknown>(
  webhook: Webhook,
  req: IncomingMessage & { body?: unknown },
  options?: VerifyOptions,
): Promise<VerifiedWebhook<T>>;

/** Express middleware: `req.webhook` is the verified event; a bad signature answers 400. */
export function webhookMiddleware(
  secrets: string | string[] | Webhook,
  options?: { toleranceSeconds?: number },
): (
  req: IncomingMessage & { body?: unknown; webhook?: VerifiedWebhook },
  res: unknown,
  next: (err?: unknown) => void,
) => void;

/** Verifies a fetch-style `Request` (Next.js route handlers, Hono) on its raw body. */
export function verifyWebhookRequest<T = unknown>(
  webhook: Webhook,
  request: Request,
  options?: VerifyOptions,
): Promise<VerifiedWebhook<T>>;

// ---------------------------------------------------------------- offline

/** Verifies Sigil access and agent tokens against a JWKS you hold. */
export class TokenVerifier {
  constructor(jwks: string | { keys: unknown[] }, options?: VerifyTokenOptions);
  verify(token: string, options?: { now?: number }): Claims;
}

/** The headers to add (`content-digest`, `signature-input`, `signature`). */
export function signRequest(
  request: SignableRequest,
  options: SignRequestOptions,
): Record<string, string>;

/** Verifies an RFC 9421 signature (and Content-Digest); throws `SignatureError`. */
export function verifyRequest(
  request: SignableRequest,
  options: VerifyRequestOptions,
): VerifiedRequest;

/** Does nothing; measures the cost of one native call. */
export function noop(): void;

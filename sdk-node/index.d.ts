// Public types of @sigil/node. The classes and functions wrap the Rust core
// (sdk-core) one to one; field names are the core's serde names (camelCase).

import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

// ---------------------------------------------------------------- errors

export interface SigilErrorFields {
  code?: string;
  status?: number;
  requestId?: string;
  retryAfter?: number;
  cause?: unknown;
}

/** Base class of every error the SDK throws. */
export class SigilError extends Error {
  constructor(message: string, fields?: SigilErrorFields);
  /** Stable snake_case code, e.g. `invalid_grant`, `not_found`, `invalid_signature`. */
  code: string;
  /** HTTP status, when an HTTP response caused the error. */
  status?: number;
  /** The server's request id, when it sent one. */
  requestId?: string;
  /** Seconds the server asked to wait, when it said. */
  retryAfter?: number;
}
/** An RFC 6749 error from an OAuth endpoint or an authorization callback. */
export class OAuthError extends SigilError {
  constructor(
    message: string,
    fields?: SigilErrorFields & { error?: string; errorDescription?: string },
  );
  /** The RFC 6749 `error` (`invalid_grant`, `access_denied`, ...). */
  error: string;
  errorDescription?: string;
}
/** A non-OAuth API error (RFC 9457 problem document). */
export class ApiError extends SigilError {}
/** HTTP 429 (or 503) after the retry budget was spent. */
export class RateLimitError extends ApiError {}
/** The request never produced an HTTP response. */
export class TransportError extends SigilError {}
export class WebhookVerificationError extends SigilError {}
export class TokenError extends SigilError {}
export class TokenExpiredError extends TokenError {}
/** RFC 9421 signing or verification failed. */
export class SignatureError extends SigilError {}
/** Wrong argument types, unknown config members, missing fields. */
export class InvalidInputError extends SigilError {}
/** A webhook helper got parsed JSON instead of the raw body; the message names the fix. */
export class RawBodyRequiredError extends InvalidInputError {}
/** There is no usable session: sign in again. */
export class LoginRequiredError extends SigilError {}
/** The storage adapter failed or held a value that is not a token set. */
export class StorageError extends SigilError {}
/** The call was cancelled by its `AbortSignal`. */
export class AbortError extends SigilError {}

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

/** Async string storage (Redis, a database, a Map): the session lives here. */
export interface StorageAdapter {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  set(key: string, value: string): Promise<unknown> | unknown;
  delete(key: string): Promise<unknown> | unknown;
}

export interface SigilConfig {
  /** The authorization server, e.g. `https://auth.example.com`. */
  issuer: string;
  clientId?: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` with a secret, `none` without. */
  clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** A `sgl_…` API key whose short-lived tokens the session holds and renews. */
  apiKey?: string;
  /** Scopes asked for on renewal, and by default on authorization. */
  scopes?: string[];
  /** Default: `api_key` with an API key, else `refresh_token`. */
  renewal?: 'refresh_token' | 'api_key' | 'client_credentials';
  redirectUri?: string;
  /** Renew this many seconds before expiry (default 60). */
  skewSeconds?: number;
  /** Read RFC 8414 metadata (default true); false assumes Sigil's paths. */
  discover?: boolean;
  /** Prefix of every storage key (default `sigil`). */
  storagePrefix?: string;
  /** Retries of a 429/503 (default 3). */
  maxRetries?: number;
  /** Longest single wait for a Retry-After, in seconds (default 30). */
  maxRetryDelaySeconds?: number;
  /** Where the session lives (default: in memory). */
  storage?: StorageAdapter;
}

export interface Tokens {
  accessToken: string;
  tokenType: string;
  /** UNIX seconds. */
  expiresAt?: number;
  refreshToken?: string;
  scope?: string;
  idToken?: string;
  issuedTokenType?: string;
}

export type TokenEvent =
  | { type: 'stored'; tokens: Tokens }
  | { type: 'refreshed'; tokens: Tokens }
  | { type: 'expired' }
  | { type: 'loggedOut' };

export interface ServerMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  jwks_uri?: string;
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported: boolean;
  grant_types_supported?: string[];
  [member: string]: unknown;
}

export interface AuthorizationOptions {
  redirectUri?: string;
  scopes?: string[];
  /** Extra parameters (`prompt`, `login_hint`, ...). */
  extra?: Record<string, string>;
}

export interface TokenExchangeOptions {
  subjectToken: string;
  subjectTokenType?: string;
  actorToken?: string;
  actorTokenType?: string;
  requestedTokenType?: string;
  audience?: string;
  resource?: string;
  scopes?: string[];
}

export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  exp?: number;
  iat?: number;
  token_type?: string;
  iss?: string;
  jti?: string;
  [member: string]: unknown;
}

export interface VerifyTokenOptions {
  /** This service's identifier, which `aud` must contain. */
  audience?: string;
  /** Required `iss` (default: the client's issuer). */
  issuer?: string;
  requiredScopes?: string[];
  /** Clock skew tolerated, in seconds (default 30). */
  leewaySeconds?: number;
  /** `access` (default), `agent` or `any`. */
  tokenType?: 'access' | 'agent' | 'any';
}

export interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  client_id?: string;
  sid?: string;
  session_type?: string;
  agent_id?: string;
  intent?: string;
  scope?: string | string[];
  [claim: string]: unknown;
}

export type HeadersInput =
  | Record<string, string | string[] | undefined>
  | Headers
  | Map<string, string>
  | [string, string][];
export type BodyInput = string | Uint8Array | ArrayBuffer;

export interface SigilRequestInit {
  method?: string;
  headers?: HeadersInput;
  body?: BodyInput;
  /** A JSON body (sets `content-type: application/json`). */
  json?: unknown;
  signal?: AbortSignal;
}

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

// ---------------------------------------------------------------- API types

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  last4: string;
  masked: string;
  scopes: string[];
  appId: string | null;
  status: string;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}
export interface CreatedApiKey extends ApiKeyInfo {
  /** The secret, shown once. */
  key: string;
}
export interface NewApiKey {
  name: string;
  scopes?: string[];
  preset?: 'read' | 'write' | 'full';
  expiresInDays?: number;
  appId?: string;
}
export interface AppInfo {
  id: string;
  name: string;
  redirectUris: string[];
  allowedOrigins: string[];
  public: boolean;
  scopes: string[];
  createdAt: string;
}
export interface AppWithSecret extends AppInfo {
  clientSecret: string | null;
}
export interface NewApp {
  name: string;
  redirectUris: string[];
  allowedOrigins: string[];
  public: boolean;
  scopes?: string[];
}
export interface AppUpdate {
  name?: string;
  redirectUris?: string[];
  allowedOrigins?: string[];
  scopes?: string[];
}
export type AgentStatus = 'active' | 'paused' | 'revoked' | 'unknown';
export interface AgentInfo {
  id: string;
  name: string;
  description: string | null;
  status: AgentStatus;
  publicKey: string;
  createdAt: string;
  updatedAt: string;
}
export interface CreatedAgent extends AgentInfo {
  /** The Ed25519 agent key (`sgl_ask_…`), shown once. */
  agentKey: string;
}
export interface AgentList {
  agents: AgentInfo[];
  hasMore: boolean;
}
export interface TokenRequest {
  agent_id: string;
  scope: string[];
  ttl?: number;
  target_service?: string;
  intent?: string;
}
export interface AgentToken {
  token: string;
  tokenType: string;
  expiresIn: number;
  jti: string;
}
export type Issuance =
  ({ status: 'issued' } & AgentToken) | ({ status: 'held_for_approval' } & Approval);
export type TokenVerdict =
  | {
      valid: true;
      agent_id: string;
      scope: string[];
      aud: string | null;
      intent: string | null;
      exp: number;
      jti: string;
    }
  | { valid: false; reason: string };
export interface Rule {
  effect: 'allow' | 'deny' | 'throttle' | 'require_approval';
  match?: {
    agents?: string[];
    owners?: string[];
    scopes?: string[];
    target_services?: string[];
    time_of_day?: { start: string; end: string; tz: string };
  };
  limit?: { count: number; window_secs: number };
}
export interface PolicyInfo {
  id: string;
  name: string;
  description: string | null;
  priority: number;
  rules: Rule[];
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}
export interface NewPolicy {
  name: string;
  description?: string;
  priority?: number;
  rules: Rule[];
  is_active?: boolean;
}
export type PolicyUpdate = Partial<NewPolicy>;
export type ApprovalStatus = 'pending' | 'granted' | 'rejected' | 'collected' | 'unknown';
export interface Approval {
  id: string;
  status: ApprovalStatus;
  agentId: string;
  policyId: string;
  scope: string[];
  ttl: number;
  targetService: string;
  intent: string | null;
  createdAt: string;
  decidedAt: string | null;
  collectedAt: string | null;
}
export interface AuditFilter {
  type?: string;
  actor?: string;
  since?: string;
  until?: string;
}
export interface AuditEntry {
  seq: number;
  id: string;
  ts: string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: unknown;
  prevHash: string;
  hash: string;
}
export type ChainVerdict =
  { valid: true; entries: number } | { valid: false; broken_at: number; reason: string };
export interface WebhookInfo {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: string;
  disabledAt: string | null;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface CreatedWebhook extends WebhookInfo {
  /** The `whsec_…` signing secret. */
  secret: string;
}
export interface NewWebhook {
  url: string;
  events: string[];
  description?: string;
}
export interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}
export interface DomainInfo {
  id: string;
  domain: string;
  status: 'pending' | 'verified' | 'failed' | 'unknown';
  record: { type: string; name: string; value: string };
  createdAt: string;
  verifiedAt: string | null;
}

export interface WebhookEndpoints {
  create(webhook: NewWebhook): Promise<CreatedWebhook>;
  list(): Promise<WebhookInfo[]>;
  get(id: string): Promise<WebhookInfo>;
  delete(id: string): Promise<null>;
  rotateSecret(id: string): Promise<CreatedWebhook>;
  deliveries(id: string, limit?: number): Promise<Delivery[]>;
  redeliver(id: string, deliveryId: string): Promise<Delivery | null>;
}

export interface Management {
  apiKeys: {
    create(key: NewApiKey): Promise<CreatedApiKey>;
    list(): Promise<ApiKeyInfo[]>;
    get(id: string): Promise<ApiKeyInfo>;
    rename(id: string, name: string): Promise<ApiKeyInfo>;
    revoke(id: string): Promise<ApiKeyInfo>;
    delete(id: string): Promise<null>;
  };
  apps: {
    create(app: NewApp): Promise<AppWithSecret>;
    list(): Promise<AppInfo[]>;
    get(id: string): Promise<AppInfo>;
    update(id: string, update: AppUpdate): Promise<AppInfo>;
    rotateSecret(id: string): Promise<AppWithSecret>;
    delete(id: string): Promise<null>;
  };
  agents: {
    create(agent: { name: string; description?: string }): Promise<CreatedAgent>;
    list(query?: { limit?: number; offset?: number; status?: AgentStatus }): Promise<AgentList>;
    get(id: string): Promise<AgentInfo>;
    pause(id: string): Promise<AgentInfo>;
    resume(id: string): Promise<AgentInfo>;
    revoke(id: string): Promise<AgentInfo>;
  };
  tokens: {
    issue(request: TokenRequest): Promise<Issuance>;
    verify(token: string, requiredScope?: string): Promise<TokenVerdict>;
    verifyBatch(tokens: string[], requiredScope?: string): Promise<TokenVerdict[]>;
    revoke(jti: string): Promise<{ jti: string; agentId: string; revoked: boolean }>;
  };
  policies: {
    create(policy: NewPolicy): Promise<PolicyInfo>;
    list(): Promise<PolicyInfo[]>;
    get(id: string): Promise<PolicyInfo>;
    update(id: string, update: PolicyUpdate): Promise<PolicyInfo>;
    delete(id: string): Promise<null>;
  };
  approvals: {
    list(status?: ApprovalStatus): Promise<Approval[]>;
    grant(id: string): Promise<Approval>;
    reject(id: string): Promise<Approval>;
    collect(id: string): Promise<AgentToken>;
  };
  audit: {
    list(
      filter?: AuditFilter,
      limit?: number,
      cursor?: string,
    ): Promise<{ entries: AuditEntry[]; nextCursor: string | null }>;
    verify(): Promise<ChainVerdict>;
    export(format: 'csv' | 'json', filter?: AuditFilter): Promise<string>;
  };
  webhooks: WebhookEndpoints;
  domains: {
    add(domain: string): Promise<DomainInfo>;
    list(): Promise<DomainInfo[]>;
    get(id: string): Promise<DomainInfo>;
    verify(id: string): Promise<DomainInfo>;
    delete(id: string): Promise<null>;
  };
}

export interface AppApi {
  lookupIdentity(userId: string): Promise<{ slug: string; alias: string | null }>;
  /** Without `idempotencyKey` a fresh one is added; a replay returns the first answer. */
  sendMessage(
    message: { to: string; subject?: string; body: string },
    idempotencyKey?: string,
  ): Promise<{ id: string; status: string; [member: string]: unknown }>;
  aiChat(request: unknown): Promise<unknown>;
  webhooks: WebhookEndpoints;
}

/** Every typed API operation, `resource.method`. */
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

export interface SignableRequest {
  method?: string;
  url: string;
  headers?: HeadersInput;
  body?: BodyInput;
}

export interface SignRequestOptions {
  /** `keyid` (an agent's id for Sigil). */
  keyId: string;
  /** The agent key (`sgl_ask_…`), a base64url Ed25519 seed, or the HMAC secret. */
  key: string;
  alg?: 'ed25519' | 'hmac-sha256';
  /** Default: `@method`, `@target-uri`, and `content-digest` with a body. */
  components?: string[];
  created?: number;
  expiresIn?: number;
  /** Default: a random nonce. */
  nonce?: string;
  tag?: string;
}

/** The headers to add (`content-digest`, `signature-input`, `signature`). */
export function signRequest(
  request: SignableRequest,
  options: SignRequestOptions,
): Record<string, string>;

export interface VerifyRequestOptions {
  keys: Record<string, { alg?: 'ed25519' | 'hmac-sha256'; key: string }>;
  requiredComponents?: string[];
  maxAgeSeconds?: number;
  requireNonce?: boolean;
  label?: string;
  now?: number;
}

export interface VerifiedRequest {
  label: string;
  keyId: string | null;
  created: number | null;
  expires: number | null;
  nonce: string | null;
  tag: string | null;
  components: string[];
}

/** Verifies an RFC 9421 signature (and Content-Digest); throws `SignatureError`. */
export function verifyRequest(
  request: SignableRequest,
  options: VerifyRequestOptions,
): VerifiedRequest;

/** Does nothing; measures the cost of one native call. */
export function noop(): void;

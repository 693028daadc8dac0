// The types both JS packages share, @sigil/node and @sigil/web: the error
// classes and the core's data (tokens, metadata, every API resource), with
// the core's serde names. One file: sdk-node/prepare.js copies it to
// sdk-node/types.d.ts. The classes that differ (the client, Webhook) are
// declared by each package.

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
  | { type: 'loggedOut' }
  /** A stored value was not a token set: it was deleted, and the call that read it failed. */
  | { type: 'discarded'; error: StorageError };

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
  /** CIDRs the key is accepted from; absent or null: anywhere. */
  allowedIps?: string[] | null;
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
  /** CIDRs the key is accepted from (`203.0.113.0/24`, `2001:db8::/32`). */
  allowedIps?: string[];
}
/** At least one member; `allowedIps: null` clears the list. */
export interface ApiKeyUpdate {
  name?: string;
  allowedIps?: string[] | null;
}

// ---------------------------------------------------------------- workspaces

export type WorkspaceRole = 'owner' | 'admin' | 'member' | 'read_only';
export interface WorkspaceInfo {
  id: string;
  name: string;
  /** Every user's own workspace, the default. */
  personal: boolean;
  /** The caller's role in it (a user), or null (a key). */
  role: WorkspaceRole | null;
  createdAt: string;
  updatedAt: string;
}
export interface WorkspaceMember {
  userId: string;
  email: string;
  role: WorkspaceRole;
  createdAt: string;
  updatedAt: string;
}

// ---------------------------------------------------------------- trust and plans

export type TrustLevel = 'private' | 'unverified' | 'verified' | 'unknown';
export type ModerationState = 'clean' | 'warn' | 'restrict' | 'disabled' | 'unknown';
export interface TrustProfile {
  userId: string;
  trustLevel: TrustLevel;
  score: {
    score: number;
    base: number;
    verifiedDomainBonus: number;
    accountAge: number;
    reportPenalty: number;
    behaviourPenalty: number;
  };
  moderation: {
    state: ModerationState;
    reason: string | null;
    /** Set by reports, not by an operator. */
    automatic: boolean;
    updatedAt: string | null;
  };
  reports: { recent: number; reporters: number; windowDays: number };
}
export interface PlanInfo {
  holder: { kind: string; id: string };
  plan: string;
  limits: { agents: number; tokensPerMonth: number };
  usage: { agents: number; tokensThisMonth: number };
  updatedAt: string | null;
}
export interface PlanChange {
  plan: string;
  maxAgents: number;
  maxTokensPerMonth: number;
}
export type ReportReason = 'spam' | 'abuse' | 'impersonation' | 'fraud' | 'other';

// ---------------------------------------------------------------- account and capability tokens

export interface Account {
  id: string;
  email: string;
  /** What apps granted `profile.basic` see. */
  alias: string | null;
  createdAt: string;
}
export interface AccountUpdate {
  /** 1-64 characters after trimming; `null` clears it, absent keeps it. */
  alias?: string | null;
}
export interface NewCapToken {
  appId: string;
  /** A non-empty subset of the app's scopes. */
  scopes: string[];
  /** 1 to one year; absent never expires. */
  expiresInSecs?: number;
  /** `scheme://host[:port]`, at most 20. */
  origins?: string[];
  /** At most 100. */
  emails?: string[];
}
export interface CapToken {
  id: string;
  /** `cap_…`, shown only here. */
  token: string;
  appId: string;
  scopes: string[];
  expiresAt: string | null;
  origins: string[];
  emails: string[];
  createdAt: string;
}

/** What `POST /auth/oauth/exchange` gives for a provider login's code. */
export interface ProviderSession {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  scope: string;
  refreshToken: string;
  user: { id: string; email: string | null; provider: string; isNewUser: boolean };
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
    update(id: string, update: ApiKeyUpdate): Promise<ApiKeyInfo>;
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
  /** A user's token or cookie picks one with the `X-Sigil-Workspace` header. */
  workspaces: {
    list(): Promise<WorkspaceInfo[]>;
    create(name: string): Promise<WorkspaceInfo>;
    get(id: string): Promise<WorkspaceInfo>;
    rename(id: string, name: string): Promise<WorkspaceInfo>;
    members(id: string): Promise<WorkspaceMember[]>;
    addMember(id: string, member: { email: string; role: WorkspaceRole }): Promise<WorkspaceMember>;
    setRole(id: string, userId: string, role: WorkspaceRole): Promise<WorkspaceMember>;
    removeMember(id: string, userId: string): Promise<null>;
  };
  /** `model()` is public; `user` and `setModeration` need an operator key. */
  trust: {
    model(): Promise<unknown>;
    mine(): Promise<TrustProfile>;
    user(userId: string): Promise<TrustProfile>;
    setModeration(
      userId: string,
      change: { state: ModerationState; reason?: string },
    ): Promise<TrustProfile>;
  };
  /** `get` and `set` need an operator key. */
  plans: {
    mine(): Promise<PlanInfo>;
    get(accountId: string): Promise<PlanInfo>;
    set(accountId: string, change: PlanChange): Promise<PlanInfo>;
  };
  account: {
    get(): Promise<Account>;
    update(update: AccountUpdate): Promise<Account>;
  };
  /** Mints a `cap_…` token for one of your apps' front ends (`apps.write`). */
  capTokens: {
    create(token: NewCapToken): Promise<CapToken>;
  };
  /** Needs no session: the code is the credential. */
  providerLogin: {
    exchange(code: string): Promise<ProviderSession>;
  };
}

export interface AppApi {
  lookupIdentity(
    userId: string,
  ): Promise<{ slug: string; alias: string | null; trustLevel?: TrustLevel }>;
  /** Reports a user of this app (rate-limited per app). */
  report(report: {
    userId: string;
    reason: ReportReason;
    details?: string;
  }): Promise<{ id: string; userId: string; reason: ReportReason; createdAt: string }>;
  /** Without `idempotencyKey` a fresh one is added; a replay returns the first answer. */
  sendMessage(
    message: { to: string; subject?: string; body: string },
    idempotencyKey?: string,
  ): Promise<{ id: string; status: string; [member: string]: unknown }>;
  aiChat(request: unknown): Promise<unknown>;
  webhooks: WebhookEndpoints;
}

/** Every typed API operation, `resource.method`. */

// ---------------------------------------------------------------- RFC 9421

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

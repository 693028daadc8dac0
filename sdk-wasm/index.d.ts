// Browser / bundler entry (index.mjs over `pkg/web`): call the default `init()`
// once, then use `Sigil`, the webhook and PKCE helpers and the signing functions.
export * from './api';

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the WebAssembly module (by default `sigil_wasm_bg.wasm` next to the JS file). */
export default function init(moduleOrPath?: {
  module_or_path: InitInput | Promise<InitInput>;
}): Promise<unknown>;

/** Instantiates the module synchronously from bytes or a compiled module. */
export function initSync(module: { module: BufferSource | WebAssembly.Module }): unknown;

import type {
  AppApi,
  AuthorizationOptions,
  Claims,
  HeadersInput,
  Introspection,
  Management,
  ServerMetadata,
  SigilConfig,
  SigilRequestInit,
  StorageAdapter,
  TokenEvent,
  TokenExchangeOptions,
  Tokens,
  SignableRequest,
  SignRequestOptions,
  VerifiedRequest,
  VerifyRequestOptions,
  VerifyTokenOptions,
} from './js/types';

/** Where the browser client keeps its session. */
export type BrowserStorage =
  /** This tab only, gone on reload (the default). */
  | 'memory'
  /** This tab, kept across reloads (sessionStorage). */
  | 'session'
  /** Every tab of the app, kept (IndexedDB; localStorage where IndexedDB is missing). */
  | 'local'
  | StorageAdapter;

export interface BrowserConfig extends Omit<SigilConfig, 'storage'> {
  storage?: BrowserStorage;
}

/** `tokenChange` detail: the core's event, and whether another tab caused it. */
export type TokenChangeDetail = TokenEvent & { remote: boolean };

/**
 * The browser client (`await init()` first). Shared storage (`'local'` or an
 * adapter) coordinates tabs: one renewal at a time under a Web Lock (bounded
 * wait), token changes and logout over BroadcastChannel. Where either is
 * missing, each tab works on its own.
 */
export class Sigil extends EventTarget {
  constructor(config: BrowserConfig);
  addEventListener(
    type: 'tokenChange',
    listener: (event: CustomEvent<TokenChangeDetail>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener(
    type: 'tokenChange',
    listener: (event: CustomEvent<TokenChangeDetail>) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Redirects to the authorization server (PKCE; state and verifier in sessionStorage). */
  login(options?: AuthorizationOptions): Promise<void>;
  /** Checks `state`, `iss` and `error=`, exchanges the code once, cleans the address bar. */
  handleCallback(url?: string | URL): Promise<Tokens>;
  /** The authorization URL, for an app that navigates itself (`login()` redirects to it). */
  authorizationUrl(options?: AuthorizationOptions): Promise<{ url: string; state: string }>;
  /** A valid access token, renewed once across tabs near expiry. */
  accessToken(): Promise<string>;
  tokens(): Promise<Tokens | undefined>;
  setTokens(tokens: Tokens): Promise<void>;
  clientCredentials(scopes?: string[]): Promise<Tokens>;
  /** With a key: one exchange. Without: the configured `apiKey`'s cached, renewed token. */
  exchangeApiKey(apiKey?: string, scopes?: string[]): Promise<Tokens>;
  tokenExchange(options: TokenExchangeOptions): Promise<Tokens>;
  introspect(token: string, hint?: string): Promise<Introspection>;
  revoke(token: string, hint?: string): Promise<void>;
  /** Revokes, forgets, and tells the other tabs. */
  logout(): Promise<void>;
  discover(): Promise<ServerMetadata>;
  verifyToken(token: string, options?: VerifyTokenOptions): Promise<Claims>;
  /** `fetch`-shaped and authenticated: 401 → renew and replay once; 429 → Retry-After; `signal` aborts. */
  request(
    input: string | URL,
    init?: Omit<SigilRequestInit, 'headers'> & { headers?: HeadersInput },
  ): Promise<Response>;
  /** `/v1`. */
  readonly management: Management;
  /** `/app/v1` (the session must hold an app token). */
  readonly app: AppApi;
}

/** The headers that sign `request` (RFC 9421 with Content-Digest), as an object. */
export function signRequest(
  request: SignableRequest,
  options: SignRequestOptions,
): Record<string, string>;

/** Verifies an RFC 9421 signature (and Content-Digest); throws `SignatureError`. */
export function verifyRequest(
  request: SignableRequest,
  options: VerifyRequestOptions,
): VerifiedRequest;

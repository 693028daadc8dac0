// ESM entry of @sigil/node: the same objects as the CommonJS entry.
import sigil from './index.js';

export const {
  SigilError,
  OAuthError,
  ApiError,
  RateLimitError,
  TransportError,
  WebhookVerificationError,
  TokenError,
  TokenExpiredError,
  SignatureError,
  InvalidInputError,
  RawBodyRequiredError,
  LoginRequiredError,
  StorageError,
  AbortError,
  Sigil,
  Webhook,
  TokenVerifier,
  webhookMiddleware,
  verifyWebhookIncoming,
  verifyWebhookRequest,
  signRequest,
  verifyRequest,
  operations,
  pkce,
  pkceChallenge,
  noop,
} = sigil;
export default sigil;

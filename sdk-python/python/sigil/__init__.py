"""Sigil auth SDK for Python: login with PKCE, self-renewing sessions, every
OAuth grant, typed API clients, Standard Webhooks, offline token verification
and RFC 9421 signatures, backed by the Rust core. ``Client`` blocks (and
releases the GIL while it waits); ``AsyncClient`` is for asyncio."""

from sigil._client import AsyncClient, Client, Response, Storage, TokenEvent, Tokens
from sigil._errors import (
    AbortError,
    ApiError,
    InvalidInputError,
    LoginRequiredError,
    OAuthError,
    RateLimitError,
    RawBodyRequiredError,
    SigilError,
    SignatureError,
    StorageError,
    TokenError,
    TokenExpiredError,
    TransportError,
    WebhookVerificationError,
)
from sigil._native import (
    Pkce,
    TokenVerifier,
    VerifiedWebhook,
    Webhook,
    noop,
    operations,
    pkce,
    pkce_challenge,
)
from sigil.offline import sign_request, verify_request

__all__ = [
    "AbortError",
    "ApiError",
    "AsyncClient",
    "Client",
    "InvalidInputError",
    "LoginRequiredError",
    "OAuthError",
    "Pkce",
    "RateLimitError",
    "RawBodyRequiredError",
    "Response",
    "SigilError",
    "SignatureError",
    "Storage",
    "StorageError",
    "TokenError",
    "TokenEvent",
    "TokenExpiredError",
    "TokenVerifier",
    "Tokens",
    "TransportError",
    "VerifiedWebhook",
    "Webhook",
    "WebhookVerificationError",
    "noop",
    "operations",
    "pkce",
    "pkce_challenge",
    "sign_request",
    "verify_request",
]

"""Sigil auth SDK: PKCE, Standard Webhooks and typed errors, backed by the Rust core."""

from __future__ import annotations

from typing import Optional


class SigilError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "sigil_error",
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after


class OAuthError(SigilError):
    """An RFC 6749 error from an OAuth endpoint or an authorization callback."""


class ApiError(SigilError):
    """A non-OAuth API error response."""


class RateLimitError(ApiError):
    """HTTP 429 after the retry budget was spent."""


class TransportError(SigilError):
    """The request never produced an HTTP response."""


class WebhookVerificationError(SigilError):
    """A webhook was refused (bad signature, stale timestamp, missing header...)."""


class TokenError(SigilError):
    """Offline token verification failed."""


class TokenExpiredError(TokenError):
    """The token has expired."""


class SignatureError(SigilError):
    """RFC 9421 signing or verification failed."""


class InvalidInputError(SigilError):
    """The caller passed something the SDK cannot use."""


class LoginRequiredError(SigilError):
    """There is no usable session: sign in again."""


class StorageError(SigilError):
    """The session storage failed or held a value that is not a token set."""


class AbortError(SigilError):
    """The caller cancelled the call."""


from sigil._native import Pkce, VerifiedWebhook, Webhook, pkce, pkce_challenge  # noqa: E402

__all__ = [
    "AbortError",
    "ApiError",
    "InvalidInputError",
    "LoginRequiredError",
    "OAuthError",
    "Pkce",
    "RateLimitError",
    "SigilError",
    "SignatureError",
    "StorageError",
    "TokenError",
    "TokenExpiredError",
    "TransportError",
    "VerifiedWebhook",
    "Webhook",
    "WebhookVerificationError",
    "pkce",
    "pkce_challenge",
]

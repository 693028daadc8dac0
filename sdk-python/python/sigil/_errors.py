"""The exception hierarchy. The Rust core picks the class and fills every field,
so Python, Node and the browser raise the same classes with the same codes."""

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

    def __init__(
        self,
        message: str,
        *,
        code: str = "sigil_error",
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
    ) -> None:
        super().__init__(
            message, code=code, status=status, request_id=request_id, retry_after=retry_after
        )
        #: The RFC 6749 ``error`` (``invalid_grant``, ``access_denied``, ...).
        self.error = error or code
        self.error_description = error_description


class ApiError(SigilError):
    """A non-OAuth API error response (RFC 9457)."""


class RateLimitError(ApiError):
    """HTTP 429 (or 503) after the retry budget was spent."""


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


class RawBodyRequiredError(InvalidInputError):
    """A webhook helper got parsed JSON instead of the raw request body."""


class LoginRequiredError(SigilError):
    """There is no usable session: sign in again."""


class StorageError(SigilError):
    """The session storage failed or held a value that is not a token set."""


class AbortError(SigilError):
    """The call was cancelled."""

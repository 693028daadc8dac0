from collections.abc import Mapping, Sequence
from typing import Any, Literal, Optional, Union, final

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

class SigilError(Exception):
    code: str
    status: Optional[int]
    request_id: Optional[str]
    retry_after: Optional[float]
    def __init__(
        self,
        message: str,
        *,
        code: str = ...,
        status: Optional[int] = ...,
        request_id: Optional[str] = ...,
        retry_after: Optional[float] = ...,
    ) -> None: ...

class OAuthError(SigilError): ...
class ApiError(SigilError): ...
class RateLimitError(ApiError): ...
class TransportError(SigilError): ...
class WebhookVerificationError(SigilError): ...
class TokenError(SigilError): ...
class TokenExpiredError(TokenError): ...
class SignatureError(SigilError): ...
class InvalidInputError(SigilError): ...
class LoginRequiredError(SigilError): ...
class StorageError(SigilError): ...
class AbortError(SigilError): ...

@final
class Pkce:
    @property
    def verifier(self) -> str: ...
    @property
    def challenge(self) -> str: ...
    @property
    def method(self) -> Literal["S256"]: ...

def pkce() -> Pkce:
    """A fresh PKCE verifier and its S256 challenge."""

def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of `verifier`; raises InvalidInputError when invalid."""

@final
class VerifiedWebhook:
    @property
    def id(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def payload(self) -> Any: ...

_Body = Union[bytes, bytearray, str]

@final
class Webhook:
    def __new__(
        cls, secrets: Union[str, Sequence[str]], tolerance: Optional[float] = None
    ) -> Webhook:
        """One `whsec_` secret or several (rotation); tolerance in seconds each way, default 300."""
    def verify(
        self, headers: Mapping[str, str], body: _Body, *, now: Optional[int] = None
    ) -> VerifiedWebhook:
        """Verifies the raw body; raises WebhookVerificationError with a `code`."""
    def sign(self, id: str, timestamp: int, body: _Body) -> str:
        """The `webhook-signature` header value for a message."""

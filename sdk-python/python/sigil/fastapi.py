"""A FastAPI/Starlette dependency that verifies a Sigil access token offline
(JWKS, audience, required scopes) and answers 401 or 403 with the RFC 6750
``WWW-Authenticate`` header.

    require = RequireToken(client, audience="https://api.example", scopes=["orders.read"])

    @app.get("/orders")
    async def orders(claims: dict = Depends(require)): ...
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request

from sigil._client import AsyncClient
from sigil._errors import SigilError


class RequireToken:
    """The dependency: returns the token's claims, or raises ``HTTPException``."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        audience: Optional[str] = None,
        scopes: Iterable[str] = (),
        realm: str = "sigil",
    ) -> None:
        self.client = client
        self.audience = audience
        self.scopes = list(scopes)
        self.realm = realm

    def _refuse(self, status: int, error: Optional[str], description: str) -> HTTPException:
        challenge = f'Bearer realm="{self.realm}"'
        if error:
            challenge += f', error="{error}", error_description="{description}"'
        if error == "insufficient_scope":
            challenge += f', scope="{" ".join(self.scopes)}"'
        return HTTPException(
            status_code=status, detail=description, headers={"WWW-Authenticate": challenge}
        )

    async def __call__(self, request: Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            # RFC 6750 §3.1: no error code when the request had no credentials.
            raise self._refuse(401, None, "missing bearer token")
        try:
            return await self.client.verify_token(
                token.strip(), audience=self.audience, required_scopes=self.scopes
            )
        except SigilError as e:
            if e.code == "insufficient_scope":
                raise self._refuse(403, "insufficient_scope", e.code) from e
            if e.status is None and e.code not in ("network_error", "timeout"):
                raise self._refuse(401, "invalid_token", e.code) from e
            raise

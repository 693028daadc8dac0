"""A FastAPI app protected by ``sigil.fastapi.RequireToken``, called over ASGI with
tokens the real server issued: 200, 401 with ``WWW-Authenticate``, 403
``insufficient_scope``.

No ``from __future__ import annotations`` here: FastAPI reads the ``Annotated``
dependencies of the routes, defined inside a function, at runtime."""

import asyncio
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI

import sigil
from sigil.fastapi import RequireToken
from sigil.testing import SigilTestServer


def make_app(issuer: str) -> FastAPI:
    verifier = sigil.AsyncClient(issuer)
    read_keys = RequireToken(verifier, audience=issuer, scopes=["keys.read"])
    write_keys = RequireToken(verifier, audience=issuer, scopes=["keys.write"])
    other_audience = RequireToken(verifier, audience="https://orders.example")
    app = FastAPI()

    @app.get("/keys")
    async def keys(claims: Annotated[dict[str, Any], Depends(read_keys)]) -> dict[str, Any]:
        return {"sub": claims["sub"], "scope": claims["scope"]}

    @app.post("/keys")
    async def create(claims: Annotated[dict[str, Any], Depends(write_keys)]) -> dict[str, Any]:
        return {"created": True}

    @app.get("/orders")
    async def orders(claims: Annotated[dict[str, Any], Depends(other_audience)]) -> list[str]:
        return []

    return app


def test_require_token(sigil_server: SigilTestServer) -> None:
    full = sigil.Client(sigil_server.issuer, api_key=sigil_server.api_keys[0]).access_token()
    # bob's key grants keys.read only.
    read_only = sigil.Client(sigil_server.issuer, api_key=sigil_server.api_keys[1]).access_token()

    async def main() -> None:
        transport = httpx.ASGITransport(app=make_app(sigil_server.issuer))
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:

            def bearer(token: str) -> dict[str, str]:
                return {"authorization": f"Bearer {token}"}

            r = await http.get("/keys", headers=bearer(full))
            assert r.status_code == 200, r.text
            assert "keys.read" in r.json()["scope"]
            r = await http.get("/keys", headers=bearer(read_only))
            assert r.status_code == 200, r.text

            r = await http.get("/keys")
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == 'Bearer realm="sigil"'

            r = await http.get("/keys", headers={"authorization": "Basic dXNlcjpwYXNz"})
            assert r.status_code == 401

            r = await http.get("/keys", headers=bearer("not-a-token"))
            assert r.status_code == 401
            assert 'error="invalid_token"' in r.headers["www-authenticate"]

            forged = full[:-4] + ("AAAA" if not full.endswith("AAAA") else "BBBB")
            r = await http.get("/keys", headers=bearer(forged))
            assert r.status_code == 401
            assert 'error="invalid_token"' in r.headers["www-authenticate"]

            r = await http.get("/orders", headers=bearer(full))
            assert r.status_code == 401
            assert 'error="invalid_token"' in r.headers["www-authenticate"]

            r = await http.post("/keys", headers=bearer(read_only))
            assert r.status_code == 403
            challenge = r.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge
            assert 'scope="keys.write"' in challenge
            r = await http.post("/keys", headers=bearer(full))
            assert r.status_code == 200

    asyncio.run(asyncio.wait_for(main(), timeout=30))

"""Interoperability: the unmodified, published Authlib (httpx integration and
authlib.jose) against a real sigil-server process. Nothing here adapts the
library to the server; if one of these fails, the server is the suspect."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import BadSignatureError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

BACKEND = "app_ci_backend"
BACKEND_SECRET = "sgl_cs_ci-known-client-secret-0000000000000000"
SPA = "app_ci_spa"
# RFC 8252 §7.3: the registered loopback URI has no port; any port matches.
SPA_REDIRECT = "http://127.0.0.1:53187/callback"
USER = "interop-python@example.com"


@pytest.fixture(scope="session")
def meta(base: str) -> dict:
    res = httpx.get(f"{base}/.well-known/oauth-authorization-server")
    res.raise_for_status()
    return res.json()


@pytest.fixture
def backend(meta: dict) -> Iterator[OAuth2Client]:
    with OAuth2Client(BACKEND, BACKEND_SECRET) as c:
        yield c


def verify_access_token(token: str, meta: dict) -> dict:
    jwks = httpx.get(meta["jwks_uri"]).json()
    keys = JsonWebKey.import_key_set(jwks)
    claims = JsonWebToken(["EdDSA"]).decode(
        token,
        keys,
        claims_options={
            "iss": {"essential": True, "value": meta["issuer"]},
            "aud": {"essential": True, "value": meta["issuer"]},
            "exp": {"essential": True},
            "sub": {"essential": True},
        },
    )
    claims.validate()
    assert claims.header["typ"] == "at+jwt"
    return dict(claims)


class Browser:
    """A cookie-keeping user agent that never follows redirects."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def hidden_fields(page: str) -> list[tuple[str, str]]:
        return [
            (html.unescape(n), html.unescape(v))
            for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)
        ]

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> httpx.Response:
        return self.http.post(
            path,
            content=urlencode(fields),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    def sign_in(self, signin_path: str, email: str) -> httpx.Response:
        form = self.http.get(signin_path)
        assert form.status_code == 200, form.text
        sent = self.post_form("/signin", [*self.hidden_fields(form.text), ("email", email)])
        assert sent.status_code == 303, sent.text
        verify = self.http.get(sent.headers["location"])
        assert verify.status_code == 200, verify.text
        mail = self.http.get("/dev/mailbox", params={"to": email}).json()
        code = mail["data"][0]["code"]
        return self.post_form("/signin/verify", [*self.hidden_fields(verify.text), ("code", code)])

    def authorize(self, url: str, email: str, decision: str = "approve") -> str:
        to_consent = self.http.get(url)
        assert to_consent.status_code == 302, to_consent.text
        consent_path = to_consent.headers["location"]
        page = self.http.get(consent_path)
        if page.status_code in (302, 303):
            done = self.sign_in(page.headers["location"], email)
            assert done.status_code == 303, done.text
            page = self.http.get(done.headers["location"])
        assert page.status_code == 200, page.text
        back = self.post_form(
            "/oauth/consent", [*self.hidden_fields(page.text), ("decision", decision)]
        )
        assert back.status_code == 302, back.text
        return back.headers["location"]


@pytest.fixture
def browser(base: str) -> Iterator[Browser]:
    b = Browser(base)
    yield b
    b.close()


def test_metadata_validates_as_rfc8414(base: str, meta: dict) -> None:
    AuthorizationServerMetadata(meta).validate()
    assert meta["issuer"] == base
    assert "S256" in meta["code_challenge_methods_supported"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(meta: dict, method: str) -> None:
    with OAuth2Client(BACKEND, BACKEND_SECRET, token_endpoint_auth_method=method) as c:
        token = c.fetch_token(
            meta["token_endpoint"], grant_type="client_credentials", scope="keys.read"
        )
    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == "keys.read"
    assert token["expires_in"] > 0
    assert "refresh_token" not in token
    assert token.is_expired() is False


def test_client_credentials_wrong_secret_is_invalid_client(meta: dict) -> None:
    with OAuth2Client(BACKEND, "sgl_cs_wrong") as c, pytest.raises(OAuthError) as err:
        c.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert err.value.error == "invalid_client"


def test_introspection_then_revocation(meta: dict, backend: OAuth2Client) -> None:
    token = backend.fetch_token(
        meta["token_endpoint"], grant_type="client_credentials", scope="keys.read apps.read"
    )
    res = backend.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert res.status_code == 200
    live = res.json()
    assert live["active"] is True
    assert live["client_id"] == BACKEND
    assert live["scope"] == "keys.read apps.read"
    assert live["iss"] == meta["issuer"]

    res = backend.revoke_token(meta["revocation_endpoint"], token=token["access_token"])
    assert res.status_code == 200

    res = backend.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert res.status_code == 200
    assert res.json() == {"active": False}


def test_access_token_verifies_with_authlib_jose(meta: dict, backend: OAuth2Client) -> None:
    token = backend.fetch_token(
        meta["token_endpoint"], grant_type="client_credentials", scope="keys.read"
    )
    claims = verify_access_token(token["access_token"], meta)
    assert claims["client_id"] == BACKEND
    assert claims["scope"] == "keys.read"
    assert claims["sub"] == BACKEND


def test_tampered_access_token_fails_authlib_jose(meta: dict, backend: OAuth2Client) -> None:
    token = backend.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    h, _, s = token["access_token"].split(".")
    # The same header and signature over different claims.
    other = backend.fetch_token(
        meta["token_endpoint"], grant_type="client_credentials", scope="keys.read"
    )
    forged = f"{h}.{other['access_token'].split('.')[1]}.{s}"
    with pytest.raises(BadSignatureError):
        verify_access_token(forged, meta)


def test_authorization_code_pkce_then_refresh(meta: dict, browser: Browser) -> None:
    verifier = generate_token(48)  # as Authlib's docs make a code_verifier
    with OAuth2Client(
        SPA,
        redirect_uri=SPA_REDIRECT,
        scope="profile.basic",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge"] == [create_s256_code_challenge(verifier)]
        assert query["code_challenge_method"] == ["S256"]

        callback = browser.authorize(url, USER)
        back = parse_qs(urlsplit(callback).query)
        assert callback.startswith(SPA_REDIRECT + "?")
        # RFC 9207: Authlib does not check `iss`; the client app would.
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert back["iss"] == [meta["issuer"]]

        token = client.fetch_token(
            meta["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
        )
        assert token["scope"] == "profile.basic"
        first_refresh = token["refresh_token"]
        claims = verify_access_token(token["access_token"], meta)
        assert claims["client_id"] == SPA

        refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["refresh_token"] != first_refresh, "refresh token rotates"
        verify_access_token(refreshed["access_token"], meta)

        with pytest.raises(OAuthError) as err:
            client.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        assert err.value.error == "invalid_grant"


def test_authorization_code_wrong_verifier_is_invalid_grant(meta: dict, browser: Browser) -> None:
    verifier = generate_token(48)
    with OAuth2Client(
        SPA,
        redirect_uri=SPA_REDIRECT,
        scope="profile.basic",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        callback = browser.authorize(url, USER)
        with pytest.raises(OAuthError) as err:
            client.fetch_token(
                meta["token_endpoint"],
                authorization_response=callback,
                state=state,
                code_verifier=generate_token(48),
            )
        assert err.value.error == "invalid_grant"


def test_denied_consent_is_access_denied(meta: dict, browser: Browser) -> None:
    with OAuth2Client(
        SPA,
        redirect_uri=SPA_REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=generate_token(48)
        )
        callback = browser.authorize(url, USER, decision="deny")
    # OAuth2Client.fetch_token only parses success callbacks (it looks for
    # `code=`); an error callback is the application's to read (RFC 6749 §4.1.2.1).
    back = parse_qs(urlsplit(callback).query)
    assert callback.startswith(SPA_REDIRECT + "?")
    assert back["error"] == ["access_denied"]
    assert back["state"] == [state]
    assert back["iss"] == [meta["issuer"]]
    assert "code" not in back

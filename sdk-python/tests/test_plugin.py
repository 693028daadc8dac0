"""The pytest plugin (``sigil.testing``) used the way an application's tests use it:
a test that takes ``sigil_server`` and nothing else from this suite."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

import sigil
from sigil.testing import ServerNotFound, SigilTestServer, find_server


def status_with(issuer: str, token: str) -> tuple[int, str]:
    """``GET /v1/api-keys`` with a bearer token, outside the SDK: status and WWW-Authenticate."""
    request = urllib.request.Request(
        f"{issuer}/v1/api-keys", headers={"authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("www-authenticate", "")


def test_an_expired_token_is_refused_and_the_client_renews(sigil_server: SigilTestServer) -> None:
    assert sigil_server.issuer.startswith("http://127.0.0.1:")
    assert [app["id"] for app in sigil_server.apps] == ["app_ci_backend", "app_ci_spa"]
    with sigil.Client(sigil_server.issuer, api_key=sigil_server.api_keys[0]) as client:
        old = client.access_token()
        assert status_with(sigil_server.issuer, old)[0] == 200

        # An hour later on the server's clock, the 10-minute token has expired...
        sigil_server.advance_clock(3600)
        try:
            status, challenge = status_with(sigil_server.issuer, old)
            assert status == 401
            assert 'error="invalid_token"' in challenge
            # ...and the client, whose own clock still says it is valid, gets the 401,
            # renews once and replays: the call succeeds with a new token.
            names = [k["name"] for k in client.management.api_keys.list()]
            assert "ci-full" in names
            new = client.access_token()
            assert new != old
            assert status_with(sigil_server.issuer, new)[0] == 200
        finally:
            sigil_server.advance_clock(-3600)


def test_set_clock_and_a_missing_binary(sigil_server: SigilTestServer) -> None:
    now = sigil_server.advance_clock(0)
    assert sigil_server.set_clock(now) in (now, now + 1)
    with pytest.raises(ServerNotFound, match="cargo build -p sigil-server"):
        find_server("/nonexistent/sigil-server")

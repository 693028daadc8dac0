"""Every error class, raised by a real call against a real server (never built by
hand), through the blocking and the asyncio client alike (the ``mode`` fixture).
Each is a ``SigilError`` with ``code``, ``status``, ``request_id`` and ``retry_after``."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from typing import Any, Callable, Optional

import pytest

import sigil
import sigil.webhooks
from sigil.testing import SigilTestServer, run_server

from .conftest import Mode

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def assert_fields(
    err: BaseException,
    cls: type[sigil.SigilError],
    code: str,
    status: Optional[int] = None,
    request_id: bool = False,
) -> sigil.SigilError:
    """``err`` is exactly ``cls`` (a ``SigilError``) with these fields."""
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert isinstance(err, sigil.SigilError)
    assert err.code == code, err
    assert err.status == status, err
    if request_id:
        assert isinstance(err.request_id, str) and err.request_id, err
    else:
        assert err.request_id is None
    assert str(err)
    return err


def jwks(issuer: str) -> bytes:
    with urllib.request.urlopen(f"{issuer}/.well-known/jwks.json", timeout=10) as r:
        body: bytes = r.read()
    return body


# ---------------------------------------------------------------- HTTP answers


def test_oauth_error_carries_the_rfc6749_error(mode: Mode, sigil_server: SigilTestServer) -> None:
    client = mode.client(sigil_server.issuer, client_id="app_ci_backend", client_secret="wrong")
    with pytest.raises(sigil.OAuthError) as info:
        mode.run(client.client_credentials(["keys.read"]))
    err = assert_fields(info.value, sigil.OAuthError, "invalid_client", 401, request_id=True)
    assert isinstance(err, sigil.OAuthError)
    assert err.error == "invalid_client"
    assert err.retry_after is None


def test_login_required_on_refused_refresh(mode: Mode, sigil_server: SigilTestServer) -> None:
    events: list[dict[str, Any]] = []
    client = mode.client(sigil_server.issuer, client_id="app_ci_spa", on_token_change=events.append)
    expired = {
        "accessToken": "x",
        "tokenType": "Bearer",
        "expiresAt": 1,
        "refreshToken": "sgl_rt_x",
    }
    mode.run(client.set_tokens(expired))
    with pytest.raises(sigil.LoginRequiredError) as info:
        mode.run(client.access_token())
    # Sign in again; the code, status and request id are the server's refusal.
    assert_fields(info.value, sigil.LoginRequiredError, "invalid_grant", 400, request_id=True)
    # The refused renewal ends the session: an `expired` event, then no tokens.
    assert [e["type"] for e in events] == ["stored", "expired"]
    assert mode.run(client.tokens()) is None


def test_api_error_404_has_request_id(
    mode: Mode, sigil_server: SigilTestServer, api_key: str
) -> None:
    client = mode.client(sigil_server.issuer, api_key=api_key)
    with pytest.raises(sigil.ApiError) as info:
        mode.run(client.management.api_keys.get("key_does_not_exist"))
    err = assert_fields(info.value, sigil.ApiError, "not_found", 404, request_id=True)
    assert err.retry_after is None
    # request() raises the same way on an error status.
    with pytest.raises(sigil.ApiError) as info:
        mode.run(client.request("GET", "/v1/api-keys/key_does_not_exist"))
    assert_fields(info.value, sigil.ApiError, "not_found", 404, request_id=True)


def test_api_error_for_a_body_over_the_server_limit(
    mode: Mode, sigil_server: SigilTestServer, api_key: str
) -> None:
    client = mode.client(sigil_server.issuer, api_key=api_key)
    with pytest.raises(sigil.ApiError) as info:
        mode.run(client.management.api_keys.create({"name": "x" * 1_000_000}))
    assert_fields(info.value, sigil.ApiError, "payload_too_large", 413, request_id=True)


@pytest.fixture(scope="module")
def rate_limited_server() -> Any:
    """A second server whose management API allows a burst of 2 requests per key."""
    with run_server(extra_args=["--key-rate-per-sec", "1", "--key-rate-burst", "2"]) as server:
        yield server


def test_rate_limit_error_has_retry_after(mode: Mode, rate_limited_server: SigilTestServer) -> None:
    server = rate_limited_server
    client = mode.client(server.issuer, api_key=server.api_keys[0], max_retries=0)

    async def burst_async() -> None:
        for _ in range(10):
            await client.management.api_keys.list()

    def burst_sync() -> None:
        for _ in range(10):
            client.management.api_keys.list()

    with pytest.raises(sigil.RateLimitError) as info:
        if mode.is_async:
            mode.run(burst_async())
        else:
            burst_sync()
    err = assert_fields(info.value, sigil.RateLimitError, "rate_limited", 429, request_id=True)
    assert isinstance(err, sigil.ApiError)
    assert err.retry_after is not None and err.retry_after >= 1
    # Retries on: the client waits out Retry-After (bounded) and succeeds.
    patient = mode.client(server.issuer, api_key=server.api_keys[0], max_retry_delay_seconds=3)
    started = time.monotonic()
    for _ in range(4):
        mode.run(patient.management.api_keys.list())
    assert time.monotonic() - started < 20


def test_transport_error_on_a_closed_port(mode: Mode, api_key: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The port is closed again: nothing listens there.
    client = mode.client(f"http://127.0.0.1:{port}", api_key=api_key)
    with pytest.raises(sigil.TransportError) as info:
        mode.run(client.access_token())
    err = assert_fields(info.value, sigil.TransportError, "network_error")
    assert err.retry_after is None


def test_login_required_without_tokens(mode: Mode, sigil_server: SigilTestServer) -> None:
    client = mode.client(sigil_server.issuer, client_id="app_ci_spa")
    with pytest.raises(sigil.LoginRequiredError) as info:
        mode.run(client.access_token())
    assert_fields(info.value, sigil.LoginRequiredError, "not_authenticated")


# ---------------------------------------------------------------- offline verification


def test_token_errors_offline(sigil_server: SigilTestServer, api_key: str) -> None:
    client = sigil.Client(sigil_server.issuer, api_key=api_key)
    token = client.access_token()
    verifier = sigil.TokenVerifier(jwks(sigil_server.issuer))
    claims = verifier.verify(token)
    assert claims["iss"] == sigil_server.issuer
    # The same JWKS as a dict and as text.
    doc = json.loads(jwks(sigil_server.issuer))
    assert sigil.TokenVerifier(doc).verify(token)["jti"] == claims["jti"]
    assert sigil.TokenVerifier(json.dumps(doc)).verify(token)["jti"] == claims["jti"]

    with pytest.raises(sigil.TokenExpiredError) as info:
        verifier.verify(token, now=claims["exp"] + 3600)
    err = assert_fields(info.value, sigil.TokenExpiredError, "token_expired")
    assert isinstance(err, sigil.TokenError)

    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(sigil.TokenError) as tinfo:
        verifier.verify(forged)
    assert_fields(tinfo.value, sigil.TokenError, "invalid_signature")

    with pytest.raises(sigil.TokenError) as tinfo:
        sigil.TokenVerifier(doc, {"audience": "https://other.example"}).verify(token)
    assert_fields(tinfo.value, sigil.TokenError, "invalid_audience")


def test_verify_token_through_the_client(
    mode: Mode, sigil_server: SigilTestServer, api_key: str
) -> None:
    client = mode.client(sigil_server.issuer, api_key=api_key)
    token = mode.run(client.access_token())
    claims = mode.run(client.verify_token(token, required_scopes=["keys.read"]))
    assert claims["iss"] == sigil_server.issuer
    with pytest.raises(sigil.TokenError) as info:
        mode.run(client.verify_token(token, required_scopes=["no.such.scope"]))
    assert_fields(info.value, sigil.TokenError, "insufficient_scope")
    with pytest.raises(sigil.TokenError) as info:
        mode.run(client.verify_token("not-a-jwt"))
    assert_fields(info.value, sigil.TokenError, "malformed_token")


def test_signature_error_on_a_tampered_body() -> None:
    secret = "a-shared-hmac-secret-of-enough-length"
    signed = sigil.sign_request(
        "POST",
        "https://api.example/orders",
        key_id="svc",
        key=secret,
        alg="hmac-sha256",
        body=b'{"amount": 10}',
    )
    keys = {"svc": {"key": secret, "alg": "hmac-sha256"}}
    ok = sigil.verify_request(
        "POST", "https://api.example/orders", keys=keys, headers=signed, body=b'{"amount": 10}'
    )
    assert ok["keyId"] == "svc" and "content-digest" in ok["components"]
    with pytest.raises(sigil.SignatureError) as info:
        sigil.verify_request(
            "POST", "https://api.example/orders", keys=keys, headers=signed, body=b'{"amount": 99}'
        )
    assert_fields(info.value, sigil.SignatureError, info.value.code)
    assert "digest" in info.value.code


def test_webhook_verification_error() -> None:
    wh = sigil.Webhook(SPEC_SECRET)
    body = b'{"type": "key.created"}'
    now = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": wh.sign("msg_1", now, body),
    }
    assert wh.verify(headers, body).payload == {"type": "key.created"}
    with pytest.raises(sigil.WebhookVerificationError) as info:
        wh.verify(headers, body + b" ")
    assert_fields(info.value, sigil.WebhookVerificationError, "invalid_signature")
    with pytest.raises(sigil.WebhookVerificationError) as info:
        wh.verify({k: v for k, v in headers.items() if k != "webhook-id"}, body)
    assert_fields(info.value, sigil.WebhookVerificationError, "missing_header")


def test_raw_body_required_for_parsed_json() -> None:
    wh = sigil.Webhook(SPEC_SECRET)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,x"}
    calls: list[Callable[[], object]] = [
        lambda: wh.verify(headers, {"type": "key.created"}),  # type: ignore[arg-type]
        lambda: sigil.webhooks.verify(wh, headers, {"type": "key.created"}),
        lambda: sigil.webhooks.verify(wh, headers, [1, 2]),
    ]
    for call in calls:
        with pytest.raises(sigil.RawBodyRequiredError) as info:
            call()
        err = assert_fields(info.value, sigil.RawBodyRequiredError, "raw_body_required")
        assert isinstance(err, sigil.InvalidInputError)
        assert "raw" in str(err)


# ---------------------------------------------------------------- input errors


def test_invalid_input_never_a_crash(
    mode: Mode, sigil_server: SigilTestServer, api_key: str
) -> None:
    """Wrong types, ``bytes`` for ``str``, ``None``, unknown options and members, values out
    of range and huge inputs are ``InvalidInputError`` (or the server's typed answer), never
    a ``TypeError`` from the binding or a ``PanicException``."""
    client = mode.client(sigil_server.issuer, api_key=api_key)
    calls: list[tuple[str, Any]] = [
        ("int for str", lambda: client.introspect(123)),
        ("bytes for str", lambda: client.introspect(b"token")),
        ("None for str", lambda: client.introspect(None)),
        ("str for a scope list", lambda: client.exchange_api_key(None, "keys.read")),
        ("bytes header", lambda: client.request("GET", "/v1/api-keys", headers={"x": b"1"})),
        ("int body", lambda: client.request("POST", "/v1/api-keys", body=5)),
        ("set as json", lambda: client.request("POST", "/v1/api-keys", json={1, 2})),
        ("unknown member", lambda: client.management.api_keys.create({"name": "a", "nmae": "b"})),
        ("wrong member type", lambda: client.management.api_keys.create({"name": 42})),
        ("bytes id", lambda: client.management.api_keys.get(b"key_x")),
        ("too many args", lambda: client.management.api_keys.get("a", "b")),
        ("u32 overflow", lambda: client.management.webhooks.deliveries("wh_x", 2**40)),
        ("unknown verify option", lambda: client.token_exchange(subject_token="t", bogus=1)),
        ("missing member", lambda: client.token_exchange(audience="x")),
        ("bad token_type", lambda: client.verify_token("t", token_type="nope")),
    ]
    for name, call in calls:
        with pytest.raises(sigil.InvalidInputError) as info:
            mode.run(call())
        assert_fields(info.value, sigil.InvalidInputError, "invalid_input")
        assert str(info.value), name
    # Construction-time input errors, the same for both clients.
    bad_configs: list[dict[str, Any]] = [
        {"bogus": 1},
        {"api_key": b"sgl_test_x"},
        {"scopes": "keys.read"},
        {"skew_seconds": -5},
        {"max_retry_delay_seconds": 1e300},
        {"renewal": "sometimes"},
    ]
    for options in bad_configs:
        with pytest.raises(sigil.InvalidInputError):
            mode.client(sigil_server.issuer, **options)
    with pytest.raises(sigil.InvalidInputError):
        mode.client("ftp://example.com")
    with pytest.raises(sigil.InvalidInputError):
        mode.client(None)  # type: ignore[arg-type]


def test_invalid_input_offline_functions() -> None:
    wh = sigil.Webhook(SPEC_SECRET)
    calls: list[Any] = [
        lambda: sigil.pkce_challenge(b"x" * 50),  # type: ignore[arg-type]
        lambda: sigil.pkce_challenge(None),  # type: ignore[arg-type]
        lambda: sigil.pkce_challenge("a" * 10_000_000),  # huge
        lambda: sigil.Webhook(b"whsec_x"),  # type: ignore[arg-type]
        lambda: sigil.Webhook(SPEC_SECRET, tolerance="5"),  # type: ignore[arg-type]
        lambda: wh.sign("id", 10**30, b""),  # out of i64
        lambda: wh.sign(None, 1, b""),  # type: ignore[arg-type]
        lambda: wh.verify(None, b"{}"),  # type: ignore[arg-type]
        lambda: wh.verify({}, 42),  # type: ignore[arg-type]
        lambda: wh.verify({}, b"{}", now="now"),  # type: ignore[arg-type]
        lambda: sigil.TokenVerifier(b"not json"),
        lambda: sigil.TokenVerifier(42),  # type: ignore[arg-type]
        lambda: sigil.TokenVerifier(b'{"keys": []}').verify(b"token"),  # type: ignore[arg-type]
        lambda: sigil.sign_request("GET", "https://x", key_id="k", key="not-a-key"),
        lambda: sigil.sign_request("GET", "https://x", key_id="k", key="s", bogus=1),
        lambda: sigil.verify_request("GET", "https://x", keys={"k": {"key": "s", "alg": "rsa"}}),
    ]
    for call in calls:
        with pytest.raises(sigil.InvalidInputError) as info:
            call()
        assert_fields(info.value, sigil.InvalidInputError, "invalid_input")
    # A huge token is refused by the parser's size limit, as a TokenError.
    with pytest.raises(sigil.TokenError) as tinfo:
        sigil.TokenVerifier(b'{"keys": []}').verify("x" * 5_000_000)
    assert tinfo.value.code == "malformed_token"


# ---------------------------------------------------------------- storage


class FailingStorage:
    """``get`` raises or returns an int until ``healthy`` is set; or it starts out holding
    a value that is not a token set."""

    def __init__(self, failure: str) -> None:
        self.failure = failure
        self.healthy = False
        self.data: dict[str, str] = {}
        if failure == "garbage":
            self.data["sigil:tokens"] = "{not json"

    def get(self, key: str) -> Any:
        if not self.healthy:
            if self.failure == "raises":
                raise ConnectionError("redis is down")
            if self.failure == "int":
                return 42
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


@pytest.mark.parametrize("failure", ["raises", "int", "garbage"])
def test_storage_error_then_the_client_recovers(
    mode: Mode, failure: str, sigil_server: SigilTestServer, api_key: str
) -> None:
    storage = FailingStorage(failure)
    events: list[dict[str, Any]] = []
    client = mode.client(
        sigil_server.issuer, api_key=api_key, storage=storage, on_token_change=events.append
    )
    with pytest.raises(sigil.StorageError) as info:
        mode.run(client.access_token())
    err = assert_fields(info.value, sigil.StorageError, "storage_error")
    if failure == "raises":
        assert "redis is down" in str(err)
    if failure == "int":
        assert "int" in str(err)
    if failure == "garbage":
        # The corrupt value was discarded: the next call starts clean by itself,
        # and listeners heard of it with the typed error.
        assert "sigil:tokens" not in storage.data
        assert [e["type"] for e in events] == ["discarded"]
        assert isinstance(events[0]["error"], sigil.StorageError)
        assert events[0]["error"].code == "storage_error"
    storage.healthy = True
    token = mode.run(client.access_token())
    assert token.count(".") == 2
    assert json.loads(storage.data["sigil:tokens"])["access_token"] == token

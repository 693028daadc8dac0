"""Shared vectors and error-class tests for the Python binding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sigil

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "tests" / "vectors" / "standards.json").read_text()
)
WEBHOOK_CASES: list[dict[str, Any]] = VECTORS["standard_webhooks"]
SPEC = WEBHOOK_CASES[0]


def _headers(case: dict[str, Any]) -> dict[str, str]:
    headers = {"webhook-id": case["id"], "webhook-timestamp": str(case["timestamp"])}
    if case["signature"] is not None:
        headers["webhook-signature"] = case["signature"]
    return headers


def test_pkce_rfc7636_vector() -> None:
    v = VECTORS["pkce_rfc7636"]
    assert sigil.pkce_challenge(v["code_verifier"]) == v["code_challenge"]


def test_pkce_generates_s256_pair() -> None:
    p = sigil.pkce()
    assert p.method == "S256"
    assert len(p.verifier) == 43
    assert sigil.pkce_challenge(p.verifier) == p.challenge
    assert p.verifier not in repr(p)
    assert sigil.pkce().verifier != p.verifier


def test_pkce_challenge_rejects_invalid_verifier() -> None:
    with pytest.raises(sigil.InvalidInputError) as info:
        sigil.pkce_challenge("too-short")
    assert isinstance(info.value, sigil.SigilError)
    assert info.value.code == "invalid_input"
    assert info.value.status is None and info.value.request_id is None
    assert info.value.retry_after is None


def test_vector_count() -> None:
    assert len(WEBHOOK_CASES) == 9


@pytest.mark.parametrize("case", WEBHOOK_CASES, ids=[c["name"] for c in WEBHOOK_CASES])
def test_standard_webhooks_vector(case: dict[str, Any]) -> None:
    webhook = sigil.Webhook(case["secret"], tolerance=case.get("tolerance_seconds", 300))
    body = case["body"].encode()
    if case["valid"]:
        verified = webhook.verify(_headers(case), body, now=case["now"])
        assert verified.id == case["id"]
        assert verified.timestamp == case["timestamp"]
        assert verified.payload == json.loads(case["body"])
    else:
        with pytest.raises(sigil.WebhookVerificationError) as info:
            webhook.verify(_headers(case), body, now=case["now"])
        assert isinstance(info.value, sigil.SigilError)
        assert info.value.code == case["error"]


def test_sign_reproduces_spec_signature_and_accepts_str_and_list() -> None:
    webhook = sigil.Webhook([SPEC["secret"]])
    assert webhook.sign(SPEC["id"], SPEC["timestamp"], SPEC["body"].encode()) == SPEC["signature"]
    assert webhook.sign(SPEC["id"], SPEC["timestamp"], SPEC["body"]) == SPEC["signature"]
    verified = webhook.verify(_headers(SPEC), SPEC["body"], now=SPEC["now"])
    assert verified.payload == {"test": 2432232314}
    verified = webhook.verify(_headers(SPEC), bytearray(SPEC["body"].encode()), now=SPEC["now"])
    assert verified.id == SPEC["id"]


def test_rotation_and_default_clock() -> None:
    other = "whsec_YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtbG9uZyE="
    webhook = sigil.Webhook([other, SPEC["secret"]])
    assert webhook.verify(_headers(SPEC), SPEC["body"], now=SPEC["now"]).id == SPEC["id"]
    # Without `now` the system clock is used: a 2021 timestamp is far out of tolerance.
    with pytest.raises(sigil.WebhookVerificationError) as info:
        webhook.verify(_headers(SPEC), SPEC["body"])
    assert info.value.code == "timestamp_out_of_tolerance"


def test_invalid_secret_and_tolerance_are_typed() -> None:
    with pytest.raises(sigil.WebhookVerificationError) as info:
        sigil.Webhook("whsec_!!!")
    assert info.value.code == "invalid_secret"
    with pytest.raises(sigil.InvalidInputError):
        sigil.Webhook(SPEC["secret"], tolerance=-1)
    with pytest.raises(sigil.InvalidInputError):
        sigil.Webhook(SPEC["secret"]).verify(_headers(SPEC), 42, now=SPEC["now"])  # type: ignore[arg-type]


def test_non_json_payload_is_typed_error() -> None:
    webhook = sigil.Webhook(SPEC["secret"])
    sig = webhook.sign("msg_1", 1000, b"not json")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1000", "webhook-signature": sig}
    with pytest.raises(sigil.WebhookVerificationError) as info:
        webhook.verify(headers, b"not json", now=1000)
    assert info.value.code == "invalid_payload"


def test_error_hierarchy() -> None:
    assert issubclass(sigil.RateLimitError, sigil.ApiError)
    assert issubclass(sigil.TokenExpiredError, sigil.TokenError)
    for cls in (
        sigil.OAuthError,
        sigil.ApiError,
        sigil.TransportError,
        sigil.WebhookVerificationError,
        sigil.TokenError,
        sigil.SignatureError,
        sigil.InvalidInputError,
    ):
        assert issubclass(cls, sigil.SigilError)
    err = sigil.RateLimitError("slow down", code="rate_limited", status=429, retry_after=2.0)
    assert (err.code, err.status, err.retry_after) == ("rate_limited", 429, 2.0)

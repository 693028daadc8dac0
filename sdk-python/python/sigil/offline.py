"""RFC 9421 request signing and verification, with headers as mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from sigil import _native


def _parts(
    headers: Optional[Mapping[str, str]], body: Union[bytes, str, None]
) -> tuple[list[tuple[str, str]], bytes]:
    pairs = [(str(k), str(v)) for k, v in (headers or {}).items()]
    return pairs, body.encode() if isinstance(body, str) else bytes(body or b"")


def sign_request(
    method: str,
    url: str,
    *,
    key_id: str,
    key: str,
    headers: Optional[Mapping[str, str]] = None,
    body: Union[bytes, str, None] = None,
    **options: Any,
) -> dict[str, str]:
    """The headers that sign the request (``content-digest``, ``signature-input``, ``signature``).

    ``key`` is an agent key (``sgl_ask_…``), a base64url Ed25519 seed, or an HMAC secret
    with ``alg="hmac-sha256"``; ``components``, ``created``, ``expires_in``, ``nonce`` and
    ``tag`` are optional."""
    pairs, data = _parts(headers, body)
    opts = {"keyId": key_id, "key": key, **{_camel(k): v for k, v in options.items()}}
    return dict(_native.sign_request(method.upper(), url, pairs, data, opts))


def verify_request(
    method: str,
    url: str,
    *,
    keys: Mapping[str, Mapping[str, str]],
    headers: Optional[Mapping[str, str]] = None,
    body: Union[bytes, str, None] = None,
    now: Optional[int] = None,
    **options: Any,
) -> dict[str, Any]:
    """Verifies an RFC 9421 signature (and its Content-Digest); raises ``SignatureError``.

    ``keys`` maps each ``keyid`` to ``{"key": ..., "alg": "ed25519" | "hmac-sha256"}``."""
    pairs, data = _parts(headers, body)
    opts = {
        "keys": {k: dict(v) for k, v in keys.items()},
        **{_camel(k): v for k, v in options.items()},
    }
    return _native.verify_request(method.upper(), url, pairs, data, opts, now)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)

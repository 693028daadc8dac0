"""Webhook verification on the raw request body, for Starlette/FastAPI,
Flask and Django. Each helper reads the body bytes the framework received,
before any JSON parsing; given parsed JSON instead, verification raises
``RawBodyRequiredError`` naming the fix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, Union

from sigil._errors import RawBodyRequiredError
from sigil._native import VerifiedWebhook, Webhook

RawBody = Union[bytes, bytearray, memoryview, str]


class Headers(Protocol):
    """Any header collection with ``.items()``: a ``dict``, Starlette ``Headers``, Werkzeug
    ``EnvironHeaders``, Django ``HttpHeaders``."""

    def items(self) -> Iterable[tuple[str, Any]]: ...


_FIX = (
    "webhook verification needs the raw request body, not parsed JSON: use `await request.body()` "
    "(Starlette/FastAPI), `request.get_data()` (Flask) or `request.body` (Django), or the "
    "helpers in sigil.webhooks, before anything calls .json()"
)


def verify(webhook: Webhook, headers: Headers, body: object) -> VerifiedWebhook:
    """``webhook.verify`` with the raw-body check: parsed JSON raises ``RawBodyRequiredError``."""
    if isinstance(body, memoryview):
        body = body.tobytes()
    if not isinstance(body, (bytes, bytearray, str)):
        raise RawBodyRequiredError(f"{_FIX} (got {type(body).__name__})", code="raw_body_required")
    return webhook.verify(headers, body)


async def verify_starlette(webhook: Webhook, request: Any) -> VerifiedWebhook:
    """Verifies a Starlette or FastAPI ``Request``: ``await verify_starlette(wh, request)``."""
    return verify(webhook, request.headers, await request.body())


def verify_flask(webhook: Webhook, request: Any = None) -> VerifiedWebhook:
    """Verifies a Flask request (the current one when ``request`` is omitted)."""
    if request is None:
        from flask import request as current

        request = current
    return verify(webhook, request.headers, request.get_data(cache=True))


def verify_django(webhook: Webhook, request: Any) -> VerifiedWebhook:
    """Verifies a Django ``HttpRequest``."""
    return verify(webhook, request.headers, request.body)

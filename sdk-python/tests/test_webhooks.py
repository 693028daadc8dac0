"""Webhooks end to end: a real loopback receiver (``http.server`` in a thread) is
registered with the server, an event is triggered, and the delivery the server sent
is verified on its raw body. Then the framework helpers, each with its framework's
own request object: Starlette (over ASGI), Flask (test client), Django
(``RequestFactory``)."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import sigil
import sigil.webhooks
from sigil.testing import SigilTestServer

from .conftest import Mode

Delivery = tuple[dict[str, str], bytes]


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that queues each POST's headers and raw body."""

    def __init__(self) -> None:
        deliveries: queue.Queue[Delivery] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                deliveries.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.deliveries = deliveries
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next(self, event_type: str, timeout: float = 15) -> Delivery:
        """The next delivery of ``event_type`` (others, e.g. from other tests, are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            headers, body = self.deliveries.get(timeout=max(0.1, deadline - time.monotonic()))
            if json.loads(body).get("type") == event_type:
                return headers, body


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def test_a_real_delivery_verifies_on_its_raw_body(
    mode: Mode, sigil_server: SigilTestServer, api_key: str, receiver: Receiver
) -> None:
    client = mode.client(sigil_server.issuer, api_key=api_key)
    endpoint = mode.run(
        client.management.webhooks.create(
            {"url": receiver.url, "events": ["key.created"], "description": f"pytest {mode}"}
        )
    )
    try:
        assert endpoint["secret"].startswith("whsec_")
        created = mode.run(client.management.api_keys.create({"name": f"hook-{mode}"}))
        headers, body = receiver.next("key.created")

        wh = sigil.Webhook(endpoint["secret"])
        event = sigil.webhooks.verify(wh, headers, body)
        assert event.id == headers["webhook-id"]
        assert event.id.startswith("msg_")
        assert abs(event.timestamp - time.time()) < 60
        assert event.payload["type"] == "key.created"
        assert created["id"] in body.decode()

        # The same delivery fails against another secret, or once re-serialized.
        with pytest.raises(sigil.WebhookVerificationError) as info:
            sigil.Webhook("whsec_" + "A" * 43 + "=").verify(headers, body)
        assert info.value.code == "invalid_signature"
        reserialized = json.dumps(json.loads(body), indent=2).encode()
        with pytest.raises(sigil.WebhookVerificationError):
            wh.verify(headers, reserialized)
        with pytest.raises(sigil.RawBodyRequiredError):
            sigil.webhooks.verify(wh, headers, json.loads(body))

        # The server records the receiver's answer after the receiver has it (the
        # outcome is batched), so the list is polled, bounded.
        deadline = time.monotonic() + 10
        while True:
            deliveries = mode.run(client.management.webhooks.deliveries(endpoint["id"]))
            if any(d["status"] == "delivered" for d in deliveries):
                break
            assert time.monotonic() < deadline, deliveries
            time.sleep(0.05)
    finally:
        mode.run(client.management.webhooks.delete(endpoint["id"]))


# ---------------------------------------------------------------- framework helpers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type": "key.created", "data": {"id": "key_1"}}'


def signed_headers(body: bytes = BODY) -> dict[str, str]:
    now = int(time.time())
    return {
        "webhook-id": "msg_framework",
        "webhook-timestamp": str(now),
        "webhook-signature": sigil.Webhook(SECRET).sign("msg_framework", now, body),
        "content-type": "application/json",
    }


def test_verify_starlette() -> None:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    wh = sigil.Webhook(SECRET)

    async def hook(request: Request) -> Response:
        try:
            event = await sigil.webhooks.verify_starlette(wh, request)
        except sigil.WebhookVerificationError as e:
            return Response(e.code, status_code=400)
        return JSONResponse({"id": event.id, "type": event.payload["type"]})

    app = Starlette(routes=[Route("/hooks", hook, methods=["POST"])])

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
            r = await http.post("/hooks", content=BODY, headers=signed_headers())
            assert r.status_code == 200, r.text
            assert r.json() == {"id": "msg_framework", "type": "key.created"}
            r = await http.post("/hooks", content=BODY + b" ", headers=signed_headers())
            assert (r.status_code, r.text) == (400, "invalid_signature")

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_verify_flask() -> None:
    from flask import Flask, request

    wh = sigil.Webhook(SECRET)
    app = Flask(__name__)

    @app.post("/hooks")
    def hook() -> tuple[str, int]:
        try:
            event = sigil.webhooks.verify_flask(wh)  # the current request
            explicit = sigil.webhooks.verify_flask(wh, request)
        except sigil.WebhookVerificationError as e:
            return e.code, 400
        assert explicit.id == event.id
        # Parsing first does not consume the raw body for the helper...
        assert request.get_json()["type"] == "key.created"
        assert sigil.webhooks.verify_flask(wh).id == event.id
        # ...but handing over the parsed JSON is refused with the fix named.
        try:
            sigil.webhooks.verify(wh, request.headers, request.get_json())
        except sigil.RawBodyRequiredError as e:
            assert "get_data()" in str(e)
        return event.payload["type"], 200

    http = app.test_client()
    r = http.post("/hooks", data=BODY, headers=signed_headers())
    assert (r.status_code, r.get_data(as_text=True)) == (200, "key.created")
    r = http.post("/hooks", data=BODY.replace(b"key_1", b"key_2"), headers=signed_headers())
    assert (r.status_code, r.get_data(as_text=True)) == (400, "invalid_signature")


def test_verify_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, ALLOWED_HOSTS=["testserver"], USE_TZ=True)
    from django.test import RequestFactory

    wh = sigil.Webhook(SECRET)
    factory = RequestFactory()
    headers = signed_headers()
    request = factory.post(
        "/hooks",
        data=BODY,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "content-type"},
    )
    event = sigil.webhooks.verify_django(wh, request)
    assert (event.id, event.payload["type"]) == ("msg_framework", "key.created")

    tampered = factory.post(
        "/hooks",
        data=BODY.replace(b"key_1", b"key_2"),
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "content-type"},
    )
    with pytest.raises(sigil.WebhookVerificationError) as info:
        sigil.webhooks.verify_django(wh, tampered)
    assert info.value.code == "invalid_signature"

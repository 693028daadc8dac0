"""The typed surface against the runtime one.

``client.management`` / ``client.app`` are built at import time from the core's
operation table; ``sigil._resources`` declares them for type checkers. The tests
check that both name the same methods with the same number of arguments, blocking
and ``async``. The ``typed_usage*`` functions are never called: ``mypy --strict``
checks them (scripts/test-python.sh), and each ``# type: ignore[...]`` there is an
error mypy must report (``--strict`` fails on an ignore that is not needed)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

import sigil
from sigil import _resources

MANAGEMENT = {
    "apiKeys": "ApiKeys",
    "apps": "Apps",
    "agents": "Agents",
    "tokens": "Tokens",
    "policies": "Policies",
    "approvals": "Approvals",
    "audit": "Audit",
    "webhooks": "Webhooks",
    "domains": "Domains",
    "workspaces": "Workspaces",
    "trust": "Trust",
    "plans": "Plans",
    "account": "Account",
    "capTokens": "CapTokens",
    "providerLogin": "ProviderLogin",
    "app": "App",
    "appWebhooks": "Webhooks",
}


def snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name)


def arity(client: sigil.Client, operation: str) -> int:
    """How many arguments the core's operation takes (it says so for too many)."""
    with pytest.raises(sigil.InvalidInputError) as info:
        client._native.call(operation, [None] * 20)
    m = re.search(r"takes (\d+) argument", str(info.value))
    assert m, info.value
    return int(m[1])


def protocol_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


@pytest.mark.parametrize("prefix", ["", "Async"])
def test_protocols_declare_every_operation(prefix: str) -> None:
    # discover=False: no request is sent, the core checks the arguments first.
    client = sigil.Client("http://127.0.0.1:9", discover=False)
    declared: dict[str, int] = {}
    for resource, cls_name in MANAGEMENT.items():
        cls = getattr(_resources, prefix + cls_name)
        for name, fn in protocol_methods(cls).items():
            assert inspect.iscoroutinefunction(fn) == (prefix == "Async"), name
            params = list(inspect.signature(fn).parameters.values())[1:]
            assert all(p.kind is p.POSITIONAL_ONLY for p in params), name
            declared[f"{resource}.{name}"] = len(params)
    runtime = {}
    for op in sigil.operations():
        resource, method = op.split(".")
        runtime[f"{resource}.{snake(method)}"] = arity(client, op)
    assert declared == runtime


@pytest.mark.parametrize("cls", [sigil.Client, sigil.AsyncClient])
def test_namespaces_have_the_declared_attributes(cls: type) -> None:
    client = cls("http://127.0.0.1:9", discover=False)
    prefix = "Async" if cls is sigil.AsyncClient else ""
    for attr, kind in getattr(_resources, prefix + "Management").__annotations__.items():
        resource = getattr(client.management, attr)
        for name in protocol_methods(getattr(_resources, kind.replace("Async", prefix, 1))):
            assert callable(getattr(resource, name)), f"management.{attr}.{name}"
    for name in protocol_methods(getattr(_resources, prefix + "App")):
        assert callable(getattr(client.app, name))
    for name in protocol_methods(getattr(_resources, prefix + "Webhooks")):
        assert callable(getattr(client.app.webhooks, name))


def typed_usage(client: sigil.Client) -> None:
    token: str = client.access_token()
    tokens = client.tokens()
    if tokens is not None:
        expires: int = tokens.get("expiresAt", 0)
        bearer: str = tokens["accessToken"]
        print(expires, bearer)
    key = client.management.api_keys.create({"name": "ci", "preset": "read"})
    print(key["key"], token)
    client.management.api_keys.create({"name": "ci", "preset": "admin"})  # type: ignore[typeddict-item]
    client.management.api_keys.create({"name": "ci", "nmae": "x"})  # type: ignore[typeddict-unknown-key]
    client.management.api_keys.get(42)  # type: ignore[arg-type]
    client.management.api_keys.get(id="key_1")  # type: ignore[call-arg]
    page = client.management.agents.list({"limit": 10, "status": "active"})
    print(page["agents"])
    client.management.webhooks.create({"url": "https://x.example/hooks", "events": ["*"]})
    client.app.webhooks.list()
    csv: str = client.management.audit.export("csv", {"type": "key.created"})
    print(csv)
    client.verify_token(token, audience="https://api.example", required_scopes=["keys.read"])
    client.verify_token(token, scopes=["x"])  # type: ignore[call-arg]
    client.verify_token(token, token_type="agent")
    client.verify_token(token, token_type="robot")  # type: ignore[arg-type]


async def typed_usage_async(client: sigil.AsyncClient) -> None:
    token: str = await client.access_token()
    keys = await client.management.api_keys.list()
    print(token, [k["name"] for k in keys])
    await client.management.policies.create(
        {"name": "deny-nights", "rules": [{"effect": "deny", "match": {"scopes": ["*"]}}]}
    )
    verdict = await client.management.tokens.verify(token, "keys.read")
    print(verdict["valid"])
    client.management.api_keys.list().append({})  # type: ignore[attr-defined]


def typed_offline(request_headers: dict[str, str], body: bytes) -> None:
    wh = sigil.Webhook(["whsec_a", "whsec_b"], tolerance=300)
    event = wh.verify(request_headers, body)
    print(event.id, event.timestamp, event.payload)
    verifier = sigil.TokenVerifier({"keys": []}, {"audience": "https://api.example"})
    claims: dict[str, Any] = verifier.verify("t", now=0)
    print(claims)
    headers: dict[str, str] = sigil.sign_request("POST", "https://x", key_id="a", key="k", body=b"")
    print(headers)

"""The sigil-sdk (Python) conformance driver.

The runner (tests/, ``sigil-conformance``) holds every scenario; this process only
maps one primitive command to one call of the public package API (the blocking
``sigil.Client``), so Python is held to the same assertions as every other SDK.
Protocol: one JSON object per line on stdin, ``{"id":N,"cmd":"<name>","args":{...}}``,
answered in order on stdout with ``{"id":N,"ok":<result>}`` or
``{"id":N,"error":{class,code,status,requestId,retryAfter,message}}``.

The runner speaks the facade's camelCase (``clientId``, ``requiredScopes``); the
driver passes each member as the keyword argument a Python application would
write (``client_id``, ``required_scopes``). Run with the interpreter that has
sigil-sdk installed (``sdk-python/.venv/bin/python``)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import sigil

Args = dict[str, Any]

clients: dict[str, sigil.Client] = {}


def snake_name(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name)


def snake(options: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """camelCase members to snake_case keyword arguments."""
    return {snake_name(k): v for k, v in (options or {}).items()}


def client(a: Args) -> sigil.Client:
    handle = a.get("client")
    if handle not in clients:
        raise sigil.InvalidInputError(f"no client `{handle}`", code="invalid_input")
    return clients[str(handle)]


def operation(c: sigil.Client, op: str) -> Callable[..., Any]:
    """``resource.method`` on the client's typed API objects, as an application calls it."""
    resource, _, method = op.partition(".")
    api: Any
    if resource == "app":
        api = c.app
    elif resource == "appWebhooks":
        api = c.app.webhooks
    else:
        api = getattr(c.management, snake_name(resource), None)
    fn = getattr(api, snake_name(method), None)
    if not callable(fn):
        raise sigil.InvalidInputError(f"no operation `{op}`", code="invalid_input")
    return fn  # type: ignore[no-any-return]


def new_client(a: Args) -> str:
    config = dict(a.get("config") or {})
    issuer = config.pop("issuer", None)
    handle = f"c{len(clients) + 1}"
    clients[handle] = sigil.Client(issuer, **snake(config))
    return handle


def request(a: Args) -> dict[str, Any]:
    res = client(a).request(
        a.get("method") or "GET", a["url"], headers=a.get("headers"), body=a.get("body")
    )
    return {"status": res.status, "headers": res.headers, "body": res.text()}


def sign_request(a: Args) -> dict[str, str]:
    r = a.get("request") or {}
    options = snake(a.get("options"))
    return sigil.sign_request(
        r.get("method", "GET"),
        r.get("url", ""),
        headers=r.get("headers"),
        body=r.get("body"),
        **options,
    )


def verify_request(a: Args) -> dict[str, Any]:
    r = a.get("request") or {}
    options = snake(a.get("options"))
    return sigil.verify_request(
        r.get("method", "GET"),
        r.get("url", ""),
        headers=r.get("headers"),
        body=r.get("body"),
        **options,
    )


def verify_webhook(a: Args) -> dict[str, Any]:
    event = sigil.Webhook(a.get("secrets") or []).verify(a.get("headers") or {}, a.get("body", ""))
    return {"id": event.id, "timestamp": event.timestamp, "payload": event.payload}


def concurrent_access_tokens(a: Args) -> list[str]:
    """``access_token()`` from ``count`` threads at once on one client, as a
    threaded server's request handlers would call it."""
    c, count = client(a), int(a["count"])
    with ThreadPoolExecutor(max_workers=count) as pool:
        calls = [pool.submit(c.access_token) for _ in range(count)]
        return [call.result() for call in calls]


def pkce(a: Args) -> dict[str, str]:
    p = sigil.pkce()
    return {"verifier": p.verifier, "challenge": p.challenge, "method": p.method}


COMMANDS: dict[str, Callable[[Args], Any]] = {
    "newClient": new_client,
    "pkce": pkce,
    "discover": lambda a: client(a).discover(),
    "authorizationUrl": lambda a: client(a).authorization_url(**snake(a.get("options"))),
    "handleCallback": lambda a: client(a).handle_callback(a["url"]),
    "accessToken": lambda a: client(a).access_token(),
    "concurrentAccessTokens": concurrent_access_tokens,
    "tokens": lambda a: client(a).tokens(),
    "setTokens": lambda a: client(a).set_tokens(a["tokens"]),
    "logout": lambda a: client(a).logout(),
    "request": request,
    "clientCredentials": lambda a: client(a).client_credentials(a.get("scopes") or ()),
    "exchangeApiKey": lambda a: client(a).exchange_api_key(a.get("apiKey"), a.get("scopes") or ()),
    "tokenExchange": lambda a: client(a).token_exchange(**snake(a.get("options"))),
    "introspect": lambda a: client(a).introspect(a["token"], a.get("hint")),
    "revoke": lambda a: client(a).revoke(a["token"], a.get("hint")),
    "verifyToken": lambda a: client(a).verify_token(a["token"], **snake(a.get("options"))),
    "call": lambda a: operation(client(a), a["op"])(*(a.get("args") or [])),
    "signRequest": sign_request,
    "verifyRequest": verify_request,
    "verifyWebhook": verify_webhook,
    "signWebhook": lambda a: sigil.Webhook(a.get("secrets") or []).sign(
        a["id"], a["timestamp"], a.get("body", "")
    ),
    "verifyOffline": lambda a: sigil.TokenVerifier(a["jwks"], a.get("options")).verify(
        a["token"], now=a.get("now")
    ),
}


def error_info(e: BaseException) -> dict[str, Any]:
    """The error as the runner compares it: the class name and the typed fields."""
    info: dict[str, Any] = {"class": type(e).__name__, "message": str(e)}
    if isinstance(e, sigil.SigilError):
        info.update(code=e.code, status=e.status, requestId=e.request_id, retryAfter=e.retry_after)
    return info


def answer(line: str) -> dict[str, Any]:
    command_id = None
    try:
        command = json.loads(line)
        command_id = command.get("id")
        run = COMMANDS.get(command.get("cmd"))
        if run is None:
            raise sigil.InvalidInputError(
                f"unknown command `{command.get('cmd')}`", code="invalid_input"
            )
        return {"id": command_id, "ok": run(command.get("args") or {})}
    except Exception as e:
        return {"id": command_id, "error": error_info(e)}


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(line)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

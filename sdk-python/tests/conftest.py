"""Shared helpers. The server itself comes from the package's own pytest plugin
(``sigil.testing``, registered by installing sigil-sdk): the ``sigil_server``
fixture, from ``$SIGIL_SERVER`` (scripts/test-python.sh sets it)."""

from __future__ import annotations

import asyncio
import inspect
import re
import urllib.request
from typing import Any

import pytest

import sigil
from sigil.testing import SigilTestServer

_COUNTER = re.compile(r"^sigil_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")


def request_count(issuer: str, route: str, method: str = "POST") -> int:
    """How many requests the server answered on ``route`` (its ``GET /metrics``)."""
    with urllib.request.urlopen(f"{issuer}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0
    for line in text.splitlines():
        m = _COUNTER.match(line)
        if m and f'route="{route}"' in m["labels"] and f'method="{method}"' in m["labels"]:
            total += int(float(m["value"]))
    return total


def exchange_count(issuer: str) -> int:
    """API-key exchanges the server has answered."""
    return request_count(issuer, "/auth/token/exchange")


class Mode:
    """Runs the same scenario through ``sigil.Client`` or ``sigil.AsyncClient``.

    ``mode.client(...)`` builds the client; ``mode.run(client.method(...))`` returns
    the result: as is for the blocking client, awaited on a fresh event loop for the
    asyncio one. Errors surface the same way in both."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_async = name == "async"

    def client(self, issuer: str, **options: Any) -> Any:
        if self.is_async:
            return sigil.AsyncClient(issuer, **options)
        return sigil.Client(issuer, **options)

    def run(self, value: Any) -> Any:
        if inspect.iscoroutine(value):
            return asyncio.run(asyncio.wait_for(value, timeout=30))
        return value

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return Mode(request.param)


@pytest.fixture
def api_key(sigil_server: SigilTestServer) -> str:
    """The fixtures' full-access API key (alice's)."""
    return sigil_server.api_keys[0]

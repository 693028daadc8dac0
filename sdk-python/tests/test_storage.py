"""Session storage and token-change events: plain storage under ``Client``,
``async def`` storage under ``AsyncClient`` (run on the caller's event loop), and
``async def`` storage refused by ``Client`` at construction."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any, Optional

import pytest

import sigil
from sigil.testing import SigilTestServer

from .conftest import Mode, exchange_count


class DictStorage:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.calls: list[str] = []

    def get(self, key: str) -> Optional[str]:
        self.calls.append(f"get {key}")
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.calls.append(f"set {key}")
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.calls.append(f"delete {key}")
        self.data.pop(key, None)


class AsyncDictStorage:
    """``async def`` methods that record the loop and thread they run on."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.loops: set[int] = set()
        self.threads: set[int] = set()

    def _seen(self) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        self.threads.add(threading.get_ident())

    async def get(self, key: str) -> Optional[str]:
        self._seen()
        await asyncio.sleep(0)
        return self.data.get(key)

    async def set(self, key: str, value: str) -> None:
        self._seen()
        await asyncio.sleep(0)
        self.data[key] = value

    async def delete(self, key: str) -> None:
        self._seen()
        self.data.pop(key, None)


def test_sync_storage_under_client_is_shared(sigil_server: SigilTestServer, api_key: str) -> None:
    storage = DictStorage()
    first = sigil.Client(sigil_server.issuer, api_key=api_key, storage=storage)
    token = first.access_token()
    stored = json.loads(storage.data["sigil:tokens"])
    assert stored["access_token"] == token
    assert "set sigil:tokens" in storage.calls
    # A second client (another process, in real life) on the same storage reuses the
    # token without an exchange; another prefix keeps sessions apart.
    before = exchange_count(sigil_server.issuer)
    second = sigil.Client(sigil_server.issuer, api_key=api_key, storage=storage)
    assert second.access_token() == token
    assert exchange_count(sigil_server.issuer) == before
    third = sigil.Client(sigil_server.issuer, api_key=api_key, storage=storage, storage_prefix="b")
    assert third.access_token() != token
    assert set(storage.data) == {"sigil:tokens", "b:tokens"}
    assert exchange_count(sigil_server.issuer) == before + 1


def test_async_storage_runs_on_the_callers_loop(
    sigil_server: SigilTestServer, api_key: str
) -> None:
    storage = AsyncDictStorage()

    async def main() -> tuple[int, str]:
        client = sigil.AsyncClient(sigil_server.issuer, api_key=api_key, storage=storage)
        tokens = await asyncio.gather(*(client.access_token() for _ in range(10)))
        assert len(set(tokens)) == 1
        stored = await client.tokens()
        assert stored is not None and stored["accessToken"] == tokens[0]
        return id(asyncio.get_running_loop()), tokens[0]

    loop_id, token = asyncio.run(main())
    assert storage.loops == {loop_id}
    assert storage.threads == {threading.get_ident()}
    assert json.loads(storage.data["sigil:tokens"])["access_token"] == token


def test_sync_storage_under_async_client(sigil_server: SigilTestServer, api_key: str) -> None:
    storage = DictStorage()

    async def main() -> str:
        client = sigil.AsyncClient(sigil_server.issuer, api_key=api_key, storage=storage)
        return await client.access_token()

    token = asyncio.run(main())
    assert json.loads(storage.data["sigil:tokens"])["access_token"] == token


def test_async_storage_under_client_is_a_type_error(sigil_server: SigilTestServer) -> None:
    with pytest.raises(TypeError, match="async def"):
        sigil.Client(sigil_server.issuer, storage=AsyncDictStorage())

    class Incomplete:
        def get(self, key: str) -> None:
            return None

    for client_cls in (sigil.Client, sigil.AsyncClient):
        with pytest.raises(TypeError, match="set"):
            client_cls(sigil_server.issuer, storage=Incomplete())  # type: ignore[arg-type]

    async def on_change(event: dict[str, Any]) -> None:
        pass

    with pytest.raises(TypeError, match="on_token_change"):
        sigil.AsyncClient(sigil_server.issuer, on_token_change=on_change)  # type: ignore[arg-type]


def test_token_change_events(mode: Mode, sigil_server: SigilTestServer, api_key: str) -> None:
    events: list[dict[str, Any]] = []
    # logout() revokes at /oauth/revoke, which needs client authentication: the app's.
    app = sigil_server.apps[0]
    client = mode.client(
        sigil_server.issuer,
        api_key=api_key,
        client_id=app["id"],
        client_secret=app["secret"],
        on_token_change=events.append,
    )
    token = mode.run(client.access_token())
    assert [e["type"] for e in events] == ["refreshed"]
    assert events[0]["tokens"]["accessToken"] == token
    assert mode.run(client.access_token()) == token
    assert len(events) == 1  # cached: no new event

    mode.run(client.set_tokens({"accessToken": token, "tokenType": "Bearer"}))
    assert events[-1] == {"type": "stored", "tokens": {"accessToken": token, "tokenType": "Bearer"}}

    mode.run(client.logout())
    assert events[-1] == {"type": "loggedOut"}
    assert mode.run(client.tokens()) is None


def test_a_failing_listener_does_not_fail_the_call(
    sigil_server: SigilTestServer, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception in ``on_token_change`` goes to ``sys.unraisablehook``, not to the caller."""
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def listener(event: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    client = sigil.Client(sigil_server.issuer, api_key=api_key, on_token_change=listener)
    assert client.access_token().count(".") == 2
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert reported[0].object is listener

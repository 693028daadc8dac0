"""Single-flight renewal and freedom from deadlocks, counted on the server.

50 concurrent ``access_token()`` calls on one fresh client make exactly one API-key
exchange (``POST /auth/token/exchange``, from the server's ``GET /metrics``): as 50
asyncio tasks on ``AsyncClient`` and as 50 threads on ``Client``. Neither client
deadlocks when called from several threads at once, from inside a running event loop,
or from a token-change callback."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sigil
from sigil.testing import SigilTestServer

from .conftest import exchange_count

N = 50


def test_50_asyncio_tasks_one_exchange(sigil_server: SigilTestServer, api_key: str) -> None:
    before = exchange_count(sigil_server.issuer)

    async def main() -> list[str]:
        client = sigil.AsyncClient(sigil_server.issuer, api_key=api_key)
        calls = [asyncio.ensure_future(client.access_token()) for _ in range(N)]
        return await asyncio.wait_for(asyncio.gather(*calls), timeout=30)

    tokens = asyncio.run(main())
    assert len(tokens) == N and len(set(tokens)) == 1
    assert exchange_count(sigil_server.issuer) - before == 1


def test_50_threads_one_exchange(sigil_server: SigilTestServer, api_key: str) -> None:
    before = exchange_count(sigil_server.issuer)
    client = sigil.Client(sigil_server.issuer, api_key=api_key)
    barrier = threading.Barrier(N)

    def call(_: int) -> str:
        barrier.wait(timeout=30)
        return client.access_token()

    with ThreadPoolExecutor(max_workers=N) as pool:
        tokens = list(pool.map(call, range(N), timeout=60))
    assert len(tokens) == N and len(set(tokens)) == 1
    assert exchange_count(sigil_server.issuer) - before == 1


def run_bounded(target: Any, timeout: float = 30) -> None:
    """Runs ``target`` in a daemon thread; a hang fails the test instead of the run."""
    errors: list[BaseException] = []

    def wrapper() -> None:
        try:
            target()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=wrapper, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "deadlock: the call did not return"
    if errors:
        raise errors[0]


def test_blocking_client_inside_a_running_event_loop(
    sigil_server: SigilTestServer, api_key: str
) -> None:
    """A blocking call from ``async def`` (a running loop on this thread) returns; so do
    asyncio calls interleaved with it, and several threads each with its own loop sharing
    one ``AsyncClient``."""
    client = sigil.Client(sigil_server.issuer, api_key=api_key)
    shared = sigil.AsyncClient(sigil_server.issuer, api_key=api_key)

    async def inside_loop() -> None:
        asyncio.get_running_loop()
        token = client.access_token()
        assert client.management.api_keys.list()
        other = await shared.access_token()
        assert token.count(".") == other.count(".") == 2
        assert client.verify_token(token)["iss"] == sigil_server.issuer

    run_bounded(lambda: asyncio.run(inside_loop()))

    def thread_with_its_own_loop() -> None:
        async def go() -> None:
            for _ in range(5):
                await shared.access_token()
                await shared.management.api_keys.list()

        asyncio.run(go())

    def many_threads() -> None:
        threads = [threading.Thread(target=thread_with_its_own_loop) for _ in range(4)]
        threads += [threading.Thread(target=client.access_token) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    run_bounded(many_threads)


def test_callbacks_may_call_blocking_clients(sigil_server: SigilTestServer, api_key: str) -> None:
    """A token-change callback runs on the SDK's runtime; a blocking client call from it
    (to another client, or to the same one) returns instead of panicking or hanging."""
    other = sigil.Client(sigil_server.issuer, api_key=api_key)
    seen: dict[str, Any] = {}

    def listener(event: dict[str, Any]) -> None:
        seen["other"] = other.access_token()
        seen["own"] = client.tokens()

    client = sigil.Client(sigil_server.issuer, api_key=api_key, on_token_change=listener)
    run_bounded(client.access_token)
    assert seen["other"].count(".") == 2
    assert seen["own"] is not None

    seen.clear()

    async def main() -> None:
        aclient = sigil.AsyncClient(
            sigil_server.issuer,
            api_key=api_key,
            on_token_change=lambda e: seen.setdefault("other", other.access_token()),
        )
        await aclient.access_token()

    run_bounded(lambda: asyncio.run(main()))
    assert seen["other"].count(".") == 2

"""Run a real ``sigil-server --test-mode`` in your tests.

As a pytest plugin (registered by installing ``sigil-sdk``), the
``sigil_server`` fixture starts one server per session, on a free loopback
port, with a fixtures file of known apps, users and keys, and stops it after.
Outside pytest, ``run_server()`` is the same thing as a context manager.

The binary comes from ``--sigil-server`` or ``$SIGIL_SERVER``, then
``sigil-server`` on ``PATH``; the fixtures from ``--sigil-fixtures`` or
``$SIGIL_FIXTURES``, else the example fixtures shipped with this package.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pytest

EXAMPLE_FIXTURES = Path(__file__).with_name("fixtures.json")

_HOW_TO_GET_IT = (
    "sigil-server was not found. Build it from the Sigil repository with "
    "`cargo build -p sigil-server` (or `cargo install --path reference-server`), then set "
    "SIGIL_SERVER=/path/to/sigil-server, pass --sigil-server, or put it on PATH."
)


class ServerNotFound(RuntimeError):
    """No ``sigil-server`` binary could be found."""


def find_server(explicit: Optional[str] = None) -> str:
    """The binary to run: ``explicit``, ``$SIGIL_SERVER``, then ``PATH``."""
    for candidate in (explicit, os.environ.get("SIGIL_SERVER")):
        if candidate:
            if not os.access(candidate, os.X_OK):
                raise ServerNotFound(f"{candidate} is not an executable file. {_HOW_TO_GET_IT}")
            return candidate
    found = shutil.which("sigil-server")
    if found is None:
        raise ServerNotFound(_HOW_TO_GET_IT)
    return found


@dataclass(frozen=True)
class SigilTestServer:
    """A running test-mode server: its issuer, its known fixtures, its clock."""

    issuer: str
    fixtures: dict[str, Any]

    @property
    def api_keys(self) -> list[str]:
        """The fixtures' API keys, in file order (the first is a full key in the example)."""
        return [k["key"] for k in self.fixtures.get("apiKeys", [])]

    @property
    def apps(self) -> list[dict[str, Any]]:
        """The fixtures' apps (id, secret, redirect URIs, scopes)."""
        return list(self.fixtures.get("apps", []))

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.issuer + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def advance_clock(self, seconds: int) -> int:
        """Moves the server's clock by ``seconds``; returns its new UNIX time."""
        return int(self._post("/_test/clock", {"advance": seconds})["now"])

    def set_clock(self, unix_seconds: int) -> int:
        """Sets the server's clock; returns its new UNIX time."""
        return int(self._post("/_test/clock", {"set": unix_seconds})["now"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_server(
    binary: Optional[str] = None,
    fixtures: Union[os.PathLike[str], str, None] = None,
    extra_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> Iterator[SigilTestServer]:
    """Starts ``sigil-server serve --test-mode`` and stops it on exit."""
    exe = find_server(binary)
    path = Path(fixtures or os.environ.get("SIGIL_FIXTURES") or EXAMPLE_FIXTURES)
    data = json.loads(path.read_text())
    port = _free_port()
    bind = f"127.0.0.1:{port}"
    env = {**os.environ, "SIGIL_LOG": os.environ.get("SIGIL_LOG", "warn")}
    args = [exe, "serve", "--bind", bind, "--database", "sqlite::memory:", "--test-mode"]
    process = subprocess.Popen([*args, "--fixtures", str(path), *extra_args], env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://{bind}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"sigil-server exited with {process.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sigil-server did not answer within {timeout} s") from None
                time.sleep(0.05)
        yield SigilTestServer(issuer=f"http://{bind}", fixtures=data)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sigil")
    group.addoption(
        "--sigil-server", help="path of the sigil-server binary (default: $SIGIL_SERVER, then PATH)"
    )
    group.addoption(
        "--sigil-fixtures", help="fixtures file for the test server (default: $SIGIL_FIXTURES)"
    )


@pytest.fixture(scope="session")
def sigil_server(request: pytest.FixtureRequest) -> Iterator[SigilTestServer]:
    """A ``sigil-server --test-mode`` for the whole session."""
    try:
        binary = find_server(request.config.getoption("--sigil-server"))
    except ServerNotFound as e:
        pytest.fail(str(e), pytrace=False)
    with run_server(binary, request.config.getoption("--sigil-fixtures")) as server:
        yield server

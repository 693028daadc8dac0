"""``Client`` (blocking) and ``AsyncClient`` (asyncio) over the Rust core's
facade. Both only convert arguments: every behaviour (renewal, retries,
single-flight, typed errors) is the core's, on one shared tokio runtime."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Callable, Literal, Optional, Protocol, TypedDict, Union, cast

from sigil import _native
from sigil._errors import InvalidInputError
from sigil._resources import App, AsyncApp, AsyncManagement, Management

JSON = Any


class _TokensBase(TypedDict):
    accessToken: str
    tokenType: str


class Tokens(_TokensBase, total=False):
    """A token set as the SDK returns and stores it (``expiresAt`` in UNIX seconds)."""

    expiresAt: int
    refreshToken: str
    scope: str
    idToken: str
    issuedTokenType: str


TokenEvent = dict[str, Any]
"""``{"type": "stored" | "refreshed", "tokens": Tokens}``, ``{"type": "expired"}``,
``{"type": "loggedOut"}`` or ``{"type": "discarded", "error": StorageError}`` (a stored
value that was not a token set was deleted; the call that read it raised the error)."""


class Storage(Protocol):
    """Where a session lives: a dict, Redis, a database table. Under
    ``AsyncClient`` each method may also be ``async def``."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: str) -> Any: ...
    def delete(self, key: str) -> Any: ...


class Response:
    """The answer to ``request()``: status, headers (lowercase names) and body."""

    def __init__(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status = status
        self.headers: dict[str, str] = {}
        for name, value in headers:
            self.headers[name] = f"{self.headers[name]}, {value}" if name in self.headers else value
        self.content = content

    def json(self) -> JSON:
        import json

        return json.loads(self.content)

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"Response(status={self.status}, {len(self.content)} bytes)"


def _config(issuer: str, options: Mapping[str, Any]) -> dict[str, Any]:
    names = {
        "client_id": "clientId",
        "client_secret": "clientSecret",
        "client_auth": "clientAuth",
        "api_key": "apiKey",
        "scopes": "scopes",
        "renewal": "renewal",
        "redirect_uri": "redirectUri",
        "skew_seconds": "skewSeconds",
        "discover": "discover",
        "storage_prefix": "storagePrefix",
        "max_retries": "maxRetries",
        "max_retry_delay_seconds": "maxRetryDelaySeconds",
    }
    config: dict[str, Any] = {"issuer": issuer}
    for name, value in options.items():
        if name not in names:
            raise _invalid(f"unknown option `{name}`")
        if value is not None:
            config[names[name]] = _scopes(value) if name == "scopes" else value
    return config


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(message, code="invalid_input")


def _scopes(scopes: Optional[Iterable[str]], what: str = "scopes") -> list[str]:
    """A list of scope strings; a bare ``str`` (which would iterate by character) is refused."""
    if scopes is None:
        return []
    if isinstance(scopes, (str, bytes)):
        raise _invalid(f"{what} must be a list of str, not a single {type(scopes).__name__}")
    try:
        return list(scopes)
    except TypeError:
        raise _invalid(f"{what} must be a list of str, not {type(scopes).__name__}") from None


def _header_pairs(headers: Optional[Mapping[str, str]]) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not hasattr(headers, "items"):
        raise _invalid(f"headers must be a mapping, not {type(headers).__name__}")
    pairs = list(headers.items())
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise _invalid(f"header {name!r}: names and values must be str")
    return pairs


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise _invalid(f"body must be bytes or str, not {type(body).__name__} (use json= for objects)")


def _request_parts(
    method: str, headers: Optional[Mapping[str, str]], body: Union[bytes, str, None], json: JSON
) -> tuple[str, list[tuple[str, str]], bytes]:
    if not isinstance(method, str):
        raise _invalid(f"method must be a str, not {type(method).__name__}")
    pairs = _header_pairs(headers)
    data = _body_bytes(body)
    if json is not None:
        import json as _json

        if body is not None:
            raise _invalid("pass body= or json=, not both")
        try:
            data = _json.dumps(json).encode()
        except (TypeError, ValueError) as e:
            raise _invalid(f"json: {e}") from e
        if not any(k.lower() == "content-type" for k, _ in pairs):
            pairs.append(("content-type", "application/json"))
    return method.upper(), pairs, data


def _check_callbacks(
    storage: Optional[Storage],
    on_token_change: Optional[Callable[[TokenEvent], None]],
    allow_async_storage: bool,
) -> None:
    """Refuses, at construction, callbacks the client could never call."""
    if storage is not None:
        for name in ("get", "set", "delete"):
            method = getattr(storage, name, None)
            if not callable(method):
                raise TypeError(f"storage needs a callable `{name}` method")
            if not allow_async_storage and inspect.iscoroutinefunction(method):
                raise TypeError(
                    f"storage.{name} is `async def`: the blocking Client needs plain "
                    "methods (use AsyncClient)"
                )
    if on_token_change is not None:
        if not callable(on_token_change):
            raise TypeError("on_token_change must be callable")
        if inspect.iscoroutinefunction(on_token_change):
            raise TypeError(
                "on_token_change must be a plain function: it is called synchronously after "
                "each token change (schedule async work from it yourself)"
            )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


class _Resource:
    """One API resource; its methods come from the core's operation table."""

    def __init__(self, call: Callable[[str, list[Any]], Any]) -> None:
        self._call = call


def _resource_classes(asynchronous: bool) -> dict[str, type[_Resource]]:
    groups: dict[str, dict[str, Any]] = {}
    for op in _native.operations():
        resource, method = op.split(".")

        def method_fn(self: _Resource, *args: Any, _op: str = op) -> Any:
            return self._call(_op, list(args))

        if asynchronous:

            async def method_async(self: _Resource, *args: Any, _op: str = op) -> Any:
                return await self._call(_op, list(args))

            method_fn = method_async
        groups.setdefault(resource, {})[_snake(method)] = method_fn
    prefix = "Async" if asynchronous else ""
    return {
        resource: type(f"{prefix}{resource[0].upper()}{resource[1:]}", (_Resource,), methods)
        for resource, methods in groups.items()
    }


_SYNC = _resource_classes(asynchronous=False)
_ASYNC = _resource_classes(asynchronous=True)


class _Namespace:
    """``client.management`` / ``client.app``: resources by snake_case name."""

    def __init__(self, **resources: Any) -> None:
        self.__dict__.update(resources)


def _namespaces(
    classes: Mapping[str, type[_Resource]], call: Callable[[str, list[Any]], Any]
) -> tuple[object, object]:
    management = _Namespace(
        **{_snake(r): cls(call) for r, cls in classes.items() if r not in ("app", "appWebhooks")}
    )
    app = classes["app"](call)
    app.webhooks = classes["appWebhooks"](call)  # type: ignore[attr-defined]
    return management, app


class Client:
    """The blocking client. The GIL is released while a call waits on the network."""

    def __init__(
        self,
        issuer: str,
        *,
        storage: Optional[Storage] = None,
        on_token_change: Optional[Callable[[TokenEvent], None]] = None,
        **options: Any,
    ) -> None:
        _check_callbacks(storage, on_token_change, allow_async_storage=False)
        self._native = _native.NativeClient(_config(issuer, options), storage, on_token_change)
        management, app = _namespaces(_SYNC, self._native.call)
        #: ``/v1``: ``client.management.api_keys.create({...})``.
        self.management = cast(Management, management)
        #: ``/app/v1`` (the session must hold an app token).
        self.app = cast(App, app)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release yet; here so the client can be a context manager."""

    def discover(self) -> dict[str, Any]:
        return self._native.discover()

    def authorization_url(
        self,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Iterable[str]] = None,
        extra: Optional[Mapping[str, str]] = None,
    ) -> dict[str, str]:
        options = {
            "redirectUri": redirect_uri,
            "scopes": None if scopes is None else _scopes(scopes),
            "extra": extra or {},
        }
        return self._native.authorization_url(options)

    def handle_callback(self, url: str) -> Tokens:
        return self._native.handle_callback(url)

    def access_token(self) -> str:
        return self._native.access_token()

    def tokens(self) -> Optional[Tokens]:
        return self._native.tokens()

    def set_tokens(self, tokens: Mapping[str, Any]) -> None:
        self._native.set_tokens(tokens)

    def logout(self) -> None:
        self._native.logout()

    def client_credentials(self, scopes: Iterable[str] = ()) -> Tokens:
        return self._native.client_credentials(_scopes(scopes))

    def exchange_api_key(self, api_key: Optional[str] = None, scopes: Iterable[str] = ()) -> Tokens:
        return self._native.exchange_api_key(api_key, _scopes(scopes))

    def token_exchange(self, **options: Any) -> Tokens:
        return self._native.token_exchange(_camel(options))

    def introspect(self, token: str, hint: Optional[str] = None) -> dict[str, Any]:
        return self._native.introspect(token, hint)

    def revoke(self, token: str, hint: Optional[str] = None) -> None:
        self._native.revoke(token, hint)

    def verify_token(
        self,
        token: str,
        *,
        audience: Optional[str] = None,
        issuer: Optional[str] = None,
        required_scopes: Iterable[str] = (),
        leeway_seconds: Optional[int] = None,
        token_type: Optional[Literal["access", "agent", "any"]] = None,
    ) -> dict[str, Any]:
        """Verifies an access (or agent) token offline against the server's JWKS (cached,
        refetched on an unknown ``kid``) and returns its claims; raises ``TokenError``."""
        options = _verify_options(audience, issuer, required_scopes, leeway_seconds, token_type)
        return self._native.verify_token(token, options)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Optional[Mapping[str, str]] = None,
        body: Union[bytes, str, None] = None,
        json: JSON = None,
    ) -> Response:
        m, h, b = _request_parts(method, headers, body, json)
        return Response(*self._native.request(m, url, h, b))


class AsyncClient:
    """The asyncio client. Storage methods and ``on_token_change`` may be
    plain functions; storage methods may also be ``async def``, run on the
    caller's event loop."""

    def __init__(
        self,
        issuer: str,
        *,
        storage: Optional[Storage] = None,
        on_token_change: Optional[Callable[[TokenEvent], None]] = None,
        **options: Any,
    ) -> None:
        _check_callbacks(storage, on_token_change, allow_async_storage=True)
        self._native = _native.NativeClient(_config(issuer, options), storage, on_token_change)
        management, app = _namespaces(_ASYNC, self._native.call_async)
        #: ``/v1``: ``await client.management.api_keys.create({...})``.
        self.management = cast(AsyncManagement, management)
        #: ``/app/v1`` (the session must hold an app token).
        self.app = cast(AsyncApp, app)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to release yet; here so the client can be a context manager."""

    async def discover(self) -> dict[str, Any]:
        return await self._native.discover_async()

    async def authorization_url(
        self,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Iterable[str]] = None,
        extra: Optional[Mapping[str, str]] = None,
    ) -> dict[str, str]:
        options = {
            "redirectUri": redirect_uri,
            "scopes": None if scopes is None else _scopes(scopes),
            "extra": extra or {},
        }
        return await self._native.authorization_url_async(options)

    async def handle_callback(self, url: str) -> Tokens:
        return await self._native.handle_callback_async(url)

    async def access_token(self) -> str:
        return await self._native.access_token_async()

    async def tokens(self) -> Optional[Tokens]:
        return await self._native.tokens_async()

    async def set_tokens(self, tokens: Mapping[str, Any]) -> None:
        return await self._native.set_tokens_async(tokens)

    async def logout(self) -> None:
        return await self._native.logout_async()

    async def client_credentials(self, scopes: Iterable[str] = ()) -> Tokens:
        return await self._native.client_credentials_async(_scopes(scopes))

    async def exchange_api_key(
        self, api_key: Optional[str] = None, scopes: Iterable[str] = ()
    ) -> Tokens:
        return await self._native.exchange_api_key_async(api_key, _scopes(scopes))

    async def token_exchange(self, **options: Any) -> Tokens:
        return await self._native.token_exchange_async(_camel(options))

    async def introspect(self, token: str, hint: Optional[str] = None) -> dict[str, Any]:
        return await self._native.introspect_async(token, hint)

    async def revoke(self, token: str, hint: Optional[str] = None) -> None:
        return await self._native.revoke_async(token, hint)

    async def verify_token(
        self,
        token: str,
        *,
        audience: Optional[str] = None,
        issuer: Optional[str] = None,
        required_scopes: Iterable[str] = (),
        leeway_seconds: Optional[int] = None,
        token_type: Optional[Literal["access", "agent", "any"]] = None,
    ) -> dict[str, Any]:
        """Verifies an access (or agent) token offline against the server's JWKS (cached,
        refetched on an unknown ``kid``) and returns its claims; raises ``TokenError``."""
        options = _verify_options(audience, issuer, required_scopes, leeway_seconds, token_type)
        return await self._native.verify_token_async(token, options)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Optional[Mapping[str, str]] = None,
        body: Union[bytes, str, None] = None,
        json: JSON = None,
    ) -> Response:
        m, h, b = _request_parts(method, headers, body, json)
        return Response(*await self._native.request_async(m, url, h, b))


def _verify_options(
    audience: Optional[str],
    issuer: Optional[str],
    required_scopes: Iterable[str],
    leeway_seconds: Optional[int],
    token_type: Optional[str],
) -> dict[str, Any]:
    options: dict[str, Any] = {"requiredScopes": _scopes(required_scopes, "required_scopes")}
    for name, value in (
        ("audience", audience),
        ("issuer", issuer),
        ("leewaySeconds", leeway_seconds),
        ("tokenType", token_type),
    ):
        if value is not None:
            options[name] = value
    return options


def _camel(options: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case keyword options to the core's camelCase members."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        head, *rest = name.split("_")
        out[head + "".join(p.title() for p in rest)] = (
            list(value) if isinstance(value, (tuple, set)) else value
        )
    return out

"""Types of the typed API clients, ``client.management`` (``/v1``) and
``client.app`` (``/app/v1``).

At runtime their methods are built from the core's operation table
(``sigil.operations()``, see ``_client.py``): every method forwards its
positional arguments to the core, which checks them (``InvalidInputError``)
and returns the JSON answer as ``dict``/``list``. The protocols below describe
that surface for type checkers, once blocking and once ``async``;
``tests/test_typing.py`` checks that they and the operation table name the
same methods with the same number of arguments.

Request bodies are ``TypedDict``s with the API's member names; answers are
plain JSON objects (``dict[str, Any]``)."""

from __future__ import annotations

from typing import Any, Literal, Optional, Protocol, TypedDict

JsonObject = dict[str, Any]
JsonList = list[JsonObject]

# ---------------------------------------------------------------- request bodies


class _NewApiKey(TypedDict):
    name: str


class NewApiKey(_NewApiKey, total=False):
    """``scopes`` or ``preset`` (``read``, ``write``, ``full``); expiry 1-3650 days."""

    scopes: list[str]
    preset: Literal["read", "write", "full"]
    expiresInDays: int
    appId: str
    allowedIps: list[str]


class ApiKeyUpdate(TypedDict, total=False):
    """At least one member; ``allowedIps: None`` clears the list."""

    name: str
    allowedIps: Optional[list[str]]


class NewWorkspaceMember(TypedDict):
    email: str
    role: Literal["owner", "admin", "member", "read_only"]


class _ModerationChange(TypedDict):
    state: Literal["clean", "warn", "restrict", "disabled"]


class ModerationChange(_ModerationChange, total=False):
    reason: str


class PlanChange(TypedDict):
    plan: str
    maxAgents: int
    maxTokensPerMonth: int


class AccountUpdate(TypedDict, total=False):
    """``alias: None`` clears the alias; leaving it out keeps it."""

    alias: Optional[str]


class _NewCapToken(TypedDict):
    appId: str
    scopes: list[str]


class NewCapToken(_NewCapToken, total=False):
    expiresInSecs: int
    origins: list[str]
    emails: list[str]


class _NewReport(TypedDict):
    userId: str
    reason: Literal["spam", "abuse", "impersonation", "fraud", "other"]


class NewReport(_NewReport, total=False):
    details: str


class _NewApp(TypedDict):
    name: str
    redirectUris: list[str]
    allowedOrigins: list[str]
    public: bool


class NewApp(_NewApp, total=False):
    scopes: list[str]


class AppUpdate(TypedDict, total=False):
    name: str
    redirectUris: list[str]
    allowedOrigins: list[str]
    scopes: list[str]


class _NewAgent(TypedDict):
    name: str


class NewAgent(_NewAgent, total=False):
    description: str


class AgentQuery(TypedDict, total=False):
    limit: int
    offset: int
    status: Literal["active", "paused", "revoked"]


class _TokenRequest(TypedDict):
    agent_id: str
    scope: list[str]


class TokenRequest(_TokenRequest, total=False):
    """An agent token request (the server's snake_case members)."""

    ttl: int
    target_service: str
    intent: str


class TimeOfDay(TypedDict):
    start: str
    end: str
    tz: str


class RuleMatch(TypedDict, total=False):
    agents: list[str]
    owners: list[str]
    scopes: list[str]
    target_services: list[str]
    time_of_day: TimeOfDay


class RuleLimit(TypedDict):
    count: int
    window_secs: int


class _Rule(TypedDict):
    effect: Literal["allow", "deny", "throttle", "require_approval"]


class Rule(_Rule, total=False):
    match: RuleMatch
    limit: RuleLimit


class _NewPolicy(TypedDict):
    name: str
    rules: list[Rule]


class NewPolicy(_NewPolicy, total=False):
    description: str
    priority: int
    is_active: bool


class PolicyUpdate(TypedDict, total=False):
    name: str
    description: str
    priority: int
    rules: list[Rule]
    is_active: bool


class AuditFilter(TypedDict, total=False):
    """``since``/``until``: RFC 3339 or UNIX seconds."""

    type: str
    actor: str
    since: str
    until: str


class _NewWebhook(TypedDict):
    url: str
    events: list[str]


class NewWebhook(_NewWebhook, total=False):
    description: str


class _NewMessage(TypedDict):
    to: str
    body: str


class NewMessage(_NewMessage, total=False):
    subject: str


# ---------------------------------------------------------------- blocking


class ApiKeys(Protocol):
    """``/v1/api-keys``."""

    def create(self, key: NewApiKey, /) -> JsonObject: ...
    def list(self) -> JsonList: ...
    def get(self, id: str, /) -> JsonObject: ...
    def rename(self, id: str, name: str, /) -> JsonObject: ...
    def update(self, id: str, update: ApiKeyUpdate, /) -> JsonObject: ...
    def revoke(self, id: str, /) -> JsonObject: ...
    def delete(self, id: str, /) -> None: ...


class Apps(Protocol):
    """``/v1/apps``: OAuth apps."""

    def create(self, app: NewApp, /) -> JsonObject: ...
    def list(self) -> JsonList: ...
    def get(self, id: str, /) -> JsonObject: ...
    def update(self, id: str, update: AppUpdate, /) -> JsonObject: ...
    def rotate_secret(self, id: str, /) -> JsonObject: ...
    def delete(self, id: str, /) -> None: ...


class Agents(Protocol):
    """``/v1/agents``."""

    def create(self, agent: NewAgent, /) -> JsonObject: ...
    def list(self, query: Optional[AgentQuery] = None, /) -> JsonObject: ...
    def get(self, id: str, /) -> JsonObject: ...
    def pause(self, id: str, /) -> JsonObject: ...
    def resume(self, id: str, /) -> JsonObject: ...
    def revoke(self, id: str, /) -> JsonObject: ...


class Tokens(Protocol):
    """``/v1/tokens``: agent tokens."""

    def issue(self, request: TokenRequest, /) -> JsonObject: ...
    def verify(self, token: str, required_scope: Optional[str] = None, /) -> JsonObject: ...
    def verify_batch(
        self, tokens: list[str], required_scope: Optional[str] = None, /
    ) -> JsonList: ...
    def revoke(self, jti: str, /) -> JsonObject: ...


class Policies(Protocol):
    """``/v1/policies``."""

    def create(self, policy: NewPolicy, /) -> JsonObject: ...
    def list(self) -> JsonList: ...
    def get(self, id: str, /) -> JsonObject: ...
    def update(self, id: str, update: PolicyUpdate, /) -> JsonObject: ...
    def delete(self, id: str, /) -> None: ...


class Approvals(Protocol):
    """``/v1/approvals`` (``require_approval`` policies)."""

    def list(
        self, status: Optional[Literal["pending", "granted", "rejected", "collected"]] = None, /
    ) -> JsonList: ...
    def grant(self, id: str, /) -> JsonObject: ...
    def reject(self, id: str, /) -> JsonObject: ...
    def collect(self, id: str, /) -> JsonObject: ...


class Audit(Protocol):
    """``/v1/audit``: the hash-chained audit log."""

    def list(
        self,
        filter: Optional[AuditFilter] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        /,
    ) -> JsonObject: ...
    def verify(self) -> JsonObject: ...
    def export(
        self, format: Literal["csv", "json"], filter: Optional[AuditFilter] = None, /
    ) -> str: ...


class Webhooks(Protocol):
    """Webhook endpoints (``/v1/webhooks``, or ``/app/v1/webhooks`` as ``client.app.webhooks``)."""

    def create(self, webhook: NewWebhook, /) -> JsonObject: ...
    def list(self) -> JsonList: ...
    def get(self, id: str, /) -> JsonObject: ...
    def delete(self, id: str, /) -> None: ...
    def rotate_secret(self, id: str, /) -> JsonObject: ...
    def deliveries(self, id: str, limit: Optional[int] = None, /) -> JsonList: ...
    def redeliver(self, id: str, delivery_id: str, /) -> Optional[JsonObject]: ...


class Domains(Protocol):
    """``/v1/domains``."""

    def add(self, domain: str, /) -> JsonObject: ...
    def list(self) -> JsonList: ...
    def get(self, id: str, /) -> JsonObject: ...
    def verify(self, id: str, /) -> JsonObject: ...
    def delete(self, id: str, /) -> None: ...


class Workspaces(Protocol):
    """``/v1/workspaces``: a user's token or cookie picks one with ``X-Sigil-Workspace``."""

    def list(self) -> JsonList: ...
    def create(self, name: str, /) -> JsonObject: ...
    def get(self, id: str, /) -> JsonObject: ...
    def rename(self, id: str, name: str, /) -> JsonObject: ...
    def members(self, id: str, /) -> JsonList: ...
    def add_member(self, id: str, member: NewWorkspaceMember, /) -> JsonObject: ...
    def set_role(
        self, id: str, user_id: str, role: Literal["owner", "admin", "member", "read_only"], /
    ) -> JsonObject: ...
    def remove_member(self, id: str, user_id: str, /) -> None: ...


class Trust(Protocol):
    """Trust levels and moderation; ``user`` and ``set_moderation`` need an operator key."""

    def model(self) -> Any: ...
    def mine(self) -> JsonObject: ...
    def user(self, user_id: str, /) -> JsonObject: ...
    def set_moderation(self, user_id: str, change: ModerationChange, /) -> JsonObject: ...


class Plans(Protocol):
    """Plan limits; ``get`` and ``set`` need an operator key."""

    def mine(self) -> JsonObject: ...
    def get(self, account_id: str, /) -> JsonObject: ...
    def set(self, account_id: str, change: PlanChange, /) -> JsonObject: ...


class Account(Protocol):
    """``/v1/account``: the caller's own account."""

    def get(self) -> JsonObject: ...
    def update(self, update: AccountUpdate, /) -> JsonObject: ...


class CapTokens(Protocol):
    """``/v1/cap-tokens``: ``cap_…`` tokens for an app's front end (``apps.write``)."""

    def create(self, token: NewCapToken, /) -> JsonObject: ...


class ProviderLogin(Protocol):
    """``POST /auth/oauth/exchange``: needs no session, the code is the credential."""

    def exchange(self, code: str, /) -> JsonObject: ...


class App(Protocol):
    """``/app/v1`` (the session must hold an app token)."""

    webhooks: Webhooks

    def lookup_identity(self, user_id: str, /) -> JsonObject: ...
    def send_message(
        self, message: NewMessage, idempotency_key: Optional[str] = None, /
    ) -> JsonObject: ...
    def ai_chat(self, request: Any, /) -> Any: ...
    def report(self, report: NewReport, /) -> JsonObject: ...


class Management(Protocol):
    """``client.management``: the ``/v1`` resources."""

    api_keys: ApiKeys
    apps: Apps
    agents: Agents
    tokens: Tokens
    policies: Policies
    approvals: Approvals
    audit: Audit
    webhooks: Webhooks
    domains: Domains
    workspaces: Workspaces
    trust: Trust
    plans: Plans
    account: Account
    cap_tokens: CapTokens
    provider_login: ProviderLogin


# ---------------------------------------------------------------- asyncio


class AsyncApiKeys(Protocol):
    """``/v1/api-keys``."""

    async def create(self, key: NewApiKey, /) -> JsonObject: ...
    async def list(self) -> JsonList: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def rename(self, id: str, name: str, /) -> JsonObject: ...
    async def update(self, id: str, update: ApiKeyUpdate, /) -> JsonObject: ...
    async def revoke(self, id: str, /) -> JsonObject: ...
    async def delete(self, id: str, /) -> None: ...


class AsyncApps(Protocol):
    """``/v1/apps``: OAuth apps."""

    async def create(self, app: NewApp, /) -> JsonObject: ...
    async def list(self) -> JsonList: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def update(self, id: str, update: AppUpdate, /) -> JsonObject: ...
    async def rotate_secret(self, id: str, /) -> JsonObject: ...
    async def delete(self, id: str, /) -> None: ...


class AsyncAgents(Protocol):
    """``/v1/agents``."""

    async def create(self, agent: NewAgent, /) -> JsonObject: ...
    async def list(self, query: Optional[AgentQuery] = None, /) -> JsonObject: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def pause(self, id: str, /) -> JsonObject: ...
    async def resume(self, id: str, /) -> JsonObject: ...
    async def revoke(self, id: str, /) -> JsonObject: ...


class AsyncTokens(Protocol):
    """``/v1/tokens``: agent tokens."""

    async def issue(self, request: TokenRequest, /) -> JsonObject: ...
    async def verify(self, token: str, required_scope: Optional[str] = None, /) -> JsonObject: ...
    async def verify_batch(
        self, tokens: list[str], required_scope: Optional[str] = None, /
    ) -> JsonList: ...
    async def revoke(self, jti: str, /) -> JsonObject: ...


class AsyncPolicies(Protocol):
    """``/v1/policies``."""

    async def create(self, policy: NewPolicy, /) -> JsonObject: ...
    async def list(self) -> JsonList: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def update(self, id: str, update: PolicyUpdate, /) -> JsonObject: ...
    async def delete(self, id: str, /) -> None: ...


class AsyncApprovals(Protocol):
    """``/v1/approvals`` (``require_approval`` policies)."""

    async def list(
        self, status: Optional[Literal["pending", "granted", "rejected", "collected"]] = None, /
    ) -> JsonList: ...
    async def grant(self, id: str, /) -> JsonObject: ...
    async def reject(self, id: str, /) -> JsonObject: ...
    async def collect(self, id: str, /) -> JsonObject: ...


class AsyncAudit(Protocol):
    """``/v1/audit``: the hash-chained audit log."""

    async def list(
        self,
        filter: Optional[AuditFilter] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        /,
    ) -> JsonObject: ...
    async def verify(self) -> JsonObject: ...
    async def export(
        self, format: Literal["csv", "json"], filter: Optional[AuditFilter] = None, /
    ) -> str: ...


class AsyncWebhooks(Protocol):
    """Webhook endpoints (``/v1/webhooks``, or ``/app/v1/webhooks`` as ``client.app.webhooks``)."""

    async def create(self, webhook: NewWebhook, /) -> JsonObject: ...
    async def list(self) -> JsonList: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def delete(self, id: str, /) -> None: ...
    async def rotate_secret(self, id: str, /) -> JsonObject: ...
    async def deliveries(self, id: str, limit: Optional[int] = None, /) -> JsonList: ...
    async def redeliver(self, id: str, delivery_id: str, /) -> Optional[JsonObject]: ...


class AsyncDomains(Protocol):
    """``/v1/domains``."""

    async def add(self, domain: str, /) -> JsonObject: ...
    async def list(self) -> JsonList: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def verify(self, id: str, /) -> JsonObject: ...
    async def delete(self, id: str, /) -> None: ...


class AsyncWorkspaces(Protocol):
    """``/v1/workspaces``: a user's token or cookie picks one with ``X-Sigil-Workspace``."""

    async def list(self) -> JsonList: ...
    async def create(self, name: str, /) -> JsonObject: ...
    async def get(self, id: str, /) -> JsonObject: ...
    async def rename(self, id: str, name: str, /) -> JsonObject: ...
    async def members(self, id: str, /) -> JsonList: ...
    async def add_member(self, id: str, member: NewWorkspaceMember, /) -> JsonObject: ...
    async def set_role(
        self, id: str, user_id: str, role: Literal["owner", "admin", "member", "read_only"], /
    ) -> JsonObject: ...
    async def remove_member(self, id: str, user_id: str, /) -> None: ...


class AsyncTrust(Protocol):
    """Trust levels and moderation; ``user`` and ``set_moderation`` need an operator key."""

    async def model(self) -> Any: ...
    async def mine(self) -> JsonObject: ...
    async def user(self, user_id: str, /) -> JsonObject: ...
    async def set_moderation(self, user_id: str, change: ModerationChange, /) -> JsonObject: ...


class AsyncPlans(Protocol):
    """Plan limits; ``get`` and ``set`` need an operator key."""

    async def mine(self) -> JsonObject: ...
    async def get(self, account_id: str, /) -> JsonObject: ...
    async def set(self, account_id: str, change: PlanChange, /) -> JsonObject: ...


class AsyncAccount(Protocol):
    """``/v1/account``: the caller's own account."""

    async def get(self) -> JsonObject: ...
    async def update(self, update: AccountUpdate, /) -> JsonObject: ...


class AsyncCapTokens(Protocol):
    """``/v1/cap-tokens``: ``cap_…`` tokens for an app's front end (``apps.write``)."""

    async def create(self, token: NewCapToken, /) -> JsonObject: ...


class AsyncProviderLogin(Protocol):
    """``POST /auth/oauth/exchange``: needs no session, the code is the credential."""

    async def exchange(self, code: str, /) -> JsonObject: ...


class AsyncApp(Protocol):
    """``/app/v1`` (the session must hold an app token)."""

    webhooks: AsyncWebhooks

    async def lookup_identity(self, user_id: str, /) -> JsonObject: ...
    async def send_message(
        self, message: NewMessage, idempotency_key: Optional[str] = None, /
    ) -> JsonObject: ...
    async def ai_chat(self, request: Any, /) -> Any: ...
    async def report(self, report: NewReport, /) -> JsonObject: ...


class AsyncManagement(Protocol):
    """``client.management``: the ``/v1`` resources."""

    api_keys: AsyncApiKeys
    apps: AsyncApps
    agents: AsyncAgents
    tokens: AsyncTokens
    policies: AsyncPolicies
    approvals: AsyncApprovals
    audit: AsyncAudit
    webhooks: AsyncWebhooks
    domains: AsyncDomains
    workspaces: AsyncWorkspaces
    trust: AsyncTrust
    plans: AsyncPlans
    account: AsyncAccount
    cap_tokens: AsyncCapTokens
    provider_login: AsyncProviderLogin

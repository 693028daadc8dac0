-- Sigil reference server, PostgreSQL schema. This is the PostgreSQL
-- counterpart of migrations/sqlite/0001–0012: one file creating the end state
-- those twelve SQLite migrations reach (same tables, columns, constraints and
-- index names; their data migrations have nothing to do on an empty
-- database). Later schema changes add one file per dialect with the same
-- version number, so both directories stay in step.
--
-- Types: SQLite INTEGER is BIGINT (Rust i64), BLOB is BYTEA. These 0/1 flags
-- are BOOLEAN (the Rust side binds and reads them as bool):
--   apps.is_public, policies.is_active, workspaces.personal,
--   provider_codes.new_user, moderation.automatic.
-- Other INTEGERs that look small (idempotency_keys.status and
-- webhook_deliveries.last_status are HTTP statuses; attempts, ttl, priority,
-- max_*) are real numbers and stay BIGINT.
-- SQLite lets a non-INTEGER PRIMARY KEY column hold NULL (a legacy quirk);
-- here every key column is NOT NULL, which is what the app assumes anyway.

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BYTEA NOT NULL
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    alias       TEXT,
    created_at  BIGINT NOT NULL
);

-- Created before the owned tables so their workspace_id FKs can refer to it
-- (in SQLite these came in 0010 by ALTER TABLE).
CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,                -- usr_… (personal) or ws_…
    name        TEXT NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    personal    BOOLEAN NOT NULL,                -- the owner's personal workspace
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- SQLite: WHERE personal = 1.
CREATE UNIQUE INDEX workspaces_personal ON workspaces(owner_id) WHERE personal;

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'read_only')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members(user_id);

CREATE TABLE apps (
    id              TEXT PRIMARY KEY,            -- the OAuth client_id
    owner_id        TEXT NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    redirect_uris   TEXT NOT NULL,               -- JSON array
    allowed_origins TEXT NOT NULL,               -- JSON array, CORS
    is_public       BOOLEAN NOT NULL,
    secret_hash     BYTEA,                       -- sha256, NULL for public clients
    scopes          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    workspace_id    TEXT REFERENCES workspaces(id)
);
CREATE INDEX apps_workspace ON apps(workspace_id, created_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    app_id       TEXT REFERENCES apps(id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    last4        TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    created_at   BIGINT NOT NULL,
    workspace_id TEXT REFERENCES workspaces(id),
    allowed_ips  TEXT                            -- JSON array of CIDRs; NULL: anywhere
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);
CREATE INDEX api_keys_workspace ON api_keys(workspace_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash  BYTEA PRIMARY KEY,
    family_id   TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    user_id     TEXT,
    scope       TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE revoked_families (
    family_id   TEXT PRIMARY KEY,
    revoked_at  BIGINT NOT NULL
);

CREATE TABLE revoked_jtis (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    seed        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT,
    -- Stands in for SQLite's implicit rowid: keys made in the same second are
    -- listed newest first by `ORDER BY created_at DESC, rowid DESC`.
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY
);

-- No primary key, as in SQLite (rows are found by email and code_hash).
CREATE TABLE signin_codes (
    code_hash   BYTEA NOT NULL,
    email       TEXT NOT NULL,                  -- lowercase
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX signin_codes_email ON signin_codes(email, used_at);

CREATE TABLE browser_sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash         BYTEA PRIMARY KEY,
    app_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    redirect_uri      TEXT NOT NULL,
    code_challenge    TEXT,
    scope             TEXT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used_at           BIGINT,
    family_id         TEXT,
    access_jti        TEXT,
    access_expires_at BIGINT,
    created_at        BIGINT NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users(id),
    app_id      TEXT NOT NULL,
    scope       TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

CREATE TABLE agents (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    description  TEXT,
    public_key   BYTEA NOT NULL,                -- 32-byte Ed25519 public key
    status       TEXT NOT NULL,                 -- active | paused | revoked
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    workspace_id TEXT REFERENCES workspaces(id)
);
CREATE INDEX agents_owner ON agents(owner_id, status, created_at);
CREATE INDEX agents_workspace ON agents(workspace_id, status, created_at);

CREATE TABLE agent_tokens (
    jti         TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX agent_tokens_agent_issued ON agent_tokens(agent_id, issued_at);

CREATE TABLE agent_nonces (
    agent_id    TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (agent_id, nonce)
);
CREATE INDEX agent_nonces_expiry ON agent_nonces(expires_at);

-- `seq` is assigned by the audit writer (SQLite's INTEGER PRIMARY KEY made
-- it a rowid alias, but the app always supplies it), so no identity here.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    ts          BIGINT NOT NULL,
    type        TEXT NOT NULL,
    account     TEXT,
    actor       TEXT,
    subject     TEXT,
    data        TEXT NOT NULL,                  -- JSON, hashed as stored: keep TEXT, not jsonb
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_account ON audit_log(account, seq);

CREATE TABLE policies (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    description  TEXT,
    priority     BIGINT NOT NULL,
    rules        TEXT NOT NULL,                 -- JSON array of rules
    is_active    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    workspace_id TEXT REFERENCES workspaces(id)
);
CREATE INDEX policies_owner ON policies(owner_id, is_active, priority);
CREATE INDEX policies_workspace ON policies(workspace_id, is_active, priority);

-- policy_id is deliberately not a foreign key: a deleted policy keeps its history.
CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users(id),
    agent_id       TEXT NOT NULL REFERENCES agents(id),
    policy_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    ttl            BIGINT NOT NULL,
    target_service TEXT NOT NULL,
    intent         TEXT,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    decided_at     BIGINT,
    collected_at   BIGINT,
    workspace_id   TEXT REFERENCES workspaces(id)
);
CREATE INDEX approvals_owner ON approvals(owner_id, status, created_at);
CREATE INDEX approvals_workspace ON approvals(workspace_id, status, created_at);

CREATE TABLE domains (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    domain       TEXT NOT NULL,                 -- lower-case hostname
    challenge    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    verified_at  BIGINT,
    workspace_id TEXT REFERENCES workspaces(id),
    UNIQUE (owner_id, domain)
);
CREATE UNIQUE INDEX domains_workspace ON domains(workspace_id, domain);

CREATE TABLE app_subjects (
    app_id      TEXT NOT NULL,
    sub         TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, sub)
);

CREATE TABLE app_messages (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    subject      TEXT,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX app_messages_user ON app_messages(user_id, created_at);

CREATE TABLE idempotency_keys (
    app_id        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    status        BIGINT NOT NULL,              -- HTTP status of the first response
    response      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (app_id, key)
);

CREATE TABLE cap_tokens (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    token_hash   BYTEA NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    origins      TEXT NOT NULL,                 -- JSON array
    emails       TEXT NOT NULL,                 -- JSON array, lowercase
    expires_at   BIGINT,
    created_at   BIGINT NOT NULL,
    workspace_id TEXT REFERENCES workspaces(id)
);

CREATE TABLE webhook_endpoints (
    id                   TEXT PRIMARY KEY,
    owner_id             TEXT NOT NULL REFERENCES users(id),
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,          -- JSON array of types, or ["*"]
    description          TEXT,
    secret               TEXT NOT NULL,
    previous_secret      TEXT,
    previous_expires_at  BIGINT,
    disabled_at          BIGINT,
    disabled_reason      TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    app_id               TEXT REFERENCES apps(id) ON DELETE CASCADE,  -- NULL: the account's own
    workspace_id         TEXT REFERENCES workspaces(id)
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(owner_id, created_at);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints(app_id, created_at);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, created_at);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,              -- exact body sent on every attempt
    status           TEXT NOT NULL,              -- pending | delivered | failed | stopped
    attempts         BIGINT NOT NULL,
    next_attempt_ms  BIGINT,
    last_status      BIGINT,                     -- HTTP status
    last_error       TEXT,
    last_attempt_ms  BIGINT,
    delivered_at_ms  BIGINT,
    created_at       BIGINT NOT NULL,
    -- Stands in for SQLite's implicit rowid: deliveries written in the same
    -- second keep insertion order in `ORDER BY created_at DESC, rowid DESC`.
    rowid            BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at);

CREATE TABLE federated_identities (
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX federated_identities_user ON federated_identities(user_id);

CREATE TABLE provider_logins (
    state_hash    BYTEA PRIMARY KEY,
    provider      TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    app_state     TEXT,
    scope         TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE TABLE provider_codes (
    code_hash   BYTEA PRIMARY KEY,
    app_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    provider    TEXT NOT NULL,
    scope       TEXT NOT NULL,
    new_user    BOOLEAN NOT NULL,
    family_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- No row means `clean`.
CREATE TABLE moderation (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    state       TEXT NOT NULL,                  -- warn | restrict | disabled (| clean after a reset)
    reason      TEXT,
    automatic   BOOLEAN NOT NULL DEFAULT FALSE, -- set by the report thresholds
    updated_at  BIGINT NOT NULL
);

CREATE TABLE reports (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    app_id           TEXT NOT NULL,
    reporter_account TEXT NOT NULL,
    reason           TEXT NOT NULL,
    details          TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX reports_user ON reports(user_id, created_at);

-- No row means the server's configured defaults.
CREATE TABLE plans (
    holder_kind          TEXT NOT NULL,
    holder_id            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    max_agents           BIGINT NOT NULL,
    max_tokens_per_month BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (holder_kind, holder_id)
);

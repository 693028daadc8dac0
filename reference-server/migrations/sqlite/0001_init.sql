-- Sigil reference server, schema version 1: accounts, apps, API keys, OAuth
-- grants and signing keys. Secrets are stored only as SHA-256 hashes.

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    alias       TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE apps (
    id              TEXT PRIMARY KEY,            -- the OAuth client_id
    owner_id        TEXT NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    redirect_uris   TEXT NOT NULL,               -- JSON array
    allowed_origins TEXT NOT NULL,               -- JSON array, CORS
    is_public       INTEGER NOT NULL,
    secret_hash     BLOB,                        -- sha256, NULL for public clients
    scopes          TEXT NOT NULL,               -- space-separated scopes the app may hold
    created_at      INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    app_id       TEXT REFERENCES apps(id),       -- project-scoped keys
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,                  -- first 12 characters, for display and logs
    last4        TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);

CREATE TABLE refresh_tokens (
    token_hash  BLOB PRIMARY KEY,
    family_id   TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    user_id     TEXT,
    scope       TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE revoked_families (
    family_id   TEXT PRIMARY KEY,
    revoked_at  INTEGER NOT NULL
);

CREATE TABLE revoked_jtis (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    seed        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);

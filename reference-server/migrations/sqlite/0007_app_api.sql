-- Sigil reference server: the app API. Pairwise subjects an app has been
-- issued (so a slug resolves to a user only for that app), messages apps
-- send to users, idempotency records (per app and key, with the first
-- response kept verbatim), and capability tokens (stored as SHA-256).

CREATE TABLE app_subjects (
    app_id      TEXT NOT NULL,
    sub         TEXT NOT NULL,                  -- the pairwise id (`pw_…`)
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, sub)
);

CREATE TABLE app_messages (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    subject      TEXT,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX app_messages_user ON app_messages(user_id, created_at);

CREATE TABLE idempotency_keys (
    app_id        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,                -- sha256 of the request body
    status        INTEGER NOT NULL,
    response      TEXT NOT NULL,                -- the first response body, verbatim
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (app_id, key)
);

CREATE TABLE cap_tokens (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    token_hash  BLOB NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,                  -- space-separated
    origins     TEXT NOT NULL,                  -- JSON array
    emails      TEXT NOT NULL,                  -- JSON array, lowercase
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL
);

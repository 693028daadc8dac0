-- Sigil reference server, schema version 2: the browser flow. Email sign-in
-- codes, browser sessions, authorization codes and consents. Every secret
-- (sign-in code, session cookie, authorization code) is stored as SHA-256.

CREATE TABLE signin_codes (
    code_hash   BLOB NOT NULL,
    email       TEXT NOT NULL,                  -- lowercase
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,                        -- redeemed or superseded
    attempts    INTEGER NOT NULL DEFAULT 0,     -- wrong codes tried against it
    created_at  INTEGER NOT NULL
);
CREATE INDEX signin_codes_email ON signin_codes(email, used_at);

CREATE TABLE browser_sessions (
    token_hash  BLOB PRIMARY KEY,               -- sha256 of the cookie value
    user_id     TEXT NOT NULL REFERENCES users(id),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash         BLOB PRIMARY KEY,
    app_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    redirect_uri      TEXT NOT NULL,            -- as sent to /oauth/authorize
    code_challenge    TEXT,                     -- S256; NULL would mean no PKCE
    scope             TEXT NOT NULL,
    expires_at        INTEGER NOT NULL,
    used_at           INTEGER,
    -- What the code issued, so a replay can revoke it.
    family_id         TEXT,
    access_jti        TEXT,
    access_expires_at INTEGER,
    created_at        INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users(id),
    app_id      TEXT NOT NULL,
    scope       TEXT NOT NULL,                  -- space-separated, granted so far
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

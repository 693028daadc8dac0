-- Provider login (federated sign-in through upstream OpenID Connect
-- providers) and IP allowlists on API keys.

-- CIDRs a key may be used from, a JSON array; NULL: anywhere.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;

-- Which upstream account is which user: linked by (issuer, sub), never by
-- an email the upstream did not verify.
CREATE TABLE federated_identities (
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX federated_identities_user ON federated_identities(user_id);

-- A login sent to an upstream and not back yet, looked up by the hash of
-- the `state` sent there; single use.
CREATE TABLE provider_logins (
    state_hash    BLOB PRIMARY KEY,
    provider      TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    app_state     TEXT,
    scope         TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    expires_at    INTEGER NOT NULL
);

-- The single-use code the app exchanges at POST /auth/oauth/exchange
-- (sha256 only). `family_id` is chosen up front so that a replay can
-- revoke the refresh tokens the first exchange issued.
CREATE TABLE provider_codes (
    code_hash   BLOB PRIMARY KEY,
    app_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    provider    TEXT NOT NULL,
    scope       TEXT NOT NULL,
    new_user    INTEGER NOT NULL,
    family_id   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

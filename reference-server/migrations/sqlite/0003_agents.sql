-- Sigil reference server, schema version 3: agents and their tokens. Only an
-- agent's Ed25519 public key is stored; the seed is shown once at creation.

CREATE TABLE agents (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    description TEXT,
    public_key  BLOB NOT NULL,                  -- 32-byte Ed25519 public key
    status      TEXT NOT NULL,                  -- active | paused | revoked
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX agents_owner ON agents(owner_id, status, created_at);

-- Issued agent tokens (not the tokens themselves), so a token can be revoked
-- by its owner and denylisted until it would have expired.
CREATE TABLE agent_tokens (
    jti         TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- RFC 9421 nonces seen on signed token requests, kept while the signature
-- could still be accepted, so a replay is refused even after a restart.
CREATE TABLE agent_nonces (
    agent_id    TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (agent_id, nonce)
);
CREATE INDEX agent_nonces_expiry ON agent_nonces(expires_at);

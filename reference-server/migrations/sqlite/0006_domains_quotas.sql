-- Sigil reference server, schema version 6: claimed domains (proven by a DNS
-- TXT record) and the index the monthly token quota counts through.

CREATE TABLE domains (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    domain      TEXT NOT NULL,                  -- lower-case hostname
    challenge   TEXT NOT NULL,                  -- sigil-verification=<random>
    created_at  INTEGER NOT NULL,
    verified_at INTEGER,                        -- NULL while pending
    UNIQUE (owner_id, domain)
);

-- Tokens per account per month: agents by owner, then this range scan.
CREATE INDEX agent_tokens_agent_issued ON agent_tokens(agent_id, issued_at);

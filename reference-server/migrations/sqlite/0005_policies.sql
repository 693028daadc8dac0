-- Sigil reference server, schema version 5: issuance policies and the
-- approvals their require_approval rules create.

CREATE TABLE policies (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    description TEXT,
    priority    INTEGER NOT NULL,               -- 0-10000, higher wins
    rules       TEXT NOT NULL,                  -- JSON array of rules
    is_active   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX policies_owner ON policies(owner_id, is_active, priority);

-- A held issuance: the request as it was made, and where its decision stands
-- (pending -> granted | rejected; granted -> collected once the agent takes
-- its token). policy_id is kept as text: deleting a policy keeps its history.
CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users(id),
    agent_id       TEXT NOT NULL REFERENCES agents(id),
    policy_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,               -- space-separated
    ttl            INTEGER NOT NULL,
    target_service TEXT NOT NULL,
    intent         TEXT,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    decided_at     INTEGER,
    collected_at   INTEGER
);
CREATE INDEX approvals_owner ON approvals(owner_id, status, created_at);

-- Sigil reference server, schema version 10: workspaces and their members.
-- A workspace owns apps, API keys, agents, policies, approvals, domains,
-- capability tokens, webhook endpoints and its audit chain; every owned row
-- carries `workspace_id`, and the store filters on it (the tenancy rule
-- lives in one place, as Hydra's network id does).
--
-- Every user has one personal workspace whose id is the user's own id, so
-- what existed before this migration (rows, the audit chain's `account`,
-- tokens whose `acct` names the user) is already in it: no row is rewritten
-- and no audit hash changes. `owner_id` stays on the owned tables as the
-- user who owned the workspace when the row was made.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,                -- usr_… (personal) or ws_…
    name        TEXT NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users(id),  -- who created it
    personal    INTEGER NOT NULL,                -- 1: the owner's personal workspace
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX workspaces_personal ON workspaces(owner_id) WHERE personal = 1;

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'read_only')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members(user_id);

INSERT INTO workspaces (id, name, owner_id, personal, created_at, updated_at)
    SELECT id, 'Personal', id, 1, created_at, created_at FROM users;
INSERT INTO workspace_members (workspace_id, user_id, role, created_at, updated_at)
    SELECT id, id, 'owner', created_at, created_at FROM users;

ALTER TABLE apps ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE apps SET workspace_id = owner_id;
CREATE INDEX apps_workspace ON apps(workspace_id, created_at);

ALTER TABLE api_keys ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE api_keys SET workspace_id = owner_id;
CREATE INDEX api_keys_workspace ON api_keys(workspace_id, created_at);

ALTER TABLE agents ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE agents SET workspace_id = owner_id;
CREATE INDEX agents_workspace ON agents(workspace_id, status, created_at);

ALTER TABLE policies ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE policies SET workspace_id = owner_id;
CREATE INDEX policies_workspace ON policies(workspace_id, is_active, priority);

ALTER TABLE approvals ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE approvals SET workspace_id = owner_id;
CREATE INDEX approvals_workspace ON approvals(workspace_id, status, created_at);

ALTER TABLE domains ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE domains SET workspace_id = owner_id;
CREATE UNIQUE INDEX domains_workspace ON domains(workspace_id, domain);

ALTER TABLE cap_tokens ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE cap_tokens SET workspace_id = owner_id;

ALTER TABLE webhook_endpoints ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
UPDATE webhook_endpoints SET workspace_id = owner_id;
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, created_at);

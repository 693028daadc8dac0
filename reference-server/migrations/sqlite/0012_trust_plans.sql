-- Sigil reference server: trust and moderation, and plan limits that an
-- operator can change per holder.

-- A user's moderation state; no row means `clean`.
CREATE TABLE moderation (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    state       TEXT NOT NULL,                  -- warn | restrict | disabled (| clean after a reset)
    reason      TEXT,
    automatic   INTEGER NOT NULL DEFAULT 0,     -- 1 when set by the report thresholds
    updated_at  INTEGER NOT NULL
);

-- Reports apps filed about their users (`POST /app/v1/reports`).
CREATE TABLE reports (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    app_id           TEXT NOT NULL,
    reporter_account TEXT NOT NULL,             -- the reporting app's owner
    reason           TEXT NOT NULL,
    details          TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX reports_user ON reports(user_id, created_at);

-- Plan limits per holder (`account` today; `workspace` later). No row means
-- the server's configured defaults.
CREATE TABLE plans (
    holder_kind          TEXT NOT NULL,
    holder_id            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    max_agents           INTEGER NOT NULL,
    max_tokens_per_month INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (holder_kind, holder_id)
);

-- Sigil reference server, schema version 8: webhook endpoints and the
-- delivery outbox. A delivery row is written (in the same database as the
-- action) before the action's response, and stays until it is acknowledged
-- (delivered), given up on (failed) or stopped (its endpoint was disabled).

CREATE TABLE webhook_endpoints (
    id                   TEXT PRIMARY KEY,             -- whk_...
    owner_id             TEXT NOT NULL REFERENCES users(id),
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,                -- JSON array of types, or ["*"]
    description          TEXT,
    secret               TEXT NOT NULL,                -- whsec_... (never logged)
    previous_secret      TEXT,                         -- still signs until previous_expires_at
    previous_expires_at  INTEGER,                      -- UNIX seconds
    disabled_at          INTEGER,
    disabled_reason      TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(owner_id, created_at);

-- One row per (event, endpoint). event_id is the stable `webhook-id`;
-- payload is the exact body sent on every attempt. Times in *_ms are UNIX
-- milliseconds of the wall clock (retries are scheduled in real time).
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,                 -- dlv_...
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,                    -- msg_...
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,                    -- pending | delivered | failed | stopped
    attempts         INTEGER NOT NULL,
    next_attempt_ms  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    last_attempt_ms  INTEGER,
    delivered_at_ms  INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at);

-- Sigil reference server, schema version 4: the append-only, hash-chained
-- audit log. `seq` is assigned by the single audit writer inside the batch's
-- write transaction; `hash` chains each entry to the one before it (see
-- `src/audit.rs` for the exact serialization). `account` is the user whose
-- log shows the entry (NULL for events that belong to no known account).

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    ts          INTEGER NOT NULL,            -- UNIX seconds
    type        TEXT NOT NULL,
    account     TEXT,
    actor       TEXT,
    subject     TEXT,
    data        TEXT NOT NULL,               -- JSON, hashed as stored
    prev_hash   TEXT NOT NULL,               -- 64 hex digits; genesis is all zeros
    hash        TEXT NOT NULL                -- SHA-256, 64 hex digits
);
CREATE INDEX audit_log_account ON audit_log(account, seq);

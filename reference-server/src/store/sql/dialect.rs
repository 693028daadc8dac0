//! What differs between SQLite and PostgreSQL, kept in one place (as Ory
//! Hydra keeps it in per-dialect migrations) so the queries stay shared.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::AnyPool;

use crate::store::{StoreError, StoreResult};

/// The SQL engine behind a [`super::SqlStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one process, one file.
    Sqlite,
    /// PostgreSQL (or its wire protocol): any number of server nodes.
    Postgres,
}

/// What a serialized write transaction locks on PostgreSQL, where writers
/// on other nodes run concurrently. SQLite's `BEGIN IMMEDIATE` already
/// serializes every write transaction.
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    /// The audit chain's head: one appender at a time keeps one chain.
    Audit = 1,
    /// A workspace's owners: a demotion must see every other one.
    Members = 2,
    /// The signing keys: one rotation, not one per node.
    SigningKeys = 3,
}

/// Names each in-memory SQLite database of this process apart.
static MEMORY_DATABASES: AtomicU64 = AtomicU64::new(0);

/// Whether `url` (as returned by [`Dialect::connect_url`]) is in memory.
pub fn is_memory(url: &str) -> bool {
    url.contains("mode=memory")
}

impl Dialect {
    /// The dialect of a `--database` URL.
    pub fn of(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Database(sqlx::Error::Configuration(
                format!(
                    "unsupported database URL {:?}: use sqlite://FILE, sqlite::memory: or postgres://…",
                    url.split('@').next_back().unwrap_or_default()
                )
                .into(),
            )))
        }
    }

    /// The URL the `Any` driver connects with. sqlx's `sqlite::memory:`
    /// gives every connection a fresh database; a named shared-cache one is
    /// the same database for every connection of this store. A file is
    /// created when missing.
    pub fn connect_url(self, url: &str) -> String {
        match self {
            Self::Postgres => url.to_owned(),
            Self::Sqlite if url == "sqlite::memory:" => format!(
                "sqlite:file:sigil-memory-{}-{}?mode=memory&cache=shared",
                std::process::id(),
                MEMORY_DATABASES.fetch_add(1, Ordering::Relaxed)
            ),
            Self::Sqlite if url.contains("mode=") => url.to_owned(),
            Self::Sqlite if url.contains('?') => format!("{url}&mode=rwc"),
            Self::Sqlite => format!("{url}?mode=rwc"),
        }
    }

    /// Statements run on every new connection.
    pub fn session_setup(self, url: &str, synchronous_full: bool) -> String {
        match self {
            Self::Postgres => String::new(),
            Self::Sqlite => format!(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                 PRAGMA journal_mode = {}; PRAGMA synchronous = {};",
                if is_memory(url) { "MEMORY" } else { "WAL" },
                if synchronous_full { "FULL" } else { "NORMAL" },
            ),
        }
    }

    /// Applies this dialect's versioned migrations. sqlx takes an advisory
    /// lock on PostgreSQL, so nodes starting together migrate once.
    pub async fn migrate(self, pool: &AnyPool) -> StoreResult<()> {
        match self {
            Self::Sqlite => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Self::Postgres => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// How a write transaction begins. SQLite: take the write lock at
    /// `BEGIN`, since a deferred transaction that reads before it writes
    /// cannot wait for the lock (its upgrade fails at once with SQLITE_BUSY)
    /// and must see the latest commit. PostgreSQL: read committed; what must
    /// be serialized takes a [`Lock`].
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// The statement that takes `lock` until the transaction ends.
    pub fn lock(self, lock: Lock) -> Option<String> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some(format!("SELECT pg_advisory_xact_lock({})", lock as i64)),
        }
    }

    /// `1` when some app allows CORS origin `$1` (stored as a JSON array).
    pub fn origin_allowed(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "SELECT 1 FROM apps, json_each(apps.allowed_origins) \
                 WHERE json_each.value = $1 LIMIT 1"
            }
            Self::Postgres => {
                "SELECT 1 FROM apps \
                 WHERE allowed_origins::jsonb @> jsonb_build_array($1::text) LIMIT 1"
            }
        }
    }

    /// Whether endpoint `e`'s JSON `events` list has event type `$3` or `*`.
    pub fn subscribes(self) -> &'static str {
        match self {
            Self::Sqlite => "EXISTS (SELECT 1 FROM json_each(e.events) WHERE value IN ($3, '*'))",
            Self::Postgres => {
                "(e.events::jsonb @> jsonb_build_array($3::text) \
                 OR e.events::jsonb @> '[\"*\"]'::jsonb)"
            }
        }
    }

    /// The ids of due pending deliveries, at most `$5` per endpoint and `$6`
    /// in all, none of the endpoints in the JSON array `$4`, oldest first.
    /// PostgreSQL locks them (`FOR UPDATE SKIP LOCKED`): two nodes claiming
    /// at once get disjoint rows; SQLite's one writer is already alone.
    pub fn due_deliveries(self) -> String {
        let (skip, lock) = match self {
            Self::Sqlite => ("SELECT value FROM json_each($4)", ""),
            Self::Postgres => (
                "SELECT jsonb_array_elements_text($4::jsonb)",
                " FOR UPDATE SKIP LOCKED",
            ),
        };
        // Only the earliest due rows are ranked, so a claim costs the same
        // with a backlog of millions as with a few.
        format!(
            "SELECT id FROM ( \
               SELECT id, next_attempt_ms, ROW_NUMBER() OVER \
                 (PARTITION BY endpoint_id ORDER BY next_attempt_ms, id) AS rn \
               FROM ( \
                 SELECT id, endpoint_id, next_attempt_ms FROM webhook_deliveries \
                 WHERE status = $2 AND next_attempt_ms <= $3 AND endpoint_id NOT IN ({skip}) \
                 ORDER BY next_attempt_ms LIMIT $7{lock} \
               ) due \
             ) ranked WHERE rn <= $5 ORDER BY next_attempt_ms, id LIMIT $6"
        )
    }
}

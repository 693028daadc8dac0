//! Storage failures, on their own so that [`crate::error`] can turn them
//! into HTTP errors without depending on the store's traits and rows.

/// Storage failures. Only real faults reach here; "not found" is `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A unique constraint refused the write.
    #[error("already exists")]
    Conflict,
    /// A background service the write depends on has stopped.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
}

impl StoreError {
    /// Whether the database is unreachable (down, restarting, or every
    /// connection busy) rather than refusing this request: the caller gets
    /// a 503 and retries.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Database(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_) => true,
                // PostgreSQL's connection exceptions (08…) and operator
                // intervention (57P…: shutting down, starting up).
                sqlx::Error::Database(d) => d
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

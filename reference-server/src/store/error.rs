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

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

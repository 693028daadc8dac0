//! Trust and moderation persistence: each user's moderation state and the
//! reports apps file about their users ([`crate::services::moderation`]
//! applies the rules of [`crate::core::trust`]).

use crate::core::trust::ModerationState;
use crate::store::StoreResult;

/// A user's moderation state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderation {
    /// The state.
    pub state: ModerationState,
    /// Why, as the operator or the report thresholds said.
    pub reason: Option<String>,
    /// Set by the report thresholds rather than an operator.
    pub automatic: bool,
    /// UNIX seconds of the last change.
    pub updated_at: i64,
}

/// A report an app filed about one of its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `rpt_…`.
    pub id: String,
    /// The reported user (global id, never shown to apps).
    pub user_id: String,
    /// The reporting app.
    pub app_id: String,
    /// The reporting app's owner: reports count once per account.
    pub reporter_account: String,
    /// One of the reasons of `POST /app/v1/reports`.
    pub reason: String,
    /// Optional free text.
    pub details: Option<String>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// Storage of moderation states and reports.
#[async_trait::async_trait]
pub trait TrustStore: Send + Sync {
    /// A user's moderation state; `None` when never moderated (clean).
    async fn moderation(&self, user_id: &str) -> StoreResult<Option<Moderation>>;
    /// Sets a user's moderation state.
    async fn set_moderation(&self, user_id: &str, moderation: &Moderation) -> StoreResult<()>;
    /// Stores a report.
    async fn add_report(&self, report: &Report) -> StoreResult<()>;
    /// Reports about `user_id` at or after `since`: (reports, distinct
    /// reporting accounts).
    async fn report_counts(&self, user_id: &str, since: i64) -> StoreResult<(u64, u64)>;
}

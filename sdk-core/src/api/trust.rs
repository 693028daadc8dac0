//! Trust and moderation: the public trust model (`/trust-model`), the
//! caller's standing (`/v1/account/trust`) and the operator API
//! (`/v1/admin/users`, with a key holding `operator.moderation`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{args, ops, Core};
use crate::error::Result;

/// What a user shows of themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TrustLevel {
    /// No alias and no verified domain.
    Private,
    /// An alias nothing proves.
    Unverified,
    /// A verified domain.
    Verified,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// Where moderation put a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ModerationState {
    /// No action.
    Clean,
    /// Warned.
    Warn,
    /// Sends no messages.
    Restrict,
    /// Gets no new tokens.
    Disabled,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// A trust score and its breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustScore {
    /// 0-100.
    pub score: i64,
    /// The starting score.
    pub base: i64,
    /// For a verified domain.
    pub verified_domain_bonus: i64,
    /// For the account's age.
    pub account_age: i64,
    /// For recent reports.
    pub report_penalty: i64,
    /// For the moderation state.
    pub behaviour_penalty: i64,
}

/// A moderation state as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationInfo {
    /// The state.
    pub state: ModerationState,
    /// Why.
    pub reason: Option<String>,
    /// Set by the report thresholds rather than an operator.
    pub automatic: bool,
    /// RFC 3339; `None` when never moderated.
    pub updated_at: Option<String>,
}

/// Recent reports about a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportCounts {
    /// Reports in the window.
    pub recent: u64,
    /// Distinct reporting accounts in the window.
    pub reporters: u64,
    /// The window, days.
    pub window_days: i64,
}

/// A user's standing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustProfile {
    /// `usr_…`.
    pub user_id: String,
    /// The trust level.
    pub trust_level: TrustLevel,
    /// The score and its breakdown.
    pub score: TrustScore,
    /// The moderation state.
    pub moderation: ModerationInfo,
    /// Recent reports.
    pub reports: ReportCounts,
}

/// An operator's change of a user's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationChange {
    /// The new state.
    pub state: ModerationState,
    /// Why: up to 500 characters, sent to the user's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Trust and moderation.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a>(pub(super) &'a Core);

impl Trust<'_> {
    /// The public trust model, as the server's JSON.
    pub async fn model(&self) -> Result<Value> {
        self.0.data(&ops::TRUST_MODEL, args![]).await
    }

    /// The caller's own standing.
    pub async fn mine(&self) -> Result<TrustProfile> {
        self.0.data(&ops::TRUST_MINE, args![]).await
    }

    /// Any user's standing (`operator.moderation`).
    pub async fn user(&self, user_id: &str) -> Result<TrustProfile> {
        self.0.data(&ops::TRUST_USER, args![user_id]).await
    }

    /// Sets a user's moderation state (`operator.moderation`).
    pub async fn set_moderation(
        &self,
        user_id: &str,
        change: &ModerationChange,
    ) -> Result<TrustProfile> {
        self.0
            .data(&ops::TRUST_SET_MODERATION, args![user_id, change])
            .await
    }
}

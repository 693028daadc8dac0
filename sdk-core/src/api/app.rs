//! The app API (`/app/v1`), called with an app token.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::webhooks::Webhooks;
use super::{args, ops, Core};
use crate::error::Result;
use crate::session::Session;

/// A user as one app sees them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Identity {
    /// The per-app pairwise id: other apps see another one.
    pub slug: String,
    /// The user's alias, when they consented to `profile.basic`.
    pub alias: Option<String>,
    /// What the user shows this app (`None` from a server without trust
    /// levels).
    #[serde(default, rename = "trustLevel")]
    pub trust_level: Option<super::TrustLevel>,
}

/// A message to one of the app's users.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The recipient's slug.
    pub to: String,
    /// Up to 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// 1–10000 characters.
    pub body: String,
}

/// The answer to a message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    /// `msg_…`.
    pub id: String,
    /// `delivered`.
    pub status: String,
    /// The recipient's slug.
    pub to: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Why an app reports a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    /// Unsolicited bulk content.
    Spam,
    /// Harassment or abuse.
    Abuse,
    /// Pretending to be someone else.
    Impersonation,
    /// Fraud or scams.
    Fraud,
    /// Anything else; say what in `details`.
    Other,
}

/// A report about one of the app's users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewReport {
    /// The user's slug at this app.
    pub user_id: String,
    /// Why.
    pub reason: ReportReason,
    /// Up to 1000 characters for the moderators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// A filed report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FiledReport {
    /// `rpt_…`.
    pub id: String,
    /// The user's slug at this app.
    pub user_id: String,
    /// Why.
    pub reason: ReportReason,
    /// RFC 3339.
    pub created_at: String,
}

/// The app API of one Sigil server; the session must hold an app token.
#[derive(Debug, Clone)]
pub struct AppApi {
    core: Core,
}

impl AppApi {
    /// A client for the server at `base_url` (usually the issuer).
    pub fn new(session: Arc<Session>, base_url: &str) -> Result<Self> {
        Core::new(session, base_url).map(|core| Self { core })
    }

    /// The pairwise identity of a user of this app.
    pub async fn lookup_identity(&self, user_id: &str) -> Result<Identity> {
        let args = args![user_id];
        self.core.data(&ops::APP_LOOKUP_IDENTITY, args).await
    }

    /// Sends a message. Without `idempotency_key` the session adds a fresh
    /// one; pass your own to make a retry of yours a safe replay (the server
    /// answers it with the first response, and 422 if the body differs).
    pub async fn send_message(
        &self,
        message: &NewMessage,
        idempotency_key: Option<&str>,
    ) -> Result<SentMessage> {
        let args = args![message, idempotency_key];
        self.core.data(&ops::APP_SEND_MESSAGE, args).await
    }

    /// Proxies a chat request to the server's AI upstream; both sides are the
    /// upstream's own JSON, not an envelope.
    pub async fn ai_chat(&self, request: &Value) -> Result<Value> {
        let response = self.core.exec(&ops::APP_AI_CHAT, args![request]).await?;
        crate::runtime::json_body(&response, "AI chat answer")
    }

    /// Reports one of the app's users (`reports.write`); rate-limited per
    /// app (429 with `retry_after`).
    pub async fn report(&self, report: &NewReport) -> Result<FiledReport> {
        self.core.data(&ops::APP_REPORT, args![report]).await
    }

    /// `/app/v1/webhooks`: this app's endpoints.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks::new(&self.core, true)
    }
}

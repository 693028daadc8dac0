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

    /// `/app/v1/webhooks`: this app's endpoints.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks::new(&self.core, true)
    }
}

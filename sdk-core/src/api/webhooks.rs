//! Webhook endpoints: `/v1/webhooks` (the account's) and `/app/v1/webhooks`
//! (an app's). Both scopes have the same shapes, so one client serves both,
//! parameterised by its path prefix.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;
use crate::secret::Secret;

/// Whether an endpoint receives deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookStatus {
    /// Receives deliveries.
    Active,
    /// Stopped, e.g. after answering 410 Gone.
    Disabled,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInfo {
    /// `whk_…`.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Subscribed event types, or `*`.
    pub events: Vec<String>,
    /// Free text.
    pub description: Option<String>,
    /// Whether it receives deliveries.
    pub status: WebhookStatus,
    /// RFC 3339.
    pub disabled_at: Option<String>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// After a rotation, until when the old secret still signs (RFC 3339).
    pub previous_secret_expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// An endpoint with its signing secret, shown at creation and rotation only.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CreatedWebhook {
    /// `whsec_…`; give it to [`crate::Webhook::new`] on the receiving side.
    pub secret: Secret,
    /// Everything else.
    #[serde(flatten)]
    pub webhook: WebhookInfo,
}

/// What to register.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An http or https URL (private and loopback addresses only in dev and
    /// test mode).
    pub url: String,
    /// 1–50 event types, or `["*"]`.
    pub events: Vec<String>,
    /// Up to 500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every retry failed.
    Failed,
    /// The endpoint was disabled.
    Stopped,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// One event's delivery to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Delivery id, for [`Webhooks::redeliver`].
    pub id: String,
    /// The `webhook-id` header it is sent with.
    pub webhook_id: String,
    /// Event type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// The endpoint's last HTTP status.
    pub last_status_code: Option<i64>,
    /// The last network error.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub last_attempt_at: Option<String>,
    /// RFC 3339, while pending.
    pub next_attempt_at: Option<String>,
    /// RFC 3339.
    pub delivered_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// Webhook endpoints under one scope (`/v1` or `/app/v1`).
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    core: &'a Core,
    ops: &'static ScopeOps,
}

/// The operations of one scope.
#[derive(Debug)]
struct ScopeOps {
    create: ops::Operation,
    list: ops::Operation,
    get: ops::Operation,
    delete: ops::Operation,
    rotate: ops::Operation,
    deliveries: ops::Operation,
    redeliver: ops::Operation,
}

static ACCOUNT: ScopeOps = ScopeOps {
    create: ops::WEBHOOKS_CREATE,
    list: ops::WEBHOOKS_LIST,
    get: ops::WEBHOOKS_GET,
    delete: ops::WEBHOOKS_DELETE,
    rotate: ops::WEBHOOKS_ROTATE_SECRET,
    deliveries: ops::WEBHOOKS_DELIVERIES,
    redeliver: ops::WEBHOOKS_REDELIVER,
};

static APP: ScopeOps = ScopeOps {
    create: ops::APP_WEBHOOKS_CREATE,
    list: ops::APP_WEBHOOKS_LIST,
    get: ops::APP_WEBHOOKS_GET,
    delete: ops::APP_WEBHOOKS_DELETE,
    rotate: ops::APP_WEBHOOKS_ROTATE_SECRET,
    deliveries: ops::APP_WEBHOOKS_DELIVERIES,
    redeliver: ops::APP_WEBHOOKS_REDELIVER,
};

impl<'a> Webhooks<'a> {
    /// The account's endpoints (`/v1`), or an app's (`/app/v1`).
    pub(super) fn new(core: &'a Core, app: bool) -> Self {
        let ops = if app { &APP } else { &ACCOUNT };
        Self { core, ops }
    }

    /// Registers an endpoint; its signing secret is in the answer, once.
    pub async fn create(&self, webhook: &NewWebhook) -> Result<CreatedWebhook> {
        self.core.data(&self.ops.create, args![webhook]).await
    }

    /// The endpoints, without secrets.
    pub async fn list(&self) -> Result<Vec<WebhookInfo>> {
        self.core.data(&self.ops.list, args![]).await
    }

    /// One endpoint.
    pub async fn get(&self, id: &str) -> Result<WebhookInfo> {
        self.core.data(&self.ops.get, args![id]).await
    }

    /// Deletes an endpoint with its deliveries.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.core.no_content(&self.ops.delete, args![id]).await
    }

    /// A new secret, shown once; the old one keeps signing alongside until
    /// [`WebhookInfo::previous_secret_expires_at`].
    pub async fn rotate_secret(&self, id: &str) -> Result<CreatedWebhook> {
        self.core.data(&self.ops.rotate, args![id]).await
    }

    /// Recent deliveries, newest first; `limit` 1–500 (default 100).
    pub async fn deliveries(&self, id: &str, limit: Option<u32>) -> Result<Vec<Delivery>> {
        self.core.data(&self.ops.deliveries, args![id, limit]).await
    }

    /// Queues a delivery again, same `webhook-id` and body, with a fresh
    /// retry schedule.
    pub async fn redeliver(&self, id: &str, delivery_id: &str) -> Result<Option<Delivery>> {
        let args = args![id, delivery_id];
        self.core.data(&self.ops.redeliver, args).await
    }
}

//! Webhook persistence: registered endpoints, their owners, and the delivery
//! outbox rows ([`crate::services::webhooks`] emits and delivers).
//!
//! Secrets (`whsec_…`) are stored as they are (SYSTEM.md allows plain),
//! shown once, and never logged: [`Endpoint`]'s `Debug` redacts them.

use crate::store::StoreResult;

/// Delivery states.
pub mod status {
    /// Waiting for its next attempt (or in flight).
    pub const PENDING: &str = "pending";
    /// A 2xx acknowledged it.
    pub const DELIVERED: &str = "delivered";
    /// Every step of the schedule failed.
    pub const FAILED: &str = "failed";
    /// Its endpoint was disabled (a 410) before it was delivered.
    pub const STOPPED: &str = "stopped";
}

/// Which endpoints of an account: its own (`app: None`, `/v1/webhooks`) or
/// those one of its apps registered (`/app/v1/webhooks`). The two sets never
/// see each other's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// The workspace.
    pub workspace: &'a str,
    /// The app, for an app's endpoints.
    pub app: Option<&'a str>,
}

impl Owner<'_> {
    /// Whether `e` belongs to this owner.
    pub fn holds(&self, e: &Endpoint) -> bool {
        e.workspace_id == self.workspace && e.app_id.as_deref() == self.app
    }
}

/// A registered endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `whk_…`.
    pub id: String,
    /// The account whose events it receives.
    pub workspace_id: String,
    /// Set when one of the account's apps registered it (`/app/v1/webhooks`):
    /// it then receives only events emitted in that app's context.
    pub app_id: Option<String>,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// Optional label.
    pub description: Option<String>,
    /// The current signing secret (`whsec_…`).
    pub secret: String,
    /// The secret before the last rotation, still signing until
    /// `previous_expires_at`.
    pub previous_secret: Option<String>,
    /// UNIX seconds the previous secret stops signing.
    pub previous_expires_at: Option<i64>,
    /// UNIX seconds it was disabled (a 410).
    pub disabled_at: Option<i64>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("app_id", &self.app_id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &"<redacted>")
            .field("previous_expires_at", &self.previous_expires_at)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The secrets that sign at `now`: the current one, plus the previous
    /// one during the rotation overlap.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_expires_at) {
            if now < until {
                out.push(prev);
            }
        }
        out
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `dlv_…`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The `webhook-id` (`msg_…`), shared by every endpoint's copy.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// The exact body sent.
    pub payload: String,
    /// See [`status`].
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// UNIX ms of the next attempt (while pending).
    pub next_attempt_ms: Option<i64>,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Transport error of the last attempt.
    pub last_error: Option<String>,
    /// UNIX ms of the last attempt.
    pub last_attempt_ms: Option<i64>,
    /// UNIX ms it was acknowledged.
    pub delivered_at_ms: Option<i64>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// What one attempt concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The delivery's new state.
    pub status: &'static str,
    /// Attempts made, this one included.
    pub attempts: i64,
    /// UNIX ms of the next attempt, while pending.
    pub next_attempt_ms: Option<i64>,
    /// The receiver's HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// The transport error, if it did not.
    pub last_error: Option<String>,
    /// UNIX ms of this attempt.
    pub at_ms: i64,
}

/// Webhook persistence (a part of [`Store`]).
#[async_trait::async_trait]
pub trait WebhookStore {
    /// Adds an endpoint.
    async fn create_webhook(&self, endpoint: &Endpoint) -> StoreResult<()>;
    /// Finds an endpoint by id, whoever owns it.
    async fn webhook(&self, id: &str) -> StoreResult<Option<Endpoint>>;
    /// The endpoints in `owner`, newest first.
    async fn webhooks_of(&self, owner: Owner<'_>) -> StoreResult<Vec<Endpoint>>;
    /// Deletes an endpoint and its deliveries; false when not in `owner`.
    async fn delete_webhook(&self, id: &str, owner: Owner<'_>) -> StoreResult<bool>;
    /// Makes `secret` current and keeps the current one signing until
    /// `previous_expires_at`; false when not in `owner`.
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        owner: Owner<'_>,
        secret: &str,
        previous_expires_at: i64,
        at: i64,
    ) -> StoreResult<bool>;
    /// Disables an endpoint and stops its pending deliveries.
    async fn disable_webhook(&self, id: &str, reason: &str, at: i64) -> StoreResult<()>;
    /// Writes one pending delivery of the event per enabled endpoint
    /// subscribed to `event_type` (or `*`), in one transaction; returns how
    /// many. The endpoints are the account's own plus, when the event
    /// happened in an app's context (`owner.app`), that app's — never
    /// another app's.
    async fn enqueue_webhook_event(
        &self,
        owner: Owner<'_>,
        event_id: &str,
        event_type: &str,
        payload: &str,
        now: i64,
        now_ms: i64,
    ) -> StoreResult<usize>;
    /// Leases up to `limit` pending deliveries due at `now_ms` (moving their
    /// next attempt to `lease_until_ms`), at most `per_endpoint` per
    /// endpoint and none of `skip_endpoints`, oldest due first. Only the
    /// first `limit + per_endpoint` due rows are ranked, so a claim's cost
    /// does not grow with the backlog.
    async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        skip_endpoints: &[String],
        per_endpoint: u32,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// The earliest next attempt of any pending delivery (UNIX ms).
    async fn next_webhook_due(&self) -> StoreResult<Option<i64>>;
    /// Stores what attempts of pending deliveries concluded, in one write
    /// transaction.
    async fn record_webhook_attempts(&self, records: &[(String, AttemptRecord)])
        -> StoreResult<()>;
    /// An endpoint's deliveries, newest first.
    async fn webhook_deliveries(&self, endpoint_id: &str, limit: u32)
        -> StoreResult<Vec<Delivery>>;
    /// Makes a delivery of `endpoint_id` pending again, due at `now_ms`,
    /// with its attempt count and schedule restarted; false when not found.
    async fn redeliver_webhook(
        &self,
        delivery_id: &str,
        endpoint_id: &str,
        now_ms: i64,
    ) -> StoreResult<bool>;
}

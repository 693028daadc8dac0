//! Webhooks: [`Webhooks::emit`] to put an event in the durable outbox, and
//! the delivery worker. Endpoints are registered over HTTP at `/v1/webhooks`
//! and `/app/v1/webhooks` ([`crate::api::webhooks`]) and stored as
//! [`crate::store::webhooks`] rows.
//!
//! **Owners.** An endpoint belongs to an account, registered either by the
//! account itself or by one of its apps ([`Owner`]). An event reaches the
//! account's own endpoints, plus the app's when it happened in that app's
//! context ([`Webhooks::emit_in_app`]); an app never sees another app's
//! events or the account's other events.
//!
//! **Outbox.** `emit` writes one `webhook_deliveries` row per subscribed,
//! enabled endpoint of the account, in one transaction in the same database
//! as everything else, before it returns. Each event gets one `msg_…` id,
//! the `webhook-id` of every attempt and redelivery, and its body is stored
//! once, so every attempt sends the same bytes.
//!
//! **Worker** ([`spawn_worker`]). Claims due rows by leasing them (moving
//! `next_attempt_ms` past the attempt's timeout), so a row whose attempt
//! never finished — the process was killed — is picked up again when the
//! lease runs out, also by a restarted process: delivery is at-least-once.
//! Attempts run concurrently: at most `--webhook-in-flight` at once and at
//! most `--webhook-in-flight-per-endpoint` per endpoint, so a hanging
//! receiver cannot starve the others. Outcomes are written in batches
//! ([`GroupCommit`]): concurrent attempts share one transaction. On a shared
//! database every node runs a worker; claims lock their rows, so each
//! delivery is attempted by one node at a time. Each attempt has a timeout. A 2xx acknowledges; a 410 disables
//! the endpoint and stops its pending deliveries; anything else (status,
//! timeout, reset, refused) is retried on [`SCHEDULE_SECS`], scaled by
//! `--webhook-retry-scale` (0.001 in test mode), and no earlier than a 429
//! or 503's `Retry-After`; after the last step the delivery is `failed`.
//!
//! **SSRF guard.** Outside dev and test mode, URLs whose host is or resolves
//! to a private, loopback, link-local, unique-local, unspecified, CGNAT,
//! broadcast or multicast address are refused at registration, and the
//! worker's HTTP client resolves through the same check on every
//! connection (so a DNS answer that changes after registration cannot
//! redirect a delivery inward); redirects are not followed.
//!
//! Secrets (`whsec_…`) are stored as they are (SYSTEM.md allows plain),
//! shown once, and never logged: the `Debug` of [`crate::store::webhooks::Endpoint`]
//! redacts them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{Notify, Semaphore};

use crate::app::config::Config;
use crate::core::clock::{rfc3339, Clock};
use crate::store::group_commit::{Batching, GroupCommit, WriteBatch};
use crate::store::webhooks::{status, AttemptRecord, Delivery, Endpoint, Owner};
use crate::store::{Store, StoreResult};

/// Every event type an endpoint can subscribe to (SYSTEM.md), besides `*`.
pub const EVENT_TYPES: &[&str] = &[
    "identity.approved",
    "message.delivered",
    "permission.changed",
    "token.issued",
    "token.denied",
    "token.revoked",
    "agent.created",
    "agent.revoked",
    "policy.created",
    "policy.deactivated",
    "key.created",
    "key.revoked",
    "moderation.changed",
    "billing.plan_upgraded",
    "billing.plan_downgraded",
    "workspace.updated",
    "member.added",
    "member.updated",
    "member.removed",
];

/// Delay before each attempt, in seconds, after the previous one failed
/// (the first is immediate). After the last, a delivery is `failed`.
pub const SCHEDULE_SECS: [u64; 8] = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// Longest honoured `Retry-After`, seconds.
const MAX_RETRY_AFTER: u64 = 36_000;

/// The emitting side, on `AppState::webhooks` (cheap to clone).
#[derive(Debug, Clone)]
pub struct Webhooks {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    wake: Arc<Notify>,
}

/// Wall-clock UNIX milliseconds (retries are scheduled in real time, not on
/// the shiftable test clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Webhooks {
    /// The emitter over `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        Self {
            store,
            clock,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Emits `event_type` (one of [`EVENT_TYPES`]) with `data` to every
    /// enabled endpoint of `account` subscribed to it. The deliveries are
    /// committed to the outbox before this returns (so call it after the
    /// action's own write succeeded, and fail the request if it fails); the
    /// worker sends them. The body is the Standard Webhooks
    /// `{type, timestamp, data}`; `data` must never hold secrets. Returns
    /// the event's `webhook-id` (`msg_…`), also when no endpoint matched.
    ///
    /// This reaches only the account's own endpoints; an event that
    /// happened in one of its apps' context goes through [`Self::emit_in_app`].
    pub async fn emit(&self, account: &str, event_type: &str, data: Value) -> StoreResult<String> {
        self.enqueue(
            Owner {
                workspace: account,
                app: None,
            },
            event_type,
            data,
        )
        .await
    }

    /// [`Self::emit`] for an event that happened in the context of `app` (an
    /// app of `account`): it also reaches the endpoints that app registered
    /// through `/app/v1/webhooks`, and no other app's.
    pub async fn emit_in_app(
        &self,
        account: &str,
        app: &str,
        event_type: &str,
        data: Value,
    ) -> StoreResult<String> {
        self.enqueue(
            Owner {
                workspace: account,
                app: Some(app),
            },
            event_type,
            data,
        )
        .await
    }

    async fn enqueue(
        &self,
        owner: Owner<'_>,
        event_type: &str,
        data: Value,
    ) -> StoreResult<String> {
        let id = crate::core::crypto::new_id("msg_");
        let now = self.clock.now();
        let payload = json!({
            "type": event_type,
            "timestamp": rfc3339(now),
            "data": data,
        })
        .to_string();
        let n = self
            .store
            .enqueue_webhook_event(owner, &id, event_type, &payload, now, now_ms())
            .await?;
        if n > 0 {
            self.wake.notify_one();
        }
        Ok(id)
    }

    /// Wakes the worker, for a delivery made due outside [`Self::emit`]
    /// (a redelivery).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

// ---------------------------------------------------------------------------
// SSRF guard

/// Whether `ip` is not a public unicast address: private, loopback,
/// link-local, unique-local, unspecified, CGNAT, broadcast, multicast or
/// documentation, including IPv4 written as IPv6.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)
        }
    }
}

/// Resolves `host` and refuses it unless every address is public.
async fn resolve_public(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| format!("`{host}` does not resolve"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("`{host}` does not resolve"));
    }
    if addrs.iter().any(|a| is_forbidden(a.ip())) {
        return Err(format!(
            "`{host}` resolves to a private, loopback or otherwise non-public address"
        ));
    }
    Ok(addrs)
}

/// The worker's resolver outside dev and test mode: every connection's
/// addresses are checked, so DNS rebinding cannot reach inward.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_public(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Checks a webhook URL: absolute http(s), a host, no credentials, and —
/// unless `allow_private` — a public target (IP literal or every resolved
/// address).
pub async fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    if raw.len() > 2048 {
        return Err("url must be at most 2048 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("url is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("url must be http or https".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not carry credentials".into());
    }
    let host = url.host().ok_or("url must have a host")?;
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match host {
        url::Host::Ipv4(ip) if is_forbidden(IpAddr::V4(ip)) => {
            Err("url targets a private, loopback or otherwise non-public address".into())
        }
        url::Host::Ipv6(ip) if is_forbidden(IpAddr::V6(ip)) => {
            Err("url targets a private, loopback or otherwise non-public address".into())
        }
        url::Host::Domain(name) => resolve_public(name, port).await.map(|_| url),
        _ => Ok(url),
    }
}

// ---------------------------------------------------------------------------
// Worker

/// The worker's settings, from the configuration.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    scale: f64,
    timeout: Duration,
    allow_private: bool,
}

impl Tuning {
    fn of(config: &Config) -> Self {
        let test = config.test_mode;
        Self {
            scale: config
                .webhook_retry_scale
                .unwrap_or(if test { 0.001 } else { 1.0 })
                .max(0.0),
            timeout: Duration::from_millis(
                config
                    .webhook_timeout_ms
                    .unwrap_or(if test { 1000 } else { 10_000 })
                    .max(1),
            ),
            allow_private: config.dev || test,
        }
    }

    /// Delay in ms before attempt `attempts + 1`, or `None` when the
    /// schedule is exhausted.
    fn delay_ms(&self, attempts: i64, retry_after: Option<u64>) -> Option<i64> {
        let step = usize::try_from(attempts).ok()?;
        let base = *SCHEDULE_SECS.get(step)? as f64 * 1000.0 * self.scale;
        let floor = retry_after.map_or(0.0, |s| s.min(MAX_RETRY_AFTER) as f64 * 1000.0);
        Some(base.max(floor) as i64)
    }

    /// How long a claim keeps a row away from other claims: past the
    /// attempt's timeout, so only a vanished attempt's row is taken again.
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX / 4) * 2 + 5000
    }
}

/// Starts the delivery worker over `store`, waking on `webhooks`' emits;
/// it runs for as long as the runtime does. Pending deliveries left by an
/// earlier process are resumed.
pub fn spawn_worker(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    webhooks: Webhooks,
) -> tokio::task::JoinHandle<()> {
    let tuning = Tuning::of(config);
    let store_for_records = store.clone();
    let mut builder = reqwest::Client::builder()
        .timeout(tuning.timeout)
        .connect_timeout(tuning.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("sigil-webhooks/", env!("CARGO_PKG_VERSION")));
    if !tuning.allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    let client = builder
        .build()
        .expect("the webhook HTTP client could not be built");
    let worker = Worker {
        store,
        clock,
        webhooks,
        client,
        tuning,
        busy: Arc::default(),
        permits: Arc::new(Semaphore::new(config.webhook_in_flight as usize)),
        open: Arc::default(),
        capacity: config.webhook_in_flight as usize,
        per_endpoint: config.webhook_in_flight_per_endpoint as usize,
        records: attempt_writer(store_for_records),
    };
    tokio::spawn(worker.run())
}

#[derive(Clone)]
struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    webhooks: Webhooks,
    client: reqwest::Client,
    tuning: Tuning,
    /// Per endpoint with rows claimed: how many, and its slots.
    busy: Arc<Mutex<HashMap<String, Claimed>>>,
    permits: Arc<Semaphore>,
    /// Permits held, mirrored: a release sees exactly when a claim can take
    /// something again.
    open: Arc<AtomicUsize>,
    /// Attempts in flight at most (the permits).
    capacity: usize,
    /// Attempts in flight to one endpoint at most.
    per_endpoint: usize,
    /// Attempt outcomes, concurrent attempts sharing one write.
    records: GroupCommit<(String, AttemptRecord)>,
}

/// One endpoint's claimed rows. A claim can take up to the per-endpoint
/// limit while some of its attempts are still open, so each attempt also
/// takes one of the endpoint's `slots`: the rows past the limit wait for a
/// slot here (within their lease, which outlasts two attempts), and the
/// receiver never has more than the limit open.
struct Claimed {
    rows: usize,
    slots: Arc<Semaphore>,
}

/// How attempt outcomes are batched: queued, not awaited, so an attempt's
/// slot is free as soon as the receiver answered, and the outcomes of
/// concurrent attempts share a commit. An outcome lost with the process
/// leaves its row leased; it is attempted again when the lease ends (at
/// least once).
const RECORD_BATCHING: Batching = Batching {
    max_batch: 512,
    linger: Duration::ZERO,
    queue: 8192,
};

fn attempt_writer(store: Arc<dyn Store>) -> GroupCommit<(String, AttemptRecord)> {
    let write: WriteBatch<(String, AttemptRecord)> = Box::new(move |records| {
        let store = store.clone();
        Box::pin(async move { store.record_webhook_attempts(&records).await })
    });
    GroupCommit::spawn("the webhook attempt writer", RECORD_BATCHING, write)
}

/// Whether `used` of `limit` slots leave enough free for a claim to be
/// worth its write: a quarter, so one claim serves several attempts. The
/// same rule for the worker's slots in all and for each endpoint's.
fn claimable(limit: usize, used: usize) -> bool {
    limit.saturating_sub(used) >= claim_threshold(limit)
}

/// Whether releasing one slot, leaving `used`, just made `limit` claimable.
fn became_claimable(limit: usize, used: usize) -> bool {
    limit.saturating_sub(used) == claim_threshold(limit)
}

fn claim_threshold(limit: usize) -> usize {
    (limit / 4).max(1)
}

impl Worker {
    async fn run(self) {
        loop {
            // A claim takes everything claimable now; what it left is either
            // not due, or waits for slots, whose release wakes this loop.
            self.dispatch_due().await;
            let wait = match self.store.next_webhook_due().await {
                Ok(Some(due)) => (due - now_ms()).clamp(10, 1000),
                Ok(None) => 1000,
                Err(e) => {
                    tracing::error!(error = %e, "webhook outbox read failed");
                    1000
                }
            };
            tokio::select! {
                () = self.webhooks.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            }
        }
    }

    /// Claims what is due within the free permits and starts each attempt.
    async fn dispatch_due(&self) {
        let free = self.permits.available_permits();
        if !claimable(self.capacity, self.capacity.saturating_sub(free)) {
            return;
        }
        let skip: Vec<String> = self
            .busy
            .lock()
            .map(|b| {
                b.iter()
                    .filter(|(_, c)| !claimable(self.per_endpoint, c.rows))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let now = now_ms();
        let rows = match self
            .store
            .claim_webhook_deliveries(
                now,
                now + self.tuning.lease_ms(),
                &skip,
                self.per_endpoint as u32,
                free as u32,
            )
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "webhook outbox claim failed");
                return;
            }
        };
        // Each endpoint read once per claim, not once per delivery.
        let mut endpoints: HashMap<String, Option<Arc<Endpoint>>> = HashMap::new();
        for row in &rows {
            if endpoints.contains_key(&row.endpoint_id) {
                continue;
            }
            let endpoint = match self.store.webhook(&row.endpoint_id).await {
                Ok(e) => e.map(Arc::new),
                Err(e) => {
                    tracing::error!(error = %e, "webhook endpoint read failed");
                    // Not attempted now: the lease brings the rows back.
                    return;
                }
            };
            endpoints.insert(row.endpoint_id.clone(), endpoint);
        }
        for row in rows {
            // Deleted meanwhile: its deliveries went with it.
            let Some(Some(endpoint)) = endpoints.get(&row.endpoint_id).cloned() else {
                continue;
            };
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                return;
            };
            let Some(slots) = self.busy.lock().ok().map(|mut b| {
                let claimed = b.entry(row.endpoint_id.clone()).or_insert_with(|| Claimed {
                    rows: 0,
                    slots: Arc::new(Semaphore::new(self.per_endpoint)),
                });
                claimed.rows += 1;
                claimed.slots.clone()
            }) else {
                return;
            };
            self.open.fetch_add(1, Ordering::SeqCst);
            let worker = self.clone();
            tokio::spawn(async move {
                let endpoint_id = row.endpoint_id.clone();
                if let Ok(_slot) = slots.acquire_owned().await {
                    worker.attempt(row, &endpoint).await;
                }
                let mut wake = false;
                if let Ok(mut b) = worker.busy.lock() {
                    if let Some(claimed) = b.get_mut(&endpoint_id) {
                        claimed.rows -= 1;
                        wake = became_claimable(worker.per_endpoint, claimed.rows);
                        if claimed.rows == 0 {
                            b.remove(&endpoint_id);
                        }
                    }
                }
                drop(permit);
                let open = worker.open.fetch_sub(1, Ordering::SeqCst) - 1;
                wake |= became_claimable(worker.capacity, open);
                // Only when a claim can take something: a claim while the
                // endpoint is still busy would read its backlog for nothing.
                if wake {
                    worker.webhooks.wake();
                }
            });
        }
    }

    /// One attempt of `row`, and its recorded outcome.
    async fn attempt(&self, row: Delivery, endpoint: &Endpoint) {
        let attempts = row.attempts + 1;
        let at_ms = now_ms();
        if endpoint.disabled_at.is_some() {
            self.record(&row, status::STOPPED, attempts - 1, None, None, None, at_ms)
                .await;
            return;
        }
        let ts = self.clock.now();
        let signature = match sigil::Webhook::new(&endpoint.signing_secrets(ts)) {
            Ok(signer) => signer.sign(&row.event_id, ts, row.payload.as_bytes()),
            Err(e) => {
                tracing::error!(endpoint = %endpoint.id, error = %e, "unusable webhook secret");
                self.fail(&row, attempts, None, Some(e.to_string()), None, at_ms)
                    .await;
                return;
            }
        };
        if !self.tuning.allow_private {
            if let Err(e) = check_url(&endpoint.url, false).await {
                self.fail(&row, attempts, None, Some(e), None, at_ms).await;
                return;
            }
        }
        let sent = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &row.event_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(row.payload.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => {
                let code = i64::from(res.status().as_u16());
                self.record(
                    &row,
                    status::DELIVERED,
                    attempts,
                    None,
                    Some(code),
                    None,
                    at_ms,
                )
                .await;
            }
            Ok(res) if res.status() == reqwest::StatusCode::GONE => {
                tracing::info!(endpoint = %endpoint.id, "webhook endpoint answered 410: disabled");
                self.record(
                    &row,
                    status::STOPPED,
                    attempts,
                    None,
                    Some(410),
                    None,
                    at_ms,
                )
                .await;
                // That outcome first: disabling stops the pending deliveries,
                // which a later outcome write would no longer match.
                if let Err(e) = self.records.flush().await {
                    tracing::error!(error = %e, "webhook attempt record failed");
                }
                if let Err(e) = self
                    .store
                    .disable_webhook(&endpoint.id, "the endpoint answered 410 Gone", ts)
                    .await
                {
                    tracing::error!(error = %e, "webhook endpoint disable failed");
                }
            }
            Ok(res) => {
                let code = res.status();
                let retry_after = if code == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || code == reqwest::StatusCode::SERVICE_UNAVAILABLE
                {
                    res.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                } else {
                    None
                };
                self.fail(
                    &row,
                    attempts,
                    Some(i64::from(code.as_u16())),
                    None,
                    retry_after,
                    at_ms,
                )
                .await;
            }
            Err(e) => {
                let what = if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "could not connect".to_owned()
                } else {
                    "the connection failed before a response".to_owned()
                };
                self.fail(&row, attempts, None, Some(what), None, at_ms)
                    .await;
            }
        }
    }

    /// A failed attempt: the next step of the schedule, or `failed`.
    async fn fail(
        &self,
        row: &Delivery,
        attempts: i64,
        code: Option<i64>,
        error: Option<String>,
        retry_after: Option<u64>,
        at_ms: i64,
    ) {
        match self.tuning.delay_ms(attempts, retry_after) {
            Some(delay) => {
                let next = now_ms() + delay;
                self.record(
                    row,
                    status::PENDING,
                    attempts,
                    Some(next),
                    code,
                    error,
                    at_ms,
                )
                .await;
            }
            None => {
                self.record(row, status::FAILED, attempts, None, code, error, at_ms)
                    .await;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        row: &Delivery,
        status: &'static str,
        attempts: i64,
        next_attempt_ms: Option<i64>,
        last_status: Option<i64>,
        last_error: Option<String>,
        at_ms: i64,
    ) {
        let record = AttemptRecord {
            status,
            attempts,
            next_attempt_ms,
            last_status,
            last_error,
            at_ms,
        };
        if let Err(e) = self.records.queue((row.id.clone(), record)).await {
            tracing::error!(error = %e, delivery = %row.id, "webhook attempt record failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_waits_for_a_quarter_of_the_slots_and_one_release_announces_it() {
        assert!(!claimable(16, 13));
        assert!(claimable(16, 12));
        // Releasing one at a time from over the limit (rows waiting for a
        // slot), exactly one release wakes the worker.
        let wakes: Vec<usize> = (0..24).rev().filter(|&u| became_claimable(16, u)).collect();
        assert_eq!(wakes, [12]);
        // A limit of one: claimable only when empty.
        assert!(claimable(1, 0) && !claimable(1, 1) && became_claimable(1, 0));
    }

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn schedule_scales_and_honours_retry_after() {
        let t = Tuning {
            scale: 0.001,
            timeout: Duration::from_secs(1),
            allow_private: true,
        };
        assert_eq!(t.delay_ms(0, None), Some(0));
        assert_eq!(t.delay_ms(1, None), Some(5));
        assert_eq!(t.delay_ms(2, None), Some(300));
        assert_eq!(t.delay_ms(1, Some(2)), Some(2000));
        assert_eq!(t.delay_ms(8, None), None);
    }
}

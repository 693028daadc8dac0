//! What every handler shares: configuration, storage, the clock, signing
//! keys, the access-token denylist and the rate limiters.

use std::sync::Arc;

use crate::app::config::Config;
use crate::app::denylist::Denylist;
use crate::core::clock::Clock;
use crate::services::keys::Keys;
use crate::services::metrics::Metrics;
use crate::services::ratelimit::Limits;
use crate::store::changes::Change;
use crate::store::group_commit::{Batching, GroupCommit, WriteBatch};
use crate::store::sql::SqlStore;
use crate::store::{AgentToken, Store, StoreResult};
use tokio::sync::broadcast;

/// Keeps this node's denylists and keyring in step with the store's
/// [`Change`]s, which on a shared database include other nodes' writes.
/// Holds the store weakly: the task ends with it.
fn follow_changes(
    store: &Arc<dyn Store>,
    clock: Arc<Clock>,
    keys: Arc<Keys>,
    denylist: Arc<Denylist>,
    blocked_agents: Arc<Denylist>,
) {
    let mut changes = store.subscribe_changes();
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        loop {
            let first = match changes.recv().await {
                Ok(change) => change,
                Err(broadcast::error::RecvError::Lagged(_)) => Change::All,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let due = Reloads::after(first, &mut changes);
            let Some(store) = store.upgrade() else { return };
            let reloaded = async {
                if due.denylists {
                    denylist.reload(|| store.revoked_jtis(clock.now())).await?;
                    blocked_agents.reload(|| store.blocked_agents()).await?;
                }
                if due.keys {
                    keys.reload(store.as_ref()).await?;
                }
                StoreResult::Ok(())
            };
            if let Err(e) = reloaded.await {
                tracing::error!(error = %e, ?due, "could not reload after a change");
            }
        }
    });
}

/// What a batch of changes makes this node read again.
#[derive(Debug, Default, PartialEq, Eq)]
struct Reloads {
    /// The revoked token ids and the blocked agents.
    denylists: bool,
    /// The signing keys.
    keys: bool,
}

impl Reloads {
    /// What `first` and every change already queued behind it need. One
    /// reload after them all covers them all (each was committed before it
    /// was published), so a burst of revocations costs one read of the
    /// revoked set per node, not one per revocation.
    fn after(first: Change, changes: &mut broadcast::Receiver<Change>) -> Self {
        let mut due = Self::default();
        let mut next = Some(first);
        while let Some(change) = next {
            due.denylists |= matches!(change, Change::Revocations | Change::Agents | Change::All);
            due.keys |= matches!(change, Change::SigningKeys | Change::All);
            next = match changes.try_recv() {
                Ok(change) => Some(change),
                Err(broadcast::error::TryRecvError::Lagged(_)) => Some(Change::All),
                Err(_) => None,
            };
        }
        due
    }
}

/// Agent-token rows are submitted (awaited): a token is handed out only once
/// its row, which revocation needs, is durable.
const AGENT_TOKEN_BATCHING: Batching = Batching {
    max_batch: 1024,
    linger: std::time::Duration::ZERO,
    queue: 8192,
};

/// Shared handler state: one `Arc`, because axum clones the state for every
/// extractor and middleware layer of every request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Shared {
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Server time (shiftable in test mode).
    pub clock: Arc<Clock>,
    /// Token-signing keys.
    pub keys: Arc<Keys>,
    /// Revoked access and agent tokens.
    pub denylist: Arc<Denylist>,
    /// Paused or revoked agents, whose tokens no longer verify.
    pub blocked_agents: Arc<Denylist>,
    /// Secret for pairwise subjects.
    pub pairwise_secret: Arc<Vec<u8>>,
    /// Rate limiters.
    pub limits: Arc<Limits>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Sign-in emails, readable in dev and test mode (`GET /dev/mailbox`).
    pub mailbox: Arc<crate::services::mailbox::Mailbox>,
    /// The hash-chained audit log (group-committed writes).
    pub audit: crate::services::audit::AuditLog,
    /// Per-(policy, agent) counters of throttle rules, on the server clock.
    pub policy_throttle: Arc<crate::core::policy::Throttle>,
    /// The webhook outbox: [`crate::services::webhooks::Webhooks::emit`].
    pub webhooks: crate::services::webhooks::Webhooks,
    /// Trust levels, scores and moderation states.
    pub moderation: crate::services::moderation::Moderation,
    /// Plan limits per holder.
    pub plans: crate::services::plans::Plans,
    /// Agent tokens issued this month per account (plan quota).
    pub token_quota: Arc<crate::services::quota::TokenQuota>,
    /// Records issued agent tokens, concurrent issuances sharing one commit.
    pub agent_tokens: GroupCommit<AgentToken>,
    /// Upstream OpenID Connect providers for provider login.
    pub providers: Arc<crate::services::federation::Providers>,
}

impl AppState {
    /// Revokes token `jti` until it would have expired (`expires_at`): this
    /// node refuses it at once, the store keeps it (and tells the other
    /// nodes), and no denylist reload running meanwhile undoes it. Every
    /// revocation of a token id goes through here.
    pub async fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        let _change = self.denylist.changing();
        self.denylist.insert(jti.to_owned());
        self.store.revoke_jti(jti, expires_at).await
    }

    /// Rotates the signing key whenever it outlives its configured age,
    /// checking hourly, for as long as the server runs.
    pub fn spawn_key_rotation(&self) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let max_age = i64::from(state.config.signing_key_max_age_days) * 86_400;
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let now = state.clock.now();
                match state
                    .keys
                    .rotate_if_older(state.store.as_ref(), now, max_age)
                    .await
                {
                    Ok(true) => {
                        tracing::info!(kid = %state.keys.current().kid(), "signing key rotated")
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "signing key rotation failed"),
                }
            }
        })
    }

    /// Starts the webhook delivery worker
    /// ([`crate::services::webhooks::spawn_worker`]) over this state's store.
    pub fn spawn_webhook_worker(&self) -> tokio::task::JoinHandle<()> {
        crate::services::webhooks::spawn_worker(
            &self.config,
            self.store.clone(),
            self.clock.clone(),
            self.webhooks.clone(),
        )
    }

    /// Opens the store and loads keys and the denylist.
    pub async fn new(config: Config) -> StoreResult<Self> {
        let store: Arc<dyn Store> =
            Arc::new(SqlStore::open(&config.database, config.sqlite_synchronous_full).await?);
        let clock = Arc::new(Clock::default());
        let now = clock.now();
        let keys = Arc::new(Keys::load(store.as_ref(), now).await?);
        let max_age = i64::from(config.signing_key_max_age_days) * 86_400;
        keys.rotate_if_older(store.as_ref(), now, max_age).await?;
        let denylist = Arc::new(Denylist::default());
        for jti in store.revoked_jtis(now).await? {
            denylist.insert(jti);
        }
        let blocked_agents = Arc::new(Denylist::default());
        for id in store.blocked_agents().await? {
            blocked_agents.insert(id);
        }
        follow_changes(
            &store,
            clock.clone(),
            keys.clone(),
            denylist.clone(),
            blocked_agents.clone(),
        );
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh).expect("the operating system's random source failed");
        let pairwise_secret = Arc::new(store.secret("pairwise", fresh.to_vec()).await?);
        let limits = Arc::new(Limits::new(&config));
        let audit = crate::services::audit::AuditLog::spawn(store.clone(), clock.clone());
        let webhooks = crate::services::webhooks::Webhooks::new(store.clone(), clock.clone());
        let moderation = crate::services::moderation::Moderation::new(
            store.clone(),
            audit.clone(),
            webhooks.clone(),
            clock.clone(),
        );
        let plans = crate::services::plans::Plans::new(
            store.clone(),
            audit.clone(),
            webhooks.clone(),
            clock.clone(),
            crate::store::plans::Plan {
                name: "default".into(),
                max_agents: config.plan_max_agents,
                max_tokens_per_month: config.plan_max_tokens_per_month,
                updated_at: None,
            },
        );
        let agent_tokens = {
            let store = store.clone();
            let write: WriteBatch<AgentToken> = Box::new(move |tokens| {
                let store = store.clone();
                Box::pin(async move { store.record_agent_tokens(&tokens).await })
            });
            GroupCommit::spawn("the agent-token writer", AGENT_TOKEN_BATCHING, write)
        };
        let providers = Arc::new(crate::services::federation::Providers::new(
            &config.oidc_providers,
        ));
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            store,
            clock,
            keys,
            denylist,
            blocked_agents,
            pairwise_secret,
            limits,
            metrics: Arc::new(Metrics::default()),
            mailbox: Arc::default(),
            audit,
            policy_throttle: Arc::default(),
            webhooks,
            moderation,
            plans,
            token_quota: Arc::default(),
            agent_tokens,
            providers,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_changes_is_one_reload() {
        let (tx, mut rx) = broadcast::channel(1024);
        for _ in 0..500 {
            tx.send(Change::Revocations).unwrap();
        }
        tx.send(Change::Policies).unwrap();
        let first = rx.try_recv().unwrap();
        let due = Reloads::after(first, &mut rx);
        assert_eq!(
            due,
            Reloads {
                denylists: true,
                keys: false
            }
        );
        assert!(rx.try_recv().is_err(), "the whole burst was taken");

        tx.send(Change::SigningKeys).unwrap();
        let due = Reloads::after(Change::Policies, &mut rx);
        assert_eq!(
            due,
            Reloads {
                denylists: false,
                keys: true
            }
        );
    }

    #[test]
    fn a_lagged_receiver_reloads_everything() {
        let (tx, mut rx) = broadcast::channel(4);
        for _ in 0..10 {
            tx.send(Change::Policies).unwrap();
        }
        let due = Reloads::after(Change::Policies, &mut rx);
        assert_eq!(
            due,
            Reloads {
                denylists: true,
                keys: true
            }
        );
    }
}

//! Cache invalidation across the server nodes sharing one database.
//!
//! Every write that can make a cache stale publishes a [`Change`]. The
//! writing node applies it at once. On PostgreSQL it is also sent with
//! `NOTIFY` to every node listening (`LISTEN`), which applies it and passes
//! it on to the application's in-memory state (the token denylist, the
//! signing keys). A listener that lost its connection cannot know what it
//! missed, so once reconnected it applies [`Change::All`]: everything is
//! reloaded from the database.
//!
//! The channel is one per database, and deployments (or test runs) may share
//! a database in separate schemas. So each notification names its schema
//! (`keys@tenant_a`), and a node applies only its own schema's, or an
//! unscoped one from an older node.

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::broadcast;

use super::sql::dialect::Dialect;
use super::sql::Caches;
use super::StoreResult;

/// The `LISTEN`/`NOTIFY` channel.
const CHANNEL: &str = "sigil_changes";

/// What a write may have made stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Apps (and with them the keys scoped to them and their webhooks).
    Apps,
    /// API keys.
    Keys,
    /// Agents.
    Agents,
    /// Policies.
    Policies,
    /// Webhook endpoints.
    Webhooks,
    /// Moderation states.
    Moderation,
    /// Plans.
    Plans,
    /// Revoked token ids or blocked agents: the denylists.
    Revocations,
    /// The signing keys.
    SigningKeys,
    /// Anything: a listener reconnected.
    All,
}

impl Change {
    /// The changes a [`Caches`] holds data for.
    pub(crate) const CACHED: [Change; 7] = [
        Self::Apps,
        Self::Keys,
        Self::Agents,
        Self::Policies,
        Self::Webhooks,
        Self::Moderation,
        Self::Plans,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Apps => "apps",
            Self::Keys => "keys",
            Self::Agents => "agents",
            Self::Policies => "policies",
            Self::Webhooks => "webhooks",
            Self::Moderation => "moderation",
            Self::Plans => "plans",
            Self::Revocations => "revocations",
            Self::SigningKeys => "signing_keys",
            Self::All => "all",
        }
    }

    /// What a notification's payload asks of a node on `schema`: `None`
    /// when it comes from another schema's deployment.
    fn from_notification(payload: &str, schema: &str) -> Option<Self> {
        match payload.split_once('@') {
            Some((name, from)) if from == schema => Some(Self::parse(name)),
            Some(_) => None,
            None => Some(Self::parse(payload)),
        }
    }

    fn parse(name: &str) -> Self {
        [
            Self::Apps,
            Self::Keys,
            Self::Agents,
            Self::Policies,
            Self::Webhooks,
            Self::Moderation,
            Self::Plans,
            Self::Revocations,
            Self::SigningKeys,
        ]
        .into_iter()
        .find(|c| c.name() == name)
        // A name from a newer node: reload everything rather than guess.
        .unwrap_or(Self::All)
    }
}

/// Publishes changes, and on PostgreSQL hears other nodes' changes.
#[derive(Clone)]
pub struct ChangeFeed {
    caches: Arc<Caches>,
    /// Set on PostgreSQL, where other nodes must hear of a change: the pool
    /// and the schema the deployment's tables live in.
    notify: Option<(AnyPool, String)>,
    /// What the application layer follows (see [`ChangeFeed::subscribe`]).
    sender: broadcast::Sender<Change>,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("shared", &self.notify.is_some())
            .finish()
    }
}

impl ChangeFeed {
    /// A feed over `caches`; on PostgreSQL also listens on `url`.
    pub(crate) async fn start(
        dialect: Dialect,
        url: &str,
        pool: AnyPool,
        caches: Arc<Caches>,
    ) -> StoreResult<Self> {
        let (sender, _) = broadcast::channel(1024);
        let notify = match dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&pool)
                    .await?;
                let schema = schema.unwrap_or_default();
                let listener = listener(url).await?;
                tokio::spawn(listen(
                    listener,
                    url.to_owned(),
                    schema.clone(),
                    caches.clone(),
                    sender.clone(),
                ));
                Some((pool, schema))
            }
        };
        Ok(Self {
            caches,
            notify,
            sender,
        })
    }

    /// Applies `change` here and tells the other nodes. A write has already
    /// committed when this runs; if the notification cannot be sent, the
    /// other nodes reload everything once their listener reconnects.
    pub async fn publish(&self, change: Change) {
        self.caches.apply(change);
        let _ = self.sender.send(change);
        if let Some((pool, schema)) = &self.notify {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(format!("{}@{schema}", change.name()))
                .execute(pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, change = change.name(), "could not notify the other nodes");
            }
        }
    }

    /// Changes from this node and, on PostgreSQL, from every other one.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

/// Applies other nodes' changes until the process ends. After a lost
/// connection it listens anew and only then applies [`Change::All`], so no
/// change can fall between the reload and the new `LISTEN`.
async fn listen(
    mut listener: sqlx::postgres::PgListener,
    url: String,
    schema: String,
    caches: Arc<Caches>,
    sender: broadcast::Sender<Change>,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(note)) => {
                if let Some(change) = Change::from_notification(note.payload(), &schema) {
                    caches.apply(change);
                    let _ = sender.send(change);
                }
                continue;
            }
            Ok(None) => tracing::warn!("change listener lost the database; reconnecting"),
            Err(e) => tracing::warn!(error = %e, "change listener failed; reconnecting"),
        }
        listener = reconnect(&url).await;
        caches.apply(Change::All);
        let _ = sender.send(Change::All);
    }
}

/// A new listener on `url`, retrying every half second until one listens.
async fn reconnect(url: &str) -> sqlx::postgres::PgListener {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(listener) = listener(url).await {
            return listener;
        }
    }
}

/// A connection listening on the channel. It does not reconnect by itself
/// (sqlx would by default): [`listen`] reconnects, then reloads.
async fn listener(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn a_node_applies_its_own_schemas_notifications_and_unscoped_ones() {
        assert_eq!(
            Change::from_notification("keys@tenant_a", "tenant_a"),
            Some(Change::Keys)
        );
        assert_eq!(Change::from_notification("keys@tenant_b", "tenant_a"), None);
        // From a node older than the scoping: applied, never ignored.
        assert_eq!(
            Change::from_notification("keys", "tenant_a"),
            Some(Change::Keys)
        );
        // A change this node does not know: everything is reloaded.
        assert_eq!(
            Change::from_notification("shiny@tenant_a", "tenant_a"),
            Some(Change::All)
        );
    }

    #[test]
    fn every_change_survives_its_notification() {
        for change in Change::CACHED
            .into_iter()
            .chain([Change::Revocations, Change::SigningKeys])
        {
            let payload = format!("{}@public", change.name());
            assert_eq!(Change::from_notification(&payload, "public"), Some(change));
        }
    }
}

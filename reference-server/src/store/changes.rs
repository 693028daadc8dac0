//! Cache invalidation across the server nodes sharing one database.
//!
//! Every write that can make a cache stale publishes a [`Change`]. The
//! writing node applies it at once. On PostgreSQL it is also sent with
//! `NOTIFY` to every node listening (`LISTEN`), which applies it and passes
//! it on to the application's in-memory state (the token denylist, the
//! signing keys). A listener that lost its connection cannot know what it
//! missed, so once reconnected it applies [`Change::All`]: everything is
//! reloaded from the database.

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
    /// Set on PostgreSQL, where other nodes must hear of a change.
    notify: Option<AnyPool>,
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
                let mut listener = sqlx::postgres::PgListener::connect(url).await?;
                listener.listen(CHANNEL).await?;
                tokio::spawn(listen(
                    listener,
                    url.to_owned(),
                    caches.clone(),
                    sender.clone(),
                ));
                Some(pool)
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
        if let Some(pool) = &self.notify {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(change.name())
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
    caches: Arc<Caches>,
    sender: broadcast::Sender<Change>,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(note)) => {
                let change = Change::parse(note.payload());
                caches.apply(change);
                let _ = sender.send(change);
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
        let Ok(mut listener) = sqlx::postgres::PgListener::connect(url).await else {
            continue;
        };
        if listener.listen(CHANNEL).await.is_ok() {
            return listener;
        }
    }
}

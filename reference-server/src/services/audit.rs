//! The audit log's writer: an append-only SHA-256 hash chain of security
//! events ([`crate::core::audit`]).
//!
//! Handlers call [`AuditLog::record`] after their own write succeeded. Every
//! call goes to one group-commit writer ([`GroupCommit`]), which appends
//! what is queued in ONE write transaction, commits and only then
//! acknowledges each caller: an audit write is durable when `record`
//! returns, yet concurrent writes share one commit.
//! The chain head is read inside each batch's write transaction, so a second
//! process on the same database file cannot fork the chain.
//!
//! Entries never carry secrets: at most a key's 12-character prefix.

use std::sync::Arc;

use crate::core::audit::{entry_hash, Event, GENESIS};
use crate::core::clock::Clock;
use crate::store::group_commit::{Batching, GroupCommit, WriteBatch};
use crate::store::{AuditFilter, NewAuditEvent, Store, StoreResult};

/// How the audit writer batches: a queued (unawaited) batch may grow for
/// 10 ms, so a high issuance rate costs one commit per few hundred events.
const BATCHING: Batching = Batching {
    max_batch: 1024,
    linger: std::time::Duration::from_millis(10),
    queue: 8192,
};
/// Rows fetched per page by export and verify.
pub const PAGE: u32 = 500;

/// The handle every handler records through (cheap to clone).
#[derive(Debug, Clone)]
pub struct AuditLog {
    commits: GroupCommit<NewAuditEvent>,
    clock: Arc<Clock>,
}

impl AuditLog {
    /// Starts the writer task over `store`; it ends when every handle is
    /// dropped.
    pub fn spawn(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        let write: WriteBatch<NewAuditEvent> = Box::new(move |events| {
            let store = store.clone();
            Box::pin(async move { store.append_audit(&events).await.map(drop) })
        });
        Self {
            commits: GroupCommit::spawn("the audit writer", BATCHING, write),
            clock,
        }
    }

    /// Appends `event` to the chain; returns once it is committed. For
    /// administrative changes, whose entry must exist once the change is
    /// acknowledged.
    pub async fn record(&self, event: Event) -> StoreResult<()> {
        self.commits.submit(self.entry(event)).await
    }

    /// Returns once every event queued before this call is committed, so a
    /// query that follows sees them (read-your-writes for the audit API).
    pub async fn flush(&self) -> StoreResult<()> {
        self.commits.flush().await
    }

    /// Queues `event` for a coming group commit without waiting for it, so
    /// high-volume events (token issuance) never wait on the audit writer.
    /// The queue is bounded: when it is full this waits for room, which is
    /// the backpressure. A process crash can lose the last few milliseconds
    /// of queued entries, never an acknowledged `record`, and never the
    /// chain's integrity.
    pub async fn enqueue(&self, event: Event) -> StoreResult<()> {
        self.commits.queue(self.entry(event)).await
    }

    fn entry(&self, event: Event) -> NewAuditEvent {
        NewAuditEvent {
            id: crate::core::crypto::new_sortable_id("aud_"),
            ts: self.clock.now(),
            kind: event.kind,
            account: event.account,
            actor: event.actor,
            subject: event.subject,
            data: event.data.to_string(),
        }
    }
}

/// The first broken link of the whole chain, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every link holds.
    Valid {
        /// Entries checked.
        entries: u64,
    },
    /// The first entry whose link does not hold.
    Broken {
        /// Its `seq`.
        seq: i64,
        /// What does not hold.
        reason: &'static str,
    },
}

/// Recomputes the chain over every entry, in pages, from the genesis.
pub async fn verify_chain(store: &dyn Store) -> StoreResult<Verdict> {
    let all = AuditFilter::default();
    let (mut prev_seq, mut prev_hash, mut entries) = (0_i64, GENESIS.to_owned(), 0_u64);
    loop {
        let page = store.audit_entries(&all, prev_seq, PAGE).await?;
        if page.is_empty() {
            return Ok(Verdict::Valid { entries });
        }
        for e in page {
            let reason = if e.prev_hash != prev_hash {
                Some("prev_hash does not match the previous entry's hash")
            } else if e.seq != prev_seq + 1 {
                Some("seq does not follow the previous entry")
            } else if entry_hash(&e) != e.hash {
                Some("hash does not match the entry's contents")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Ok(Verdict::Broken { seq: e.seq, reason });
            }
            prev_seq = e.seq;
            prev_hash = e.hash;
            entries += 1;
        }
    }
}

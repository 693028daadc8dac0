//! Group commit: many concurrent writers share one write transaction.
//!
//! SQLite serializes write transactions, and each commit costs a WAL append
//! and a sync point, so one transaction per request caps a write-heavy
//! endpoint at the commit rate. Callers instead hand their rows to one
//! writer task, which drains whatever is queued (up to `max_batch`), writes
//! it in one transaction and only then acknowledges each caller that waits
//! ([`GroupCommit::submit`]): a row is durable when `submit` returns, yet
//! concurrent callers share one commit. Rows nobody waits for
//! ([`GroupCommit::queue`]) let the batch grow for up to `linger` first.
//!
//! Written here because the batching must sit inside our storage layer's
//! transactions; no crate offers group commit over an sqlx pool.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

type Ack = oneshot::Sender<StoreResult<()>>;

/// Writes one batch in one transaction.
pub type WriteBatch<T> =
    Box<dyn Fn(Vec<T>) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send>> + Send + Sync>;

enum Job<T> {
    /// A row, with the caller's acknowledgement when it waits.
    Row(T, Option<Ack>),
    /// Acknowledged once everything queued before it is committed.
    Barrier(Ack),
}

/// The handle writers submit through (cheap to clone).
pub struct GroupCommit<T> {
    tx: mpsc::Sender<Job<T>>,
    name: &'static str,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            name: self.name,
        }
    }
}

impl<T> std::fmt::Debug for GroupCommit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("name", &self.name)
            .finish()
    }
}

/// How a [`GroupCommit`] batches.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// The most rows written in one transaction.
    pub max_batch: usize,
    /// How long a batch nobody waits for may grow before it is written.
    pub linger: Duration,
    /// Rows that may wait for the writer before callers wait for room
    /// (the backpressure).
    pub queue: usize,
}

impl<T: Send + 'static> GroupCommit<T> {
    /// Starts the writer task (named `name` in logs); it ends when every
    /// handle is dropped.
    pub fn spawn(name: &'static str, batching: Batching, write: WriteBatch<T>) -> Self {
        let (tx, rx) = mpsc::channel(batching.queue);
        tokio::spawn(writer(name, batching, write, rx));
        Self { tx, name }
    }

    /// Writes `row`; returns once its transaction has committed.
    pub async fn submit(&self, row: T) -> StoreResult<()> {
        let (ack, done) = oneshot::channel();
        self.send(Job::Row(row, Some(ack))).await?;
        done.await.map_err(|_| self.stopped())?
    }

    /// Queues `row` for a coming transaction without waiting for it. A
    /// process crash can lose rows queued in the last `linger`, never a
    /// submitted one.
    pub async fn queue(&self, row: T) -> StoreResult<()> {
        self.send(Job::Row(row, None)).await
    }

    /// Returns once every row queued before this call is committed.
    pub async fn flush(&self) -> StoreResult<()> {
        let (ack, done) = oneshot::channel();
        self.send(Job::Barrier(ack)).await?;
        done.await.map_err(|_| self.stopped())?
    }

    async fn send(&self, job: Job<T>) -> StoreResult<()> {
        self.tx.send(job).await.map_err(|_| self.stopped())
    }

    fn stopped(&self) -> StoreError {
        StoreError::Unavailable(self.name)
    }
}

async fn writer<T>(
    name: &'static str,
    batching: Batching,
    write: WriteBatch<T>,
    mut rx: mpsc::Receiver<Job<T>>,
) {
    let mut rows: Vec<T> = Vec::with_capacity(batching.max_batch);
    let mut waiters: Vec<Ack> = Vec::new();
    while let Some(mut job) = rx.recv().await {
        let deadline = tokio::time::Instant::now() + batching.linger;
        loop {
            match job {
                Job::Row(row, waiter) => {
                    rows.push(row);
                    waiters.extend(waiter);
                }
                Job::Barrier(waiter) => waiters.push(waiter),
            }
            if rows.len() >= batching.max_batch {
                break;
            }
            job = match rx.try_recv() {
                Ok(next) => next,
                Err(_) if !waiters.is_empty() => break,
                Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(next)) => next,
                    Ok(None) | Err(_) => break,
                },
            };
        }
        let count = rows.len();
        let outcome = if rows.is_empty() {
            Ok(())
        } else {
            write(std::mem::replace(
                &mut rows,
                Vec::with_capacity(batching.max_batch),
            ))
            .await
        };
        if let Err(e) = &outcome {
            tracing::error!(writer = name, error = %e, rows = count, "group commit failed");
        }
        for waiter in waiters.drain(..) {
            let _ = waiter.send(match &outcome {
                Ok(()) => Ok(()),
                Err(StoreError::Conflict) => Err(StoreError::Conflict),
                Err(_) => Err(StoreError::Unavailable(name)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn recorder(batches: Arc<Mutex<Vec<Vec<u32>>>>, fail: bool) -> WriteBatch<u32> {
        Box::new(move |rows| {
            let batches = batches.clone();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                batches.lock().unwrap().push(rows);
                if fail {
                    Err(StoreError::Unavailable("test"))
                } else {
                    Ok(())
                }
            })
        })
    }

    const BATCHING: Batching = Batching {
        max_batch: 64,
        linger: Duration::from_millis(20),
        queue: 1024,
    };

    #[tokio::test]
    async fn concurrent_submits_share_transactions_and_each_is_acknowledged() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gc = GroupCommit::spawn("test", BATCHING, recorder(batches.clone(), false));
        let calls: Vec<_> = (0..200u32)
            .map(|i| {
                let gc = gc.clone();
                tokio::spawn(async move { gc.submit(i).await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        let batches = batches.lock().unwrap();
        let mut written: Vec<u32> = batches.iter().flatten().copied().collect();
        written.sort_unstable();
        assert_eq!(written, (0..200).collect::<Vec<_>>());
        assert!(batches.len() < 200, "{} transactions", batches.len());
        assert!(batches.iter().all(|b| b.len() <= 64));
    }

    // Paused time: the 1 ms gaps and the 20 ms linger are exact, whatever
    // the machine's load.
    #[tokio::test(start_paused = true)]
    async fn queued_rows_linger_into_one_batch_and_flush_waits_for_them() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gc = GroupCommit::spawn("test", BATCHING, recorder(batches.clone(), false));
        for i in 0..10 {
            gc.queue(i).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        gc.flush().await.unwrap();
        let batches = batches.lock().unwrap();
        let written: Vec<u32> = batches.iter().flatten().copied().collect();
        assert_eq!(written, (0..10).collect::<Vec<_>>());
        assert_eq!(batches.len(), 1, "{batches:?}");
    }

    #[tokio::test]
    async fn a_failed_write_fails_every_waiter_of_that_batch() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gc = GroupCommit::spawn("test", BATCHING, recorder(batches, true));
        let err = gc.submit(1).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable("test")), "{err:?}");
    }
}

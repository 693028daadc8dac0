//! Revoked token ids, or blocked agent ids, kept in memory so that verifying
//! a token reads no database. The store has the durable copy; the change
//! feed reloads this one whenever any node changes it.
//!
//! A reload must never undo a change this node made while the reload was
//! reading: a snapshot read before a revocation committed, applied after the
//! handler updated memory, would let a revoked token through until the next
//! reload. So a handler holds a [`Changing`] guard across its write and its
//! update, and a reload applies its snapshot only when no change began or
//! ended while it read; otherwise it reads again.

use std::collections::HashSet;
use std::future::Future;
use std::sync::RwLock;
use std::time::Duration;

use crate::store::StoreResult;

/// How often a reload reads again while local changes keep landing, before
/// it keeps both (the union: a stale entry stays blocked, none is lost).
const RELOAD_ATTEMPTS: u32 = 20;
/// The pause between those reads: about one write.
const RELOAD_RETRY: Duration = Duration::from_millis(5);

/// A set of ids with a record of local changes (see the module docs).
#[derive(Debug, Default)]
pub struct Denylist(RwLock<Inner>);

#[derive(Debug, Default)]
struct Inner {
    ids: HashSet<String>,
    /// Bumped when a local change begins and when it ends.
    generation: u64,
    /// Local changes begun and not yet ended.
    in_flight: u32,
}

/// A local change in progress; dropping it ends the change.
#[derive(Debug)]
#[must_use = "the change ends when the guard drops"]
pub struct Changing<'a>(&'a Denylist);

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.0.with(|s| {
            s.in_flight -= 1;
            s.generation += 1;
        });
    }
}

impl Denylist {
    /// Whether `id` is in the set. A poisoned lock counts as listed (fail
    /// closed).
    pub fn contains(&self, id: &str) -> bool {
        self.0.read().map(|s| s.ids.contains(id)).unwrap_or(true)
    }

    /// Begins a local change: hold the guard across the store write and the
    /// [`insert`](Self::insert) or [`remove`](Self::remove) that follow it.
    pub fn changing(&self) -> Changing<'_> {
        self.with(|s| {
            s.in_flight += 1;
            s.generation += 1;
        });
        Changing(self)
    }

    /// Adds `id`.
    pub fn insert(&self, id: String) {
        self.with(|s| {
            s.ids.insert(id);
        });
    }

    /// Removes `id`.
    pub fn remove(&self, id: &str) {
        self.with(|s| {
            s.ids.remove(id);
        });
    }

    /// Replaces the set with what `read` returns from the store, reading
    /// again while local changes overlap the read (module docs).
    pub async fn reload<F, Fut>(&self, read: F) -> StoreResult<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = StoreResult<Vec<String>>>,
    {
        for _ in 0..RELOAD_ATTEMPTS {
            let since = self.generation();
            let ids = read().await?;
            let applied = self.with(|s| {
                let settled = s.generation == since && s.in_flight == 0;
                if settled {
                    s.ids = ids.into_iter().collect();
                }
                settled
            });
            if applied {
                return Ok(());
            }
            tokio::time::sleep(RELOAD_RETRY).await;
        }
        let ids = read().await?;
        self.with(|s| s.ids.extend(ids));
        Ok(())
    }

    fn generation(&self) -> u64 {
        self.with(|s| s.generation)
    }

    /// Runs `f` under the write lock (a poisoned lock's data is still the
    /// set: no writer panics while holding it half-changed).
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        match self.0.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn a_reload_replaces_the_set_when_nothing_changed_meanwhile() {
        let list = Denylist::default();
        list.insert("stale".into());
        list.reload(|| async { Ok(ids(&["a", "b"])) })
            .await
            .unwrap();
        assert!(list.contains("a") && list.contains("b"));
        assert!(!list.contains("stale"), "gone from the store, gone here");
    }

    #[tokio::test(start_paused = true)]
    async fn a_snapshot_read_during_a_local_change_is_read_again() {
        let list = Arc::new(Denylist::default());
        let reads = Arc::new(std::sync::atomic::AtomicU32::new(0));
        // A handler begins revoking `jti` while the reload's first read runs:
        // that read predates the commit and lacks `jti`.
        let guard_list = list.clone();
        let reload = {
            let (list, reads) = (list.clone(), reads.clone());
            tokio::spawn(async move {
                list.reload(|| {
                    let reads = reads.clone();
                    async move {
                        let n = reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        Ok(if n == 0 { ids(&[]) } else { ids(&["jti"]) })
                    }
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(1)).await;
        {
            let _change = guard_list.changing();
            guard_list.insert("jti".into());
        }
        reload.await.unwrap().unwrap();
        assert!(list.contains("jti"), "the stale snapshot did not undo it");
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_still_in_flight_holds_the_reload_off_then_both_are_kept() {
        let list = Denylist::default();
        let change = list.changing();
        list.insert("paused-agent".into());
        list.reload(|| async { Ok(ids(&["other"])) }).await.unwrap();
        assert!(list.contains("paused-agent"), "not dropped mid-change");
        assert!(list.contains("other"));
        drop(change);
        list.reload(|| async { Ok(ids(&["other"])) }).await.unwrap();
        assert!(!list.contains("paused-agent"), "settled: the store decides");
    }
}

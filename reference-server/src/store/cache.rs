//! A read cache that a writer can invalidate without a race: a reader that
//! loaded a row before a write committed can never put it back afterwards.
//!
//! Readers note the generation before reading the database and insert only if
//! it is unchanged; writers bump it and clear after their write commits. Both
//! steps run under one small lock, so either the stale insert happens before
//! the clear (and is cleared) or it sees the new generation (and is skipped).

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use quick_cache::sync::Cache;
use quick_cache::Equivalent;

/// A bounded cache with race-free invalidation.
pub struct CoherentCache<K, V> {
    entries: Cache<K, V>,
    generation: AtomicU64,
    lock: Mutex<()>,
}

impl<K: Eq + Hash + Clone, V: Clone> CoherentCache<K, V> {
    /// A cache holding up to `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity),
            generation: AtomicU64::new(0),
            lock: Mutex::new(()),
        }
    }

    /// A cached value.
    pub fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<V> {
        self.entries.get(key)
    }

    /// The cached value for `key`, or else what `load` reads from the
    /// database, cached unless a write committed meanwhile.
    pub async fn get_or_load<Q, E, Fut>(&self, key: &Q, load: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Q: Hash + Equivalent<K> + ToOwned<Owned = K> + ?Sized,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.entries.get(key) {
            return Ok(hit);
        }
        let generation = self.generation();
        let value = load().await?;
        self.insert(generation, key.to_owned(), value.clone());
        Ok(value)
    }

    /// The generation to pass to [`Self::insert`]; read it before the load.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a value loaded at `generation`, unless a write happened since.
    pub fn insert(&self, generation: u64, key: K, value: V) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            self.entries.insert(key, value);
        }
    }

    /// Forgets everything; call after a write commits.
    pub fn invalidate(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_that_raced_a_write_is_not_cached() {
        let c: CoherentCache<&str, u32> = CoherentCache::new(8);
        let g = c.generation();
        // ... the reader loads the old row here, then a write commits:
        c.invalidate();
        c.insert(g, "k", 1);
        assert_eq!(c.get("k"), None);
        let g = c.generation();
        c.insert(g, "k", 2);
        assert_eq!(c.get("k"), Some(2));
        c.invalidate();
        assert_eq!(c.get("k"), None);
    }

    #[tokio::test]
    async fn get_or_load_loads_once_and_never_caches_a_raced_load() {
        let c: CoherentCache<String, u32> = CoherentCache::new(8);
        let first: Result<u32, ()> = c.get_or_load("k", || async { Ok(1) }).await;
        assert_eq!(first, Ok(1));
        let hit: Result<u32, ()> = c.get_or_load("k", || async { Ok(99) }).await;
        assert_eq!(hit, Ok(1), "served from the cache, not loaded again");
        // A write commits while the load runs: the loaded value is stale.
        let raced: Result<u32, ()> = c
            .get_or_load("r", || async {
                c.invalidate();
                Ok(2)
            })
            .await;
        assert_eq!(raced, Ok(2));
        assert_eq!(c.get("r"), None);
        let failed: Result<u32, &str> = c.get_or_load("e", || async { Err("db down") }).await;
        assert_eq!(failed, Err("db down"));
        assert_eq!(c.get("e"), None);
    }
}

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
}

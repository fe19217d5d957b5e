//! Caches that are exact, not merely fresh: each entry remembers the data version (the newest
//! audit sequence number, see [`mamori_store::Store::data_version`]) it was computed at, and is
//! used only while that version is current. Every change appends to the audit trail, so any
//! change — on this server or another sharing the database — makes older entries unusable.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// A bounded map from keys to values stamped with a data version.
#[derive(Debug)]
pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> VersionedCache<K, V> {
    /// A cache holding at most `capacity` entries (it is emptied when full).
    pub fn new(capacity: usize) -> Self {
        VersionedCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value for `key` if it was stored at exactly `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, value)| value.clone())
    }

    /// Stores `value` for `key` at `version`.
    pub fn insert(&self, key: K, version: i64, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                // Stale entries are useless anyway; a full cache starts over.
                entries.clear();
            }
            entries.insert(key, (version, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_only_serve_their_own_version() {
        let c: VersionedCache<&str, u32> = VersionedCache::new(2);
        c.insert("a", 7, 1);
        assert_eq!(c.get(&"a", 7), Some(1));
        assert_eq!(c.get(&"a", 8), None, "a newer change invalidates");
        c.insert("b", 7, 2);
        c.insert("c", 7, 3);
        assert_eq!(c.get(&"a", 7), None, "bounded: a full cache starts over");
        assert_eq!(c.get(&"c", 7), Some(3));
    }
}

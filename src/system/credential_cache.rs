//! A short-lived memory of resolved credentials, so a request with an API key
//! or a session token does not wait on the system store every time.
//!
//! Entries live `ttl` (config `auth.credential_cache_ms`, default 1 s; 0 turns
//! the cache off). Any write to apps, users or sessions on this instance
//! empties it at once; on other instances a revoked key or a logout takes
//! effect within `ttl`. Only credentials that resolved are kept: a bad key
//! always goes to the store.

use std::hash::Hash;
use std::time::Duration;

/// At most this many entries; the least used go first (not all at once,
/// which sent every request to the store together).
const MAX_ENTRIES: u64 = 10_000;

/// A bounded map whose entries expire `ttl` after they were put (moka).
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: moka::sync::Cache<K, V>,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if self.ttl.is_zero() {
            return None;
        }
        self.entries.get(key)
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        self.entries.insert(key, value);
    }

    pub fn clear(&self) {
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_clear() {
        let c = TtlCache::new(Duration::from_millis(50));
        c.put("k".to_string(), 1);
        assert_eq!(c.get("k"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get("k"), None, "expired");
        c.put("k".to_string(), 2);
        c.clear();
        assert_eq!(c.get("k"), None, "cleared");
    }

    #[test]
    fn a_full_cache_keeps_most_entries() {
        let c = TtlCache::new(Duration::from_mins(1));
        for i in 0..(MAX_ENTRIES + 500) {
            c.put(i, i);
        }
        c.entries.run_pending_tasks();
        let kept = (0..(MAX_ENTRIES + 500))
            .filter(|i| c.get(i).is_some())
            .count() as u64;
        // emptied at 10,001 entries before; now bounded and still nearly full
        assert!(kept <= MAX_ENTRIES && kept > MAX_ENTRIES / 2, "{kept}");
    }

    #[test]
    fn zero_ttl_keeps_nothing() {
        let c = TtlCache::new(Duration::ZERO);
        c.put("k".to_string(), 1);
        assert_eq!(c.get("k"), None);
    }
}

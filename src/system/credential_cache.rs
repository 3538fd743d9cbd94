//! A short-lived memory of resolved credentials, so a request with an API key
//! or a session token does not wait on the system store every time.
//!
//! Entries live `ttl` (config `auth.credential_cache_ms`, default 1 s; 0 turns
//! the cache off). Any write to apps, users or sessions on this instance
//! empties it at once; on other instances a revoked key or a logout takes
//! effect within `ttl`. Only credentials that resolved are kept: a bad key
//! always goes to the store.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many entries the map is emptied rather than grown.
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
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
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
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
    fn zero_ttl_keeps_nothing() {
        let c = TtlCache::new(Duration::ZERO);
        c.put("k".to_string(), 1);
        assert_eq!(c.get("k"), None);
    }
}

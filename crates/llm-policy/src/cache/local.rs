//! The in-process backend: a moka cache bounded by the bytes it holds.
//!
//! Expiry is checked against `tokio::time::Instant` stored in each entry (so tests can run it
//! on tokio's paused clock); moka's own per-entry expiry, on the real clock, is set to the same
//! TTL only so that memory is given back for entries nobody reads again.

use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One cached answer.
#[derive(Debug)]
pub(super) struct LocalEntry {
    stored_at: Instant,
    expires_at: Instant,
    ttl: Duration,
    bytes: Vec<u8>,
}

/// moka's expiry for [`LocalEntry`]: its TTL from the moment it was stored.
struct EntryExpiry;

impl moka::Expiry<String, Arc<LocalEntry>> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<LocalEntry>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Arc<LocalEntry>,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The in-process store.
pub(super) struct LocalStore {
    entries: Cache<String, Arc<LocalEntry>>,
}

impl LocalStore {
    pub(super) fn new(max_bytes: u64) -> LocalStore {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            // The weight is what the entry holds; an entry over 4 GiB weighs the most moka
            // can count (it would never fit anyway).
            .weigher(|key: &String, entry: &Arc<LocalEntry>| {
                u32::try_from(entry.bytes.len().saturating_add(key.len())).unwrap_or(u32::MAX)
            })
            .expire_after(EntryExpiry)
            .build();
        LocalStore { entries }
    }

    /// The entry's bytes, if it is there, not expired and (with `max_age`) young enough.
    pub(super) async fn get(&self, key: &str, max_age: Option<Duration>) -> Option<Vec<u8>> {
        let entry = self.entries.get(key).await?;
        let now = Instant::now();
        // An expired entry stays until moka's own expiry drops it: removing it here could
        // remove a fresh value another request just put under the same key.
        if now >= entry.expires_at {
            return None;
        }
        if max_age.is_some_and(|max| now.duration_since(entry.stored_at) > max) {
            return None;
        }
        Some(entry.bytes.clone())
    }

    pub(super) async fn put(&self, key: &str, bytes: Vec<u8>, ttl: Duration) {
        let stored_at = Instant::now();
        let entry = LocalEntry {
            stored_at,
            expires_at: stored_at + ttl,
            ttl,
            bytes,
        };
        self.entries.insert(key.to_owned(), Arc::new(entry)).await;
    }

    /// Removes the keys; returns how many were there (expired ones not counted).
    pub(super) async fn delete(&self, keys: &[String]) -> u64 {
        let now = Instant::now();
        let mut deleted = 0;
        for key in keys {
            if let Some(entry) = self.entries.remove(key).await
                && now < entry.expires_at
            {
                deleted += 1;
            }
        }
        deleted
    }

    /// Removes everything; returns how many entries there were.
    pub(super) async fn flush_all(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        let count = self.entries.entry_count();
        self.entries.invalidate_all();
        self.entries.run_pending_tasks().await;
        count
    }

    /// The bytes held (values and keys), once moka has applied pending evictions.
    pub(super) async fn weighted_size(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        self.entries.weighted_size()
    }
}

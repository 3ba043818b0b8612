//! The in-process cache of virtual keys on the request path.
//!
//! A key is read from SQL once (with its user and team) and then served from memory. Every
//! change to a key, user or team bumps one version row (`llm_policy_version`); each instance
//! polls that row every [`POLL_INTERVAL`] off the request path and drops its cache when the
//! version moved, so an update, block or delete reaches every instance sharing the database
//! within a second, with or without Redis. The instance that made the change drops its own
//! cache at once and records the version it wrote, so its watcher does not drop the cache a
//! second time for the same change (entries loaded in between are already current, and a
//! needless drop would refuse every key while the database is unreachable). Entries also
//! expire after [`MAX_AGE`] as a safety net.

use moka::future::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use subtle::ConstantTimeEq;

use super::principal::Principal;
use crate::store::{Store, StoreError};

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
pub const MAX_AGE: Duration = Duration::from_secs(300);
const CAPACITY: u64 = 100_000;

/// Virtual keys by hash; `None` remembers that a hash is unknown, so a client hammering with
/// a wrong key costs one query per cache generation, not one per request.
#[derive(Clone)]
pub struct KeyCache {
    entries: Cache<String, Option<Arc<Principal>>>,
    store: Store,
    /// The newest version row this instance has seen or written.
    seen_version: Arc<SeenVersion>,
}

/// The newest policy version an instance knows of; versions only grow.
#[derive(Debug)]
struct SeenVersion(AtomicI64);

impl SeenVersion {
    /// Before the first reading.
    const UNSEEN: i64 = i64::MIN;

    fn new() -> SeenVersion {
        SeenVersion(AtomicI64::new(Self::UNSEEN))
    }

    /// Notes `version` (read or written); true when it is newer than every version noted
    /// before (the first one only sets the baseline).
    fn note(&self, version: i64) -> bool {
        let previous = self.0.fetch_max(version, Ordering::SeqCst);
        previous != Self::UNSEEN && version > previous
    }
}

impl KeyCache {
    pub fn new(store: Store) -> KeyCache {
        KeyCache {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(MAX_AGE)
                .build(),
            store,
            seen_version: Arc::new(SeenVersion::new()),
        }
    }

    /// The principal behind `hash`, from memory or (once) from SQL. Concurrent misses for one
    /// hash share a single query.
    pub async fn get(&self, hash: &str) -> Result<Option<Arc<Principal>>, Arc<StoreError>> {
        let store = self.store.clone();
        let found = self
            .entries
            .try_get_with_by_ref(hash, async move { load(&store, hash).await })
            .await?;
        // The map lookup matched on the hash; compare once more in constant time so no timing
        // difference depends on how much of a stored hash a guess shares.
        Ok(found.filter(|p| bool::from(p.key.token_hash.as_bytes().ct_eq(hash.as_bytes()))))
    }

    /// Forgets everything (a change was made here or seen in the version row).
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    /// Bumps the version row so every other instance clears its cache too, and clears ours.
    pub async fn publish_change(&self) -> Result<(), StoreError> {
        use sqlx::Row;
        self.clear();
        let row = sqlx::query(
            "UPDATE llm_policy_version SET version = version + 1 WHERE id = 1 RETURNING version",
        )
        .fetch_one(&self.store.pool)
        .await?;
        let written: i64 = row.try_get("version")?;
        // Another instance's change committed before ours may have been loaded between the
        // first clear and the update: clear once more, after which every load sees both.
        self.seen_version.note(written);
        self.clear();
        Ok(())
    }

    /// Polls the version row until the process ends; clears the cache when it moves.
    pub fn spawn_version_watch(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(POLL_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match current_version(&cache.store).await {
                    Ok(version) => {
                        if cache.seen_version.note(version) {
                            cache.clear();
                        }
                    }
                    // Unreachable database: keep serving what we know; polling resumes.
                    Err(error) => tracing::debug!(%error, "policy version poll failed"),
                }
            }
        })
    }
}

async fn current_version(store: &Store) -> Result<i64, StoreError> {
    use sqlx::Row;
    let row = sqlx::query("SELECT version FROM llm_policy_version WHERE id = 1")
        .fetch_one(&store.pool)
        .await?;
    Ok(row.try_get::<i64, _>("version")?)
}

async fn load(store: &Store, hash: &str) -> Result<Option<Arc<Principal>>, StoreError> {
    let Some(key) = store.get_key(hash).await? else {
        return Ok(None);
    };
    let user = match &key.user_id {
        Some(id) => store.get_user(id).await?,
        None => None,
    };
    let team = match &key.team_id {
        Some(id) => store.get_team(id).await?,
        None => None,
    };
    Ok(Some(Arc::new(Principal { key, user, team })))
}

#[cfg(test)]
mod tests {
    use super::SeenVersion;

    /// (version noted, whether the cache must be cleared), in order.
    #[test]
    fn a_version_clears_the_cache_only_when_it_is_news() {
        let cases = [
            (7, false), // the first poll sets the baseline
            (7, false), // unchanged
            (8, true),  // another instance's change
            (9, true),  // our own write: cleared by the writer itself
            (9, false), // the watcher then reads our write: no second clear
            (8, false), // a poll that raced our write and read the older row
            (10, true),
        ];
        let seen = SeenVersion::new();
        for (step, (version, clears)) in cases.into_iter().enumerate() {
            assert_eq!(seen.note(version), clears, "step {step}: version {version}");
        }
    }
}
